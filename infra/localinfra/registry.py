"""The plain Schema Registry: Apicurio Registry serving the Confluent-compatible API over HTTP on loopback.

Its schemas live in the plain broker (Apicurio's KafkaSQL storage: a journal topic ``kafkasql-journal``, replayed
into memory at every start), as Confluent's registry keeps ``_schemas``: a restarted registry comes back with the
same schemas under the same ids, and records already in Kafka keep decoding. The broker must be up first.

``MARKETO_STREAM_REGISTRY_STORAGE=memory`` starts it with Apicurio's default in-memory storage instead (empty at
every start): only for tests that need a registry which forgot everything.

``MARKETO_STREAM_REGISTRY_KAFKA_CLIENT=<file>`` keeps the journal in another broker: the file holds Kafka client
settings (Java properties, ``key=value`` per line, ``bootstrap.servers`` included), handed to the storage's
producer, consumer and admin client. ``tests/integration/test_registry_secured_storage.py`` uses it to keep a
registry's schemas in the SASL_SSL broker under a user of its own.

A secured broker: the storage is a Kafka client like any other and logs in the same way. Apicurio passes every
``apicurio.kafka.common.<kafka client property>`` to the storage's producer, consumer and admin client, e.g. for
SCRAM over SASL_SSL (environment form, as in a container)::

    APICURIO_KAFKASQL_BOOTSTRAP_SERVERS=broker:9094
    APICURIO_KAFKA_COMMON_SECURITY_PROTOCOL=SASL_SSL
    APICURIO_KAFKA_COMMON_SASL_MECHANISM=SCRAM-SHA-512
    APICURIO_KAFKA_COMMON_SASL_JAAS_CONFIG=org.apache.kafka.common.security.scram.ScramLoginModule required \\
        username="registry" password="...";
    APICURIO_KAFKA_COMMON_SSL_TRUSTSTORE_TYPE=PEM
    APICURIO_KAFKA_COMMON_SSL_TRUSTSTORE_LOCATION=/path/ca.crt

and grant its principal on the cluster: Describe, DescribeConfigs and Create for its three topics
(``kafkasql-journal``, ``kafkasql-snapshots``, ``registry-events``), Read and Write on them, Read on consumer
groups prefixed ``apicurio-`` (each start replays the journal under a new group). The secured twin here
(``registry-secure``) fronts this plain registry, so its schemas are in the plain broker too.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from localinfra.config import (
    APICURIO_HOME,
    APICURIO_VERSION,
    KAFKA_PORT,
    LOCAL,
    READY_TIMEOUT,
    REGISTRY_MGMT_PORT,
    REGISTRY_PORT,
    REGISTRY_URL,
)
from localinfra.credentials import write_private
from localinfra.errors import InfraError
from localinfra.probes import http, kafka_answers
from localinfra.process import Service
from localinfra.tools import java

JOURNAL_TOPIC = "kafkasql-journal"
_DESCRIBED_STORAGE = (
    "in-memory storage, empty at every start"
    if os.environ.get("MARKETO_STREAM_REGISTRY_STORAGE") == "memory"
    else f"schemas kept in the broker of {os.environ['MARKETO_STREAM_REGISTRY_KAFKA_CLIENT']}, topic {JOURNAL_TOPIC}"
    if os.environ.get("MARKETO_STREAM_REGISTRY_KAFKA_CLIENT")
    else f"schemas kept in the broker on 127.0.0.1:{KAFKA_PORT}, topic {JOURNAL_TOPIC}"
)


def _storage() -> str:
    kind = os.environ.get("MARKETO_STREAM_REGISTRY_STORAGE") or "kafkasql"
    if kind not in ("kafkasql", "memory"):
        raise InfraError(f"MARKETO_STREAM_REGISTRY_STORAGE={kind!r}: kafkasql (the default) or memory")
    return kind


def storage_properties(kind: str, bootstrap: str) -> list[str]:
    """The storage settings, as ``-D`` options: the journal in the broker, kept forever."""
    if kind == "memory":
        return []  # Apicurio's default: in-memory H2, empty at every start
    return [
        "-Dapicurio.storage.kind=kafkasql",
        f"-Dapicurio.kafkasql.bootstrap.servers={bootstrap}",
        f"-Dapicurio.kafkasql.topic={JOURNAL_TOPIC}",
        # topic settings (``apicurio.kafkasql.topic.<config>``) go to the broker as they are: 3.3.3 knows no
        # "partitions" or "replication.factor" of its own there, so the broker's defaults apply (one partition,
        # one replica here). Kept forever: Apicurio creates its topics with retention.ms=-1, cleanup.policy=delete.
        "-Dapicurio.kafkasql.topic.retention.ms=-1",
        "-Dapicurio.kafkasql.topic.retention.bytes=-1",
        f"-Dapicurio.storage.snapshot.location={LOCAL / 'registry'}",
        # at start Apicurio reads the snapshots topic and then the journal, each until a poll comes back empty;
        # the default 5 s per poll made a start take 25 s instead of 8 on a broker on loopback
        "-Dapicurio.kafkasql.consumer.poll.timeout=500",
    ]


def client_file_properties(path: Path) -> tuple[str, dict[str, str]]:
    """The storage's Kafka client settings read from ``path``: its bootstrap servers, and the rest."""
    settings: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", "!")):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise InfraError(f"{path}:{number}: expected key=value (a Kafka client setting)")
        settings[key.strip()] = value.strip()
    bootstrap = settings.pop("bootstrap.servers", None)
    if not bootstrap:
        raise InfraError(f"{path}: bootstrap.servers is missing (the broker that keeps the schemas)")
    return bootstrap, settings


