"""One function per ``Reader``: how a kind of entity table is read, published and checked for deletes.

A reader gets the entity phase (clients, effects, what earlier readers listed) and the catalog's specs that
declare it, and knows nothing of particular tables: endpoints, parents, the list a detail holds the rows in and
the column that scopes deletes all come from the specs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from itertools import chain, count
from typing import Any

from marketo_stream.marketo.paging import MAX_BATCH, batches, offset_pages, position_token_pages
from marketo_stream.planner import plan_windows
from marketo_stream.sync.context import watch_jobs
from marketo_stream.sync.entities import EntityListing
from marketo_stream.sync.entity_run import EntityPhase, Listed
from marketo_stream.sync.prefetch import fetch_ahead, first_pages_ahead
from marketo_stream.sync.published import PublishedTable, Row
from marketo_stream.sync.windows import (
    before_first_lead,
    export_pays,
    member_requests,
    request_window,
    window_request,
)
from marketo_stream.sync_state import effects_documents
from marketo_stream.tables import Reader, Source, TableSpec

OBJECT_LOOKBACK = timedelta(hours=1)
COMPANY_ID_GAP_BATCHES = 3
"""Ids are enumerated in batches of 300 until this many batches in a row past the highest id are empty."""

ReaderFunction = Callable[["EntityPhase", list[TableSpec]], None]


def per_table(read: Callable[[EntityPhase, TableSpec], None]) -> ReaderFunction:
    """A reader that reads the tables declaring it one after the other."""

    def reader(phase: EntityPhase, specs: list[TableSpec]) -> None:
        for spec in specs:
            with phase.inputs.progress.table(spec.name), phase.inputs.client.charged_to(spec.name):
                read(phase, spec)

    return reader


def together(read: ReaderFunction) -> ReaderFunction:
    """A reader whose calls serve every table declaring it at once: charged to them together (``a+b``)."""

    def reader(phase: EntityPhase, specs: list[TableSpec]) -> None:
        with phase.inputs.client.charged_to("+".join(spec.name for spec in specs)):
            read(phase, specs)

    return reader


def inside(column: str, scope: set[int]) -> Callable[[Row, str], bool]:
    """A delete scope: keys whose ``column`` is one of ``scope``."""
    return lambda key, _: int(key[column]) in scope


def endpoint(spec: TableSpec, **ids: int) -> str:
    """The table's endpoint as the catalog declares it, with ``{id}`` filled in."""
    return spec.endpoint.format(**ids)


def parent_column(spec: TableSpec) -> str:
    """The column naming the parent in a child's published key (``<parent>_id``)."""
    return f"{spec.parent}_id"


def parent_field(spec: TableSpec) -> str:
    """The Marketo field naming the parent in a child's row (``<parent>Id``)."""
    return f"{spec.parent}Id"


def pages_of(phase: EntityPhase, spec: TableSpec, params: dict[str, Any] | None = None) -> Iterable[Any]:
    """A listing's pages, paged as the spec's source kind pages."""
    if spec.source is Source.ASSET_LISTING:
        return offset_pages(phase.inputs.client, endpoint(spec), params)
    return position_token_pages(phase.inputs.client, endpoint(spec), params)


def marketo_name(table: PublishedTable, column: str) -> str:
    return next(str(f["marketo_name"]) for f in table.source.value_schema["fields"] if f["name"] == column)


def fields_of(table: PublishedTable) -> str:
    return ",".join(table.marketo_fields())


