"""Registering each table's key and value schemas (subjects ``<topic>-key`` and ``<topic>-value``).

Value schemas evolve: a new version is registered when it is backward compatible with the latest one, and
refused with ``IncompatibleSchemaError`` (naming the fields) otherwise, before anything is produced, unless
an operator set the subject's own compatibility to ``NONE`` (the documented way through a change that is
not backward compatible, such as currency fields becoming decimals; see the README). Key
schemas are frozen: when the registered key is the same schema in another spelling its id is reused, so
the key bytes (which include the id) never change; a different key schema is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from confluent_kafka.schema_registry import RegisteredSchema, Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError
from fastavro.schema import parse_schema, to_parsing_canonical_form

from marketo_stream.redaction import mask_url, redact
from marketo_stream.sink.compat import backward_problems
from marketo_stream.sink.errors import (
    Drift,
    IncompatibleSchemaError,
    KeySchemaChangedError,
    RegistryUnavailableError,
    SchemaDriftError,
    SchemaRegistrationError,
)

_SUBJECT_NOT_FOUND = 40401
_NOT_FOUND = 404
_REFUSED_LOGIN = (401, 403)


def canonical(schema: Mapping[str, Any]) -> str:
    """Avro's parsing canonical form: equal exactly when two schemas encode data the same way."""
    return str(to_parsing_canonical_form(parse_schema(dict(schema))))


def fingerprint(schema: Any) -> str:
    """SHA-256 of the parsing canonical form, hex: one schema id must keep meaning the schema with this print."""
    form = to_parsing_canonical_form(parse_schema(schema if not isinstance(schema, Mapping) else dict(schema)))
    return hashlib.sha256(str(form).encode()).hexdigest()


KeptIds = Mapping[str, Mapping[int, str]]
"""Subject to ``{schema id: fingerprint}``: the ids written with, and what each must still mean."""


