"""Tail passes between the bulk passes of ``sync --follow``, paced to the tail's share of the daily API calls.

``TailFollower.follow(seconds)`` opens one session (Marketo client, transactional producer, tables, state), runs
tail passes until the pause before the next bulk pass is over, and returns early, with no pause left, when a pass
says Bulk Extract should take over (a large window). Pacing: the share (``follow.tail_call_share`` of
``follow.daily_calls``) covers the whole ``--follow`` process, so each cycle (a bulk pass and the pause after it)
gives the tail what the bulk pass left of the cycle's share (``tail_budget``), spread evenly over the pause: a pass
that spent ``n`` calls is followed by a pause of at least ``n`` times the seconds each call of that budget is worth,
and never less than ``follow.tail_interval_seconds``. A bulk pass that spent the cycle's whole share leaves the tail
nothing until the next cycle: it is the pass Marketo's data cannot do without. The calls of opening a session
(metadata) count as the first pass's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from marketo_stream.bulk.exporter import BulkExporter
from marketo_stream.marketo.client import MarketoClient
from marketo_stream.marketo.clock import SYSTEM_CLOCK, Clock
from marketo_stream.report import Progress, SyncSummary
from marketo_stream.settings import Settings
from marketo_stream.sink import KafkaSink
from marketo_stream.sink.protocol import Sink
from marketo_stream.sync.catalog import RunTables, fetch_metadata, plan_tables, register_tables
from marketo_stream.sync.context import CallsMark, RunInputs, Tally, add_commits
from marketo_stream.sync.runner import exporter_config, sink_config
from marketo_stream.sync.tail import TailResult, run_tail_pass
from marketo_stream.sync.writer import Writer
from marketo_stream.sync_state import RecentCalls, StateDocuments, SyncState

log = logging.getLogger("marketo_stream.tail")

DAY_SECONDS = 86_400.0
IDENTITY = "/identity/oauth/token"


def seconds_per_call(settings: Settings) -> float:
    """How long the share takes to earn one call."""
    follow = settings.follow
    return DAY_SECONDS / (follow.daily_calls * follow.tail_call_share)


def tail_budget(settings: Settings, *, cycle_seconds: float, bulk_calls: int) -> float:
    """Calls the tail may spend in a cycle of ``cycle_seconds`` (a bulk pass and the pause after it) whose bulk pass
    spent ``bulk_calls``: the cycle's share less those, never below nothing."""
    return max(cycle_seconds / seconds_per_call(settings) - bulk_calls, 0.0)


def pause_after(calls: int, elapsed: float, settings: Settings, per_call: float | None = None) -> float:
    """Seconds to wait after a pass that spent ``calls`` in ``elapsed`` seconds, each call being worth ``per_call``
    seconds of the share (default: the whole share's rate, ``seconds_per_call``)."""
    per_call = seconds_per_call(settings) if per_call is None else per_call
    return max(settings.follow.tail_interval_seconds - elapsed, calls * per_call - elapsed, 0.0)


def counted_calls(client: MarketoClient) -> int:
    """Calls Marketo counts against the daily quota (identity calls are free)."""
    return sum(n for path, n in client.call_counts().items() if path != IDENTITY)


@dataclass
class TailSession:
    """What the tail passes of one ``follow`` call share: one client, one producer, the tables and the state."""

    settings: Settings
    client: MarketoClient
    sink: Sink
    tables: RunTables
    state: SyncState
    progress: Progress
    clock: Clock

    owned: bool = True
    """The session made its client and sink (and closes them); else they are the bulk passes' (``--follow``)."""

    @classmethod
    def open(
        cls,
        settings: Settings,
        progress: Progress,
        *,
        clock: Clock = SYSTEM_CLOCK,
        sink: Sink | None = None,
        client: MarketoClient | None = None,
    ) -> TailSession:
        """``sink``, ``client``: those of the bulk passes when given, so that one process keeps one transactional
        producer and one registry client (a second producer with the same transactional id would fence the
        first); made here otherwise (tests give the in-memory sink)."""
        owned = client is None
        client = client or MarketoClient.from_settings(settings.marketo, clock=clock)
        sink = sink or KafkaSink(sink_config(settings))
        try:
            meta = fetch_metadata(client)
            sink.connect()
            tables = plan_tables(meta, settings, sink)
            state = SyncState.load(sink.open())
            client.budget.assume_recent(state.calls.calls, None if state.calls.ended else state.calls.at)
            sink.verify_schemas(state.schemas.subjects)
            register_tables(tables, sink)
        except BaseException:
            if owned:
                sink.close()
                client.close()
            raise
        return cls(settings, client, sink, tables, state, progress, clock, owned)

    def tail_pass(self) -> TailResult:
        started = datetime.now(UTC)
        calls = CallsMark.of(self.client)
        now = self.client.server_now() or self.clock.now()
        writer = Writer(self.sink, self.settings.sync.transaction_rows, also=self._calls_documents)
        exporter = BulkExporter(self.client, exporter_config(self.settings), clock=self.clock)
        inputs = RunInputs(self.settings, self.client, exporter, writer, self.tables, self.progress, now)
        tally = Tally(writer)
        with writer:
            result = run_tail_pass(inputs, self.state, tally, self.settings.follow)
        figures = SyncSummary(started=started, finished=datetime.now(UTC))
        tally.add_to(figures)
        add_commits(figures, writer, self.sink.config.topic_prefix)
        calls.add_since(figures, self.client)
        return replace(result, figures=figures)

    def _calls_documents(self) -> StateDocuments:
        at, calls = self.client.budget.recent_calls()
        return RecentCalls(at, calls).documents()

    def close(self) -> None:
        if self.owned:
            self.sink.close()
            self.client.close()


