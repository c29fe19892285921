"""The plain broker: Apache Kafka in KRaft mode, broker and controller in one process, PLAINTEXT on loopback.

The JVM command and storage formatting live here because the secured broker runs the same way.
"""

from __future__ import annotations

import base64
import subprocess
import uuid
from pathlib import Path

from localinfra.config import CONTROLLER_PORT, INFRA, KAFKA_LIBS, KAFKA_PORT, KAFKA_VERSION, LOCAL
from localinfra.errors import InfraError
from localinfra.probes import kafka_answers
from localinfra.process import Service
from localinfra.tools import java


def _kafka_dir() -> Path:
    return LOCAL / "kafka"


def _properties() -> Path:
    return _kafka_dir() / "server.properties"


def kafka_java() -> list[str]:
    """Java with the broker's heap, logging and classpath: the server and the storage tool both run with it."""
    return [
        java(),
        "-Xms256m",
        "-Xmx768m",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={INFRA / 'kafka' / 'log4j2.properties'}",
        f"-Dkafka.logs.dir={LOCAL / 'logs'}",
        "-cp",
        f"{KAFKA_LIBS}/*",
    ]


def format_storage(properties: Path, *extra: str) -> None:
    """Formats a new data directory under a fresh cluster id (``extra``: e.g. ``--add-scram`` users)."""
    cluster_id = ""
    while not cluster_id or cluster_id.startswith("-"):
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
    proc = subprocess.run(
        [
            *kafka_java(),
            "kafka.tools.StorageTool",
            "format",
            "-t",
            cluster_id,
            "-c",
            str(properties),
            "--ignore-formatted",
            *extra,
        ],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise InfraError(f"formatting Kafka storage failed:\n{proc.stdout}{proc.stderr}")


def _prepare() -> None:
    data = _kafka_dir() / "data"
    data.mkdir(parents=True, exist_ok=True)
    template = (INFRA / "kafka" / "server.properties").read_text()
    props = (
        template.replace("@KAFKA_PORT@", str(KAFKA_PORT))
        .replace("@CONTROLLER_PORT@", str(CONTROLLER_PORT))
        .replace("@DATA_DIR@", str(data))
    )
    _properties().write_text(props)
    if (data / "meta.properties").exists():
        return
    format_storage(_properties())


def _command() -> list[str]:
    return [*kafka_java(), "kafka.Kafka", str(_properties())]


def _ready() -> bool:
    """Ready once the broker answers; our own broker must also have logged that it started."""
    if not kafka_answers(KAFKA_PORT):
        return False
    if SERVICE.pid() is None:
        return True
    try:
        return "Kafka Server started" in SERVICE.log_file.read_text(errors="replace")
    except OSError:
        return False


SERVICE = Service(
    name="kafka",
    port=KAFKA_PORT,
    command=_command,
    prepare=_prepare,
    ready=_ready,
    after_ready=lambda: None,
    describe=f"Apache Kafka {KAFKA_VERSION} (KRaft) on 127.0.0.1:{KAFKA_PORT}",
)