class SchemaRegistrar:
    """Registers schemas through a Confluent-compatible registry, caching ids by subject and schema text."""

    def __init__(self, client: SchemaRegistryClient, url: str = "the configured URL") -> None:
        self._client = client
        self.url = mask_url(url)
        self._ids: dict[tuple[str, str], int] = {}
        self.written: dict[str, dict[int, str]] = {}
        """Subject to ``{id: fingerprint}`` of every schema this registrar returned an id for."""

    def check(self) -> None:
        """One cheap call (the subject list): raises ``RegistryUnavailableError`` unless the registry answers."""
        try:
            self._client.get_subjects()
        except SchemaRegistryError as exc:
            raise self._unavailable("listing subjects", exc) from exc
        except Exception as exc:  # the HTTP library's own errors: connection refused, TLS, timeouts
            raise self._unavailable("listing subjects", exc) from exc

    def _unavailable(self, what: str, exc: Exception) -> RegistryUnavailableError:
        status = exc.http_status_code if isinstance(exc, SchemaRegistryError) else None
        cause = exc.error_message if isinstance(exc, SchemaRegistryError) else f"{type(exc).__name__}: {exc}"
        return RegistryUnavailableError(self.url, what, redact(str(cause)), status=status)

    def schema_by_id(self, schema_id: int) -> dict[str, Any]:
        """The schema registered under ``schema_id`` (records name theirs in their first bytes)."""
        try:
            found = self._client.get_schema(schema_id)
        except SchemaRegistryError as exc:
            raise SchemaRegistrationError(f"reading schema {schema_id} failed: {redact(str(exc))}") from exc
        except Exception as exc:  # the HTTP library's own errors
            raise self._unavailable(f"reading schema {schema_id}", exc) from exc
        return dict(json.loads(found.schema_str or "{}"))

    def latest(self, subject: str) -> Mapping[str, Any] | None:
        """The latest schema registered under ``subject``, or ``None`` when the subject is new."""
        found = self._latest(subject)
        return None if found is None else _schema_of(found)

    def register_key(self, table: str, subject: str, schema: Mapping[str, Any]) -> int:
        text = json.dumps(schema, sort_keys=True)
        if (subject, text) in self._ids:
            return self._ids[(subject, text)]
        latest = self._latest(subject)
        if latest is None:
            schema_id = self._register(subject, text)
        elif canonical(_schema_of(latest)) == canonical(schema) and latest.schema_id is not None:
            schema_id = latest.schema_id
        else:
            raise KeySchemaChangedError(table, subject)
        self._ids[(subject, text)] = schema_id
        self.written.setdefault(subject, {})[schema_id] = fingerprint(schema)
        return schema_id

    def register_value(self, table: str, subject: str, schema: Mapping[str, Any]) -> int:
        text = json.dumps(schema, sort_keys=True)
        if (subject, text) in self._ids:
            return self._ids[(subject, text)]
        latest = self._latest(subject)
        problems = [] if latest is None else backward_problems(schema, _schema_of(latest))
        if problems and self._subject_level(subject) == "NONE":
            problems = []
        if problems:
            raise IncompatibleSchemaError(
                table, subject, sorted({path for path, _ in problems}), [f"{path}: {why}" for path, why in problems]
            )
        try:
            schema_id = self._register(subject, text)
        except SchemaRegistrationError as exc:
            if getattr(exc.__cause__, "http_status_code", None) == 409:
                raise IncompatibleSchemaError(table, subject, [], [str(exc.__cause__)]) from exc
            raise
        self._ids[(subject, text)] = schema_id
        self.written.setdefault(subject, {})[schema_id] = fingerprint(schema)
        return schema_id

    def _subject_level(self, subject: str) -> str | None:
        """The compatibility level the registry applies to ``subject`` (its own, or the global one)."""
        try:
            return str(self._client.get_compatibility(subject))
        except SchemaRegistryError:
            return None
        except Exception as exc:  # the HTTP library's own errors
            raise self._unavailable(f"reading the compatibility of {subject}", exc) from exc

    def verify(self, kept: KeptIds, *, after_run: bool = False) -> None:
        """Raises ``SchemaDriftError`` naming every kept id the registry lost or now maps to another schema.

        Asks the registry itself (caches cleared): a client that remembers an id proves nothing about the server.
        """
        self._client.clear_caches()  # type: ignore[no-untyped-call]  # untyped in confluent-kafka
        drifted: list[Drift] = []
        for subject, ids in sorted(kept.items()):
            for schema_id, expected in sorted(ids.items()):
                now = self._now(subject, schema_id, expected)
                if now is not None:
                    drifted.append(Drift(subject, schema_id, now))
        if drifted:
            raise SchemaDriftError(self.url, drifted, after_run=after_run)

    def _now(self, subject: str, schema_id: int, expected: str) -> str | None:
        """What the registry holds under ``schema_id`` when it is not the expected schema, else ``None``."""
        what = f"reading schema id {schema_id} ({subject})"
        try:
            found = self._client.get_schema(schema_id)
        except SchemaRegistryError as exc:
            if exc.http_status_code == _NOT_FOUND:
                return f"no schema (HTTP 404 {exc.error_code}: {redact(str(exc.error_message))})"
            if exc.http_status_code in _REFUSED_LOGIN or exc.http_status_code >= 500:
                raise self._unavailable(what, exc) from exc
            raise SchemaRegistrationError(f"{what} failed: {redact(str(exc))}") from exc
        except Exception as exc:  # the HTTP library's own errors: connection refused, TLS, timeouts
            raise self._unavailable(what, exc) from exc
        text = found.schema_str or ""
        try:
            actual = fingerprint(json.loads(text))
        except Exception as exc:  # JSON or fastavro's parse errors: whatever it is, it is not our schema
            return f"a schema that is not Avro ({found.schema_type}: {type(exc).__name__})"
        if actual == expected:
            return None
        shown = text if len(text) <= 160 else text[:157] + "..."
        return f"another schema (fingerprint {actual[:12]}, expected {expected[:12]}): {shown}"

    def _register(self, subject: str, text: str) -> int:
        try:
            return int(self._client.register_schema(subject, Schema(text, "AVRO")))
        except SchemaRegistryError as exc:
            if exc.http_status_code in _REFUSED_LOGIN or exc.http_status_code >= 500:
                raise self._unavailable(f"registering {subject}", exc) from exc
            raise SchemaRegistrationError(f"registering {subject} failed: {redact(str(exc))}") from exc
        except Exception as exc:  # the HTTP library's own errors: connection refused, TLS, timeouts
            raise self._unavailable(f"registering {subject}", exc) from exc

    def _latest(self, subject: str) -> RegisteredSchema | None:
        try:
            return self._client.get_latest_version(subject)
        except SchemaRegistryError as exc:
            if exc.error_code == _SUBJECT_NOT_FOUND:
                return None
            if exc.http_status_code in _REFUSED_LOGIN or exc.http_status_code >= 500:
                raise self._unavailable(f"reading the latest schema of {subject}", exc) from exc
            raise SchemaRegistrationError(f"reading the latest schema of {subject} failed: {redact(str(exc))}") from exc
        except Exception as exc:
            raise self._unavailable(f"reading the latest schema of {subject}", exc) from exc


def _schema_of(registered: RegisteredSchema) -> dict[str, Any]:
    return dict(json.loads(registered.schema.schema_str or "{}"))
