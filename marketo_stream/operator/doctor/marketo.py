"""Marketo: the credentials, one cheap read per API area the sync uses, the bulk job listings, today's quota."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from marketo_stream.bulk.job import ExportJob
from marketo_stream.bulk.quota import MB, ExportQuota
from marketo_stream.bulk.repository import ExportRepository
from marketo_stream.bulk.request import ExportKind, ExportRequest
from marketo_stream.marketo.budget import BudgetLimits
from marketo_stream.marketo.client import ClientConfig, MarketoClient
from marketo_stream.marketo.clock import SYSTEM_CLOCK
from marketo_stream.marketo.errors import (
    AccessDenied,
    AuthError,
    MarketoError,
    MarketoProtocolError,
    QuotaError,
    RetryableError,
)
from marketo_stream.marketo.retry import RetryPolicy
from marketo_stream.operator.doctor.checks import Category, Check
from marketo_stream.settings import Settings
from marketo_stream.sync.catalog import CUSTOM_OBJECT_LISTING
from marketo_stream.tables import fixed_table

DEFAULT_DAILY_CALLS = 50_000
ROLE_FIX = "grant the API-only user's role {permission} (Admin > Users & Roles > Roles, under Access API)"


@dataclass(frozen=True)
class Probe:
    """One cheap read that needs one Access API permission."""

    area: str
    permission: str
    path: str
    params: Mapping[str, str | int] = field(default_factory=dict)


def _describe(table: str) -> str:
    return fixed_table(table).endpoint.removesuffix(".json") + "/describe.json"


def probes() -> list[Probe]:
    """One read per API area the sync uses, on the paths the table catalog declares."""
    return [
        Probe("activities", "Read-Only Activity", fixed_table("activity_type").endpoint),
        Probe("leads", "Read-Only Lead", fixed_table("lead_describe").endpoint),
        Probe("assets", "Read-Only Assets", fixed_table("form").endpoint, {"maxReturn": 1}),
        Probe("programs", "Read-Only Assets", fixed_table("program").endpoint, {"maxReturn": 1}),
        Probe("static lists", "Read-Only Lead", fixed_table("list").endpoint, {"batchSize": 1}),
        Probe("smart campaigns", "Read-Only Campaign", fixed_table("campaign").endpoint, {"batchSize": 1}),
        Probe("opportunities", "Read-Only Opportunity", _describe("opportunity")),
        Probe("companies", "Read-Only Company", _describe("company")),
        Probe("custom objects", "Read-Only Custom Object", CUSTOM_OBJECT_LISTING),
    ]


BULK_LISTINGS: tuple[tuple[ExportKind, str], ...] = (("activities", "Read-Only Activity"), ("leads", "Read-Only Lead"))


def doctor_client(settings: Settings, timeout_s: float) -> MarketoClient:
    """The sync's client with bounded waits: a few quick retries, never the daily budget's refusal."""
    marketo = settings.marketo
    config = ClientConfig(
        timeout_seconds=min(marketo.timeout_seconds, timeout_s),
        budget=BudgetLimits(
            calls_per_window=marketo.calls_per_window,
            window_seconds=marketo.window_seconds,
            max_concurrency=marketo.max_concurrency,
        ),
        retry=RetryPolicy(
            transient_retries=1,
            backoff_base_seconds=0.2,
            backoff_cap_seconds=1.0,
            rate_window_seconds=marketo.window_seconds,
            rate_waits=1,
            concurrency_waits=3,
            slot_waits=0,
        ),
    )
    secret = marketo.client_secret.get_secret_value()
    return MarketoClient(marketo.base_url, marketo.client_id, secret, config=config)


def _marketo_failure(name: str, what: str, exc: MarketoError, base_url: str, permission: str = "") -> Check:
    if isinstance(exc, AccessDenied):
        fix = ROLE_FIX.format(permission=permission) if permission else "check the API role and the IP allow-list"
        lacking = f": the API role lacks {permission}" if permission else ""
        return Check(name, False, f"{what} answered 603 Access denied{lacking}", Category.MARKETO_REFUSED, fix)
    if isinstance(exc, AuthError):
        fix = "check marketo.client_id and marketo.client_secret (LaunchPoint > the custom service > View Details)"
        return Check(name, False, f"{what}: {exc}", Category.MARKETO_REFUSED, fix)
    if isinstance(exc, RetryableError | MarketoProtocolError):
        fix = f"check marketo.base_url ({base_url}) and the network path to it"
        return Check(name, False, f"{what}: {exc}", Category.MARKETO_UNREACHABLE, fix)
    if isinstance(exc, QuotaError):
        return Check(name, False, f"{what}: {exc}", Category.QUOTA, "wait for midnight US Central, when it resets")
    return Check(name, False, f"{what}: {exc}", Category.MARKETO_REFUSED, "see Marketo's answer above")


def marketo_checks(settings: Settings, timeout_s: float) -> list[Check]:
    base_url = settings.marketo.base_url
    with doctor_client(settings, timeout_s) as client:
        try:
            client.tokens.token()
        except MarketoError as exc:
            return [_marketo_failure("Marketo credentials", f"identity at {base_url}", exc, base_url)]
        issued = f"identity at {base_url} issued a token"
        checks = [Check("Marketo credentials", True, issued, Category.MARKETO_REFUSED)]
        for probe in probes():
            checks.append(_probe(client, probe, base_url))
            if checks[-1].category is Category.MARKETO_UNREACHABLE and not checks[-1].ok:
                return checks
        bulk, jobs = _bulk_listings(client, base_url)
        checks.append(bulk)
        checks.append(_quota(client, settings, jobs, base_url))
    return checks


def _probe(client: MarketoClient, probe: Probe, base_url: str) -> Check:
    name = f"Marketo permission: {probe.area}"
    what = f"GET {probe.path}"
    try:
        client.get(probe.path, dict(probe.params))
    except MarketoError as exc:
        return _marketo_failure(name, what, exc, base_url, probe.permission)
    return Check(name, True, f"{what} readable ({probe.permission})", Category.MARKETO_REFUSED)


def _bulk_listings(client: MarketoClient, base_url: str) -> tuple[Check, list[ExportJob]]:
    """Bulk Extract needs the permission of what it exports: list our activity and lead export jobs."""
    repository = ExportRepository(client)
    jobs: list[ExportJob] = []
    paths = []
    name = "Marketo permission: bulk extract"
    for kind, permission in BULK_LISTINGS:
        request = ExportRequest(kind=kind, fields=(), filter={}, label="doctor")
        what = f"GET {request.base_path}.json"
        try:
            jobs.extend(repository.list_jobs(request))
        except MarketoError as exc:
            return _marketo_failure(name, what, exc, base_url, permission), jobs
        paths.append(what)
    return Check(name, True, f"{' and '.join(paths)} readable", Category.MARKETO_REFUSED), jobs


def _quota(client: MarketoClient, settings: Settings, jobs: list[ExportJob], base_url: str) -> Check:
    name = "Marketo daily quota"
    try:
        used = client.usage_today()
    except MarketoError as exc:
        return _marketo_failure(name, "GET stats/usage.json", exc, base_url)
    budget = settings.marketo.daily_call_budget or DEFAULT_DAILY_CALLS
    exports = ExportQuota(settings.marketo.export_daily_mb, SYSTEM_CLOCK)
    for job in jobs:
        exports.record(job)
    detail = (
        f"{used:,} of {budget:,} calls used today ({max(budget - used, 0):,} left); bulk export "
        f"{exports.used_today() / MB:.1f} of {settings.marketo.export_daily_mb} MB used today by this API user's jobs"
    )
    fix = "the quota resets at midnight US Central; raise marketo.daily_call_budget only if the instance allows it"
    if used >= budget:
        return Check(name, False, detail, Category.QUOTA, fix)
    return Check(name, True, detail, Category.QUOTA, fix, warning=used >= 0.8 * budget)
