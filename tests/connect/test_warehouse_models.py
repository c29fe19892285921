"""The dbt project of ``warehouse/`` on PostgreSQL fed by the real Connect sink from real syncs of the sandbox.

Per delete mode (``tombstone`` with ``postgres-entities.json``, ``soft`` with ``postgres-entities-soft.json``): a
tiny world is synced, the shipped connectors write it into PostgreSQL, ``dbt build`` runs the models and their
tests; the world moves on ten days, a second (incremental) sync and a second ``dbt build`` (incremental models
take the new rows) follow. After each build the marts' figures are compared with the sandbox's ground truth,
computed here from its truth API alone: per email and per email template the sends, opens and clicks (a send
reaches its template through its email); per send its template and the template version in force when it was
sent; per lead the sends and the value of the tracked field ``phone`` on each day; deleted leads absent
(tombstone) or flagged (soft).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from confluent_kafka.admin import AdminClient

from marketo_stream.sandbox import PINNED_START, Sandbox, SandboxConfig
from marketo_stream.settings import Settings
from tests.connect.dbt import dbt_build
from tests.connect.test_sync_to_postgres import Pipeline, sync_settings, wait_for_sinks
from tests.connect.warehouse import ConnectWorker, Warehouse, shipped_connector
from tests.infra import Infra

pytestmark = pytest.mark.kafka

TEN_DAYS = 10 * 86_400
HISTORY_START = "2026-09-01"
TRACKED = ["phone", "title", "lead_status", "last_purchase_date", "annual_budget"]
ENTITIES = {"tombstone": "postgres-entities.json", "soft": "postgres-entities-soft.json"}


@dataclass
class Models:
    """One pipeline and the schema its models are built into."""

    pipeline: Pipeline
    mode: str
    schema: str
    work: Path
    port: int
    builds: list[str] = field(default_factory=list)

    def build(self, end: str, *, schema: str | None = None, full_refresh: bool = False) -> None:
        variables = {
            "marketo_table_prefix": self.pipeline.prefix,
            "lead_history_columns": TRACKED,
            "lead_history_start_date": HISTORY_START,
            "lead_history_end_date": end,
        }
        self.builds.append(
            dbt_build(
                self.work,
                postgres_port=self.port,
                schema=schema or self.schema,
                variables=variables,
                full_refresh=full_refresh,
            )
        )


def settings_for(sandbox: Sandbox, prefix: str, work: Path, infra: Infra, mode: str) -> Settings:
    return sync_settings(sandbox, prefix, work / "sync", infra, MARKETO_STREAM_KAFKA__DELETE_MODE=mode)


def sandbox_day(url: str) -> str:
    return str(requests.get(f"{url}/_sandbox/clock", timeout=30).json()["now"])[:10]


@pytest.fixture(scope="module", params=list(ENTITIES))
def models(
    request: pytest.FixtureRequest,
    infra: Infra,
    warehouse: Warehouse,
    connect_worker: ConnectWorker,
    kafka_admin: AdminClient,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Models]:
    mode = str(request.param)
    prefix = f"cm{uuid.uuid4().hex[:10]}"
    work = tmp_path_factory.mktemp(f"models-{mode}")
    sandbox = Sandbox(
        SandboxConfig(
            seed=7, scale="tiny", start=PINNED_START, clock_speed=0.0, status_refresh_seconds=0.0,
            job_duration_seconds=0.0, rate_limit_calls=100_000,
        )
    ).start()  # fmt: skip
    pipeline = Pipeline(sandbox, settings_for(sandbox, prefix, work, infra, mode), prefix)
    found = Models(pipeline, mode, f"models_{prefix}", work, warehouse.postgres_port)
    try:
        pipeline.sync()
        for shipped in (ENTITIES[mode], "postgres-activities.json"):
            connector = shipped_connector(shipped, prefix)
            connect_worker.create(connector)
            pipeline.connectors.append(connector["name"])
        wait_for_sinks(pipeline, infra, kafka_admin, connect_worker)
        found.build(sandbox_day(sandbox.url))
        yield found
    finally:
        for name in pipeline.connectors:
            connect_worker.delete(name)
        sandbox.stop()
        with warehouse.connect() as conn:
            for schema in (
                found.schema,
                f"{found.schema}_staging",
                f"{found.schema}_full",
                f"{found.schema}_full_staging",
            ):
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            tables = conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_name LIKE %s", (f"{prefix}\\_%",)
            ).fetchall()
            for row in tables:
                conn.execute(f'DROP TABLE IF EXISTS "{row["table_name"]}"')
        topics = [t for t in kafka_admin.list_topics(timeout=30).topics if t.startswith(f"{prefix}.")]
        for future in kafka_admin.delete_topics(topics).values() if topics else ():
            future.exception(30)


def truth(url: str, table: str) -> dict[str, Any]:
    response = requests.get(f"{url}/_sandbox/truth/{table}", timeout=60)
    response.raise_for_status()
    return dict(response.json())


def mart(
    warehouse: Warehouse, models: Models, name: str, query: str = "SELECT * FROM {table}", params: tuple[Any, ...] = ()
) -> list[dict[str, Any]]:
    with warehouse.connect() as conn:
        return list(conn.execute(query.format(table=f'"{models.schema}"."{name}"'), params).fetchall())


def expected_per_email(url: str) -> dict[int, tuple[int, int, int]]:
    counts = {kind: Counter(r["primaryAttributeValueId"] for r in truth(url, f"activity_{kind}")["records"])
              for kind in ("send_email", "open_email", "click_email")}  # fmt: skip
    emails = set().union(*counts.values())
    return {e: (counts["send_email"][e], counts["open_email"][e], counts["click_email"][e]) for e in emails}


def utc(stamp: str | datetime) -> datetime:
    """A truth stamp (``...Z``) or a warehouse timestamp, as a naive UTC datetime."""
    when = datetime.fromisoformat(stamp.replace("Z", "+00:00")) if isinstance(stamp, str) else stamp
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


def template_of_email(url: str) -> dict[int, int]:
    return {r["id"]: r["template"] for r in truth(url, "email")["records"]}


def expected_per_template(url: str) -> dict[int, tuple[int, int, int]]:
    """Per template, the sends, opens and clicks of the emails built on it."""
    template = template_of_email(url)
    found: dict[int, tuple[int, int, int]] = {}
    for email, (sends, opens, clicks) in expected_per_email(url).items():
        s, o, c = found.get(template[email], (0, 0, 0))
        found[template[email]] = (s + sends, o + opens, c + clicks)
    return found


@dataclass(frozen=True)
class SendTruth:
    template_id: int
    version: int | None
    """The version of the template's revision approved last at or before the send; None before any."""
    approved_at: datetime | None


