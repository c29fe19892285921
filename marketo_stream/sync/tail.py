"""The streaming tail of ``sync --follow``: activities and deletes through REST paging tokens, seconds after Marketo
commits them, and a hand-over to Bulk Extract when there is too much to page.

Why it is safe to mix with Bulk Extract (every ``marketoGUID`` is published once):

- Bulk windows select by ``activityDate`` and hold what was committed when the job ran; paging tokens select by
  *commit* time. So the tail opens its tokens a safety lag before the end of the finished bulk windows (``done``)
  and reads every activity committed after that, the late-committed ones of older dates included. What bulk
  already published among them is in ``activities.recent`` (the GUIDs published within the lookback) and is
  skipped; each row the tail publishes joins ``activities.recent`` in the same transaction.
- After a pass that paged every group to its end, the bulk windows are marked done up to Marketo's now less the
  safety lag, and the tail's tokens go with that new end (``TailState``). A later bulk pass plans from there and
  re-reads its lookback: the rows the tail published are in ``activities.recent`` and skipped. Once bulk has moved
  the end, the tokens no longer match it and the tail opens new ones a safety lag before the new end.
- Records, tokens, ``done``, ``activities.recent`` and the effects are committed in one Kafka transaction, so a
  stop anywhere resumes from the last page whose rows are committed.

The safety lag (``follow.safety_lag_seconds``, 10 minutes): Marketo commits some activities late (an email send
once the mail server has sent it; the sandbox commits 3 % of web and email activities 1 minute to 6 hours late). The
tail itself never misses them, since it follows commit time. The lag covers the seams with Bulk Extract: an
activity dated before a bulk window's end but committed after its job read the window (the job may even run
before Marketo's clock reaches the end we planned with: our idea of Marketo's now comes from its last ``Date``
header) is read by the tail's tokens opened a lag earlier; and the windows the tail marks done stop a lag before
now, so that Bulk Extract, when it takes over, re-reads the newest span, where late commits gather (its lookback,
``sync.lookback_hours``, 24 h, catches later ones still). Delete Lead activities read again in an overlap are kept
in ``activities.recent`` too, by both paths, and published once.

Calls: ``activities.json`` takes at most 10 type ids, so the extracted types are paged in groups of 10 (one call per
group when nothing is new), plus one call for deleted leads; lead changes arrive as New Lead and Change Data Value
activities in the same calls, and the leads they name are re-read by id (300 per call), as after a bulk pass.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from marketo_stream.activity_effects import EFFECT_TYPES
from marketo_stream.intervals import Interval, IntervalSet, format_instant, parse_instant
from marketo_stream.marketo.paging import MAX_BATCH, date_token_pages, paging_token
from marketo_stream.report import SyncSummary
from marketo_stream.schema import ValueConversionError
from marketo_stream.settings import FollowSettings
from marketo_stream.sync.context import RunInputs, Tally
from marketo_stream.sync.leads import LeadPhase
from marketo_stream.sync_state import CursorState, StateDocuments, SyncState, TailState, effects_documents
from marketo_stream.tables import DELETE_LEAD_TYPE

log = logging.getLogger("marketo_stream.tail")

TYPES_PER_CALL = 10
"""``activities.json`` takes at most 10 ``activityTypeIds``."""
ACTIVITIES_PATH = "/rest/v1/activities.json"
DELETED_LEADS_PATH = "/rest/v1/activities/deletedleads.json"


def type_groups(type_ids: Iterable[int]) -> list[tuple[int, ...]]:
    """The extracted types in groups of at most 10, one ``activities.json`` call each when nothing is new."""
    ordered = sorted(set(type_ids))
    return [tuple(ordered[i : i + TYPES_PER_CALL]) for i in range(0, len(ordered), TYPES_PER_CALL)]


def group_label(group: tuple[int, ...]) -> str:
    return ",".join(map(str, group))


@dataclass(frozen=True)
class TailResult:
    """What one tail pass did; ``handover`` says why Bulk Extract should take over (None: the tail keeps up)."""

    read: int
    published: int
    tombstones: int
    handover: str | None
    end: datetime | None
    """The end of the bulk windows after the pass (what the tail marked done)."""
    figures: SyncSummary | None = None
    """The pass's records, calls and commits as a summary's figures, for the metrics (``TailSession`` fills it)."""


def windows_end(state: SyncState, inputs: RunInputs) -> datetime | None:
    return state.activities.done_for(inputs.tables.extracted_type_ids()).latest_end()


def tail_holds(state: SyncState, inputs: RunInputs, follow: FollowSettings) -> bool:
    """Whether the tail keeps the activities current, so that a bulk pass of ``--follow`` may leave them to it: it
    has tokens for the current bulk end, and that end is recent."""
    end = windows_end(state, inputs)
    if end is None or not state.tail.tokens_for(end):
        return False
    return inputs.now - end <= timedelta(hours=follow.max_gap_hours)


def run_tail_pass(inputs: RunInputs, state: SyncState, tally: Tally, follow: FollowSettings) -> TailResult:
    """One pass: every type group and the deleted leads paged to their end, the named leads re-read, the bulk
    windows marked done up to now less the safety lag; all committed with the records. ``state`` is updated."""
    return TailPass(inputs, state, tally, follow).run()


class TailPass:
    def __init__(self, inputs: RunInputs, state: SyncState, tally: Tally, follow: FollowSettings) -> None:
        self.inputs = inputs
        self.state = state
        self.tally = tally
        self.follow = follow
        self.types = inputs.tables.extracted_type_ids()
        self.lookback = timedelta(hours=inputs.settings.sync.lookback_hours)
        self.read = self.published = self.tombstones = 0
        self._opening: dict[datetime, str] = {}

    def documents(self) -> StateDocuments:
        state = self.state
        return {
            **state.activities.documents(),
            **state.recent.documents(),
            **state.tail.documents(),
            **state.deleted_leads.deleted_leads_documents(),
            **effects_documents(state.effects),
        }

    def run(self) -> TailResult:
        inputs, state = self.inputs, self.state
        if not self.types:
            return self._result(None, None)  # no activity table published: deletes come with the bulk passes
        end = windows_end(state, inputs)
        if end is None:
            return self._result("no bulk window is done yet", end)
        if inputs.now - end > timedelta(hours=self.follow.max_gap_hours):
            return self._result(f"the bulk windows end at {format_instant(end)}, too long ago to page", end)
        state.tail = TailState(state.tail.tokens_for(end), end)
        lag = timedelta(seconds=self.follow.safety_lag_seconds)
        for group in type_groups(self.types):
            label = group_label(group)
            if not self._page(label, ACTIVITIES_PATH, {"activityTypeIds": label}, end - lag):
                return self._hand_over(end)
        if not self._page(TailState.DELETED, DELETED_LEADS_PATH, {}, (state.deleted_leads.at or end) - lag):
            return self._hand_over(end)
        state.deleted_leads = CursorState(inputs.now)
        inputs.writer.commit(self.documents())  # the lead phase's commits carry its own state, not the tail's
        if state.effects.leads_to_refresh or state.effects.merged_away:
            leads = LeadPhase(inputs, state.leads, state.deleted_leads, self.tally, effects=state.effects)
            leads.apply_effects()
        new_end = self._mark_done(end)
        inputs.writer.commit(self.documents())
        return self._result(None, new_end)

    def _page(self, label: str, path: str, params: Mapping[str, Any], since: datetime) -> bool:
        """Pages one token to its end; False when the pass has read more than a bulk export should take."""
        tokens = self.state.tail.tokens
        token = tokens.get(label) or self._token_at(since)
        query = {**params, "batchSize": MAX_BATCH}
        for page in date_token_pages(self.inputs.client, path, query, since_token=token):
            for row in page.rows:
                self._take(row)
            if page.next_page_token:
                tokens[label] = page.next_page_token
            self.inputs.writer.checkpoint(self.documents)
            if self.read > self.follow.bulk_threshold_rows:
                return False
        return True

    def _token_at(self, since: datetime) -> str:
        """One ``pagingtoken.json`` call per instant a pass opens tokens at (the groups share it)."""
        found = self._opening.get(since)
        if found is None:
            found = self._opening[since] = paging_token(self.inputs.client, format_instant(since))
        return found

    def _take(self, row: Mapping[str, Any]) -> None:
        """One activity (or Delete Lead) row, published unless the tail or a bulk export already did."""
        self.read += 1
        guid = str(row.get("marketoGUID") or "")
        recent = self.state.recent.guids
        if not guid or guid in recent:
            return
        inputs, tally = self.inputs, self.tally
        type_id = _int(row.get("activityTypeId"))
        date = row.get("activityDate")
        if type_id == DELETE_LEAD_TYPE:
            self._tombstone(row.get("leadId"))
        elif type_id in EFFECT_TYPES:
            attributes = row.get("attributes")
            self.state.effects.absorb_activity(
                type_id, row.get("leadId"), row.get("primaryAttributeValueId"), date, guid, attributes
            )
        table = inputs.tables.activity_by_type.get(type_id)
        at = _instant(date)
        if table is not None:
            try:
                inputs.writer.upsert_row(table, row)
            except ValueConversionError as exc:
                tally.reject(table.name, row, exc)
            else:
                tally.records[table.name] += 1
                if at is not None:  # the table's freshness (metrics), once committed
                    tally.saw_activity_at(table.name, at)
                self.published += 1
        if at is not None:
            recent[guid] = int(at.timestamp())
            if tally.newest_activity is None or at > tally.newest_activity:
                tally.newest_activity = at

    def _tombstone(self, lead_id: Any) -> None:
        """A deleted lead, as the bulk pass's deleted-leads step does: a tombstone, and it is gone for the rest."""
        lead = self.inputs.tables.lead
        lead_number = _int(lead_id)
        if lead_number < 0:
            return
        self.state.effects.gone_leads.add(lead_number)
        if lead is not None:
            self.inputs.writer.delete(lead, {"id": lead_number})
            self.tally.tombstones[lead.name] += 1
            self.tombstones += 1

    def _mark_done(self, end: datetime) -> datetime:
        """Every type's bulk windows done up to now less the safety lag (whole seconds): what bulk plans from."""
        state = self.state
        new_end = (self.inputs.now - timedelta(seconds=self.follow.safety_lag_seconds)).replace(microsecond=0)
        if new_end > end:
            for type_id in self.types:
                state.activities.done.setdefault(type_id, IntervalSet()).add(Interval(end, new_end))
        else:
            new_end = end
        state.tail.end = new_end
        state.recent.prune(new_end - self.lookback)
        return new_end

    def _hand_over(self, end: datetime) -> TailResult:
        """Too much to page: what was read is committed, the tokens dropped, and Bulk Extract plans from ``done``
        (its lookback re-read skips what the tail published, kept in ``activities.recent``)."""
        self.state.tail = TailState()
        self.inputs.writer.commit(self.documents())
        return self._result(f"more than {self.follow.bulk_threshold_rows:,} activities to page", end)

    def _result(self, handover: str | None, end: datetime | None) -> TailResult:
        if handover is not None:
            log.info("the tail hands over to Bulk Extract: %s", handover)
        return TailResult(self.read, self.published, self.tombstones, handover, end)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _instant(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return parse_instant(str(value))
    except ValueError:
        return None
