"""The table catalog: every table marketo-stream publishes, declared once.

A table's source, key, cursor, schema, topic and window live here and nowhere else; the runner, the
schema builder, the sink and the CLI read this. Tables whose columns come from Marketo metadata (the lead
table, one table per activity type, one per custom object) are declared by the factories below from the
metadata the run fetched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum


class Source(Enum):
    """How a table's rows are obtained; each kind has one reader in ``marketo_stream.sources``."""

    BULK_ACTIVITIES = "bulk_activities"
    """Bulk Extract activity exports over ``createdAt`` windows, priority-first."""
    LEADS = "leads"
    """Bulk lead export over ``createdAt`` windows first, then the leads named by activities."""
    ASSET_LISTING = "asset_listing"
    """Asset API offset paging (programs, campaigns, forms, email templates...)."""
    LEAD_DB_LISTING = "lead_db_listing"
    """Lead-database listing with position tokens (lists, companies, opportunities...)."""
    MEMBERSHIP = "membership"
    """A full listing per parent on first load, then kept current from membership activities."""
    METADATA = "metadata"
    """Small describe/type listings, refreshed every run."""
    USAGE = "usage"
    """Daily API usage statistics."""
    CUSTOM_OBJECT = "custom_object"
    """Marketo custom objects through their query endpoint."""


class Schema(Enum):
    FIXED = "fixed"
    """``schemas/<table>.avsc``."""
    LEAD_DESCRIBE = "lead_describe"
    ACTIVITY_TYPE = "activity_type"
    CUSTOM_OBJECT = "custom_object"