def expected_sends(url: str) -> dict[str, SendTruth]:
    """Per send (marketoGUID): its email's template and the template revision in force when it was sent."""
    template = template_of_email(url)
    approved: dict[int, list[tuple[datetime, int]]] = {}
    for revision in truth(url, "_email_template_revisions")["records"]:
        if revision["status"].lower() == "approved":
            approved.setdefault(revision["id"], []).append((utc(revision["updatedAt"]), revision["version"]))
    found = {}
    for send in truth(url, "activity_send_email")["records"]:
        tid, sent = template[send["primaryAttributeValueId"]], utc(send["activityDate"])
        before = sorted(r for r in approved.get(tid, []) if r[0] <= sent)
        at, version = before[-1] if before else (None, None)
        found[str(send["marketoGUID"])] = SendTruth(tid, version, at)
    return found


def check_send_templates(warehouse: Warehouse, models: Models) -> int:
    """Each send's template is its email's; its version is the truth's where the history the sync saw holds the
    revision in force (null where it does not: a revision approved before the first sync and replaced by then is
    never listed). Returns how many sends have a version."""
    want = expected_sends(models.pipeline.sandbox.url)
    rows = mart(warehouse, models, "email_sends")
    got = {r["email_send_id"]: r for r in rows}
    assert {k: got[k]["email_template_id"] if k in got else None for k in want} == {
        k: t.template_id for k, t in want.items()
    }
    with warehouse.connect() as conn:
        seen = {
            (r["email_template_id"], utc(r["updated_timestamp"]))
            for r in conn.execute(
                f'SELECT email_template_id, updated_timestamp FROM "{models.schema}_staging".'
                "stg_marketo__email_template_history"
            ).fetchall()
        }
    expected_versions = {k: t.version if (t.template_id, t.approved_at) in seen else None for k, t in want.items()}
    assert {k: got[k]["email_template_version"] for k in want} == expected_versions
    return sum(1 for v in expected_versions.values() if v is not None)


