"""Keep secrets out of every message, repr and log line, whichever client produced the text.

Secrets reach text in three ways: in a URL (Marketo's identity call carries the client secret in its query
string; a registry URL may carry ``user:password@``), in a transport exception that quotes such a URL, and in
a library's own log line. So text is scrubbed twice: by pattern (``client_secret=...``, ``access_token=...``,
``Bearer ...``, URL user-info) and by the literal values this process holds (every secret setting is
remembered when the settings are loaded), which catches them wherever else they might surface.

Our log handlers carry :class:`RedactingFilter`; the CLI passes every message it prints through
:func:`redact`.
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
    re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/@\s'\"]+@", re.IGNORECASE),
)
MASK = "***"

_known: set[str] = set()
_lock = threading.Lock()


def remember_secret(value: str) -> None:
    """Register a value (secret or token) that must never be printed."""
    if len(value) >= 4:
        with _lock:
            _known.add(value)


def _masked(match: re.Match[str]) -> str:
    prefix = match.group(1)
    return f"{prefix}{MASK}@" if prefix.endswith("://") else prefix + MASK


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(_masked, text)
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, MASK)
    return text


def mask_url(url: str) -> str:
    """A URL as it may be printed: user-info (``user:password@``) replaced by ``***@``."""
    return _PATTERNS[-1].sub(_masked, url)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message so that neither its format nor its arguments can leak a secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True