def complete_listing(phase: EntityPhase, spec: TableSpec, rows: Iterable[dict[str, Any]]) -> None:
    """Publishes what changed and deletes what is no longer listed; records what was listed for children. A parent's
    changed and gone rows are committed with its fingerprints (in the effects, until the run's end), so that a run
    stopped before the children are read still reads them when rerun."""
    listing = phase.listing(spec)
    if listing is None:
        phase.listed[spec.name] = Listed(keys=list(rows))
        return
    parent = _is_parent(phase, spec)
    known = {int(key["id"]) for key in listing.known_keys()} if parent else set()
    effects = phase.effects
    changed = effects.parents_changed.setdefault(spec.name, set())
    went = effects.parents_gone.setdefault(spec.name, set())
    if parent:
        listing.also = lambda: effects_documents(effects)
    listed = Listed()
    for row in rows:
        published = listing.published
        key = listing.put(row)
        if key is None:
            continue
        listed.keys.append(key)
        if parent and listing.published > published:
            changed.add(int(key["id"]))
    if parent:
        went |= known - listed.current
    gone = listing.finish()
    if parent:
        listed.changed = changed & listed.current
        listed.gone = went - listed.current
    phase.listed[spec.name] = listed
    phase.inputs.progress.step(f"{spec.name}: {len(listed.keys)} listed, {listing.published} published, {gone} deleted")


def _is_parent(phase: EntityPhase, spec: TableSpec) -> bool:
    return any(other.parent == spec.name for other in phase.specs())


def read_described(phase: EntityPhase, spec: TableSpec) -> None:
    complete_listing(phase, spec, phase.meta.rows(spec))


def read_listings(phase: EntityPhase, spec: TableSpec) -> None:
    if phase.listing(spec) is None and not _feeds_a_child(phase, spec):
        phase.listed[spec.name] = Listed()  # blocked, and no table reads on from it: not a call spent
        return
    complete_listing(phase, spec, phase.rows(pages_of(phase, spec)))


def _feeds_a_child(phase: EntityPhase, spec: TableSpec) -> bool:
    """Whether a published table is read from this one's rows (a blocked parent is still listed for its children)."""
    published = phase.inputs.tables.published
    return any(other.parent == spec.name and other.name in published for other in phase.specs())


def read_parent_details(phase: EntityPhase, specs: list[TableSpec]) -> None:
    """The details of changed parents (of every parent on a first pass); one call per parent serves every table
    held in the detail. A table never complete is on its first pass."""
    by_parent: dict[str, list[TableSpec]] = {}
    for spec in specs:
        by_parent.setdefault(spec.parent or "", []).append(spec)
    for parent, children in by_parent.items():
        listings = [(spec, listing) for spec in children if (listing := phase.listing(spec)) is not None]
        if not listings:
            continue
        found = phase.listed[parent]
        first_pass = not all(listing.state.complete for _, listing in listings)
        parent_ids = found.current if first_pass else found.changed
        details = fetch_ahead(
            sorted(parent_ids),
            _detail_of(phase, children[0]),
            workers=phase.workers,
        )
        for parent_id, result in details:
            detail = result[0] if result else {}
            for spec, listing in listings:
                for item in detail.get(spec.rows_at or "") or ():
                    listing.put({parent_field(spec): parent_id, **_with_defaults(spec, item)})
        scope = parent_ids | found.gone
        for spec, listing in listings:
            if first_pass:
                listing.finish()
            else:
                listing.finish(inside(parent_column(spec), scope))


def _detail_of(phase: EntityPhase, spec: TableSpec) -> Callable[[int], list[dict[str, Any]]]:
    return lambda parent_id: phase.inputs.client.get(endpoint(spec, id=parent_id)).result


def _with_defaults(spec: TableSpec, item: dict[str, Any]) -> dict[str, Any]:
    if not spec.defaults:
        return item
    return {**dict(spec.defaults), **{k: v for k, v in item.items() if v is not None}}


def read_parent_members(phase: EntityPhase, spec: TableSpec) -> None:
    """Members of parents that changed or that activities named; of every parent on a first pass."""
    listing = phase.listing(spec)
    if listing is None:
        return
    found = phase.listed[spec.parent or ""]
    first_pass = not listing.state.complete
    named = (found.changed | phase.effects.programs_to_refresh) & found.current
    parent_ids = found.current if first_pass else named
    names = [f["marketo_name"] for f in listing.table.source.value_schema["fields"] if "marketo_name" in f]
    if spec.bulk_export and export_pays(_expected_pages(listing, parent_column(spec), parent_ids)):
        _exported_members(phase, spec, listing, parent_ids, names)
    else:
        members = first_pages_ahead(
            sorted(parent_ids),
            _member_pages(phase, spec, ",".join(names)),
            workers=phase.workers,
        )
        for _, pages in members:
            listing.put_all(phase.rows(pages))
    scope = parent_ids | found.gone
    column = parent_column(spec)
    if first_pass:
        gone = listing.finish()
    else:
        gone = listing.finish(lambda key, _: int(key[column]) in scope or phase.lead_gone(key))
    phase.inputs.progress.step(
        f"{spec.name}: {len(parent_ids)} {spec.parent}(s) read, {listing.published} published, {gone} deleted"
    )


