"""The transactional Kafka sink: table records, tombstones and sync state committed together.

Every batch runs in one Kafka transaction that carries both the records and the state record saying they
are done, so after a crash the state read on start matches exactly what consumers (read_committed) see.
Errors from librdkafka are handled by their class: retriable → the call is retried; abortable
(``txn_requires_abort``) → the transaction is aborted and the batch, kept as encoded bytes, is produced
again and committed (at most ``max_redos`` times); fatal → ``KafkaFatalError``, or ``ProducerFencedError``
when a newer instance with the same ``transactional.id`` took over. After a fatal error the sink refuses
further work: the process exits and restarts from the committed state.

Outages are bounded: a retriable failure is retried for at most ``outage_timeout_s`` (the first contact,
``connect_timeout_s``), then ``KafkaUnavailableError`` names the servers and librdkafka's last reason. A
refused login ends it at once. Blocking calls wait in slices of a couple of seconds, so that a signal is
handled within seconds even while the broker is gone; a transaction interrupted by a signal is aborted with
one short attempt, and otherwise left to the next run's ``init_transactions``, which aborts it.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import SchemaRegistryClient

from marketo_stream.sink.clients import ErrorWatch, with_watch
from marketo_stream.sink.codec import (
    Encoder,
    RecordEncoder,
    RecordEncoding,
    decoder,
    key_encoder,
    record_encoder,
    schema_id_of,
    value_encoder,
)
from marketo_stream.sink.config import SinkConfig, TableSchema
from marketo_stream.sink.errors import (
    KafkaFatalError,
    KafkaOperationError,
    KafkaUnavailableError,
    ProducerFencedError,
    RecordEncodingError,
    SchemaDriftError,
    SchemaRegistrationError,
    SinkError,
    UnknownTableError,
)
from marketo_stream.sink.fields import (
    DELETED_FIELD,
    RUN_ID_HEADER,
    TABLE_HEADER,
    sink_fields_tail,
    with_sink_fields,
)
from marketo_stream.sink.readback import live_keys
from marketo_stream.sink.registry import KeptIds, SchemaRegistrar
from marketo_stream.sink.state import encode_state, read_state
from marketo_stream.sink.timestamps import PRODUCE_TIME, event_millis, timestamp_position
from marketo_stream.sink.topics import TopicManager, TopicPolicyMismatch, TopicSpec

log = logging.getLogger(__name__)

_FENCED = frozenset({KafkaError._FENCED, KafkaError.PRODUCER_FENCED, KafkaError.INVALID_PRODUCER_EPOCH})
_ANY_PARTITION = -1
"""librdkafka's "unassigned": the configured partitioner chooses."""
Sent = tuple[str, bytes, bytes | None, int]
"""Topic, key, value (``None``: a tombstone) and timestamp of a produced record, kept to produce it again."""


_REGISTERING_AT_ONCE = 8
"""Schema registrations in flight at once (each is a couple of registry round trips)."""

_SLICE_S = 2.0
"""The longest a blocking Kafka call waits at once: signals are handled between slices."""

_ABORT_ON_SIGNAL_S = 3.0
"""One attempt to abort the open transaction when a signal stops the run; the next run aborts it otherwise."""


class _AbortRequired(Exception):
    """The transaction must be aborted; its records are produced again in a new one."""

    def __init__(self, error: KafkaError) -> None:
        super().__init__(error.str())
        self.error = error


@dataclass(frozen=True)
class PreparedTable:
    name: str
    topic: str
    encode_key: Encoder
    encode_value: Encoder
    """A record's value → the framed bytes of the table's own fields (the sink's fields follow: ``Batch``)."""
    encode_record: RecordEncoder
    """A record's values, in the order of the table's value schema fields (without the fields the sink adds)
    → its key and the framed bytes of the table's own fields."""
    timestamp_field: str | None = None
    timestamp_at: int | None = None
    """The position of ``timestamp_field`` among those values: records carry its value as their timestamp."""
    encoding: RecordEncoding | None = None
    """``encode_record`` as plain data, for encoding in another process (``KafkaSink.record_encodings``)."""


