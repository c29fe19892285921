"""The schema ids records were written with are kept, and a registry that lost or renumbered them is caught.

Against confluent-kafka's in-memory registry (each client its own registry): the registry-backed proof, with a
restarted and a wiped Apicurio, is ``tests/sync/test_schema_drift.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from marketo_stream.exit_codes import ExitStatus, outcome
from marketo_stream.sink import KafkaSink, SinkConfig, TableSchema
from marketo_stream.sink.errors import Drift, RegistryUnavailableError, SchemaDriftError
from marketo_stream.sink.registry import SchemaRegistrar, canonical, fingerprint
from marketo_stream.state_migrations import SCHEMAS_KEY, STATE_VERSION, upgrade_states
from marketo_stream.sync_state import SchemaIds, SyncState

KEY = {"type": "record", "name": "LeadKey", "fields": [{"name": "id", "type": "long"}]}
VALUE = {
    "type": "record",
    "name": "Lead",
    "fields": [{"name": "id", "type": "long"}, {"name": "email", "type": ["null", "string"], "default": None}],
}
OTHER = {"type": "record", "name": "Other", "fields": [{"name": "name", "type": "string"}]}


def registry() -> Any:
    """A fresh in-memory registry, answering an unknown subject with Confluent's code (the mock says 40400)."""
    client = SchemaRegistryClient.new_client({"url": "mock://schema-ids"})
    latest = client.get_latest_version

    def get_latest_version(subject: str, fmt: str | None = None) -> Any:
        try:
            return latest(subject, fmt)
        except SchemaRegistryError as exc:
            raise SchemaRegistryError(404, 40401, exc.error_message) from exc

    client.get_latest_version = get_latest_version
    return client


def registered(client: Any) -> SchemaRegistrar:
    registrar = SchemaRegistrar(client, "http://registry.test")
    registrar.register_key("lead", "marketo.lead-key", KEY)
    registrar.register_value("lead", "marketo.lead-value", VALUE)
    return registrar


def test_the_ids_written_with_are_noted_with_the_fingerprint_of_their_schema() -> None:
    written = registered(registry()).written
    assert set(written) == {"marketo.lead-key", "marketo.lead-value"}
    [(_, value_print)] = written["marketo.lead-value"].items()
    assert value_print == fingerprint(VALUE) and len(value_print) == 64


def test_the_fingerprint_ignores_spelling_but_not_meaning() -> None:
    respelled = {**VALUE, "doc": "a lead", "fields": [dict(f, marketo_name="x") for f in VALUE["fields"]]}
    assert canonical(respelled) == canonical(VALUE) and fingerprint(respelled) == fingerprint(VALUE)
    assert fingerprint(OTHER) != fingerprint(VALUE)


def test_a_registry_that_still_holds_the_ids_passes() -> None:
    client = registry()
    kept = registered(client).written
    SchemaRegistrar(client, "http://registry.test").verify(kept)


def test_a_registry_that_lost_the_ids_is_named_with_subject_and_id() -> None:
    kept = registered(registry()).written
    with pytest.raises(SchemaDriftError) as caught:
        SchemaRegistrar(registry(), "http://registry.test").verify(kept)  # a fresh, empty registry
    assert {(d.subject, d.now.split(" (")[0]) for d in caught.value.drifted} == {
        ("marketo.lead-key", "no schema"),
        ("marketo.lead-value", "no schema"),
    }
    value_id = next(iter(kept["marketo.lead-value"]))
    assert f"marketo.lead-value id {value_id}: the registry now has no schema (HTTP 404" in str(caught.value)


def test_a_registry_that_renumbered_its_schemas_is_caught() -> None:
    kept = registered(registry()).written
    renumbered = registry()
    renumbered.register_schema("x-value", Schema('"string"', "AVRO"))  # takes id 1, which the lead key had
    renumbered.register_schema("marketo.lead-key", Schema(str(canonical(KEY)), "AVRO"))
    renumbered.register_schema("marketo.lead-value", Schema(str(canonical(VALUE)), "AVRO"))
    with pytest.raises(SchemaDriftError) as caught:
        SchemaRegistrar(renumbered, "http://registry.test").verify(kept)
    assert all(d.now.startswith("another schema (fingerprint") for d in caught.value.drifted)
    assert {d.subject for d in caught.value.drifted} == {"marketo.lead-key", "marketo.lead-value"}