def _expected_pages(listing: EntityListing, column: str, parent_ids: set[int]) -> dict[int, int]:
    """Pages each parent's member listing should take, from the members it had when last read (one at least)."""
    members = Counter(int(key[column]) for key in listing.known_keys())
    return {parent: -(-members[parent] // MAX_BATCH) for parent in parent_ids}


def _exported_members(
    phase: EntityPhase, spec: TableSpec, listing: EntityListing, parent_ids: set[int], fields: list[str]
) -> None:
    """Members through Bulk Extract, ten parents a job: the same rows as the listing, for fewer calls."""
    inputs = phase.inputs
    requests = member_requests(spec.name, parent_ids, fields)
    for export in inputs.exporter.run(requests):
        rows = export.rows(phase.tally.rejecter(spec.name, export.export_id))
        for values in rows:
            listing.put(rows.row(values))
        export.path.unlink(missing_ok=True)
    inputs.progress.step(f"{spec.name}: {len(parent_ids)} {spec.parent}(s) in {len(requests)} export(s)")


def _member_pages(phase: EntityPhase, spec: TableSpec, fields: str) -> Callable[[int], Iterator[Any]]:
    return lambda parent_id: position_token_pages(phase.inputs.client, endpoint(spec, id=parent_id), {"fields": fields})


def read_activity_members(phase: EntityPhase, spec: TableSpec) -> None:
    """A full listing per parent on a first pass; later the Add to / Remove from activities of this run. The list
    changes are used up in the transaction that commits the table (a stop before it applies them again)."""
    effects = phase.effects
    listing = phase.listing(spec)
    if listing is None:
        return
    parents = phase.listed[spec.parent or ""].keys
    if not listing.state.complete:
        _first_member_listing(phase, spec, listing, [int(key["id"]) for key in parents])
        effects.list_changes.clear()
        gone = listing.finish(also=effects_documents(effects))
    else:
        current = {int(k["id"]) for k in parents}
        parent, parent_key = parent_field(spec), parent_column(spec)
        for change in sorted(effects.list_changes.values()):
            if change.added and change.list_id in current:  # a gone lead's is refused by the listing
                listing.put({parent: change.list_id, "leadId": change.lead_id, "createdAt": change.activity_date})
            else:
                listing.remove({parent_key: change.list_id, "lead_id": change.lead_id})
        column = parent_column(spec)
        effects.list_changes.clear()
        gone = listing.finish(
            lambda key, _: int(key[column]) not in current or phase.lead_gone(key), also=effects_documents(effects)
        )
    phase.inputs.progress.step(f"{spec.name}: {listing.published} published, {gone} deleted")


def _first_member_listing(phase: EntityPhase, spec: TableSpec, listing: EntityListing, parent_ids: list[int]) -> None:
    client, effects = phase.inputs.client, phase.effects
    members = first_pages_ahead(
        parent_ids,
        lambda list_id: position_token_pages(client, endpoint(spec, id=list_id), {"fields": "id"}),
        workers=phase.workers,
    )
    for list_id, pages in members:
        for lead in phase.rows(pages):
            change = effects.list_changes.get((list_id, int(lead["id"])))
            created = change.activity_date if change is not None and change.added else None
            listing.put({parent_field(spec): list_id, "leadId": lead["id"], "createdAt": created})


def read_versions(phase: EntityPhase, spec: TableSpec) -> None:
    listing = phase.listing(spec)
    if listing is None:
        return
    for status in ("approved", "draft"):
        listing.put_all(phase.rows(pages_of(phase, spec, {"status": status})))
    listing.finish()
    phase.inputs.progress.step(f"{spec.name}: {listing.published} new version(s)")


def read_id_range(phase: EntityPhase, spec: TableSpec) -> None:
    listing = phase.listing(spec)
    if listing is None:
        return
    fields = fields_of(listing.table)
    highest, empty_run = 0, 0

    def batch_from(start: int, spec: TableSpec = spec, fields: str = fields) -> list[dict[str, Any]]:
        ids = ",".join(str(i) for i in range(start, start + MAX_BATCH))
        params = {"filterType": "id", "filterValues": ids, "fields": fields}
        return phase.inputs.client.get(endpoint(spec), params).result

    # a first pass does not know where the ids end: up to ``workers`` calls beyond the end are spent, and it stops
    # after ``COMPANY_ID_GAP_BATCHES`` empty batches. A later pass fetches the ids it knew and one batch past them
    # ahead, then one batch at a time, stopping at the first empty batch past the highest id it knew; one that
    # is not due to read every known id again (``full_read_due``) starts at the batch holding the highest.
    known = max((int(key["id"]) for key in listing.known_keys()), default=0) if listing.state.complete else 0
    full = phase.full_read_due(listing)
    gap = 1 if known else COMPANY_ID_GAP_BATCHES
    batches_read: Iterator[tuple[int, list[dict[str, Any]]]]
    if known:
        first = 1 if full else (known - 1) // MAX_BATCH * MAX_BATCH + 1
        planned = range(first, (-(-known // MAX_BATCH) + 1) * MAX_BATCH + 1, MAX_BATCH)
        ahead = fetch_ahead(planned, batch_from, workers=phase.workers)
        batches_read = chain(ahead, ((start, batch_from(start)) for start in count(planned.stop, MAX_BATCH)))
    else:
        batches_read = fetch_ahead(count(1, MAX_BATCH), batch_from, workers=phase.workers)
    for start, found in batches_read:
        for row in found:
            key = listing.put(row)
            if key is not None:
                highest = max(highest, int(key["id"]))
        empty_run = 0 if found else empty_run + 1
        if empty_run >= gap and start > known:
            break
    gone = listing.finish(complete=full)
    phase.inputs.progress.step(f"{spec.name}: ids up to {highest} read, {listing.published} published, {gone} deleted")


def read_by_lead(phase: EntityPhase, spec: TableSpec) -> None:
    """Rows of the leads in question (each row's lead is kept as its tag, so that rows of those leads that are no
    longer listed become tombstones); the tags of children (``tag_column`` of the tables naming this one as
    parent) are collected for them."""
    listing = phase.listing(spec)
    listed = Listed()
    phase.listed[spec.name] = listed
    if listing is None:
        return
    leads = set(phase.lead_ids)
    first_pass = not listing.state.complete
    if first_pass:
        leads |= phase.all_lead_ids()
    fields = fields_of(listing.table)
    path = endpoint(spec)
    client = phase.inputs.client
    found = first_pages_ahead(
        batches(sorted(leads), MAX_BATCH),
        _filtered_pages(client, path, "leadId", fields),
        workers=phase.workers,
    )
    for _, pages in found:
        for row in phase.rows(pages):
            key = listing.put(row)
            if key is not None:
                listed.keys.append(key)
            listed.rows.append(row)
    names = {str(lead) for lead in leads}
    gone = listing.finish(None if first_pass else lambda _, lead: lead in names or lead in phase.gone_text)
    phase.inputs.progress.step(f"{spec.name}: {listing.published} published, {gone} deleted")


def _filtered_pages(client: Any, path: str, filter_type: str, fields: str) -> Callable[[Iterable[Any]], Any]:
    def pages(values: Iterable[Any]) -> Any:
        params = {"filterType": filter_type, "filterValues": ",".join(map(str, values)), "fields": fields}
        return position_token_pages(client, path, params)

    return pages


def read_by_parent_tag(phase: EntityPhase, spec: TableSpec) -> None:
    """Rows found by the ids the parent's rows name: those of this run, and those already known (kept as tags) when a
    full read is due (``EntityPhase.full_read_due``)."""
    listing = phase.listing(spec)
    if listing is None:
        return
    column = spec.tag_column or ""
    marketo_field = marketo_name(listing.table, column)
    ids = {str(row[marketo_field]) for row in phase.listed[spec.parent or ""].rows if row.get(marketo_field)}
    full = phase.full_read_due(listing)
    if full:
        ids |= {mark.partition("|")[0] for mark in listing.state.rows.values()}
    ids.discard("")
    fields = fields_of(listing.table)
    path = endpoint(spec)
    client = phase.inputs.client
    found = first_pages_ahead(
        batches(sorted(ids), MAX_BATCH),
        _filtered_pages(client, path, marketo_field, fields),
        workers=phase.workers,
    )
    for _, pages in found:
        listing.put_all(phase.rows(pages))
    gone = listing.finish(complete=full)
    phase.inputs.progress.step(f"{spec.name}: {listing.published} published, {gone} deleted")


def read_updated_windows(phase: EntityPhase, spec: TableSpec) -> None:
    """Bulk exports over ``updatedAt`` windows: the first run back to the horizon, later runs from the last window
    (with an overlap) once it is due (``EntityPhase.window_due``). Rows of leads that are gone become tombstones."""
    inputs = phase.inputs
    listing = phase.listing(spec)
    if listing is None:
        return
    windows = phase.state.windows(spec.name)
    done = windows.done
    empty = before_first_lead(done, client=inputs.client, now=inputs.now, horizon=inputs.horizon)
    if empty is not None:  # a custom object hangs off a lead: none was updated before the first lead was created
        done.add(empty)
    plan = plan_windows(done, now=inputs.now, horizon=inputs.horizon, lookback=OBJECT_LOOKBACK)
    due = phase.window_due(spec, done)
    requests = [
        window_request(
            "custom_object",
            window,
            date_field="updatedAt",
            object_name=spec.object_name,
            fields=listing.table.marketo_fields(),
            label=f"{spec.name}:{window}",
        )
        for window in (plan.all() if due else ())
    ]
    for export in inputs.exporter.run(requests, on_job_state=watch_jobs(inputs, phase.tally)):
        rows = export.rows(phase.tally.rejecter(spec.name, export.export_id))
        for values in rows:
            listing.put(rows.row(values))
        done.add(request_window(export.request))
        export.path.unlink(missing_ok=True)
        inputs.writer.commit({**listing.documents(), **windows.documents(spec.name)})
    gone = listing.finish(lambda _, lead: lead in phase.gone_text)
    inputs.progress.step(f"{spec.name}: {len(requests)} export(s), {listing.published} published, {gone} deleted")


def read_snapshot(phase: EntityPhase, spec: TableSpec) -> None:
    listing = phase.listing(spec)
    if listing is None:
        return
    listing.put_all(phase.inputs.client.get(endpoint(spec)).result)
    listing.finish()


READERS: dict[Reader, ReaderFunction] = {
    Reader.DESCRIBED: per_table(read_described),
    Reader.LISTING: per_table(read_listings),
    Reader.PARENT_DETAIL: together(read_parent_details),
    Reader.PARENT_MEMBERS: per_table(read_parent_members),
    Reader.ACTIVITY_MEMBERS: per_table(read_activity_members),
    Reader.VERSIONS: per_table(read_versions),
    Reader.ID_RANGE: per_table(read_id_range),
    Reader.BY_LEAD: per_table(read_by_lead),
    Reader.BY_PARENT_TAG: per_table(read_by_parent_tag),
    Reader.UPDATED_WINDOWS: per_table(read_updated_windows),
    Reader.SNAPSHOT: per_table(read_snapshot),
}
"""Every reader, by kind; a catalog table whose reader is missing here fails the entity phase's import test."""
