"""The Marketo side's guard: the loggers that see Marketo URLs carry the redacting filter.

Redaction itself (patterns and remembered values) lives in :mod:`marketo_stream.redaction`, shared with the
Kafka side; this module attaches it where urllib3 and our client log URLs, even when the application
configured no handler of ours.
"""

from __future__ import annotations

import logging

from marketo_stream.redaction import MASK, RedactingFilter, redact, remember_secret

__all__ = ["GUARDED_LOGGERS", "MASK", "guard_loggers", "redact", "remember_secret"]

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