def test_schema_drift_is_exit_5_with_what_to_do() -> None:
    error = SchemaDriftError("http://registry.test", [Drift("marketo.lead-value", 7, "no schema (HTTP 404)")])
    status, message = outcome(error)
    assert status is ExitStatus.KAFKA
    assert "marketo.lead-value id 7: the registry now has no schema" in message
    assert "Nothing was registered or produced" in message


def test_the_kept_ids_round_trip_through_the_state_and_only_accumulate() -> None:
    kept = SchemaIds({"t-value": {3: "aa"}}).merged({"t-value": {9: "bb"}, "t-key": {1: "cc"}})
    docs = kept.documents()
    assert docs[SCHEMAS_KEY] == {
        "v": STATE_VERSION,
        "subjects": {"t-key": {"1": "cc"}, "t-value": {"3": "aa", "9": "bb"}},
    }
    assert SyncState.load(docs).schemas == kept


def test_a_state_from_before_the_kept_ids_upgrades_without_them() -> None:
    v3 = {"run": {"v": 3, "at": "2026-01-01T00:00:00Z"}, "lead": {"v": 3, "done": [], "initial_load_complete": True}}
    current = upgrade_states(v3)
    assert current == {key: {**doc, "v": STATE_VERSION} for key, doc in v3.items()} and STATE_VERSION >= 4
    state = SyncState.load(v3)
    assert state.schemas == SchemaIds() and state.leads.initial_load_complete


def test_a_registry_error_while_registering_is_told_as_drift_when_the_kept_ids_are_gone() -> None:
    """The registry restarted empty mid-registration: the error that revealed it gives way to the cause."""
    client = registry()
    kept = registered(client).written
    sink = KafkaSink(SinkConfig("127.0.0.1:9", "http://registry.test", "drift-test"), registry=client)
    sink.verify_schemas(kept)  # still true at start

    def gone(*_: Any, **__: Any) -> Any:
        raise SchemaRegistryError(404, 40403, "Schema not found")

    def refused(*_: Any, **__: Any) -> Any:
        raise SchemaRegistryError(503, 50301, "storage not ready")

    client.get_schema, client.get_latest_version = gone, refused
    table = TableSchema("thing", "thing", KEY, VALUE, compacted=True)
    with pytest.raises(SchemaDriftError) as caught:
        sink.prepare_all([table])
    assert isinstance(caught.value.__cause__, RegistryUnavailableError)
    assert {d.subject for d in caught.value.drifted} == set(kept)


def test_a_registry_error_with_the_kept_ids_intact_stays_what_it_was() -> None:
    client = registry()
    kept = registered(client).written
    sink = KafkaSink(SinkConfig("127.0.0.1:9", "http://registry.test", "drift-test"), registry=client)
    sink.verify_schemas(kept)

    def refused(*_: Any, **__: Any) -> Any:
        raise SchemaRegistryError(503, 50301, "storage not ready")

    client.get_latest_version = refused
    with pytest.raises(RegistryUnavailableError):
        sink.prepare_all([TableSchema("thing", "thing", KEY, VALUE, compacted=True)])


def test_ids_lost_while_the_run_went_on_are_exit_5_saying_records_already_name_them() -> None:
    client = registry()
    kept = registered(client).written
    sink = KafkaSink(SinkConfig("127.0.0.1:9", "http://registry.test", "drift-test"), registry=client)
    sink.verify_schemas(kept)  # true at start; then the registry restarts empty while the run goes on

    def gone(*_: Any, **__: Any) -> Any:
        raise SchemaRegistryError(404, 40403, "Schema not found")

    client.get_schema = gone
    with pytest.raises(SchemaDriftError) as caught:
        sink.verify_written()
    assert caught.value.after_run and "found after this run's last commit" in str(caught.value)
    status, message = outcome(caught.value)
    assert status is ExitStatus.KAFKA and "this run's included" in message
