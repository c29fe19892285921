"""Exit statuses, documented in the README; scripts and schedulers branch on them."""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    FAILED = 1
    """An unexpected error: a bug or an unreadable answer. The message says what to report."""
    CONFIG = 2
    """Bad configuration or command line; the message names the setting."""
    QUOTA = 3
    """Marketo's daily API quota or daily bulk export quota is exhausted; nothing was lost, run again after
    midnight US Central (the message says when)."""
    MARKETO = 4
    """Marketo refused (credentials, permissions, a request it will not serve)."""
    KAFKA = 5
    """Kafka or the Schema Registry refused (unreachable, incompatible schema, authorisation)."""
    FENCED = 6
    """Another instance with the same transactional id took over; this one stopped without writing."""
    MARKETO_UNREACHABLE = 7
    """Marketo could not be reached (network, DNS, TLS, 5xx, or a base URL that is not Marketo's)."""
    INTERRUPTED = 130
