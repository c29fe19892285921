"""PostgreSQL: a throwaway cluster for the warehouse side (Kafka Connect's JDBC sink writes into it)."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import struct
import subprocess
from pathlib import Path

from localinfra.config import LOCAL, POSTGRES_PORT, WAREHOUSE
from localinfra.errors import InfraError
from localinfra.process import Service
from localinfra.tools import require


def _postgres_dir() -> Path:
    return LOCAL / "postgres"


def _postgres_bin(tool: str) -> str:
    """PostgreSQL's server programs; Debian keeps them off PATH, under /usr/lib/postgresql/<major>/bin."""
    configured = os.environ.get("MARKETO_STREAM_POSTGRES_BIN")
    dirs = [Path(configured)] if configured else []
    dirs += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: _major(p.parent.name), reverse=True)
    for directory in dirs:
        if os.access(directory / tool, os.X_OK):
            return str(directory / tool)
    on_path = shutil.which(tool)
    if on_path and not configured:
        return on_path
    raise InfraError(
        f"PostgreSQL's {tool} was not found (looked in {', '.join(map(str, dirs)) or 'no directory'} and on PATH). "
        f"Install the server (Debian: apt-get install postgresql) or point MARKETO_STREAM_POSTGRES_BIN at its bin."
    )


def _major(text: str) -> int:
    return int(text) if text.isdigit() else -1


def _postgres_os_user() -> str | None:
    """PostgreSQL refuses to run as root; as root we run it as an unprivileged user (Debian's package makes one)."""
    if os.geteuid() != 0:
        return None
    name = os.environ.get("MARKETO_STREAM_POSTGRES_OS_USER") or "postgres"
    try:
        pwd.getpwnam(name)
    except KeyError:
        raise InfraError(
            f"running as root, PostgreSQL must run as an unprivileged user, and {name!r} does not exist. "
            f"apt-get install postgresql creates 'postgres'; or set MARKETO_STREAM_POSTGRES_OS_USER."
        ) from None
    return name


def _as_postgres_user(cmd: list[str]) -> list[str]:
    user = _postgres_os_user()
    if user is None:
        return cmd
    setpriv = require("setpriv", "It comes with util-linux (Debian: apt-get install util-linux).")
    # setpriv execs the program itself, so the pid we record is the postmaster's
    return [setpriv, f"--reuid={user}", f"--regid={user}", "--init-groups", *cmd]


def _prepare() -> None:
    """A cluster with a role and a database for the sink, made once; a half-made one is thrown away."""
    base = _postgres_dir()
    data, run = base / "data", base / "run"
    user = _postgres_os_user()
    for directory in (base, run):
        directory.mkdir(parents=True, exist_ok=True)
        if user is not None:
            shutil.chown(directory, user, user)
    run.chmod(0o700)
    if (data / "PG_VERSION").exists():
        return
    partial = base / "data.partial"
    if partial.exists():
        shutil.rmtree(partial)
    steps: list[tuple[list[str], str | None]] = [
        (
            [
                _postgres_bin("initdb"),
                f"--pgdata={partial}",
                "--username=postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            ],
            None,
        ),
        (
            [_postgres_bin("postgres"), "--single", "-D", str(partial), "postgres"],
            f"CREATE ROLE {WAREHOUSE} LOGIN PASSWORD '{WAREHOUSE}';\nCREATE DATABASE {WAREHOUSE} OWNER {WAREHOUSE};\n",
        ),
    ]
    for cmd, stdin in steps:
        proc = subprocess.run(_as_postgres_user(cmd), input=stdin, capture_output=True, text=True, cwd=base)
        if proc.returncode != 0 or "ERROR:" in proc.stdout + proc.stderr:
            raise InfraError(
                f"setting up PostgreSQL failed ({Path(cmd[0]).name}); every directory above {base} must be "
                f"searchable by {user or 'us'}:\n{(proc.stdout + proc.stderr)[-2000:]}"
            )
    partial.rename(data)


def _command() -> list[str]:
    base = _postgres_dir()
    settings = {
        "listen_addresses": "127.0.0.1",
        "port": str(POSTGRES_PORT),
        "unix_socket_directories": str(base / "run"),
        # a throwaway cluster: durability buys nothing and costs time on every commit
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "40",
    }
    flags = [arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")]
    return _as_postgres_user([_postgres_bin("postgres"), "-D", str(base / "data"), *flags])


def _ready() -> bool:
    """True when the server answers a startup message with an authentication request, i.e. takes connections."""
    params = f"user\0{WAREHOUSE}\0database\0{WAREHOUSE}\0\0".encode()
    body = struct.pack(">i", 196608) + params  # protocol 3.0
    try:
        with socket.create_connection(("127.0.0.1", POSTGRES_PORT), timeout=2) as sock:
            sock.sendall(struct.pack(">i", len(body) + 4) + body)
            header = sock.recv(5)
            if len(header) == 5:
                # read the rest, so that closing is a quiet EOF and not a reset the server logs
                sock.recv(struct.unpack(">i", header[1:])[0] - 4)
            return header[:1] == b"R"
    except OSError:
        return False


SERVICE = Service(
    name="postgres",
    port=POSTGRES_PORT,
    command=_command,
    prepare=_prepare,
    ready=_ready,
    after_ready=lambda: None,
    describe=f"PostgreSQL on 127.0.0.1:{POSTGRES_PORT} (database, user and password {WAREHOUSE!r})",
    stop_signal=signal.SIGINT,  # fast shutdown: SIGTERM would wait for the sink's connections to close
)
