"""Errors of the Kafka sink. Each carries what an operator needs: the table, the field, the Kafka error name.

SinkError
├── KafkaUnavailableError    no broker answered (or every one refused our login) within the bound
├── ProducerFencedError      another instance with the same transactional.id took over; exit
├── KafkaFatalError          the producer is unusable (fatal librdkafka error); exit, restart
├── KafkaOperationError      a Kafka call failed after retries (code and name of the last error)
├── SchemaRegistrationError  the registry refused or could not be reached
│   ├── RegistryUnavailableError the registry did not answer, or refused our login (names the URL)
│   ├── IncompatibleSchemaError  a new value schema breaks BACKWARD compatibility; names table and fields
│   └── KeySchemaChangedError    a table's key schema differs from the registered one
├── SchemaDriftError         the registry lost, or now maps to other schemas, ids this sync wrote records with
├── StateFormatError         a state record is unreadable or written by a newer format
└── UnknownTableError        a record for a table that was never prepared
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from marketo_stream.errors import MarketoStreamError


class SinkError(MarketoStreamError):
    """Kafka or the Schema Registry refused."""


class KafkaCallError(SinkError):
    """A failed Kafka call; ``code`` and ``name`` come from the librdkafka error."""

    def __init__(self, what: str, code: int, name: str, reason: str) -> None:
        self.what, self.code, self.name, self.reason = what, code, name, reason
        super().__init__(f"{what}: {name} ({code}): {reason}")


class KafkaUnavailableError(SinkError):
    """Kafka could not be used for ``waited_s`` seconds: unreachable, or refusing our credentials.

    ``cause`` is what librdkafka reported last (an authentication failure wins over a connection error).
    """

    def __init__(self, servers: str, what: str, waited_s: float, cause: str | None, *, authentication: bool) -> None:
        self.servers, self.what, self.waited_s, self.cause = servers, what, waited_s, cause
        self.authentication = authentication
        if authentication:
            text = f"Kafka at {servers} refused our login ({what}): {cause}"
        else:
            reason = f": {cause}" if cause else ""
            text = f"Kafka at {servers} did not answer for {waited_s:.0f}s ({what}){reason}"
        super().__init__(text)


class ProducerFencedError(KafkaCallError):
    """A newer producer with the same transactional.id exists; this instance must stop."""

    def __init__(self, transactional_id: str, what: str, code: int, name: str, reason: str) -> None:
        super().__init__(what, code, name, reason)
        self.transactional_id = transactional_id
        self.args = (
            f"fenced: another instance took over transactional.id {transactional_id!r} ({what}: {name}); "
            "this instance stops so that only one writer commits records and state",
        )

    def __str__(self) -> str:
        return str(self.args[0])


class KafkaFatalError(KafkaCallError):
    """The producer hit a fatal error and cannot continue; restart from the committed state."""


class KafkaOperationError(KafkaCallError):
    """A Kafka call failed and retrying did not help."""


class SchemaRegistrationError(SinkError):
    """The Schema Registry refused a schema or could not be reached."""


class RegistryUnavailableError(SchemaRegistrationError):
    """The Schema Registry did not answer, or refused our login; ``url`` has its user-info masked."""

    def __init__(self, url: str, what: str, cause: str, *, status: int | None = None) -> None:
        self.url, self.what, self.cause, self.status = url, what, cause, status
        if status in (401, 403):
            text = f"the Schema Registry at {url} refused our login ({what}): HTTP {status} {cause}"
        else:
            text = f"the Schema Registry at {url} could not be used ({what}): {cause}"
        super().__init__(text)


class IncompatibleSchemaError(SchemaRegistrationError):
    """The new value schema cannot read the records already published; nothing was produced."""

    def __init__(self, table: str, subject: str, fields: Sequence[str], problems: Sequence[str]) -> None:
        self.table, self.subject, self.fields, self.problems = table, subject, tuple(fields), tuple(problems)
        named = ", ".join(self.fields) or "(the registry did not say which)"
        super().__init__(
            f"table {table!r}: the new schema for {subject} is not backward compatible; fields: {named}; "
            + "; ".join(self.problems)
        )


class KeySchemaChangedError(SchemaRegistrationError):
    """A key schema never changes once registered: tombstones must carry the bytes of the record keys."""

    def __init__(self, table: str, subject: str) -> None:
        self.table, self.subject = table, subject
        super().__init__(
            f"table {table!r}: the key schema differs from the one registered under {subject}; key schemas are "
            "frozen so that tombstones match earlier records (publish the table under a new topic instead)"
        )


@dataclass(frozen=True)
class Drift:
    """One schema id the sync wrote with, and what the registry says of it now."""

    subject: str
    schema_id: int
    now: str
    """``no schema (HTTP 404 ...)``, or ``another schema (...)``."""


class SchemaDriftError(SinkError):
    """The registry no longer maps the ids of records already in Kafka to the schemas they were written with.

    Raised before anything is produced: a run that went on would register its schemas anew under other ids, and
    the records already published would no longer decode, or decode under the wrong schema. With ``after_run``
    it was found once the run had committed: the registry lost the ids while the run was going.
    """

    def __init__(self, url: str, drifted: Sequence[Drift], *, after_run: bool = False) -> None:
        self.url, self.drifted, self.after_run = url, tuple(drifted), after_run
        shown = "; ".join(f"{d.subject} id {d.schema_id}: the registry now has {d.now}" for d in self.drifted[:5])
        more = f" (and {len(self.drifted) - 5} more)" if len(self.drifted) > 5 else ""
        when = " (found after this run's last commit: it lost them while the run was going)" if after_run else ""
        super().__init__(
            f"the Schema Registry at {url} no longer holds {len(self.drifted)} schema id(s) this sync wrote "
            f"records with{when}: {shown}{more}"
        )


class StateFormatError(SinkError):
    """A state record cannot be read by this version."""

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        super().__init__(f"state record {key!r}: {reason}")


class UnknownTableError(SinkError):
    """Records were sent for a table that ``prepare`` never saw."""

    def __init__(self, table: str, known: Sequence[str]) -> None:
        self.table = table
        super().__init__(f"table {table!r} was not prepared; prepared: {', '.join(sorted(known)) or 'none'}")


class RecordEncodingError(SinkError):
    """A record does not fit its table's Avro schema (a bug upstream: rows must be converted first)."""

    def __init__(self, table: str, reason: str) -> None:
        self.table = table
        super().__init__(f"table {table!r}: record does not fit the schema: {reason}")