def _keyless(table: str) -> RecordEncoder:
    def refuse(values: Sequence[Any]) -> tuple[bytes, bytes]:
        raise KeyError(f"the key fields of {table} are not among its value fields: publish it with upsert()")

    return refuse


class KafkaSink:
    """Publishes tables to Kafka as Confluent-framed Avro inside transactions that also carry sync state.

    Usage::

        sink = KafkaSink(config)
        states = sink.open()                   # fences older instances, returns {state key: state}
        sink.prepare(table_schema)             # topic + schema registration, before any record
        with sink.transaction() as batch:      # commit on normal exit, abort on an exception
            batch.upsert("lead", {"id": 1}, {"id": 1, "email": "a@example.com"})
            batch.delete("lead", {"id": 2})
            batch.put_state("lead", {"cursor": "..."})
        sink.close()
    """

    def __init__(self, config: SinkConfig, registry: SchemaRegistryClient | None = None) -> None:
        self.config = config
        self.run_id = config.run_id or uuid.uuid4().hex
        """Sent with every table record in the ``marketo_stream.run_id`` header (differs between runs)."""
        self._headers: dict[str, list[tuple[str, str | bytes | None]]] = {}
        client = registry or SchemaRegistryClient(
            {"url": config.registry_url, "cache.latest.ttl.sec": 0, **config.registry_config}
        )
        self._registrar = SchemaRegistrar(client, config.registry_url)
        self._watch = ErrorWatch()
        self._admin = AdminClient(with_watch(config.client_settings(), self._watch))
        self._topics = TopicManager(self._admin, config.topic_config, config.call_timeout_s)
        self._producer: Producer | None = None
        self._tables: dict[str, PreparedTable] = {}
        self._kept: dict[str, dict[int, str]] = {}
        self._key_schemas: dict[str, dict[str, Any]] = {}
        self._produced: dict[str, dict[str, int]] = {}
        self._committed: dict[str, dict[str, int]] = {}
        self._transactions = {"committed": 0, "aborted": 0, "redone": 0}
        self._failure: SinkError | None = None
        self._interrupted = False
        self.producers_made = 0
        """Transactional producers this sink made (one unless a failure forced another: see ``open``)."""

    # -- lifecycle -------------------------------------------------------------------------------------------

    def connect(self) -> None:
        """Checks that Kafka answers and accepts our login, and that the registry does, before anything else.

        Raises ``KafkaUnavailableError`` / ``RegistryUnavailableError`` within ``connect_timeout_s``, naming the
        servers or the URL and the cause. Called again (each pass of ``sync --follow``), it checks again: a broker
        gone between passes fails the pass at its start, before any transaction.
        """
        self._wait_for_kafka("connecting", self.config.connect_timeout_s)
        self._registrar.check()

    def _wait_for_kafka(self, what: str, bound_s: float) -> None:
        started = time.monotonic()
        while True:
            remaining = bound_s - (time.monotonic() - started)
            try:
                self._admin.list_topics(timeout=max(0.1, min(_SLICE_S, remaining)))
                return
            except KafkaException as exc:
                self._admin.poll(0)  # serves error_cb: an authentication failure shows only there
                if self._watch.authentication is not None or time.monotonic() - started >= bound_s:
                    raise self._unavailable(what, time.monotonic() - started, exc.args[0]) from exc

    def _unavailable(self, what: str, waited_s: float, error: KafkaError | None = None) -> KafkaUnavailableError:
        cause = self._watch.cause() or (None if error is None else f"{error.name()}: {error.str()}")
        failure = KafkaUnavailableError(
            self.config.bootstrap_servers, what, waited_s, cause, authentication=self._watch.authentication is not None
        )
        self._watch.clear()
        return failure

    def open(self) -> dict[str, dict[str, Any]]:
        """Creates the state topic if needed, fences older instances, and returns the committed state.

        Opened again (the next pass of ``sync --follow``), the sink keeps its transactional producer: one per
        process, fenced once. Only a producer that cannot go on is replaced: after a fatal error (fenced, or
        librdkafka's fatal class), an outage that left a transaction open, or a signal; its successor's
        ``init_transactions`` aborts whatever that one left open."""
        self.connect()
        if self._producer is not None:  # a new run of a kept sink: its records say so
            self.run_id = self.config.run_id or uuid.uuid4().hex
        state_topic = self.config.state_topic_name
        self._topics.ensure(TopicSpec(state_topic, True, 1, self.config.replication_factor))
        if self._producer is None or self._failure is not None or self._interrupted:
            self._new_producer()
        return read_state(self.config.client_settings(), state_topic, self.config.outage_timeout_s)

    def _new_producer(self) -> None:
        self.close()
        self._producer = Producer(with_watch(self.config.producer_settings(), self._watch))
        self._failure, self._interrupted = None, False
        self.producers_made += 1
        log.info(
            "transactional producer %d of this sink created (%s)", self.producers_made, self.config.transactional_id
        )
        self._call("init_transactions", self._producer.init_transactions)

    def prepare(self, table: TableSchema) -> None:
        """Registers the key and value schemas and ensures the topic; raises before producing anything."""
        self.prepare_all([table])

    def prepare_all(self, tables: Iterable[TableSchema]) -> None:
        """``prepare`` for many tables: schemas registered a few at a time, topics created in one request."""
        tables = list(tables)
        with self._rechecked(), ThreadPoolExecutor(_REGISTERING_AT_ONCE, thread_name_prefix="register") as pool:
            registered = list(pool.map(self._register, tables))
        self._topics.ensure_all(spec for _, spec in registered)
        for table, (prepared, _) in zip(tables, registered, strict=True):
            self._key_schemas[table.name] = dict(table.key_schema)
            self._tables[table.name] = prepared
            self._headers[prepared.topic] = [(RUN_ID_HEADER, self.run_id.encode()), (TABLE_HEADER, table.name.encode())]

    def _register(self, table: TableSchema) -> tuple[PreparedTable, TopicSpec]:
        field = table.timestamp_field
        timestamp_at = None if field is None else timestamp_position(table.name, table.value_schema, field)
        topic = self.config.topic(table.topic_suffix)
        own = dict(table.value_schema)
        value_schema = with_sink_fields(own, self.config.flags_deletes)
        key_id = self._registrar.register_key(table.name, f"{topic}-key", table.key_schema)
        value_id = self._registrar.register_value(table.name, f"{topic}-value", value_schema)
        retention = table.retention_ms if table.retention_ms is not None else self.config.retention_ms
        spec = TopicSpec(topic, table.compacted, self.config.partitions, self.config.replication_factor, retention)
        prepared = PreparedTable(
            table.name,
            topic,
            key_encoder(key_id, table.key_schema),
            value_encoder(value_id, own),
            record_encoder(key_id, table.key_schema, value_id, own) or _keyless(table.name),
            field,
            timestamp_at,
            RecordEncoding(table.name, key_id, dict(table.key_schema), value_id, own, timestamp_at),
        )
        return prepared, spec

    def record_encodings(self) -> dict[str, RecordEncoding] | None:
        """Every prepared table's ``RecordEncoding``: records encoded elsewhere with them are produced with
        ``Batch.upsert_encoded``."""
        return {name: table.encoding for name, table in self._tables.items() if table.encoding is not None}

    def published_value_schema(self, topic_suffix: str) -> Mapping[str, Any] | None:
        """The latest registered value schema of a table (to keep column names stable when regenerating)."""
        with self._rechecked():
            return self._registrar.latest(f"{self.config.topic(topic_suffix)}-value")

    # -- the schema ids records were written with ---------------------------------------------------------------

    def verify_schemas(self, kept: KeptIds) -> None:
        """Raises ``SchemaDriftError`` unless the registry still maps every kept id to its schema (by fingerprint).

        Called before anything is registered or produced; the ids are checked again after any registry error.
        """
        self._kept = {subject: dict(ids) for subject, ids in kept.items()}
        self._registrar.verify(self._kept)

    def verify_written(self) -> None:
        """After the run: raises ``SchemaDriftError`` (``after_run``) unless the registry still holds every id kept
        or written with this run (a registry that restarted empty mid-run must not end the run with success)."""
        kept = {subject: dict(ids) for subject, ids in self._kept.items()}
        for subject, ids in self._registrar.written.items():
            kept.setdefault(subject, {}).update(ids)
        self._registrar.verify(kept, after_run=True)

    def written_schemas(self) -> dict[str, dict[int, str]]:
        """Subject to ``{schema id: fingerprint}`` of the schemas this sink registered or reused."""
        return {subject: dict(ids) for subject, ids in self._registrar.written.items()}

    @contextmanager
    def _rechecked(self) -> Iterator[None]:
        """After a registry error, asks whether the kept ids still hold: a registry that restarted empty
        raises ``SchemaDriftError`` (the cause to act on) instead of the error that revealed it."""
        try:
            yield
        except SchemaRegistrationError as exc:
            try:
                self._registrar.verify(self._kept)
            except SchemaDriftError as drift:
                raise drift from exc
            except SchemaRegistrationError:  # still unreachable or refusing: the first error says enough
                pass
            raise

    def live_keys(self, table: str) -> list[dict[str, Any]]:
        """The keys of a prepared table whose last committed record is not a tombstone (reads its topic)."""
        prepared = self._tables.get(table)
        if prepared is None:
            raise UnknownTableError(table, list(self._tables))
        soft = self.config.effective_delete_mode == "soft"  # deletes are flagged records, not tombstones
        return live_keys(
            self.config.client_settings(),
            prepared.topic,
            self._key_schemas[table],
            self.config.outage_timeout_s,
            self._flagged_deleted() if soft else None,
        )

    def _flagged_deleted(self) -> Callable[[bytes], bool]:
        """Whether a framed value is a record flagged ``__deleted`` (decoded with the schema its id names)."""
        readers: dict[int, Callable[[bytes], Any]] = {}

        def deleted(value: bytes) -> bool:
            schema_id = schema_id_of(value)
            read = readers.get(schema_id)
            if read is None:
                read = readers[schema_id] = decoder(self._registrar.schema_by_id(schema_id))
            record = read(value)
            return isinstance(record, dict) and record.get(DELETED_FIELD) is True

        return deleted

    @property
    def policy_mismatches(self) -> tuple[TopicPolicyMismatch, ...]:
        return tuple(self._topics.mismatches)

    def close(self) -> None:
        """Lets go of the producer. Committed transactions left nothing to flush; after a failure or a signal
        whatever is still queued belongs to an aborted transaction and is dropped."""
        producer, self._producer = self._producer, None
        if producer is None:
            return
        with suppress(KafkaException):  # a producer that hit a fatal error refuses even these
            if self._failure is None and not self._interrupted:
                producer.flush(_SLICE_S)
            producer.purge()

    def stats(self) -> dict[str, Any]:
        """Records and tombstones per topic, produced and committed, and transaction outcomes."""
        return {
            "produced": {t: dict(c) for t, c in self._produced.items()},
            "committed": {t: dict(c) for t, c in self._committed.items()},
            "transactions": dict(self._transactions),
            "policy_mismatches": [m.__dict__ for m in self._topics.mismatches],
        }

    # -- transactions ----------------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Batch]:
        """One Kafka transaction: committed when the block ends normally, aborted when it raises."""
        producer = self._usable()
        batch = Batch(self, producer)
        self._call("begin_transaction", producer.begin_transaction, timed=False)
        try:
            yield batch
            self._commit(batch)
        except Exception:
            if not batch.committed:
                self._abort_quietly(batch)
            raise
        except BaseException:  # a signal: one short attempt, the next run's init_transactions aborts otherwise
            self._interrupted = True
            if not batch.committed:
                self._abort_quietly(batch, bound_s=_ABORT_ON_SIGNAL_S)
            raise

    def _commit(self, batch: Batch) -> None:
        producer = self._usable()
        for redo in range(self.config.max_redos + 1):
            try:
                self._call("commit_transaction", producer.commit_transaction)
                break
            except _AbortRequired as exc:
                if redo == self.config.max_redos:
                    raise self._gave_up("commit_transaction", batch, exc.error) from exc
                self.redo(batch, exc.error)
        batch.committed = True
        self._transactions["committed"] += 1
        self._account(batch, committed=True)

    def redo(self, batch: Batch, error: KafkaError) -> None:
        """Aborts the transaction and produces the batch's records again in a new one."""
        batch.redos += 1
        batch.first_error = batch.first_error or error
        if batch.redos > self.config.max_redos:
            raise self._gave_up("transaction", batch, error)
        log.warning("transaction must be aborted (%s); producing its %d records again", error.name(), len(batch.sent))
        producer = self._usable()
        self._call("abort_transaction", producer.abort_transaction)
        self._transactions["redone"] += 1
        self._call("begin_transaction", producer.begin_transaction, timed=False)
        for topic, key, value, timestamp in batch.sent:
            self.produce(topic, key, value, timestamp, batch)

    def produce(self, topic: str, key: bytes, value: bytes | None, timestamp: int, batch: Batch) -> None:
        """Produces one record, waiting for room when librdkafka's local queue is full (for at most
        ``outage_timeout_s``: a queue that does not drain means the broker is gone)."""
        producer = self._usable()
        waiting_since: float | None = None
        while True:
            try:
                producer.produce(topic, value, key, timestamp=timestamp, headers=self._headers.get(topic))
                return
            except BufferError as exc:
                waiting_since = waiting_since or time.monotonic()
                waited = time.monotonic() - waiting_since
                if waited > self.config.outage_timeout_s:
                    self._failure = self._unavailable(f"producing to {topic}", waited)
                    raise self._failure from exc
                producer.poll(0.05)  # back-pressure: let librdkafka drain its queue
            except KafkaException as exc:
                try:
                    self._raise_classified(f"produce to {topic}", exc)
                except _AbortRequired as abort:
                    self.redo(batch, abort.error)
                    return

    def _abort_quietly(self, batch: Batch, bound_s: float | None = None) -> None:
        self._transactions["aborted"] += 1
        self._account(batch, committed=False)
        if self._failure is not None or self._producer is None:
            return  # a fatal error or an outage leaves nothing to abort: the coordinator aborts on the next init
        try:
            if bound_s is None:
                self._call("abort_transaction", self._producer.abort_transaction)
            else:
                self._producer.abort_transaction(bound_s)
        except (SinkError, _AbortRequired, KafkaException) as exc:
            log.error("aborting the transaction failed (the next run's start aborts it): %s", exc)

    def _account(self, batch: Batch, committed: bool) -> None:
        for topic, counts in batch.counts.items():
            for target in (self._produced, self._committed) if committed else (self._produced,):
                totals = target.setdefault(topic, {"records": 0, "tombstones": 0})
                totals["records"] += counts["records"]
                totals["tombstones"] += counts["tombstones"]

    # -- error handling --------------------------------------------------------------------------------------

    def _usable(self) -> Producer:
        if self._failure is not None:
            raise self._failure
        if self._producer is None:
            raise SinkError("the sink is not open: call open() first")
        return self._producer

    def _call(self, what: str, call: Callable[..., Any], *, timed: bool = True) -> Any:
        """Runs a producer call; retriable failures are retried for up to ``outage_timeout_s`` (then
        ``KafkaUnavailableError``), the rest classified by ``_raise_classified``. A timed call waits in slices
        of ``_SLICE_S``: librdkafka lets a timed-out transaction call be called again."""
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                return call(_SLICE_S) if timed else call()
            except KafkaException as exc:
                error: KafkaError = exc.args[0]
                timed_out = error.code() == KafkaError._TIMED_OUT
                if error.fatal() or error.txn_requires_abort() or not (error.retriable() or timed_out):
                    self._raise_classified(what, exc)
                waited = time.monotonic() - started
                if self._watch.authentication is not None or waited >= self.config.outage_timeout_s:
                    self._failure = self._unavailable(what, waited, error)
                    raise self._failure from exc
                if not timed_out or attempt % 5 == 1:
                    log.warning("%s: %s (%s), retrying for up to %.0fs more", what, error.name(), error.str(),
                                self.config.outage_timeout_s - waited)  # fmt: skip
                if not timed_out:
                    time.sleep(min(0.1 * 2**attempt, _SLICE_S))

    def _raise_classified(self, what: str, exc: KafkaException) -> None:
        error: KafkaError = exc.args[0]
        if error.code() in _FENCED:
            self._failure = ProducerFencedError(
                self.config.transactional_id, what, error.code(), error.name(), error.str()
            )
            raise self._failure from exc
        if error.fatal():
            self._failure = KafkaFatalError(what, error.code(), error.name(), error.str())
            raise self._failure from exc
        if error.txn_requires_abort():
            raise _AbortRequired(error) from exc
        raise KafkaOperationError(what, error.code(), error.name(), error.str()) from exc

    def _gave_up(self, what: str, batch: Batch, last: KafkaError) -> KafkaOperationError:
        """The error that first made the batch be redone: a later attempt can fail on a consequence of it instead
        (after a refused record, librdkafka may report the next one's skipped sequence number)."""
        first = batch.first_error or last
        detail = first.str() if last.code() == first.code() else f"{first.str()}; the last attempt: {last.name()}"
        return KafkaOperationError(
            f"{what} (aborted and redone {self.config.max_redos} times)", first.code(), first.name(), detail
        )


