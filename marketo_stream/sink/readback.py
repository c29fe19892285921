"""Reading a topic back to its end, committed records only: the sync state on start, and a table's live keys.

The sync needs live keys where Marketo offers no listing: opportunity roles can only be asked for by lead id,
and after a restart the only complete list of lead ids is the lead topic itself.
"""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import fastavro
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin._metadata import TopicMetadata

from marketo_stream.sink.clients import ErrorWatch, with_watch
from marketo_stream.sink.errors import KafkaOperationError, KafkaUnavailableError

READBACK_GROUP_PREFIX = "marketo-stream-readback-"
"""Readers join a group of their own (never committing offsets); ACLs grant Group READ on this prefix."""


def committed_records(client: Mapping[str, Any], topic: str, timeout_s: float) -> Iterator[tuple[bytes, bytes | None]]:
    """(key, value) of every committed record of ``topic``, from the beginning of each partition to its end.

    ``client`` holds the librdkafka settings of every client (servers, security). Waiting longer than
    ``timeout_s`` for the topic's metadata or for the next record raises ``KafkaUnavailableError``.
    """
    watch = ErrorWatch()
    consumer = Consumer(
        with_watch(
            {
                **client,
                "group.id": f"{READBACK_GROUP_PREFIX}{uuid.uuid4().hex}",
                "isolation.level": "read_committed",
                "enable.auto.commit": False,
                "enable.partition.eof": True,
            },
            watch,
        )
    )
    what = f"reading topic {topic}"
    servers = str(client.get("bootstrap.servers"))
    try:
        metadata = _metadata(consumer, topic, timeout_s, watch, servers, what)
        pending = set(metadata.partitions)
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in pending])
        deadline = time.monotonic() + timeout_s
        while pending:
            messages = consumer.consume(num_messages=5000, timeout=0.05)  # returns early only when full
            if messages:
                deadline = time.monotonic() + timeout_s
            elif time.monotonic() > deadline:
                cause = watch.cause() or "no record and no end of partition arrived"
                raise KafkaUnavailableError(servers, what, timeout_s, cause, authentication=bool(watch.authentication))
            for message in messages:
                failure = message.error()
                if failure is not None:
                    if failure.code() == KafkaError._PARTITION_EOF:
                        pending.discard(message.partition())
                        continue
                    raise KafkaOperationError(what, failure.code(), failure.name(), failure.str())
                yield message.key() or b"", message.value()
    finally:
        consumer.close()


_JUST_CREATED = frozenset({KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError.LEADER_NOT_AVAILABLE})


def _metadata(
    consumer: Consumer, topic: str, timeout_s: float, watch: ErrorWatch, servers: str, what: str
) -> TopicMetadata:
    """The topic's metadata; a topic created a moment ago may not be known to every broker yet, so "unknown"
    is asked again for a few seconds before it counts."""
    started = time.monotonic()
    while True:
        try:
            metadata: TopicMetadata = consumer.list_topics(topic, timeout=timeout_s).topics[topic]
        except KafkaException as exc:
            cause = watch.cause() or exc.args[0].str()
            raise KafkaUnavailableError(
                servers, what, timeout_s, cause, authentication=bool(watch.authentication)
            ) from exc
        error = metadata.error
        if error is None:
            return metadata
        if error.code() not in _JUST_CREATED or time.monotonic() - started > min(timeout_s, 10.0):
            raise KafkaOperationError(what, error.code(), error.name(), error.str())
        time.sleep(0.1)


def live_keys(
    client: Mapping[str, Any],
    topic: str,
    key_schema: Mapping[str, Any],
    timeout_s: float,
    deleted: Callable[[bytes], bool] | None = None,
) -> list[dict[str, Any]]:
    """The keys whose last committed record is not a tombstone (nor a value ``deleted`` says marks a delete),
    decoded with ``key_schema``."""
    parsed = fastavro.parse_schema(dict(key_schema))
    live: dict[bytes, dict[str, Any]] = {}
    for raw, value in committed_records(client, topic, timeout_s):
        if value is None or (deleted is not None and deleted(value)):
            live.pop(raw, None)
        elif raw not in live:
            key = fastavro.schemaless_reader(io.BytesIO(raw[5:]), parsed)
            if isinstance(key, dict):
                live[raw] = key
    return list(live.values())
