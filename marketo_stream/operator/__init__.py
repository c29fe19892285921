"""Operator controls: inspect and reset the sync state, re-extract a table, replay one window.

The commands in ``marketo_stream.commands`` (``state``, ``resync``, ``replay``) are thin; the logic lives here::

    resolve_table(name, activity_types=None) -> TargetTable      # what a table name means, which state holds it
    read_sync_state(settings) -> dict[str, dict]                 # read_committed, never fences a running sync
    render_state(states) -> str / state_as_json(states) -> dict  # the readable and the machine view
    plan_reset(target, states) -> ResetPlan                      # the state keys that change, and to what
    reset_table(settings, target) -> ResetPlan                   # fences the sync, re-plans, writes the plan
    estimate_resync(settings, target, states, client) -> Estimate
    replay(settings, target, window, to_topic=None) -> ReplayResult
    doctor.run_checks(settings, sink_config, timeout_s) -> [Check]  # the ``doctor`` checklist (its own package)
"""

from marketo_stream.operator.estimate import Estimate, estimate_resync
from marketo_stream.operator.replay import ReplayResult, replay, replay_windows
from marketo_stream.operator.reset import ResetPlan, plan_reset, reset_table
from marketo_stream.operator.state_view import read_sync_state, render_state, state_as_json
from marketo_stream.operator.targets import TableKind, TargetTable, UnknownTableError, resolve_table

__all__ = [
    "Estimate",
    "ReplayResult",
    "ResetPlan",
    "TableKind",
    "TargetTable",
    "UnknownTableError",
    "estimate_resync",
    "plan_reset",
    "read_sync_state",
    "render_state",
    "replay",
    "replay_windows",
    "reset_table",
    "resolve_table",
    "state_as_json",
]
