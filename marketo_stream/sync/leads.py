"""Leads: deletes first, an initial bulk load over ``createdAt`` windows, then the leads activities name.

Marketo keeps deleted leads for 14 days only, so ``deletedleads.json`` is read before anything else on
every run, and a run that finds its last success older than that warns: deletes may have been missed. The
initial load exports every lead, newest windows first, with every published describe field. After it,
leads named by New Lead, Change Data Value and Merge Leads activities are re-read by id (300 per call);
a named lead Marketo no longer returns, and every lead merged away, becomes a tombstone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from marketo_stream.activity_effects import Effects
from marketo_stream.bulk.exporter import CompletedExport
from marketo_stream.bulk.request import ExportRequest
from marketo_stream.intervals import Interval, format_instant, parse_instant
from marketo_stream.marketo.paging import MAX_BATCH, batches, date_token_pages, paging_token
from marketo_stream.planner import plan_windows
from marketo_stream.schema import ValueConversionError
from marketo_stream.sync.context import RunInputs, Tally, watch_jobs
from marketo_stream.sync.windows import before_first_lead, request_window, window_request
from marketo_stream.sync_state import (
    CursorState,
    ExportProgress,
    LeadState,
    RecentActivities,
    StateDocuments,
    effects_documents,
)
from marketo_stream.tables import DELETE_LEAD_TYPE, LEAD_TABLE

DELETED_LEADS_RETENTION = timedelta(days=14)
CURSOR_OVERLAP = timedelta(hours=1)


def lead_label(window: Interval) -> str:
    return f"leads:{window}"


@dataclass
class LeadPhase:
    """The lead table's three steps; each commits ``state`` and the effects with the records it describes (a run
    stopped anywhere resumes from them, a first run included). The runner reads ``state``, ``gone_ids`` and
    ``loaded_ids`` back when they are done."""

    inputs: RunInputs
    state: LeadState
    deleted_cursor: CursorState
    tally: Tally
    effects: Effects = field(default_factory=Effects)
    """The run's effects, loaded from state and committed with every step (the same object the activities fill)."""
    recent: RecentActivities | None = None
    """The activities published within the lookback (the same object the activity phase and the tail keep): a
    Delete Lead activity that the overlap of ``deletedleads.json`` reads again is not published again."""
    loaded_ids: set[int] = field(default_factory=set)
    """Ids of the leads this run's initial load published (read back when lead ids are hashed). Not kept across a
    stop: a resumed load knows only the windows it reads itself (see docs/architecture.md, "Resuming")."""

    @property
    def gone_ids(self) -> set[int]:
        """Leads deleted or merged away in this run (kept in the effects): their memberships, roles and custom
        objects go too."""
        return self.effects.gone_leads

    def documents(self) -> StateDocuments:
        return {**self.state.documents(), **effects_documents(self.effects)}

    # -- deletes -------------------------------------------------------------------------------------------

    def deleted_leads(self) -> None:
        with self.inputs.client.charged_to(LEAD_TABLE.name):
            self._deleted_leads()

    def _deleted_leads(self) -> None:
        ctx, tally = self.inputs, self.tally
        lead = ctx.tables.lead
        if lead is None:
            return
        cursor = self.deleted_cursor
        oldest = ctx.now - DELETED_LEADS_RETENTION
        if cursor.at is not None and cursor.at < oldest:
            tally.warnings.append(
                f"the last sync ended {cursor.at.isoformat()}, more than 14 days ago: Marketo keeps deleted "
                f"leads 14 days, so deletes older than {oldest.isoformat()} may have been missed; "
                f"resync the lead table to be sure (marketo-stream resync lead --yes)"
            )
        since = max(oldest, (cursor.at or oldest) - CURSOR_OVERLAP)
        activity = ctx.tables.activity_by_type.get(DELETE_LEAD_TYPE)
        # before the initial load has published a single lead there is nothing to delete, and a topic that
        # starts with tombstones breaks sinks that create their table from the first record
        published_any = bool(len(self.state.done) or self.state.exports or self.state.initial_load_complete)
        token = paging_token(ctx.client, format_instant(since))
        deleted = 0
        for page in date_token_pages(ctx.client, "/rest/v1/activities/deletedleads.json", None, since_token=token):
            for row in page.rows:
                lead_id = row.get("leadId")
                if lead_id is None:
                    continue
                self.gone_ids.add(int(lead_id))
                if published_any:
                    ctx.writer.delete(lead, {"id": int(lead_id)})
                    tally.tombstones[lead.name] += 1
                    deleted += 1
                if activity is not None and row.get("marketoGUID") and self._first_time(row):
                    ctx.writer.upsert_row(activity, row)
                    tally.records[activity.name] += 1
                    tally.saw_activity(activity.name, row.get("activityDate"))
            ctx.writer.checkpoint(lambda: effects_documents(self.effects))
        self.deleted_cursor = CursorState(ctx.now)
        recent = self.recent.documents() if self.recent is not None else {}
        ctx.writer.commit(
            {**self.deleted_cursor.deleted_leads_documents(), **effects_documents(self.effects), **recent}
        )
        ctx.progress.step(f"deleted leads since {format_instant(since)}: {deleted} tombstone(s)")

    def _first_time(self, row: dict[str, Any]) -> bool:
        """Whether a Delete Lead activity is new to the topic (then kept in ``recent``, committed with it)."""
        if self.recent is None:
            return True
        guid = str(row["marketoGUID"])
        if guid in self.recent.guids:
            return False
        date = row.get("activityDate")
        self.recent.guids[guid] = (
            int(parse_instant(str(date)).timestamp()) if date else int(self.inputs.now.timestamp())
        )
        return True

    # -- initial load --------------------------------------------------------------------------------------

    def initial_load(self) -> None:
        with self.inputs.client.charged_to(LEAD_TABLE.name):
            self._initial_load()

    def _initial_load(self) -> None:
        ctx = self.inputs
        lead = ctx.tables.lead
        if lead is None or self.state.initial_load_complete:
            return
        state = self.state
        fields = tuple(lead.marketo_fields())
        done = state.done
        for progress in state.exports.values():
            done.add(progress.window)
        empty = before_first_lead(done, client=ctx.client, now=ctx.now, horizon=ctx.horizon)
        if empty is not None:  # no lead was created before the first New Lead activity: no export below it
            done.add(empty)
        window = timedelta(days=ctx.settings.sync.max_window_days)
        plan = plan_windows(done, now=ctx.now, horizon=ctx.horizon, lookback=timedelta(0), window=window)
        resumed = [self._request(p.window, fields, label) for label, p in sorted(state.exports.items())]
        requests = resumed + [self._request(w, fields) for w in plan.all()]
        ctx.progress.step(f"leads: initial load in {len(requests)} export window(s)")
        known = {label: p.export_id for label, p in state.exports.items() if p.export_id}

        def on_export_id(request: ExportRequest, export_id: str) -> None:
            progress = state.exports.setdefault(request.label, ExportProgress(request_window(request), ()))
            if progress.export_id != export_id:
                progress.export_id, progress.rows_committed = export_id, 0
            ctx.writer.commit(self.documents())

        watch = watch_jobs(ctx, self.tally)
        for export in ctx.exporter.run(requests, known_exports=known, on_export_id=on_export_id, on_job_state=watch):
            self.publish_export(export)
        state.initial_load_complete = True
        # the load read every lead: none named by the first run's activities is read again (nor, if this run stops
        # before its end, by the next one, which is no longer a first run)
        self.effects.leads_to_refresh.clear()
        self.effects.merged_away.clear()
        ctx.writer.commit(self.documents())

    def publish_export(self, export: CompletedExport) -> int:
        """Publishes one lead export file, resuming after the rows already committed; returns rows published."""
        ctx, state, lead, tally = self.inputs, self.state, self.inputs.tables.lead, self.tally
        assert lead is not None
        win = request_window(export.request)
        progress = state.exports.setdefault(export.request.label, ExportProgress(win, (), export.export_id))
        skip = progress.rows_committed
        count = 0
        rows = export.rows(tally.rejecter(lead.name, export.export_id))
        convert = lead.values_converter(rows.header, rows.json_columns)
        id_at = rows.header.index("id") if "id" in rows.header else None
        writer, loaded, records = ctx.writer, self.loaded_ids, tally.records
        for index, values in enumerate(rows):
            if id_at is not None and (raw := values[id_at]) != "" and raw != "null":
                loaded.add(int(raw))
            if index < skip:
                continue
            try:
                writer.upsert_values(lead, convert(values))
            except ValueConversionError as exc:
                tally.reject(lead.name, rows.row(values), exc)
            else:
                records[lead.name] += 1
            progress.rows_committed = index + 1
            count += 1
            writer.checkpoint(self.documents)
        state.done.add(win)
        state.exports.pop(export.request.label, None)
        ctx.writer.commit(self.documents())
        export.path.unlink(missing_ok=True)
        ctx.progress.step(f"leads {win}: {count:,} published")
        return count

    @staticmethod
    def _request(window: Interval, fields: tuple[str, ...], label: str | None = None) -> ExportRequest:
        return window_request("leads", window, fields=fields, label=label or lead_label(window))

    # -- changes named by activities -------------------------------------------------------------------------

    def apply_effects(self) -> None:
        with self.inputs.client.charged_to(LEAD_TABLE.name):
            self._apply_effects()

    def _apply_effects(self) -> None:
        ctx, tally = self.inputs, self.tally
        lead = ctx.tables.lead
        effects = self.effects
        if lead is None:
            return
        for loser in sorted(effects.merged_away):
            ctx.writer.delete(lead, {"id": loser})
            tally.tombstones[lead.name] += 1
            self.gone_ids.add(loser)
        refresh = sorted(effects.leads_to_refresh - effects.merged_away)
        fields = ",".join(lead.marketo_fields())
        refreshed = gone = 0
        for ids in batches(refresh, MAX_BATCH):
            params: dict[str, Any] = {"filterType": "id", "filterValues": ",".join(map(str, ids)), "fields": fields}
            found: set[int] = set()
            for row in ctx.client.get("/rest/v1/leads.json", params).result:
                ctx.writer.upsert_row(lead, row)
                tally.records[lead.name] += 1
                found.add(int(row["id"]))
                refreshed += 1
            for missing in sorted(set(ids) - found):
                ctx.writer.delete(lead, {"id": missing})
                tally.tombstones[lead.name] += 1
                self.gone_ids.add(missing)
                gone += 1
            effects.leads_to_refresh -= set(ids)
            ctx.writer.checkpoint(self.documents)
        effects.merged_away.clear()
        ctx.writer.commit(self.documents())
        if refresh:
            ctx.progress.step(f"leads named by activities: {refreshed} re-read, {gone} gone")
