"""The in-memory sink shows what a read_committed consumer of Kafka would: committed transactions only."""

from __future__ import annotations

import pytest

from marketo_stream.sink import TableSchema, UnknownTableError
from marketo_stream.sink.memory import MemorySink
from marketo_stream.sink.protocol import Sink

KEY = {"type": "record", "name": "k", "fields": [{"name": "id", "type": "long"}]}
VALUE = {"type": "record", "name": "v", "fields": [{"name": "id", "type": "long"}, {"name": "name", "type": "string"}]}
TABLE = TableSchema("thing", "thing", KEY, VALUE, compacted=True)


def opened(**kwargs: object) -> MemorySink:
    sink = MemorySink(**kwargs)  # type: ignore[arg-type]
    sink.open()
    sink.prepare_all([TABLE])
    return sink


def test_it_is_a_sink() -> None:
    sink: Sink = MemorySink()
    assert sink.open() == {}


def test_a_committed_transaction_shows_records_tombstones_and_state_together() -> None:
    sink = opened()
    with sink.transaction() as batch:
        batch.upsert("thing", {"id": 1}, {"id": 1, "name": "a"})
        batch.upsert_values("thing", [2, "b"])
        batch.delete("thing", {"id": 1})
        batch.put_state("thing", {"done": True})
        assert batch.counts == {"marketo.thing": {"records": 2, "tombstones": 1}}
    assert sink.records("thing") == [({"id": 1}, {"id": 1, "name": "a"}), ({"id": 2}, {"id": 2, "name": "b"}),
                                     ({"id": 1}, None)]  # fmt: skip
    assert list(sink.compacted("thing").values()) == [{"id": 2, "name": "b"}]
    assert sink.live_keys("thing") == [{"id": 2}]
    assert sink.open() == {"thing": {"done": True}}


def test_an_aborted_transaction_leaves_nothing() -> None:
    sink = opened(states={"thing": {"done": False}})
    with pytest.raises(RuntimeError), sink.transaction() as batch:
        batch.upsert("thing", {"id": 1}, {"id": 1, "name": "a"})
        batch.put_state("thing", {"done": True})
        raise RuntimeError("lost the broker")
    assert sink.records("thing") == []
    assert sink.states() == {"thing": {"done": False}}
    assert sink.transactions == {"aborted": 1}


def test_a_null_state_resets_the_key() -> None:
    sink = opened(states={"a": {"x": 1}, "b": {"x": 2}})
    with sink.transaction() as batch:
        batch.put_state("a", None)
    assert sink.states() == {"b": {"x": 2}}


def test_an_unprepared_table_is_refused() -> None:
    sink = opened()
    with pytest.raises(UnknownTableError), sink.transaction() as batch:
        batch.upsert("other", {"id": 1}, {"id": 1})
    assert sink.transactions == {"aborted": 1}