def expected_phone_by_day(url: str, days: list[date]) -> dict[tuple[int, date], str | None]:
    """Per live lead and day: the phone at the end of that day, from the truth's leads and Change Data Values."""
    leads = {r["id"]: r for r in truth(url, "lead")["records"]}
    changes: dict[int, list[dict[str, Any]]] = {}
    for change in truth(url, "activity_change_data_value")["records"]:
        if change["primaryAttributeValue"] == "Phone Number":
            changes.setdefault(change["leadId"], []).append(change)
    expected: dict[tuple[int, date], str | None] = {}
    for lead_id, lead in leads.items():
        created = datetime.fromisoformat(lead["createdAt"].replace("Z", "+00:00")).date()
        ordered = sorted(changes.get(lead_id, []), key=lambda c: (c["activityDate"], c["marketoGUID"]))
        for day in (d for d in days if d >= created):
            end = (day + timedelta(days=1)).isoformat()
            before = [c for c in ordered if c["activityDate"][:10] < end]
            if not ordered or len(before) == len(ordered):
                value = lead.get("phone")  # never changed, or after the last change: the current value
            elif before:
                value = before[-1]["attributes"].get("New Value")
            else:
                value = ordered[0]["attributes"].get("Old Value")
            expected[(lead_id, day)] = value or None
    return expected


def check_against_truth(warehouse: Warehouse, models: Models) -> int:
    """Fails on any difference; returns how many deleted leads the leads mart holds, flagged."""
    url = models.pipeline.sandbox.url
    per_email = {
        r["email_id"]: (r["count_sends"], r["count_opens"], r["count_clicks"])
        for r in mart(warehouse, models, "emails")
    }
    expected = expected_per_email(url)
    assert sum(s for s, _, _ in expected.values()) > 20 and sum(o for _, o, _ in expected.values()) > 5
    assert {e: per_email.get(e) for e in expected} == expected
    assert all(counts == (0, 0, 0) for e, counts in per_email.items() if e not in expected)

    per_template = {
        r["email_template_id"]: (r["count_sends"], r["count_opens"], r["count_clicks"])
        for r in mart(warehouse, models, "email_templates")
    }
    by_template = expected_per_template(url)
    assert len(by_template) > 1, "the sends reach more than one template"
    assert {t: per_template.get(t) for t in by_template} == by_template
    assert all(counts == (0, 0, 0) for t, counts in per_template.items() if t not in by_template)
    assert check_send_templates(warehouse, models) > 0, "some sends follow a revision the sync saw approved"

    sends = mart(
        warehouse, models, "email_sends", "SELECT count(*) AS n, count(*) FILTER (WHERE was_opened) AS o FROM {table}"
    )
    assert sends[0]["n"] == sum(s for s, _, _ in expected.values())

    lead_truth = truth(url, "lead")
    sends_per_lead = Counter(r["leadId"] for r in truth(url, "activity_send_email")["records"])
    leads = {r["lead_id"]: r for r in mart(warehouse, models, "leads")}
    live = {r["id"] for r in lead_truth["records"]}
    assert live <= set(leads) and not any(leads[i]["is_deleted"] for i in live)
    assert {i: leads[i]["count_sends"] for i in live} == {i: sends_per_lead[i] for i in live}
    gone = {k["id"] for k in lead_truth["deleted_keys"]}
    present = gone & set(leads)
    if models.mode == "tombstone":
        assert not present, "a tombstoned lead is absent from the leads mart"
    else:
        assert all(leads[i]["is_deleted"] and leads[i]["email"] is None for i in present)

    days = [date.fromisoformat(HISTORY_START) + timedelta(days=n) for n in range(0, 80, 3)]
    days = [d for d in days if d.isoformat() <= sandbox_day(url)]
    want = expected_phone_by_day(url, days)
    query = "SELECT lead_id, date_day, phone FROM {table} WHERE date_day = ANY(%s)"
    rows = mart(warehouse, models, "lead_history", query, (days,))
    got = {(r["lead_id"], r["date_day"]): r["phone"] for r in rows}
    current = {r["id"]: r.get("phone") for r in lead_truth["records"]}
    assert any(value != current[lead_id] for (lead_id, _), value in want.items()), "some phones changed in the span"
    assert {k: got.get(k) for k in want} == want
    return len(present)