class TailFollower:
    """Tail passes for the pause between two bulk passes; see the module docstring."""

    def __init__(
        self,
        settings: Settings,
        progress: Progress,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        client: MarketoClient | None = None,
        sink: Sink | None = None,
        on_pass: Callable[[TailResult], None] | None = None,
    ) -> None:
        """``client``, ``sink``: the bulk passes' to share (see ``TailSession.open``); made per ``follow`` if not.
        ``on_pass``: told of every pass that ends (the metrics count the tail's records and calls there)."""
        self.client = client
        self.sink = sink
        self.on_pass = on_pass
        self.settings = settings
        self.progress = progress
        self.sleep = sleep
        self.monotonic = monotonic
        self.passes = 0
        self.calls = 0
        self._cycle_start = (self.monotonic(), self._counted())
        """When (monotonic) the current cycle began and the client's counted calls then: the end of the last
        ``follow``, or this follower's making (so the first bulk pass of ``--follow`` counts too)."""
        self._handed_over_at_once = False
        """The last ``follow`` handed over on its first pass: a second such call waits instead (a bulk pass that
        cannot bring the windows close to now must not be followed by another at once, for ever)."""

    def follow(self, seconds: float) -> float:
        """Runs tail passes for up to ``seconds``; returns the pause left before the next bulk pass (0 when the
        tail handed over to Bulk Extract)."""
        try:
            return self._follow(seconds)
        finally:
            self._cycle_start = (self.monotonic(), self._counted())

    def _counted(self) -> int:
        return counted_calls(self.client) if self.client is not None else 0

    def _follow(self, seconds: float) -> float:
        deadline = self.monotonic() + seconds
        started = self.monotonic()
        spent = self._counted()
        began, calls_then = self._cycle_start
        bulk_calls = spent - calls_then
        per_call = seconds_per_call(self.settings)
        if bulk_calls > 0:  # the bulk pass shared the client: its calls come off the cycle's share
            budget = tail_budget(self.settings, cycle_seconds=started - began + seconds, bulk_calls=bulk_calls)
            if budget < 1:
                self.progress.step(
                    f"tail: the bulk pass spent {bulk_calls} calls, this cycle's whole share of "
                    "follow.tail_call_share; no tail passes until the next bulk pass"
                )
                return seconds
            per_call = max(per_call, seconds / budget)
        session = TailSession.open(self.settings, self.progress, sink=self.sink, client=self.client)
        try:  # the session's metadata calls count as the first pass's
            first = True
            while True:
                result = session.tail_pass()
                calls = counted_calls(session.client)
                self.passes += 1
                self.calls += calls - spent
                if self.on_pass is not None:
                    self.on_pass(result)
                log.info(
                    "tail pass: %d read, %d published, %d tombstones, %d calls", result.read, result.published,
                    result.tombstones, calls - spent,
                )  # fmt: skip
                if result.handover is not None:
                    at_once, self._handed_over_at_once = self._handed_over_at_once, first
                    self.progress.step(f"tail: {result.handover}; Bulk Extract takes over")
                    return max(deadline - self.monotonic(), 0.0) if at_once and first else 0.0
                first = self._handed_over_at_once = False
                wait = pause_after(calls - spent, self.monotonic() - started, self.settings, per_call)
                spent = calls
                left = deadline - self.monotonic()
                if wait >= left:
                    return max(left, 0.0)
                self.sleep(wait)
                started = self.monotonic()
        finally:
            session.close()
