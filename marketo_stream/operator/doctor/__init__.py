"""``doctor``: check, before a sync, that everything it needs answers and allows what it will do.

Each check is a :class:`Check` (pure data): a name, whether it passed, what was seen, the fix, and the category
of problem it belongs to. The categories map to the CLI's exit statuses; when several fail, the first in
:data:`EXIT_ORDER` wins (configuration, Marketo unreachable, Marketo refused, Kafka or the registry, quota).

The checks cost a handful of Marketo calls (identity, one cheap read per API area, usage, two bulk job listings)
and never touch the sync's data: topic creation is validated only (the broker still checks the ACLs), the
transactional producer uses ``<transactional id>.doctor`` (so a running sync is not fenced) and the state topic
is read with a throwaway ``marketo-stream-readback-…`` group that commits nothing. Secrets are never printed.
"""

from __future__ import annotations

from marketo_stream.operator.doctor.checks import (
    EXIT_ORDER,
    Category,
    Check,
    as_json,
    exit_status,
    render,
    scrubbed,
)
from marketo_stream.operator.doctor.kafka import kafka_checks, registry_check
from marketo_stream.operator.doctor.marketo import marketo_checks
from marketo_stream.settings import Settings
from marketo_stream.sink.config import SinkConfig

__all__ = ["EXIT_ORDER", "Category", "Check", "as_json", "exit_status", "render", "run_checks"]


def run_checks(settings: Settings, config: SinkConfig, timeout_s: float) -> list[Check]:
    """Every check, Marketo first; secrets masked in what they say."""
    checks = [*marketo_checks(settings, timeout_s), *kafka_checks(config, timeout_s), registry_check(config, timeout_s)]
    return scrubbed(checks)
