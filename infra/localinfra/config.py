"""Versions, ports and directories of the local services, each port and directory overridable by environment.

Read once at import: every module sees the same values for the whole command.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
INFRA = REPO / "infra"
KAFKA_VERSION = "4.1.1"
APICURIO_VERSION = "3.3.3"
DEBEZIUM_JDBC_VERSION = "3.6.0.Final"
APICURIO_CONVERTER_VERSION = "2.6.13.Final"
CADDY_VERSION = "v2.11.9"


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
SECURE_KAFKA_PORT = _env_int("MARKETO_STREAM_SECURE_KAFKA_PORT", 19094)
SECURE_CONTROLLER_PORT = _env_int("MARKETO_STREAM_SECURE_CONTROLLER_PORT", 19095)
SECURE_REGISTRY_PORT = _env_int("MARKETO_STREAM_SECURE_REGISTRY_PORT", 18443)
READY_TIMEOUT = _env_int("MARKETO_STREAM_READY_TIMEOUT", 120)
LOCAL = Path(os.environ.get("MARKETO_STREAM_LOCAL_DIR") or REPO / ".local").resolve()
CACHE = Path(
    os.environ.get("MARKETO_STREAM_INFRA_CACHE") or Path.home() / ".cache" / "marketo-stream" / "infra"
).resolve()
KAFKA_LIBS = CACHE / f"kafka-{KAFKA_VERSION}" / "libs"
APICURIO_HOME = CACHE / f"apicurio-registry-{APICURIO_VERSION}"
CONNECT_PLUGINS = CACHE / f"connect-plugins-jdbc-{DEBEZIUM_JDBC_VERSION}-apicurio-{APICURIO_CONVERTER_VERSION}"
CADDY = CACHE / "bin" / "caddy"
REGISTRY_URL = f"http://127.0.0.1:{REGISTRY_PORT}/apis/ccompat/v7"
CONNECT_URL = f"http://127.0.0.1:{CONNECT_PORT}"
SECURE_BOOTSTRAP = f"127.0.0.1:{SECURE_KAFKA_PORT}"
SECURE_REGISTRY_URL = f"https://127.0.0.1:{SECURE_REGISTRY_PORT}/apis/ccompat/v7"
WAREHOUSE = "marketo"
"""Database, role and password of the throwaway warehouse; it listens on loopback only."""
WAREHOUSE_JDBC_URL = f"jdbc:postgresql://127.0.0.1:{POSTGRES_PORT}/{WAREHOUSE}"
