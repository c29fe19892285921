"""Finds the real Kafka broker and Schema Registry for the tests, starting the local ones when absent.

Under CI=true a service that cannot be reached is a failure, never a skip: a green run must mean the
integration tests ran.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from confluent_kafka.admin import AdminClient

REPO = Path(__file__).resolve().parent.parent
LOCAL_SCRIPT = REPO / "infra" / "local.py"


@dataclass(frozen=True)
class Infra:
    bootstrap_servers: str
    registry_url: str
    kafka_version: str
    registry_version: str
    started_here: bool

    def describe(self) -> str:
        return (
            f"Apache Kafka {self.kafka_version} at {self.bootstrap_servers}; "
            f"{self.registry_version} at {self.registry_url}"
        )


def _bootstrap() -> str:
    port = os.environ.get("MARKETO_STREAM_KAFKA_PORT", "19092")
    return os.environ.get("MARKETO_STREAM_BOOTSTRAP_SERVERS", f"127.0.0.1:{port}")


def _registry_url() -> str:
    port = os.environ.get("MARKETO_STREAM_REGISTRY_PORT", "18081")
    return os.environ.get("MARKETO_STREAM_SCHEMA_REGISTRY_URL", f"http://127.0.0.1:{port}/apis/ccompat/v7")


def kafka_reachable(bootstrap: str) -> bool:
    try:
        AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=5)
    except Exception:
        return False
    return True


def registry_reachable(url: str) -> bool:
    try:
        return requests.get(f"{url}/subjects", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def _kafka_version() -> str:
    log = Path(os.environ.get("MARKETO_STREAM_LOCAL_DIR") or REPO / ".local") / "logs" / "kafka.log"
    try:
        found = re.findall(r"Kafka version: (\S+)", log.read_text(errors="replace"))
    except OSError:
        found = []
    return found[-1] if found else "(version not logged)"


def _registry_version(url: str) -> str:
    base = url.split("/apis/")[0]
    try:
        info = requests.get(f"{base}/apis/registry/v3/system/info", timeout=5).json()
        return f"{info.get('name', 'Apicurio Registry')} {info.get('version', '')}".strip()
    except (requests.RequestException, ValueError):
        return "Confluent-compatible Schema Registry"


def unavailable(reason: str) -> None:
    """Fail under CI, skip elsewhere, always saying how to get the service."""
    message = f"{reason}. Start it with `make up` (see README)."
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


def ensure_infra() -> Infra:
    bootstrap, registry = _bootstrap(), _registry_url()
    started = False
    if not (kafka_reachable(bootstrap) and registry_reachable(registry)):
        proc = subprocess.run([sys.executable, str(LOCAL_SCRIPT), "up"], capture_output=True, text=True)
        started = proc.returncode == 0
        if not started:
            unavailable(f"Kafka/Schema Registry not reachable and `infra/local.py up` failed:\n{proc.stderr[-2000:]}")
    if not kafka_reachable(bootstrap):
        unavailable(f"Kafka broker not reachable at {bootstrap}")
    if not registry_reachable(registry):
        unavailable(f"Schema Registry not reachable at {registry}")
    return Infra(bootstrap, registry, _kafka_version(), _registry_version(registry), started)


def stop_local_infra() -> None:
    subprocess.run([sys.executable, str(LOCAL_SCRIPT), "down"], capture_output=True, text=True)