def _client_file() -> Path | None:
    named = os.environ.get("MARKETO_STREAM_REGISTRY_KAFKA_CLIENT")
    return Path(named) if named else None


def _storage_options() -> list[str]:
    """``apicurio.kafka.common.<setting>`` hands one setting to all three storage clients. They go in a private
    config file rather than on the command line, where a SASL password would show in every process listing."""
    client = _client_file()
    if client is None or _storage() == "memory":
        return storage_properties(_storage(), f"127.0.0.1:{KAFKA_PORT}")
    bootstrap, settings = client_file_properties(client)
    config = LOCAL / "registry" / "storage-client.properties"
    write_private(config, "".join(f"apicurio.kafka.common.{key}={value}\n" for key, value in settings.items()))
    return [*storage_properties(_storage(), bootstrap), f"-Dquarkus.config.locations={config.as_uri()}"]


def _requires() -> None:
    if _client_file() is not None:
        return  # another broker, perhaps behind TLS: the registry's own start says whether it can log in
    if _storage() == "kafkasql" and not kafka_answers(KAFKA_PORT):
        raise InfraError(
            f"the registry keeps its schemas in the broker on 127.0.0.1:{KAFKA_PORT}, which does not answer; "
            "start it first (--services kafka,registry)"
        )


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
        *_storage_options(),
        "-jar",
        str(APICURIO_HOME / "quarkus-run.jar"),
    ]


def ready() -> bool:
    """The API answers, and Apicurio's own readiness says its storage is ready: with KafkaSQL storage a restarted
    registry answers HTTP before it has replayed its journal, and for that while it says 404 for schemas it holds."""
    status, _ = http("GET", f"{REGISTRY_URL}/subjects")
    if status != 200:
        return False
    status, body = http("GET", f"http://127.0.0.1:{REGISTRY_MGMT_PORT}/health/ready")
    return status == 200 and '"DOWN"' not in body


def _after_ready() -> None:
    """Apicurio enforces nothing until a global rule is set; we want Confluent's default, BACKWARD.

    With KafkaSQL storage the write goes through the journal and back before it is answered, which on a loaded
    machine can outlast a short timeout; no answer at all (status 0) is tried again until ``READY_TIMEOUT``.
    """
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        status, body = http("PUT", f"{REGISTRY_URL}/config", {"compatibility": "BACKWARD"}, timeout=30.0)
        if status == 200:
            return
        if status != 0 or time.monotonic() > deadline:
            raise InfraError(f"setting the registry's global compatibility failed: HTTP {status} {body}")
        time.sleep(1.0)


SERVICE = Service(
    name="registry",
    port=REGISTRY_PORT,
    command=_command,
    prepare=_prepare,
    ready=ready,
    after_ready=_after_ready,
    describe=f"Apicurio Registry {APICURIO_VERSION} at {REGISTRY_URL} ({_DESCRIBED_STORAGE})",
    requires=_requires,
)
