"""Records and state commit together or not at all; one writer per transactional.id; state reads back."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest
from confluent_kafka import KafkaError, Producer

from marketo_stream.schema import fixed_table
from marketo_stream.sink import (
    Batch,
    KafkaOperationError,
    KafkaSink,
    ProducerFencedError,
    SinkConfig,
    StateFormatError,
    TableSchema,
    UnknownTableError,
)
from tests.sink.kafka_reading import RegistryDecoder, read_topic

pytestmark = pytest.mark.kafka

LISTS = fixed_table("list")
LIST = TableSchema("list", "list", LISTS.key_schema, LISTS.value_schema, compacted=True)


class Boom(Exception):
    pass


def test_state_reads_back_last_value_per_key_and_a_reset_removes_the_key(
    open_sink: Callable[..., KafkaSink], sink_config: Callable[..., SinkConfig]
) -> None:
    sink = open_sink()
    with sink.transaction() as batch:
        batch.put_state("list", {"cursor": 1})
        batch.put_state("program", {"cursor": "a"})
    with sink.transaction() as batch:
        batch.put_state("list", {"cursor": 2})
        batch.put_state("program", None)
    sink.close()
    assert KafkaSink(sink_config()).open() == {"list": {"cursor": 2}}


def test_an_exception_in_the_batch_aborts_records_and_state_together(
    open_sink: Callable[..., KafkaSink], sink_config: Callable[..., SinkConfig], bootstrap_servers: str
) -> None:
    sink = open_sink()
    sink.prepare(LIST)
    with sink.transaction() as batch:
        batch.upsert("list", {"id": 1}, {"id": 1, "name": "committed"})
        batch.put_state("list", {"done": 1})
    with pytest.raises(Boom), sink.transaction() as batch:
        batch.upsert("list", {"id": 2}, {"id": 2, "name": "aborted"})
        batch.put_state("list", {"done": 2})
        raise Boom

    assert len(read_topic(bootstrap_servers, sink.config.topic("list"))) == 1
    assert KafkaSink(sink_config()).open() == {"list": {"done": 1}}
    topic = sink.config.topic("list")
    assert sink.stats()["committed"][topic] == {"records": 1, "tombstones": 0}
    assert sink.stats()["produced"][topic] == {"records": 2, "tombstones": 0}
    assert sink.stats()["transactions"]["aborted"] == 1


def test_a_second_instance_with_the_same_transactional_id_fences_the_first(
    open_sink: Callable[..., KafkaSink], bootstrap_servers: str, decode: RegistryDecoder
) -> None:
    first = open_sink()
    first.prepare(LIST)
    with first.transaction() as batch:
        batch.upsert("list", {"id": 1}, {"id": 1, "name": "before"})

    second = open_sink()
    second.prepare(LIST)
    with pytest.raises(ProducerFencedError) as raised, first.transaction() as batch:
        batch.upsert("list", {"id": 2}, {"id": 2, "name": "zombie"})
        batch.put_state("list", {"by": "first"})
    assert raised.value.transactional_id == first.config.transactional_id
    assert "another instance took over" in str(raised.value)
    with pytest.raises(ProducerFencedError):
        first.transaction().__enter__()  # a fenced sink refuses any further work

    with second.transaction() as batch:
        batch.upsert("list", {"id": 3}, {"id": 3, "name": "after"})
    names = [decode(r.value)["name"] for r in read_topic(bootstrap_servers, first.config.topic("list")) if r.value]
    assert names == ["before", "after"]


def test_a_newer_state_format_is_refused_on_open(
    open_sink: Callable[..., KafkaSink], sink_config: Callable[..., SinkConfig], bootstrap_servers: str
) -> None:
    sink = open_sink()
    producer = Producer({"bootstrap.servers": bootstrap_servers})
    producer.produce(sink.config.state_topic_name, key=b"lead", value=b'{"format": 99, "state": {}}')
    producer.flush(10)
    with pytest.raises(StateFormatError, match="format 99"):
        KafkaSink(sink_config()).open()


def test_a_full_local_queue_applies_back_pressure_instead_of_failing(
    open_sink: Callable[..., KafkaSink], bootstrap_servers: str
) -> None:
    sink = open_sink(producer_config={"queue.buffering.max.messages": 50, "linger.ms": 5})
    sink.prepare(LIST)
    with sink.transaction() as batch:
        for n in range(3_000):
            batch.upsert("list", {"id": n}, {"id": n, "name": f"list {n}"})
    assert len(read_topic(bootstrap_servers, sink.config.topic("list"))) == 3_000


def test_a_batch_kafka_keeps_refusing_is_aborted_redone_then_reported(
    open_sink: Callable[..., KafkaSink], sink_config: Callable[..., SinkConfig], bootstrap_servers: str
) -> None:
    sink = open_sink(topic_config={"max.message.bytes": "2000"}, max_redos=2)
    sink.prepare(LIST)
    with pytest.raises(KafkaOperationError, match="MSG_SIZE_TOO_LARGE"), sink.transaction() as batch:
        batch.upsert("list", {"id": 1}, {"id": 1, "name": secrets.token_urlsafe(20_000)})  # incompressible
        batch.put_state("list", {"done": 1})
    assert sink.stats()["transactions"]["redone"] == 2
    assert read_topic(bootstrap_servers, sink.config.topic("list")) == []
    assert KafkaSink(sink_config()).open() == {}


def test_a_batch_given_up_on_is_reported_by_the_error_it_was_first_aborted_for(
    sink_config: Callable[..., SinkConfig],
) -> None:
    """After a refused record, a later attempt can fail on a consequence (the next record's skipped sequence number):
    the report names the cause, and the last attempt's error after it."""
    too_large = KafkaError(KafkaError.MSG_SIZE_TOO_LARGE, "Broker: Message size too large")
    out_of_order = KafkaError(KafkaError.OUT_OF_ORDER_SEQUENCE_NUMBER, "skipped sequence numbers")
    sink = KafkaSink(sink_config(max_redos=2))
    batch = Batch.__new__(Batch)
    batch.first_error = too_large

    reported = sink._gave_up("commit_transaction", batch, out_of_order)

    assert reported.name == "MSG_SIZE_TOO_LARGE" and reported.code == KafkaError.MSG_SIZE_TOO_LARGE
    assert str(reported).endswith("Broker: Message size too large; the last attempt: OUT_OF_ORDER_SEQUENCE_NUMBER")


def test_records_for_an_unprepared_table_are_refused(open_sink: Callable[..., KafkaSink]) -> None:
    sink = open_sink()
    with pytest.raises(UnknownTableError, match="'nope'"), sink.transaction() as batch:
        batch.upsert("nope", {"id": 1}, {"id": 1})
