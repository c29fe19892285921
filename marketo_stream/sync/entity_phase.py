"""Where each entity table's rows come from, and which listings are complete enough to detect deletes.

- Complete listings each run (deletes detected): activity types, lead describe, campaigns, static lists,
  programs, forms, companies.
- Per program, fetched for every program on the first run and later for programs that changed or that
  membership activities (Change Status in Progression, Add to Nurture) name: tags, costs, members.
- Static list membership: a full listing per list on the first run; later, Add to List / Remove from List
  activities upsert and tombstone members (the activity date is the membership's ``createdAt``).
- Opportunity roles are read per lead: every lead loaded on the first run, later the leads that activities
  name. Opportunities are read by the external ids their roles name (one without any role is not found).
- Custom objects come from bulk exports over ``updatedAt`` windows.
- Whatever hangs off a lead that was deleted or merged away (memberships, roles, custom objects) is deleted.
- Email templates: every version Marketo shows (approved and draft) is kept as its own record; none are
  ever deleted, it is a history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from itertools import count
from typing import Any

from marketo_stream.activity_effects import Effects
from marketo_stream.bulk.request import ExportRequest
from marketo_stream.intervals import Interval
from marketo_stream.marketo.paging import MAX_BATCH, batches, offset_pages, position_token_pages
from marketo_stream.planner import plan_windows
from marketo_stream.sync.catalog import Metadata
from marketo_stream.sync.context import RunContext
from marketo_stream.sync.entities import EntityListing, tag_by
from marketo_stream.sync.prefetch import fetch_ahead, first_pages_ahead
from marketo_stream.sync.published import PublishedTable, Row
from marketo_stream.sync.windows import request_window, window_request
from marketo_stream.tables import fixed_table

OBJECT_LOOKBACK = timedelta(hours=1)
COMPANY_ID_GAP_BATCHES = 3
"""Company ids are enumerated in batches of 300 until this many batches in a row past the highest id are empty."""


def endpoint(table: str, **ids: int) -> str:
    """The table's endpoint as the catalog declares it, with ``{id}`` filled in."""
    return fixed_table(table).endpoint.format(**ids)


