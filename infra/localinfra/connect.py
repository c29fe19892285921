"""Kafka Connect: a standalone worker with the JDBC sink and the Avro converter as plugins."""

from __future__ import annotations

import os
from pathlib import Path

from localinfra import registry
from localinfra.config import (
    CONNECT_PLUGINS,
    CONNECT_PORT,
    CONNECT_URL,
    INFRA,
    KAFKA_LIBS,
    KAFKA_PORT,
    KAFKA_VERSION,
    LOCAL,
    REGISTRY_PORT,
    REGISTRY_URL,
    WAREHOUSE,
    WAREHOUSE_JDBC_URL,
)
from localinfra.errors import InfraError
from localinfra.probes import http, kafka_answers
from localinfra.process import Service
from localinfra.tools import java


def _properties() -> Path:
    return LOCAL / "connect" / "worker.properties"


def _prepare() -> None:
    if not (kafka_answers(KAFKA_PORT) and registry.ready()):
        raise InfraError(
            f"Kafka Connect needs the broker (127.0.0.1:{KAFKA_PORT}) and the registry ({REGISTRY_URL}); "
            f"start them first: make up"
        )
    _properties().parent.mkdir(parents=True, exist_ok=True)
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
    _properties().write_text(template)


def _env() -> dict[str, str]:
    """Where the shipped connector configurations (their ${env:...} references) find the warehouse."""
    defaults = {
        "MARKETO_STREAM_WAREHOUSE_URL": WAREHOUSE_JDBC_URL,
        "MARKETO_STREAM_WAREHOUSE_USER": WAREHOUSE,
        "MARKETO_STREAM_WAREHOUSE_PASSWORD": WAREHOUSE,
    }
    return {key: os.environ.get(key) or value for key, value in defaults.items()}


def _command() -> list[str]:
    return [
        java(),
        "-Xms128m",
        "-Xmx768m",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={INFRA / 'connect' / 'log4j2.properties'}",
        "-cp",
        f"{KAFKA_LIBS}/*",
        "org.apache.kafka.connect.cli.ConnectStandalone",
        str(_properties()),
    ]


def _ready() -> bool:
    """Jetty answers 404 before the REST resources are up; the connector list answering 200 means ready."""
    status, _ = http("GET", f"{CONNECT_URL}/connectors")
    return status == 200


SERVICE = Service(
    name="connect",
    port=CONNECT_PORT,
    command=_command,
    prepare=_prepare,
    ready=_ready,
    after_ready=lambda: None,
    describe=f"Kafka Connect {KAFKA_VERSION} (standalone, JDBC sink into PostgreSQL) at {CONNECT_URL}",
    env=_env,
)