class Batch:
    """The records of one transaction. Methods encode and produce at once; the bytes are kept for a redo."""

    def __init__(self, sink: KafkaSink, producer: Producer) -> None:
        self._sink = sink
        self._tables = sink._tables
        self._headers = sink._headers
        self._state_topic = sink.config.state_topic_name
        self._produce = producer.produce
        self.synced_at_ms = int(time.time() * 1000)
        """``_synced_at`` of every record of this transaction."""
        mode = sink.config.effective_delete_mode
        self._flag = mode != "tombstone"
        self._marker, self._tombstone = mode != "tombstone", mode != "soft"
        self._tail = sink_fields_tail(self.synced_at_ms, self._flag)
        self._deleted_tail = sink_fields_tail(self.synced_at_ms, self._flag, deleted=True)
        self.sent: list[Sent] = []
        self._tombstones: Counter[str] = Counter()
        self.committed = False
        self.redos = 0
        self.first_error: KafkaError | None = None
        """What the transaction was first aborted for: the error to report if every redo fails."""
        self._counted: tuple[int, dict[str, dict[str, int]]] | None = None

    def upsert(self, table: str, key: Mapping[str, Any], value: Mapping[str, Any]) -> None:
        """Publishes ``value`` under ``key``; both are Avro-ready dicts of the table's schemas."""
        prepared = self._table(table)
        try:
            key_bytes, value_bytes = prepared.encode_key(key), prepared.encode_value(value) + self._tail
            field = prepared.timestamp_field
            timestamp = PRODUCE_TIME if field is None else value.get(field)
            if timestamp.__class__ is not int:
                timestamp = event_millis(timestamp)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise RecordEncodingError(table, f"{type(exc).__name__}: {exc}") from exc
        self._send(prepared.topic, key_bytes, value_bytes, timestamp)

    def upsert_values(self, table: str, values: Sequence[Any]) -> None:
        """``upsert`` for a record given as Avro-ready values in the order of its value schema's fields, the key
        made of the same values (the bulk path: no dict per row, key fields written once)."""
        prepared = self._tables.get(table) or self._table(table)  # the per-row path: kept flat on purpose
        try:
            key_bytes, value_bytes = prepared.encode_record(values)
            value_bytes += self._tail
            at = prepared.timestamp_at
            timestamp = PRODUCE_TIME if at is None else values[at]
            if timestamp.__class__ is not int:
                timestamp = event_millis(timestamp)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise RecordEncodingError(table, f"{type(exc).__name__}: {exc}") from exc
        self._send(prepared.topic, key_bytes, value_bytes, timestamp)

    def upsert_encoded(self, table: str, key: bytes, value: bytes, timestamp: int) -> None:
        """A record encoded elsewhere with the table's ``RecordEncoding``: ``value`` holds the bytes of the
        table's own fields, the sink's fields follow."""
        prepared = self._tables.get(table) or self._table(table)
        self._send(prepared.topic, key, value + self._tail, timestamp)

    def delete(self, table: str, key: Mapping[str, Any]) -> None:
        """Deletes ``key`` as the delete mode says: a tombstone (``tombstone``), a record of the key with
        ``__deleted`` true and null elsewhere (``soft``), or that record followed by the tombstone (``both``)."""
        prepared = self._table(table)
        try:
            key_bytes = prepared.encode_key(key)
            marker = prepared.encode_value(dict(key)) + self._deleted_tail if self._marker else None
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise RecordEncodingError(table, f"{type(exc).__name__}: {exc}") from exc
        if marker is not None:
            self._send(prepared.topic, key_bytes, marker)
        if self._tombstone:
            self._send(prepared.topic, key_bytes, None)

    def put_state(self, key: str, state: Mapping[str, Any] | None) -> None:
        """Sets (or with ``None`` resets) a state key, committed with this batch's records."""
        self._send(self._state_topic, key.encode(), None if state is None else encode_state(state))

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        """Records, tombstones and serialized bytes (key and value) produced so far in this transaction, per topic
        (counted in C: a batch holds thousands of records; kept until another record is sent)."""
        sent = self.sent
        if self._counted is not None and self._counted[0] == len(sent):
            return self._counted[1]
        produced = Counter(map(itemgetter(0), sent))
        sizes = dict.fromkeys(produced, 0)
        for topic, key, value, _ in sent:  # once per commit, ~0.1 µs a record (activity topics come interleaved)
            sizes[topic] += len(key) + len(value) if value is not None else len(key)
        counts = {
            topic: {
                "records": total - self._tombstones[topic],
                "tombstones": self._tombstones[topic],
                "bytes": sizes[topic],
            }
            for topic, total in produced.items()
        }
        self._counted = (len(sent), counts)
        return counts

    def _table(self, table: str) -> PreparedTable:
        try:
            return self._tables[table]
        except KeyError:
            raise UnknownTableError(table, list(self._tables)) from None

    def _send(self, topic: str, key: bytes, value: bytes | None, timestamp: int = PRODUCE_TIME) -> None:
        self.sent.append((topic, key, value, timestamp))
        if value is None:
            self._tombstones[topic] += 1
        try:
            # positional: (topic, value, key, partition, on_delivery, callback, timestamp, headers) as produce() parses
            # them; the timestamp as a keyword costs 0.3 µs a record, a twentieth of the bulk path's budget
            self._produce(topic, value, key, _ANY_PARTITION, None, None, timestamp, self._headers.get(topic))
        except (BufferError, KafkaException):
            self._sink.produce(topic, key, value, timestamp, self)
