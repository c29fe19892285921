"""What the sink is told: where Kafka and the registry are, how topics look, and each table's schemas."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

DeleteMode = Literal["tombstone", "soft", "both"]
DELETE_MODES: tuple[DeleteMode, ...] = ("tombstone", "soft", "both")

# Throughput settings (librdkafka): batching is the biggest lever; compression runs on librdkafka's threads,
# outside the GIL. Successful deliveries are not reported back to Python at all: commit_transaction() fails
# if any message of the transaction failed, which is the only report the sink needs.
PRODUCER_TUNING: dict[str, Any] = {
    "linger.ms": 50,
    "batch.size": 1_000_000,
    "batch.num.messages": 100_000,
    "compression.type": "lz4",
    "queue.buffering.max.messages": 1_000_000,
    "queue.buffering.max.kbytes": 1_048_576,
    "delivery.report.only.error": True,
    "partitioner": "murmur2_random",
    "acks": "all",
    "enable.idempotence": True,
}

ONE_REQUEST_IN_FLIGHT: dict[str, Any] = {"max.in.flight.requests.per.connection": 1}
"""Set on every producer, after any user override: with more than one produce request in flight, records are
lost while the transaction commits. The first batch a producer id sends to a partition (a new topic, or one not
written for a day) can fail with a retriable error (the broker's check that the partition is in the transaction,
while the previous commit completes) while the next batch, already sent behind it, is appended: a broker holding
no state for the producer on that partition accepts any first sequence number. librdkafka then counts the failed
batch as "implicitly acked by subsequent batch success" and commits without it. One request in flight makes the
retry go before any later batch of the partition."""


@dataclass(frozen=True)
class SinkConfig:
    """Connection, topic layout and producer settings.

    ``transactional_id`` must be stable per Marketo instance: a restarted sync with the same id fences any
    older one still running. ``topic_config`` is added to every topic the sink creates (e.g.
    ``min.insync.replicas``); ``client_config`` goes to every Kafka client the sink makes (producer, admin,
    readers: security settings belong here); ``producer_config`` overrides ``PRODUCER_TUNING`` key by key
    (not ``ONE_REQUEST_IN_FLIGHT``).
    ``registry_config`` is the Schema Registry client's (auth, TLS).

    ``connect_timeout_s`` bounds how long the first contact with Kafka or the registry may take before the
    sink gives up with ``KafkaUnavailableError`` / ``RegistryUnavailableError``; ``outage_timeout_s`` bounds
    how long a call keeps retrying a broker lost mid-run.

    ``delete_mode`` says what a delete publishes: ``tombstone`` (a null value), ``soft`` (a record of the key
    with ``__deleted`` true and null elsewhere, no tombstone) or ``both`` (that record, then the tombstone).
    Every value schema ends with ``_synced_at`` (when the transaction began), after ``__deleted`` unless the
    mode is ``tombstone``.

    ``retention_ms`` is how long event topics keep records, a user's choice: ``None`` keeps them forever
    (``retention.ms=-1``), because a default that deletes would silently drop a backfilled history. A
    chosen retention is also applied to existing event topics; see ``topics``.
    """

    bootstrap_servers: str
    registry_url: str
    transactional_id: str
    topic_prefix: str = "marketo"
    state_topic: str | None = None
    partitions: int = 1
    replication_factor: int = 1
    retention_ms: int | None = None
    delete_mode: DeleteMode = "tombstone"
    delete_markers: bool = False
    """The former switch for ``delete_mode="both"`` (kept as an alias)."""
    run_id: str | None = None
    """Sent in the ``marketo_stream.run_id`` header of every table record; a fresh one per sink when ``None``."""
    topic_config: Mapping[str, str] = field(default_factory=dict)
    producer_config: Mapping[str, Any] = field(default_factory=dict)
    registry_config: Mapping[str, Any] = field(default_factory=dict)
    client_config: Mapping[str, Any] = field(default_factory=dict)
    transaction_timeout_ms: int = 300_000
    call_timeout_s: float = 60.0
    connect_timeout_s: float = 30.0
    outage_timeout_s: float = 120.0
    max_redos: int = 3

    @property
    def effective_delete_mode(self) -> DeleteMode:
        return "both" if self.delete_markers and self.delete_mode == "tombstone" else self.delete_mode

    @property
    def flags_deletes(self) -> bool:
        """Whether value schemas carry ``__deleted``."""
        return self.effective_delete_mode != "tombstone"

    @property
    def state_topic_name(self) -> str:
        return self.state_topic or f"{self.topic_prefix}._state"

    def topic(self, suffix: str) -> str:
        return f"{self.topic_prefix}.{suffix}"

    def client_settings(self) -> dict[str, Any]:
        """librdkafka settings every Kafka client starts from: the servers and how to log in to them."""
        return {**self.client_config, "bootstrap.servers": self.bootstrap_servers}

    def producer_settings(self) -> dict[str, Any]:
        return {
            **PRODUCER_TUNING,
            **self.client_settings(),
            **self.producer_config,
            **ONE_REQUEST_IN_FLIGHT,
            "transactional.id": self.transactional_id,
            "transaction.timeout.ms": self.transaction_timeout_ms,
        }


@dataclass(frozen=True)
class TableSchema:
    """One table as the sink sees it: plain Avro schema dicts, no Marketo.

    ``key_schema`` holds only the primary key and must never change once registered. Compacted tables are
    entities (deletes become tombstones); the others are event streams kept for ``retention_ms`` (the
    config's ``retention_ms`` when ``None``).

    ``timestamp_field`` names a value field holding when the record's event happened (a long of milliseconds
    since the epoch, e.g. ``timestamp-millis``): the record's Kafka timestamp (CreateTime) is that value, so
    consumers see event time and time-based retention counts from the event, not from a backfill. Records
    with ``None`` there, records of tables without a ``timestamp_field`` and tombstones carry the time they
    are produced. ``prepare`` refuses a field the value schema does not have as a (nullable) long.
    """

    name: str
    topic_suffix: str
    key_schema: Mapping[str, Any]
    value_schema: Mapping[str, Any]
    compacted: bool
    retention_ms: int | None = None
    timestamp_field: str | None = None
