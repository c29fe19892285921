"""Kafka clients as the sink makes them: librdkafka's log through our logging, its errors kept for the message.

librdkafka retries a lost or refusing broker for ever and says why only in its log and its ``error_cb``:
a blocking call that gives up reports a bare ``_TRANSPORT`` or ``_TIMED_OUT``. So every client the sink
makes logs through one Python logger (``marketo_stream.librdkafka``, where a repeated line is shown once a
minute with its count, instead of several times a second) and reports its errors to an :class:`ErrorWatch`,
from which a failure message takes its cause ("SASL authentication failed ...", "Connection refused").
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Mapping
from typing import Any

from confluent_kafka import KafkaError

LIBRDKAFKA_LOG_NAME = "marketo_stream.librdkafka"

_AUTHENTICATION = frozenset({KafkaError._AUTHENTICATION, KafkaError.SASL_AUTHENTICATION_FAILED})
_NUMBERS = re.compile(r"\d+")


class RepeatFilter(logging.Filter):
    """Lets a message through the first time, then once per ``every_s`` with how often it was held back.

    Messages count as the same when they differ only in numbers (``after 0ms``, ``#producer-3``).
    """

    def __init__(self, every_s: float = 60.0) -> None:
        super().__init__()
        self.every_s = every_s
        self._seen: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = _NUMBERS.sub("#", record.getMessage())
        now = time.monotonic()
        with self._lock:
            shown_at, held = self._seen.get(key, (None, 0))
            if shown_at is not None and now - shown_at < self.every_s:
                self._seen[key] = (shown_at, held + 1)
                return False
            self._seen[key] = (now, 0)
        if held:
            record.msg = f"{record.getMessage()} (and {held} more like it in the last {self.every_s:.0f}s)"
            record.args = None
        return True


LIBRDKAFKA_LOG = logging.getLogger(LIBRDKAFKA_LOG_NAME)
if not any(isinstance(f, RepeatFilter) for f in LIBRDKAFKA_LOG.filters):
    LIBRDKAFKA_LOG.addFilter(RepeatFilter())


class ErrorWatch:
    """Keeps what librdkafka's ``error_cb`` said: the latest error, and any authentication failure."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.latest: KafkaError | None = None
        self.authentication: KafkaError | None = None

    def __call__(self, error: KafkaError) -> None:
        with self._lock:
            if error.code() in _AUTHENTICATION:
                self.authentication = error
            elif error.code() != KafkaError._ALL_BROKERS_DOWN or self.latest is None:
                self.latest = error

    def cause(self) -> str | None:
        """The most telling reason seen so far: an authentication failure over anything else."""
        with self._lock:
            error = self.authentication or self.latest
        return None if error is None else f"{error.name()}: {error.str()}"

    def clear(self) -> None:
        with self._lock:
            self.latest = self.authentication = None


def with_watch(settings: Mapping[str, Any], watch: ErrorWatch) -> dict[str, Any]:
    """A client's settings with our logger and error callback."""
    return {**settings, "logger": LIBRDKAFKA_LOG, "error_cb": watch}
