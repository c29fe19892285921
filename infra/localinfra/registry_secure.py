"""The secured registry: Caddy in front of the plain registry, adding TLS and HTTP basic auth.

Why a proxy: Apicurio's own authentication needs an OIDC server; TLS plus basic auth at a reverse proxy is
how many teams expose a registry, and it is exactly what a Confluent-compatible client must cope with
(``basic.auth.user.info``, ``ssl.ca.location``). Schemas live in the plain registry, so both URLs see the
same subjects. Caddy is built once from the Go module proxy into the artifact cache.
"""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
from base64 import b64encode
from pathlib import Path

from localinfra import registry
from localinfra.config import (
    CACHE,
    CADDY,
    CADDY_VERSION,
    INFRA,
    LOCAL,
    REGISTRY_PORT,
    REGISTRY_URL,
    SECURE_REGISTRY_PORT,
    SECURE_REGISTRY_URL,
)
from localinfra.credentials import load_or_create, password_file, write_private
from localinfra.errors import InfraError
from localinfra.probes import http
from localinfra.process import Service

USER = "registry"


def base_dir() -> Path:
    return LOCAL / "registry-secure"


def _storage() -> Path:
    return base_dir() / "caddy"


def root_ca() -> Path:
    """Caddy's local CA root, written on its first start: what clients trust (``ssl.ca.location``)."""
    return _storage() / "pki" / "authorities" / "local" / "root.crt"


def _go() -> str:
    for candidate in (os.environ.get("MARKETO_STREAM_GO"), shutil.which("go"), "/usr/local/go/bin/go"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise InfraError(
        "Go was not found (it builds Caddy, the TLS and basic-auth front of the registry). Install Go "
        "(https://go.dev/dl, or Debian: apt-get install golang) or point MARKETO_STREAM_GO at its go binary."
    )


def fetch_caddy() -> None:
    """Builds Caddy from the Go module proxy into the cache, once (about two minutes on two cores)."""
    if CADDY.exists():
        return
    print(f"building Caddy {CADDY_VERSION} from the Go module proxy (once, about two minutes) ...", flush=True)
    tmp = CACHE / "bin.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    proc = subprocess.run(
        [_go(), "install", f"github.com/caddyserver/caddy/v2/cmd/caddy@{CADDY_VERSION}"],
        capture_output=True,
        text=True,
        env={**os.environ, "GOBIN": str(tmp), "CGO_ENABLED": "0"},
    )
    if proc.returncode != 0 or not (tmp / "caddy").exists():
        raise InfraError(f"building Caddy failed; is the Go module proxy reachable?\n{proc.stderr[-2000:]}")
    CADDY.parent.mkdir(parents=True, exist_ok=True)
    (tmp / "caddy").rename(CADDY)
    shutil.rmtree(tmp, ignore_errors=True)


def _caddyfile() -> Path:
    return base_dir() / "Caddyfile"


def _requires() -> None:
    if not registry.ready():
        raise InfraError(
            f"registry-secure fronts the plain registry at {REGISTRY_URL}, which does not answer; "
            f"start it first: make up"
        )


def _password() -> str:
    passwords, _ = load_or_create(base_dir(), [USER])
    return passwords[USER]


def _prepare() -> None:
    _requires()
    proc = subprocess.run([str(CADDY), "hash-password"], input=_password() + "\n", capture_output=True, text=True)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise InfraError(f"hashing the registry password with Caddy failed:\n{proc.stderr[-1000:]}")
    values = {
        "STORAGE": str(_storage()),
        "PORT": str(SECURE_REGISTRY_PORT),
        "USER": USER,
        "PASSWORD_HASH": proc.stdout.strip().splitlines()[-1],
        "UPSTREAM_PORT": str(REGISTRY_PORT),
    }
    text = (INFRA / "caddy" / "Caddyfile").read_text()
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    write_private(_caddyfile(), text)


def _command() -> list[str]:
    return [str(CADDY), "run", "--config", str(_caddyfile()), "--adapter", "caddyfile"]


def _env() -> dict[str, str]:
    """Caddy keeps nothing in the home directory: its config and data folders are ours."""
    return {"XDG_CONFIG_HOME": str(base_dir() / "config"), "XDG_DATA_HOME": str(base_dir() / "data")}


def _ready() -> bool:
    if not root_ca().exists():
        return False
    token = b64encode(f"{USER}:{_password()}".encode()).decode()
    status, _ = http(
        "GET",
        f"{SECURE_REGISTRY_URL}/subjects",
        headers={"Authorization": f"Basic {token}"},
        context=ssl.create_default_context(cafile=str(root_ca())),
    )
    return status == 200


def client_env() -> dict[str, str]:
    return {
        "MARKETO_STREAM_SCHEMA_REGISTRY_URL": SECURE_REGISTRY_URL,
        "MARKETO_STREAM_SCHEMA_REGISTRY__SSL_CA_LOCATION": str(root_ca()),
        "MARKETO_STREAM_SCHEMA_REGISTRY__BASIC_AUTH_USER": USER,
        "MARKETO_STREAM_SCHEMA_REGISTRY__BASIC_AUTH_PASSWORD_FILE": str(password_file(base_dir(), USER)),
    }


SERVICE = Service(
    name="registry-secure",
    port=SECURE_REGISTRY_PORT,
    command=_command,
    prepare=_prepare,
    ready=_ready,
    after_ready=lambda: None,
    describe=f"Caddy {CADDY_VERSION} (TLS, basic auth as {USER!r}) in front of the registry at {SECURE_REGISTRY_URL}",
    env=_env,
    requires=_requires,
)
