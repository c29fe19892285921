"""Leads: deletes first, an initial bulk load over ``createdAt`` windows, then the leads activities name.

Marketo keeps deleted leads for 14 days only, so ``deletedleads.json`` is read before anything else on
every run, and a run that finds its last success older than that warns: deletes may have been missed. The
initial load exports every lead, newest windows first, with every published describe field. After it,
leads named by New Lead, Change Data Value and Merge Leads activities are re-read by id (300 per call);
a named lead Marketo no longer returns, and every lead merged away, becomes a tombstone.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from marketo_stream.bulk.exporter import CompletedExport
from marketo_stream.bulk.request import ExportRequest
from marketo_stream.intervals import Interval, format_instant
from marketo_stream.marketo.paging import MAX_BATCH, batches, date_token_pages, paging_token
from marketo_stream.planner import plan_windows
from marketo_stream.schema import ValueConversionError
from marketo_stream.sync.context import RunContext
from marketo_stream.sync.windows import request_window, window_request
from marketo_stream.sync_state import CursorState, ExportProgress
from marketo_stream.tables import DELETE_LEAD_TYPE

DELETED_LEADS_RETENTION = timedelta(days=14)
CURSOR_OVERLAP = timedelta(hours=1)


def lead_label(window: Interval) -> str:
    return f"leads:{window}"


class LeadPhase:
    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.loaded_ids: set[int] = set()
        """Ids of the leads this run's initial load published (read back when lead ids are hashed)."""
        self.gone_ids: set[int] = set()
        """Leads deleted or merged away in this run: their memberships, roles and custom objects go too."""

    # -- deletes -------------------------------------------------------------------------------------------

    def deleted_leads(self) -> None:
        ctx = self.ctx
        lead = ctx.tables.lead
        if lead is None:
            return
        cursor = ctx.state.deleted_leads
        oldest = ctx.now - DELETED_LEADS_RETENTION
        if cursor.at is not None and cursor.at < oldest:
            ctx.summary.warnings.append(
                f"the last sync ended {cursor.at.isoformat()}, more than 14 days ago: Marketo keeps deleted "
                f"leads 14 days, so deletes older than {oldest.isoformat()} may have been missed; "
                f"resync the lead table to be sure (marketo-stream resync lead --yes)"
            )
        since = max(oldest, (cursor.at or oldest) - CURSOR_OVERLAP)
        activity = ctx.tables.activity_by_type.get(DELETE_LEAD_TYPE)
        # before the initial load has published a single lead there is nothing to delete, and a topic that
        # starts with tombstones breaks sinks that create their table from the first record
        published_any = bool(len(ctx.leads.done) or ctx.leads.exports or ctx.leads.initial_load_complete)
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
                    ctx.summary.tombstones[lead.name] += 1
                    deleted += 1
                if activity is not None and row.get("marketoGUID"):
                    ctx.writer.upsert_row(activity, row)
                    ctx.summary.records[activity.name] += 1
            ctx.writer.checkpoint(dict)
        ctx.writer.commit(CursorState(ctx.now).deleted_leads_documents())
        ctx.progress.step(f"deleted leads since {format_instant(since)}: {deleted} tombstone(s)")

    # -- initial load --------------------------------------------------------------------------------------

    def initial_load(self) -> None:
        ctx = self.ctx
        lead = ctx.tables.lead
        if lead is None or ctx.leads.initial_load_complete:
            return
        state = ctx.leads
        fields = tuple(lead.marketo_fields())
        done = state.done
        for progress in state.exports.values():
            done.add(progress.window)
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
            ctx.writer.commit(ctx.lead_states())

        for export in ctx.exporter.run(requests, known_exports=known, on_export_id=on_export_id):
            self.publish_export(export)
        state.initial_load_complete = True
        ctx.writer.commit(ctx.lead_states())

    def publish_export(self, export: CompletedExport) -> int:
        """Publishes one lead export file, resuming after the rows already committed; returns rows published."""
        ctx, state, lead = self.ctx, self.ctx.leads, self.ctx.tables.lead
        assert lead is not None
        win = request_window(export.request)
        progress = state.exports.setdefault(export.request.label, ExportProgress(win, (), export.export_id))
        skip = progress.rows_committed
        count = 0
        rows = export.rows(ctx.quarantine)
        convert = lead.values_converter(rows.header, rows.json_columns)
        id_at = rows.header.index("id") if "id" in rows.header else None
        writer, loaded, records = ctx.writer, self.loaded_ids, ctx.summary.records
        for index, values in enumerate(rows):
            if id_at is not None and (raw := values[id_at]) != "" and raw != "null":
                loaded.add(int(raw))
            if index < skip:
                continue
            try:
                writer.upsert_values(lead, convert(values))
            except ValueConversionError as exc:
                ctx.reject(lead.name, rows.row(values), exc)
            else:
                records[lead.name] += 1
            progress.rows_committed = index + 1
            count += 1
            writer.checkpoint(ctx.lead_states)
        state.done.add(win)
        state.exports.pop(export.request.label, None)
        ctx.writer.commit(ctx.lead_states())
        export.path.unlink(missing_ok=True)
        ctx.progress.step(f"leads {win}: {count:,} published")
        return count

    @staticmethod
    def _request(window: Interval, fields: tuple[str, ...], label: str | None = None) -> ExportRequest:
        return window_request("leads", window, fields=fields, label=label or lead_label(window))

    # -- changes named by activities -------------------------------------------------------------------------

    def apply_effects(self) -> None:
        ctx = self.ctx
        lead = ctx.tables.lead
        effects = ctx.effects
        if lead is None:
            return
        for loser in sorted(effects.merged_away):
            ctx.writer.delete(lead, {"id": loser})
            ctx.summary.tombstones[lead.name] += 1
            self.gone_ids.add(loser)
        refresh = sorted(effects.leads_to_refresh - effects.merged_away)
        fields = ",".join(lead.marketo_fields())
        refreshed = gone = 0
        for ids in batches(refresh, MAX_BATCH):
            params: dict[str, Any] = {"filterType": "id", "filterValues": ",".join(map(str, ids)), "fields": fields}
            found: set[int] = set()
            for row in ctx.client.get("/rest/v1/leads.json", params).result:
                ctx.writer.upsert_row(lead, row)
                ctx.summary.records[lead.name] += 1
                found.add(int(row["id"]))
                refreshed += 1
            for missing in sorted(set(ids) - found):
                ctx.writer.delete(lead, {"id": missing})
                ctx.summary.tombstones[lead.name] += 1
                self.gone_ids.add(missing)
                gone += 1
            effects.leads_to_refresh -= set(ids)
            ctx.writer.checkpoint(ctx.lead_states)
        effects.merged_away.clear()
        ctx.writer.commit(ctx.lead_states())
        if refresh:
            ctx.progress.step(f"leads named by activities: {refreshed} re-read, {gone} gone")
