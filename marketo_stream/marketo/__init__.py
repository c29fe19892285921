"""Marketo's HTTP API: auth, limits, the code table, retries and paging. Knows nothing of Kafka.

Start with :class:`MarketoClient` (``request``/``get``/``post`` → :class:`Envelope`, ``download``,
``call_counts``), the pagers in :mod:`.paging`, and the error tree in :mod:`.errors`.
"""

from marketo_stream.marketo.budget import BudgetLimits
from marketo_stream.marketo.client import ClientConfig, MarketoClient
from marketo_stream.marketo.clock import SYSTEM_CLOCK, Clock
from marketo_stream.marketo.envelope import Envelope
from marketo_stream.marketo.retry import RetryPolicy

__all__ = ["SYSTEM_CLOCK", "BudgetLimits", "ClientConfig", "Clock", "Envelope", "MarketoClient", "RetryPolicy"]
