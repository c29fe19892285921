"""Where log lines go: stderr, secrets masked, one line per record, as text or as JSON. Every command sets it up
the same way (``commands.common.handled_errors``).

Every line carries the run it belongs to (``run_id``) and what it was about (``table``, ``export_id``, ...) without
each call site saying so: a command starts a run with :func:`run`, a phase wraps its work in :func:`bind`, and
a filter on our one handler copies both onto every record that reaches it, whichever library logged it.

Why the run id is process-wide and the rest is a context variable: librdkafka's lines are emitted by whichever
thread polls the client, and worker threads do not inherit context variables; one process runs one sync pass at
a time, so "the current run" is a fact of the process, while "the table being exported" is a fact of the code
path that bound it.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Literal, TextIO

from marketo_stream.redaction import RedactingFilter, redact

LogFormat = Literal["text", "json"]
LogLevel = Literal["debug", "info", "warning", "error", "critical"]

_HANDLER_NAME = "marketo-stream"
TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s%(context_suffix)s"

_fields: ContextVar[Mapping[str, str]] = ContextVar("marketo_stream_log_fields", default={})  # noqa: B039 (never mutated)
_run_id: str | None = None


def new_run_id() -> str:
    return uuid.uuid4().hex[:16]


def current_run_id() -> str | None:
    return _run_id


@contextmanager
def run(run_id: str | None = None) -> Iterator[str]:
    """One run of a command (one pass of ``sync --follow``): every line logged meanwhile carries its id."""
    global _run_id
    previous, _run_id = _run_id, run_id or new_run_id()
    try:
        yield _run_id
    finally:
        _run_id = previous


@contextmanager
def bind(**fields: str | int | None) -> Iterator[None]:
    """Lines logged inside carry these fields (``None`` leaves a field out); nested binds add to the outer."""
    added = {key: str(value) for key, value in fields.items() if value is not None}
    token = _fields.set({**_fields.get(), **added})
    try:
        yield
    finally:
        _fields.reset(token)


def bound() -> dict[str, str]:
    """The fields bound here, run id included."""
    found = {"run_id": _run_id} if _run_id else {}
    return {**found, **_fields.get()}


class ContextFilter(logging.Filter):
    """Puts the run id and the bound fields on the record (``record.context``) for either formatter."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = bound()
        record.context = context
        record.context_suffix = " [" + " ".join(f"{k}={v}" for k, v in context.items()) + "]" if context else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp (UTC, ISO-8601), level, logger, message, run_id and bound fields,
    and the traceback as ``exception`` (masked like the message)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        context = getattr(record, "context", None)
        line.update(context if isinstance(context, dict) else bound())
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "context_suffix"):
            record.context_suffix = ""
        return redact(super().format(record))


def write_to(stream: TextIO) -> TextIO | None:
    """Send our handler's lines to ``stream`` from now on (the live progress view passes its stderr proxy, so that
    log lines print above the view instead of through it); returns the stream it wrote to (None: no handler)."""
    handler = next((h for h in logging.getLogger().handlers if h.get_name() == _HANDLER_NAME), None)
    if not isinstance(handler, logging.StreamHandler):
        return None
    return handler.setStream(stream)


def formatter(log_format: LogFormat) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else _TextFormatter(TEXT_FORMAT)


def configure_logging(level: int | str = logging.WARNING, log_format: LogFormat = "text") -> None:
    """One stderr handler on the root logger, carrying the redacting and context filters (a handler's filters
    see every record that reaches it, whichever library logged it). Calling it again changes the level and the
    format."""
    root = logging.getLogger()
    root.setLevel(level.upper() if isinstance(level, str) else level)
    handler = next((h for h in root.handlers if h.get_name() == _HANDLER_NAME), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.set_name(_HANDLER_NAME)
        handler.addFilter(RedactingFilter())
        handler.addFilter(ContextFilter())
        root.addHandler(handler)
    handler.setFormatter(formatter(log_format))