def test_the_first_build_passes_its_tests_and_its_figures_equal_the_truth(warehouse: Warehouse, models: Models) -> None:
    assert "Completed successfully" in models.builds[0]
    check_against_truth(warehouse, models)


def test_after_ten_days_an_incremental_sync_and_build_still_equal_the_truth(
    infra: Infra, warehouse: Warehouse, connect_worker: ConnectWorker, kafka_admin: AdminClient, models: Models
) -> None:
    pipeline = models.pipeline
    before = mart(warehouse, models, "activities", "SELECT count(*) AS n FROM {table}")[0]["n"]
    url = pipeline.sandbox.url
    requests.post(f"{url}/_sandbox/clock", json={"advance_seconds": TEN_DAYS}, timeout=30).raise_for_status()
    pipeline.sync()
    wait_for_sinks(pipeline, infra, kafka_admin, connect_worker)
    models.build(sandbox_day(url))
    assert "incremental model" in models.builds[1]
    after = mart(warehouse, models, "activities", "SELECT count(*) AS n FROM {table}")[0]["n"]
    assert after > before, "the ten days brought new activities into the incremental model"
    flagged = check_against_truth(warehouse, models)
    if models.mode == "soft":
        assert flagged > 0, "leads deleted or merged between the syncs stay in the leads mart, flagged"
    else:
        assert pipeline.tombstones[1] > 0, "leads deleted or merged between the syncs are tombstoned"


def test_the_incremental_models_equal_a_full_rebuild(warehouse: Warehouse, models: Models) -> None:
    assert len(models.builds) == 2, "after the incremental build"
    models.build(sandbox_day(models.pipeline.sandbox.url), schema=f"{models.schema}_full", full_refresh=True)
    for name, key in (("activities", "activity_id"), ("email_sends", "email_send_id")):
        query = f'SELECT * FROM "{models.schema}"."{name}" EXCEPT SELECT * FROM "{models.schema}_full"."{name}"'
        rebuilt = f'SELECT * FROM "{models.schema}_full"."{name}" EXCEPT SELECT * FROM "{models.schema}"."{name}"'
        with warehouse.connect() as conn:
            only_incremental = conn.execute(query).fetchall()
            only_rebuilt = conn.execute(rebuilt).fetchall()
        assert not only_incremental and not only_rebuilt, (name, [r[key] for r in only_incremental][:5])


def test_custom_activity_types_are_in_the_activities_union(warehouse: Warehouse, models: Models) -> None:
    found = mart(warehouse, models, "activities", "SELECT DISTINCT source_table, activity_type_name FROM {table}")
    tables = {r["source_table"] for r in found}
    assert {"activity_send_email", "activity_change_data_value"} <= tables
    assert {"activity_attend_webinar", "activity_purchase_product"} & tables, "the tiny world's custom types"
