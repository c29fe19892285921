"""Kafka: Avro with registered schemas, topics, tombstones and state in one transaction. Knows nothing of Marketo.

Public API (the sync engine calls only this)::

    SinkConfig(bootstrap_servers, registry_url, transactional_id, topic_prefix="marketo", state_topic=None,
               partitions=1, replication_factor=1, retention_ms=None (keep forever),
               delete_mode="tombstone" | "soft" | "both", run_id=None (fresh per sink), topic_config={},
               producer_config={}, registry_config={}, transaction_timeout_ms=300_000, ...)
    TableSchema(name, topic_suffix, key_schema: dict, value_schema: dict, compacted: bool, retention_ms=None,
                timestamp_field=None)      # a value field of event time (ms): the records' Kafka timestamp

    sink = KafkaSink(config)
    sink.open() -> dict[str, dict]          # init_transactions (fences older instances), then the committed state
    sink.prepare(table) -> None             # topic + key/value schema registration; raises before producing
    sink.published_value_schema(suffix)     # latest registered value schema (to regenerate with stable names)
    with sink.transaction() as batch:       # commit on normal exit, abort on exception
        batch.upsert(table_name, key: dict, value: dict)
        batch.delete(table_name, key: dict) # per delete_mode: tombstone, flagged record, or both
        batch.put_state(key: str, state: dict | None)   # None resets the key
        batch.counts                         # {topic: {"records": n, "tombstones": n}} in this transaction
    sink.stats() -> dict                    # produced/committed per topic, transaction outcomes, policy mismatches
    sink.policy_mismatches                  # existing topics whose cleanup.policy or retention.ms is not what the
                                            # table needs, left unchanged
    sink.close()

Layout: topic ``<prefix>.<topic_suffix>`` per table, subjects ``<topic>-key`` / ``<topic>-value``, state in
``<prefix>._state`` (compacted, one partition; the leading underscore keeps it out of sinks that select
tables by name). Records are Confluent-framed Avro (magic 0, 4-byte schema
id, body); tombstones have the same key bytes as the records (key schemas are frozen). The delete modes
``soft`` and ``both`` add ``__deleted: boolean = false`` to every value schema; the flagged record of a
deleted key has the key columns, ``__deleted = true`` and null elsewhere (so non-key columns must be
nullable): ``soft`` publishes it instead of the tombstone, ``both`` before it. Every value schema ends with
``_synced_at`` (timestamp-millis, nullable): when the transaction that published the record began. Every table
record carries the headers ``marketo_stream.run_id`` (the sink's run id) and ``marketo_stream.table``; both
``_synced_at`` and the run id differ between runs by design.

Timestamps: a table's records carry its ``timestamp_field`` value as their Kafka timestamp (CreateTime), also
when a transaction is redone; other records, tombstones and state records carry the time they are produced.
Event topics (not compacted) keep their records forever unless a retention is chosen (``retention_ms`` of the
table or the config); an existing event topic with the 30 days once set by default, or any other retention
when one is chosen, is altered to it at prepare (logged); see ``topics``.
"""

from marketo_stream.sink.codec import RecordEncoding
from marketo_stream.sink.config import DELETE_MODES, PRODUCER_TUNING, DeleteMode, SinkConfig, TableSchema
from marketo_stream.sink.errors import (
    IncompatibleSchemaError,
    KafkaFatalError,
    KafkaOperationError,
    KeySchemaChangedError,
    ProducerFencedError,
    RecordEncodingError,
    SchemaRegistrationError,
    SinkError,
    StateFormatError,
    UnknownTableError,
)
from marketo_stream.sink.fields import DELETED_FIELD, RUN_ID_HEADER, SINK_FIELDS, SYNCED_AT_FIELD, TABLE_HEADER
from marketo_stream.sink.kafka import Batch, KafkaSink
from marketo_stream.sink.topics import TopicPolicyMismatch

__all__ = [
    "DELETED_FIELD",
    "DELETE_MODES",
    "PRODUCER_TUNING",
    "RUN_ID_HEADER",
    "SINK_FIELDS",
    "SYNCED_AT_FIELD",
    "TABLE_HEADER",
    "Batch",
    "DeleteMode",
    "IncompatibleSchemaError",
    "KafkaFatalError",
    "KafkaOperationError",
    "KafkaSink",
    "KeySchemaChangedError",
    "ProducerFencedError",
    "RecordEncoding",
    "RecordEncodingError",
    "SchemaRegistrationError",
    "SinkConfig",
    "SinkError",
    "StateFormatError",
    "TableSchema",
    "TopicPolicyMismatch",
    "UnknownTableError",
]
