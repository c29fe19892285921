"""Keep the client secret and access tokens out of every message, repr and log line.

Marketo's identity call carries the secret in its query string, and transport exceptions and
urllib3's debug log quote URLs verbatim. So text that may hold a URL is scrubbed twice: by pattern
(``client_secret=...``, ``access_token=...``, ``Bearer ...``) and by the literal values this process
holds, which catches them wherever else they might surface.
"""

from __future__ import annotations

import logging
import re
import threading

_PATTERNS = (
    re.compile(r"(client_secret=)[^&\s'\"]*", re.IGNORECASE),
    re.compile(r"(access_token=)[^&\s'\"]*", re.IGNORECASE),
    re.compile(r"(access_token\"?\s*:\s*\"?)[^\"\s,}]*", re.IGNORECASE),
    re.compile(r"(Bearer\s+)[^\s'\"]+", re.IGNORECASE),
)
MASK = "***"

_known: set[str] = set()
_lock = threading.Lock()


def remember_secret(value: str) -> None:
    """Register a value (secret or token) that must never be printed."""
    if len(value) >= 4:
        with _lock:
            _known.add(value)


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message so that neither its format nor its arguments can leak a secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


_FILTER = RedactingFilter()
GUARDED_LOGGERS = (
    "urllib3.connectionpool",
    "urllib3.util.retry",
    "requests",
    "marketo_stream.marketo",
    "marketo_stream.bulk",
)
"""Logger filters do not reach child loggers, so our modules log through these two names exactly."""


def guard_loggers() -> None:
    """Attach the filter to the loggers that see our URLs; harmless to call more than once."""
    for name in GUARDED_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