class EntityPhase:
    def __init__(self, ctx: RunContext, meta: Metadata, *, gone_lead_ids: set[int], loaded_lead_ids: set[int]) -> None:
        self.ctx = ctx
        self.meta = meta
        self.loaded_ids = loaded_lead_ids
        self.lead_ids: set[int] = set()
        """Leads whose roles to read: those activities named (every lead on the first pass)."""
        self.gone = gone_lead_ids
        """Leads deleted or merged away: whatever hangs off them is deleted with them."""
        self.gone_text = {str(lead) for lead in gone_lead_ids}
        self.workers = ctx.settings.marketo.max_concurrency
        """Per-id listings fetched at once, ahead of publishing (the client's budget bounds calls in flight)."""

    def all_lead_ids(self) -> set[int]:
        """Every published lead: Marketo lists roles only by lead, so a first pass asks for all of them. They are
        read back from the lead topic; where lead ids are hashed, only the leads this run loaded are known."""
        lead = self.ctx.tables.lead
        if lead is None:
            return set()
        if lead.avro.key_schema["fields"][0]["type"] != "long":
            if not self.loaded_ids:
                self.ctx.summary.warnings.append(
                    "lead ids are hashed and this run loaded no leads: opportunity roles of earlier leads are not read"
                )
            return set(self.loaded_ids)
        return {int(key["id"]) for key in self.ctx.writer.live_keys(lead)}

    def lead_gone(self, key: Row) -> bool:
        return str(key.get("lead_id")) in self.gone_text

    def listing(self, name: str, tag: Callable[[Row], str] | None = None) -> EntityListing | None:
        table = self.ctx.tables.fixed(name)
        return EntityListing(self.ctx, table, tag) if table is not None else None

    def run(self, effects: Effects) -> None:
        self.lead_ids |= effects.leads_to_refresh | effects.opportunity_leads
        self.simple("activity_type", self.meta.activity_types)
        self.simple("lead_describe", self.meta.lead_fields)
        self.simple("campaign", self.rows(position_token_pages(self.ctx.client, endpoint("campaign"))))
        self.simple("form", self.rows(offset_pages(self.ctx.client, endpoint("form"))))
        lists = self.simple("list", self.rows(position_token_pages(self.ctx.client, endpoint("list"))))
        changed, gone, current = self.programs()
        self.program_details(changed, gone, current)
        self.program_members((changed | effects.programs_to_refresh) & current, gone, current)
        self.list_members(lists, effects)
        self.email_templates()
        self.companies()
        self.roles_and_opportunities()
        self.custom_objects()
        self.usage()

    # -- helpers ---------------------------------------------------------------------------------------------

    @staticmethod
    def rows(pages: Iterable[Any]) -> Iterator[dict[str, Any]]:
        for page in pages:
            yield from page.rows

    def simple(self, name: str, rows: Iterable[dict[str, Any]]) -> list[Row]:
        listing = self.listing(name)
        if listing is None:
            return list(rows)
        keys = [key for key in (listing.put(row) for row in rows) if key is not None]
        gone = listing.finish()
        self.ctx.progress.step(f"{name}: {len(keys)} listed, {listing.published} published, {gone} deleted")
        return keys

    # -- programs ----------------------------------------------------------------------------------------------

    def programs(self) -> tuple[set[int], set[int], set[int]]:
        """(changed or new, gone, all current) program ids."""
        listing = self.listing("program")
        current: set[int] = set()
        changed: set[int] = set()
        rows = self.rows(offset_pages(self.ctx.client, endpoint("program")))
        if listing is None:
            return changed, set(), {int(r["id"]) for r in rows}
        known = {int(key["id"]) for key in listing.known_keys()}
        for row in rows:
            published = listing.published
            key = listing.put(row)
            if key is None:
                continue
            current.add(int(key["id"]))
            if listing.published > published:
                changed.add(int(key["id"]))
        gone_count = listing.finish()
        self.ctx.progress.step(f"program: {len(current)} listed, {len(changed)} changed, {gone_count} deleted")
        return changed, known - current, current

    def program_details(self, changed: set[int], gone: set[int], current: set[int]) -> None:
        """Tags and costs of changed programs; of every program on a first pass (a table never complete)."""
        tags, costs = self.listing("program_tag"), self.listing("program_cost")
        listings = [listing for listing in (tags, costs) if listing is not None]
        if not listings:
            return
        first_pass = not all(listing.state.complete for listing in listings)
        program_ids = current if first_pass else changed
        details = fetch_ahead(
            sorted(program_ids),
            lambda program_id: self.ctx.client.get(endpoint("program_tag", id=program_id)).result,
            workers=self.workers,
        )
        for program_id, found in details:
            detail = found[0] if found else {}
            for tag in detail.get("tags") or ():
                if tags is not None:
                    tags.put({"programId": program_id, **tag})
            for cost in detail.get("costs") or ():
                if costs is not None:
                    costs.put({"programId": program_id, "note": "", **{k: v for k, v in cost.items() if v is not None}})
        scope = program_ids | gone
        for listing in listings:
            if first_pass:
                listing.finish()
            else:
                listing.finish(lambda key, _: int(key["program_id"]) in scope)

    def program_members(self, named: set[int], gone: set[int], current: set[int]) -> None:
        """Members of programs that changed or that activities named; of every program on a first pass."""
        listing = self.listing("program_membership")
        if listing is None:
            return
        first_pass = not listing.state.complete
        program_ids = current if first_pass else named
        fields = ",".join(f["marketo_name"] for f in listing.table.source.value_schema["fields"] if "marketo_name" in f)
        client = self.ctx.client
        members = first_pages_ahead(
            sorted(program_ids),
            lambda program_id: position_token_pages(
                client, endpoint("program_membership", id=program_id), {"fields": fields}
            ),
            workers=self.workers,
        )
        for _, pages in members:
            listing.put_all(self.rows(pages))
        scope = program_ids | gone
        if first_pass:
            gone_count = listing.finish()
        else:
            gone_count = listing.finish(lambda key, _: int(key["program_id"]) in scope or self.lead_gone(key))
        self.ctx.progress.step(
            f"program_membership: {len(program_ids)} program(s) read, {listing.published} published, "
            f"{gone_count} deleted"
        )

    # -- lists -------------------------------------------------------------------------------------------------

    def list_members(self, lists: list[Row], effects: Effects) -> None:
        listing = self.listing("list_membership")
        if listing is None:
            return
        if not listing.state.complete:
            client = self.ctx.client
            members = first_pages_ahead(
                [int(key["id"]) for key in lists],
                lambda list_id: position_token_pages(client, endpoint("list_membership", id=list_id), {"fields": "id"}),
                workers=self.workers,
            )
            for list_id, pages in members:
                for lead in self.rows(pages):
                    change = effects.list_changes.get((list_id, int(lead["id"])))
                    created = change.activity_date if change is not None and change.added else None
                    listing.put({"listId": list_id, "leadId": lead["id"], "createdAt": created})
            gone = listing.finish()
        else:
            current = {int(k["id"]) for k in lists}
            for change in sorted(effects.list_changes.values()):
                if change.added and change.list_id in current:
                    listing.put({"listId": change.list_id, "leadId": change.lead_id, "createdAt": change.activity_date})
                else:
                    listing.remove({"list_id": change.list_id, "lead_id": change.lead_id})
            gone = listing.finish(lambda key, _: int(key["list_id"]) not in current or self.lead_gone(key))
        effects.list_changes.clear()
        self.ctx.progress.step(f"list_membership: {listing.published} published, {gone} deleted")

    # -- assets with versions ------------------------------------------------------------------------------------

    def email_templates(self) -> None:
        listing = self.listing("email_template_history")
        if listing is None:
            return
        for status in ("approved", "draft"):
            path = endpoint("email_template_history")
            listing.put_all(self.rows(offset_pages(self.ctx.client, path, {"status": status})))
        listing.finish(complete=False)
        self.ctx.progress.step(f"email_template_history: {listing.published} new version(s)")

    # -- lead-database objects -----------------------------------------------------------------------------------

    def companies(self) -> None:
        listing = self.listing("company")
        if listing is None:
            return
        fields = ",".join(self.fields_of(listing.table))
        highest, empty_run = 0, 0

        def batch_from(start: int) -> list[dict[str, Any]]:
            ids = ",".join(str(i) for i in range(start, start + MAX_BATCH))
            params = {"filterType": "id", "filterValues": ids, "fields": fields}
            return self.ctx.client.get(endpoint("company"), params).result

        # the batches past the end are not known in advance: up to ``workers`` calls beyond it are spent
        for _, found in fetch_ahead(count(1, MAX_BATCH), batch_from, workers=self.workers):
            for row in found:
                key = listing.put(row)
                if key is not None:
                    highest = max(highest, int(key["id"]))
            empty_run = 0 if found else empty_run + 1
            if empty_run >= COMPANY_ID_GAP_BATCHES:
                break
        gone = listing.finish()
        self.ctx.progress.step(f"company: ids up to {highest} read, {listing.published} published, {gone} deleted")

    def roles_and_opportunities(self) -> None:
        """Roles of the leads in question (a role's lead id is kept as its tag, so that roles of those leads
        that are no longer listed become tombstones), then the opportunities all known roles name."""
        roles = self.listing("opportunity_membership", tag=tag_by("lead_id"))
        opportunities = self.listing("opportunity", tag=tag_by("external_opportunity_id"))
        external_ids: set[str] = set()
        leads = set(self.lead_ids)
        first_pass = roles is not None and not roles.state.complete
        if first_pass:
            leads |= self.all_lead_ids()
        if roles is not None:
            fields = ",".join(self.fields_of(roles.table))
            path = endpoint("opportunity_membership")
            client = self.ctx.client
            found = first_pages_ahead(
                batches(sorted(leads), MAX_BATCH),
                lambda ids: position_token_pages(
                    client, path, {"filterType": "leadId", "filterValues": ",".join(map(str, ids)), "fields": fields}
                ),
                workers=self.workers,
            )
            for _, pages in found:
                for row in self.rows(pages):
                    roles.put(row)
                    if row.get("externalOpportunityId"):
                        external_ids.add(str(row["externalOpportunityId"]))
            names = {str(lead) for lead in leads}
            if first_pass:
                gone = roles.finish()
            else:
                gone = roles.finish(lambda _, lead: lead in names or lead in self.gone_text)
            self.ctx.progress.step(f"opportunity_membership: {roles.published} published, {gone} deleted")
        if opportunities is None:
            return
        external_ids |= {mark.partition("|")[0] for mark in opportunities.state.rows.values()}
        external_ids.discard("")
        fields = ",".join(self.fields_of(opportunities.table))
        path = endpoint("opportunity")
        client = self.ctx.client
        listed = first_pages_ahead(
            batches(sorted(external_ids), MAX_BATCH),
            lambda chunk: position_token_pages(
                client, path, {"filterType": "externalOpportunityId", "filterValues": ",".join(chunk), "fields": fields}
            ),
            workers=self.workers,
        )
        for _, pages in listed:
            opportunities.put_all(self.rows(pages))
        gone = opportunities.finish()
        self.ctx.progress.step(f"opportunity: {opportunities.published} published, {gone} deleted")

    def custom_objects(self) -> None:
        """Custom objects by bulk export over ``updatedAt`` windows: the first run back to the horizon, later
        runs from the last window (with an overlap). Records of leads that are gone become tombstones."""
        for name, table in self.ctx.tables.custom_objects.items():
            listing = EntityListing(self.ctx, table, tag=tag_by("lead_id"))
            windows = self.ctx.state.windows(name)
            done = windows.done
            plan = plan_windows(done, now=self.ctx.now, horizon=self.ctx.horizon, lookback=OBJECT_LOOKBACK)
            requests = [self._object_request(table, window) for window in plan.all()]
            for export in self.ctx.exporter.run(requests):
                rows = export.rows(self.ctx.quarantine)
                for values in rows:
                    listing.put(rows.row(values))
                done.add(request_window(export.request))
                export.path.unlink(missing_ok=True)
                self.ctx.writer.commit({**listing.documents(), **windows.documents(name)})
            gone = listing.finish(lambda _, lead: lead in self.gone_text)
            self.ctx.progress.step(f"{name}: {len(requests)} export(s), {listing.published} published, {gone} deleted")

    @staticmethod
    def _object_request(table: PublishedTable, window: Interval) -> ExportRequest:
        return window_request(
            "custom_object",
            window,
            date_field="updatedAt",
            object_name=table.spec.object_name,
            fields=table.marketo_fields(),
            label=f"{table.name}:{window}",
        )

    def usage(self) -> None:
        listing = self.listing("api_usage")
        if listing is None:
            return
        listing.put_all(self.ctx.client.get(endpoint("api_usage")).result)
        listing.finish(complete=False)

    @staticmethod
    def fields_of(table: PublishedTable) -> list[str]:
        return table.marketo_fields()
