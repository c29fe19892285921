"""The plain Schema Registry: Apicurio Registry serving the Confluent-compatible API over HTTP on loopback."""

from __future__ import annotations

from localinfra.config import APICURIO_HOME, APICURIO_VERSION, LOCAL, REGISTRY_MGMT_PORT, REGISTRY_PORT, REGISTRY_URL
from localinfra.errors import InfraError
from localinfra.probes import http
from localinfra.process import Service
from localinfra.tools import java


def _prepare() -> None:
    (LOCAL / "registry").mkdir(parents=True, exist_ok=True)


def _command() -> list[str]:
    return [
        java(21),
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


def ready() -> bool:
    status, _ = http("GET", f"{REGISTRY_URL}/subjects")
    return status == 200


def _after_ready() -> None:
    """Apicurio enforces nothing until a global rule is set; we want Confluent's default, BACKWARD."""
    status, body = http("PUT", f"{REGISTRY_URL}/config", {"compatibility": "BACKWARD"})
    if status != 200:
        raise InfraError(f"setting the registry's global compatibility failed: HTTP {status} {body}")


SERVICE = Service(
    name="registry",
    port=REGISTRY_PORT,
    command=_command,
    prepare=_prepare,
    ready=ready,
    after_ready=_after_ready,
    describe=f"Apicurio Registry {APICURIO_VERSION} at {REGISTRY_URL}",
)