class Deletes(Enum):
    """Where a table's deletes come from; each becomes a tombstone."""

    NONE = "none"
    FULL_LISTING = "full_listing"
    """Keys that disappear from a complete listing."""
    DELETED_LEADS = "deleted_leads"
    """``deletedleads.json`` and merges (losing lead ids)."""
    ACTIVITIES = "activities"
    """Remove-from activities (Remove from List, Remove from Opportunity)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TableSpec:
    name: str
    source: Source
    key: tuple[str, ...]
    """Avro field names (snake_case) of the primary key."""
    schema: Schema = Schema.FIXED
    endpoint: str = ""
    cursor: str | None = None
    """The Marketo field an incremental read advances on, where there is one."""
    compacted: bool = True
    """Entity topics are compacted (latest row per key); activity topics are time-retained."""
    deletes: Deletes = Deletes.FULL_LISTING
    window: timedelta | None = None
    group: str = "entities"
    """Operators block whole groups ("activities", "entities", "memberships", "metadata", "custom_objects")."""
    activity_type_id: int | None = None
    object_name: str | None = None
    params: tuple[tuple[str, str], ...] = field(default=())

    @property
    def topic_suffix(self) -> str:
        return self.name


ACTIVITY_WINDOW = timedelta(days=31)

SEMANTIC_ACTIVITY_TYPES: frozenset[int] = frozenset({12, 13, 24, 25, 32, 34, 35, 104, 113})
"""New Lead, Change Data Value, Add/Remove List, Merge Leads, Add/Remove Opportunity, Change Status in
Progression, Add to Nurture: lead and membership updates depend on them, so they are always extracted,
even when their own tables are blocked."""

DELETE_LEAD_TYPE = 37
"""Not available from bulk activity exports; deletes come from ``deletedleads.json``."""


FIXED_TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        name="lead_describe",
        source=Source.METADATA,
        key=("name",),
        endpoint="/rest/v1/leads/describe2.json",
        group="metadata",
    ),
    TableSpec(
        name="activity_type",
        source=Source.METADATA,
        key=("id",),
        endpoint="/rest/v1/activities/types.json",
        group="metadata",
    ),
    TableSpec(name="campaign", source=Source.LEAD_DB_LISTING, key=("id",), endpoint="/rest/v1/campaigns.json"),
    TableSpec(
        name="program",
        source=Source.ASSET_LISTING,
        key=("id",),
        endpoint="/rest/asset/v1/programs.json",
        cursor="updatedAt",
    ),
    TableSpec(
        name="program_tag",
        source=Source.ASSET_LISTING,
        key=("program_id", "tag_type"),
        endpoint="/rest/asset/v1/program/{id}.json",
    ),
    TableSpec(
        name="program_cost",
        source=Source.ASSET_LISTING,
        key=("program_id", "start_date", "cost_index"),
        endpoint="/rest/asset/v1/program/{id}.json",
    ),
    TableSpec(
        name="program_membership",
        source=Source.MEMBERSHIP,
        key=("program_id", "lead_id"),
        endpoint="/rest/v1/programs/{id}/members.json",
        group="memberships",
        deletes=Deletes.FULL_LISTING,
    ),
    TableSpec(name="list", source=Source.LEAD_DB_LISTING, key=("id",), endpoint="/rest/v1/lists.json"),
    TableSpec(
        name="list_membership",
        source=Source.MEMBERSHIP,
        key=("list_id", "lead_id"),
        endpoint="/rest/v1/lists/{id}/leads.json",
        group="memberships",
        deletes=Deletes.ACTIVITIES,
    ),
    TableSpec(
        name="opportunity", source=Source.LEAD_DB_LISTING, key=("marketo_guid",), endpoint="/rest/v1/opportunities.json"
    ),
    TableSpec(
        name="opportunity_membership",
        source=Source.MEMBERSHIP,
        key=("marketo_guid",),
        endpoint="/rest/v1/opportunities/roles.json",
        group="memberships",
        deletes=Deletes.ACTIVITIES,
    ),
    TableSpec(name="company", source=Source.LEAD_DB_LISTING, key=("id",), endpoint="/rest/v1/companies.json"),
    TableSpec(
        name="email_template_history",
        source=Source.ASSET_LISTING,
        key=("id", "version"),
        endpoint="/rest/asset/v1/emailTemplates.json",
        deletes=Deletes.NONE,
    ),
    TableSpec(name="form", source=Source.ASSET_LISTING, key=("id",), endpoint="/rest/asset/v1/forms.json"),
    TableSpec(
        name="api_usage",
        source=Source.USAGE,
        key=("date", "user_id"),
        endpoint="/rest/v1/stats/usage.json",
        group="metadata",
        deletes=Deletes.NONE,
    ),
)

LEAD_TABLE = TableSpec(
    name="lead",
    source=Source.LEADS,
    key=("id",),
    schema=Schema.LEAD_DESCRIBE,
    endpoint="/bulk/v1/leads/export/create.json",
    cursor="createdAt",
    deletes=Deletes.DELETED_LEADS,
    window=timedelta(days=31),
    group="lead",
)

UNBLOCKABLE = frozenset({LEAD_TABLE.name})


def snake_case(name: str) -> str:
    """``Change Data Value`` → ``change_data_value``; ``firstName`` → ``first_name``; ``SFDCType`` → ``sfdc_type``."""
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name.strip())
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    text = re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_").lower()
    if not text:
        return "unnamed"
    return f"_{text}" if text[0].isdigit() else text


def activity_table(type_id: int, type_name: str) -> TableSpec:
    return TableSpec(
        name=f"activity_{snake_case(type_name)}",
        source=Source.BULK_ACTIVITIES,
        key=("marketo_guid",),
        schema=Schema.ACTIVITY_TYPE,
        endpoint="/bulk/v1/activities/export/create.json",
        cursor="activityDate",
        compacted=False,
        deletes=Deletes.NONE,
        window=ACTIVITY_WINDOW,
        group="activities",
        activity_type_id=type_id,
    )


def custom_object_table(api_name: str) -> TableSpec:
    return TableSpec(
        name=f"custom_object_{snake_case(api_name)}",
        source=Source.CUSTOM_OBJECT,
        key=("marketo_guid",),
        schema=Schema.CUSTOM_OBJECT,
        endpoint=f"/rest/v1/customobjects/{api_name}.json",
        group="custom_objects",
        object_name=api_name,
    )


def fixed_table(name: str) -> TableSpec:
    for spec in (*FIXED_TABLES, LEAD_TABLE):
        if spec.name == name:
            return spec
    known = ", ".join(sorted(s.name for s in (*FIXED_TABLES, LEAD_TABLE)))
    raise KeyError(
        f"no table named {name!r}; fixed tables are: {known} (activity_* and custom_object_* come from "
        f"Marketo metadata)"
    )
