"""Finds the real Kafka broker and Schema Registry for the tests, starting the local ones when absent.

Under CI=true a service that cannot be reached is a failure, never a skip: a green run must mean the
integration tests ran. The secured twins (a SASL_SSL broker with ACLs, the registry behind TLS and basic
auth) are found the same way, with the passwords ``infra/local.py`` generated for them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NoReturn

import pytest
import requests
from confluent_kafka.admin import AdminClient

from bench import endpoints

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


def unavailable(reason: str, start: str = "make up") -> NoReturn:
    """Fail under CI, skip elsewhere, always saying how to get the service."""
    message = f"{reason}. Start it with `{start}` (see README)."
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


def ensure_infra() -> Infra:
    bootstrap, registry = endpoints.bootstrap_servers(), endpoints.registry_url()
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


# --- the secured twins: SASL_SSL broker with ACLs, registry behind TLS and basic auth ------------------------------

SECURE_SERVICES = "kafka-secure,registry-secure"


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class SecureInfra:
    bootstrap_servers: str
    ca_location: str
    """The broker's CA certificate (PEM), for ``ssl.ca.location``."""
    admin: Credentials
    """Super user: bypasses every ACL."""
    marketo: Credentials
    """The tool's identity: no ACLs until a test grants them (``tests.acls.grant_acls``)."""
    stranger: Credentials
    """Never granted anything."""
    registry_url: str
    registry_ca_location: str
    registry_user: str
    registry_password: str = field(repr=False)
    started_here: bool = False

    def describe(self) -> str:
        return (
            f"SASL_SSL Kafka (SCRAM-SHA-512, ACLs) at {self.bootstrap_servers}; "
            f"TLS + basic auth registry at {self.registry_url}"
        )

    def client_config(self, user: Credentials | str) -> dict[str, str]:
        """librdkafka settings of a client logged in as ``user`` (credentials, or admin/marketo/stranger)."""
        login = user if isinstance(user, Credentials) else getattr(self, user)
        return {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": login.username,
            "sasl.password": login.password,
            "ssl.ca.location": self.ca_location,
        }

    def registry_config(self) -> dict[str, str]:
        """Settings of confluent-kafka's SchemaRegistryClient for the secured registry."""
        return {
            "url": self.registry_url,
            "basic.auth.user.info": f"{self.registry_user}:{self.registry_password}",
            "ssl.ca.location": self.registry_ca_location,
        }


def _local_dir() -> Path:
    return Path(os.environ.get("MARKETO_STREAM_LOCAL_DIR") or REPO / ".local")


def _read_secure_infra() -> SecureInfra | None:
    """What ``infra/local.py`` wrote for the secured services, or None before their first start."""
    local = _local_dir()
    try:
        kafka_users = json.loads((local / "kafka-secure" / "credentials.json").read_text())
        registry_users = json.loads((local / "registry-secure" / "credentials.json").read_text())
    except (OSError, ValueError):
        return None
    kafka_port = os.environ.get("MARKETO_STREAM_SECURE_KAFKA_PORT", "19094")
    registry_port = os.environ.get("MARKETO_STREAM_SECURE_REGISTRY_PORT", "18443")
    return SecureInfra(
        bootstrap_servers=f"127.0.0.1:{kafka_port}",
        ca_location=str(local / "kafka-secure" / "tls" / "ca.crt"),
        admin=Credentials("admin", kafka_users["admin"]),
        marketo=Credentials("marketo", kafka_users["marketo"]),
        stranger=Credentials("stranger", kafka_users["stranger"]),
        registry_url=f"https://127.0.0.1:{registry_port}/apis/ccompat/v7",
        registry_ca_location=str(local / "registry-secure" / "caddy" / "pki" / "authorities" / "local" / "root.crt"),
        registry_user="registry",
        registry_password=registry_users["registry"],
    )


def secure_kafka_reachable(found: SecureInfra) -> bool:
    try:
        AdminClient(found.client_config(found.admin)).list_topics(timeout=5)
    except Exception:
        return False
    return True


def secure_registry_reachable(found: SecureInfra) -> bool:
    try:
        answer = requests.get(
            f"{found.registry_url}/subjects",
            auth=(found.registry_user, found.registry_password),
            verify=found.registry_ca_location,
            timeout=5,
        )
    except (requests.RequestException, OSError):
        return False
    return answer.status_code == 200


def ensure_secure_infra() -> SecureInfra:
    """The secured services, started when absent; the plain registry must be up (``ensure_infra`` sees to it)."""
    found = _read_secure_infra()
    started = False
    if found is None or not (secure_kafka_reachable(found) and secure_registry_reachable(found)):
        proc = subprocess.run(
            [sys.executable, str(LOCAL_SCRIPT), "up", "--services", SECURE_SERVICES], capture_output=True, text=True
        )
        started = proc.returncode == 0
        if not started:
            unavailable(
                f"the secured Kafka/Schema Registry are not reachable and `infra/local.py up --services "
                f"{SECURE_SERVICES}` failed:\n{proc.stdout[-1000:]}{proc.stderr[-2000:]}",
                start="make up-secure",
            )
        found = _read_secure_infra()
    if found is None:
        unavailable("the secured services started but left no credentials under .local", start="make up-secure")
    if not secure_kafka_reachable(found):
        unavailable(f"SASL_SSL Kafka broker not reachable at {found.bootstrap_servers}", start="make up-secure")
    if not secure_registry_reachable(found):
        unavailable(f"secured Schema Registry not reachable at {found.registry_url}", start="make up-secure")
    return replace(found, started_here=started)


def stop_secure_infra() -> None:
    subprocess.run(
        [sys.executable, str(LOCAL_SCRIPT), "down", "--services", SECURE_SERVICES], capture_output=True, text=True
    )
