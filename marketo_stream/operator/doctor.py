"""``doctor``: check, before a sync, that everything it needs answers and allows what it will do.

Each check is a :class:`Check` (pure data): a name, whether it passed, what was seen, the fix, and the category
of problem it belongs to. The categories map to the CLI's exit statuses; when several fail, the first in
:data:`EXIT_ORDER` wins (configuration, Marketo unreachable, Marketo refused, Kafka or the registry, quota).

The checks cost a handful of Marketo calls (identity, one cheap read per API area, usage, two bulk job listings)
and never touch the sync's data: topic creation is validated only (the broker still checks the ACLs), the
transactional producer uses ``<transactional id>.doctor`` (so a running sync is not fenced) and the state topic
is read with a throwaway ``marketo-stream-readback-…`` group that commits nothing. Secrets are never printed.
"""

from __future__ import annotations

import threading
import urllib.parse
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from marketo_stream.bulk.job import ExportJob
from marketo_stream.bulk.quota import MB, ExportQuota
from marketo_stream.bulk.repository import ExportRepository
from marketo_stream.bulk.request import ExportKind, ExportRequest
from marketo_stream.exit_codes import ExitStatus
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
from marketo_stream.marketo.secrets import redact, remember_secret
from marketo_stream.settings import Settings
from marketo_stream.sink.config import SinkConfig
from marketo_stream.sync.catalog import CUSTOM_OBJECT_LISTING
from marketo_stream.tables import fixed_table

DEFAULT_DAILY_CALLS = 50_000
GOOD_COMPATIBILITY = frozenset({"BACKWARD", "BACKWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"})
ROLE_FIX = "grant the API-only user's role {permission} (Admin > Users & Roles > Roles, under Access API)"


class Category(Enum):
    CONFIG = "config"
    MARKETO_UNREACHABLE = "marketo_unreachable"
    MARKETO_REFUSED = "marketo_refused"
    KAFKA = "kafka"
    QUOTA = "quota"


EXIT_ORDER: tuple[tuple[Category, ExitStatus], ...] = (
    (Category.CONFIG, ExitStatus.CONFIG),
    (Category.MARKETO_UNREACHABLE, ExitStatus.MARKETO_UNREACHABLE),
    (Category.MARKETO_REFUSED, ExitStatus.MARKETO),
    (Category.KAFKA, ExitStatus.KAFKA),
    (Category.QUOTA, ExitStatus.QUOTA),
)
"""The exit status of a checklist: the first category with a failed check, in this order; 0 when none failed."""


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    category: Category
    fix: str = ""
    warning: bool = False
    """Passed, but worth a look (a registry compatibility level other than BACKWARD/FULL, a quota nearly spent)."""


def exit_status(checks: Iterable[Check]) -> ExitStatus:
    failed = {check.category for check in checks if not check.ok}
    return next((status for category, status in EXIT_ORDER if category in failed), ExitStatus.OK)


def render(checks: Iterable[Check]) -> str:
    lines = []
    for check in checks:
        mark = "✓" if check.ok and not check.warning else ("!" if check.ok else "✗")
        lines.append(f"{mark} {check.name}: {check.detail}")
        if check.fix and (not check.ok or check.warning):
            lines.append(f"    fix: {check.fix}")
    return "\n".join(lines)


def as_json(checks: list[Check]) -> dict[str, Any]:
    return {
        "ok": all(check.ok for check in checks),
        "exit_status": int(exit_status(checks)),
        "checks": [{**asdict(check), "category": check.category.value} for check in checks],
    }


def scrubbed(checks: Iterable[Check], secrets: Iterable[str]) -> list[Check]:
    """The checks with every known secret masked in what they say (librdkafka and httpx may quote settings)."""
    for value in secrets:
        remember_secret(value)
    return [Check(c.name, c.ok, redact(c.detail), c.category, redact(c.fix), c.warning) for c in checks]


def secrets_of(settings: Settings, config: SinkConfig) -> list[str]:
    found = [settings.marketo.client_secret.get_secret_value()]
    if settings.hash.secret is not None:
        found.append(settings.hash.secret.get_secret_value())
    for key, value in {**config.client_settings(), **config.registry_config}.items():
        if isinstance(value, str) and any(word in key for word in ("password", "secret", "user.info")):
            found.extend([value, value.partition(":")[2]] if key.endswith("user.info") else [value])
    password = urllib.parse.urlsplit(config.registry_url).password
    if password:
        found.append(password)
    return [value for value in found if value]


def mask_url(url: str) -> str:
    """``url`` with any user-info replaced by ``***``."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))


# -- Marketo ---------------------------------------------------------------------------------------------------


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


# -- Kafka and the registry -------------------------------------------------------------------------------------


class _ErrorLog:
    """librdkafka's error_cb: the errors behind a timeout (``_AUTHENTICATION``, ``_TRANSPORT``...)."""

    def __init__(self) -> None:
        self.errors: list[KafkaError] = []
        self._lock = threading.Lock()

    def __call__(self, error: KafkaError) -> None:
        with self._lock:
            self.errors.append(error)

    def cause(self, exc: BaseException) -> str:
        """The last authentication or TLS error reported, else the last error, else ``exc`` itself."""
        with self._lock:
            errors = list(self.errors)
        telling = [e for e in errors if "AUTH" in e.name() or "SSL" in e.name()] or errors
        if telling:
            return f"{telling[-1].name()}: {telling[-1].str()}"
        return _kafka_error(exc)


def _quiet(config: SinkConfig, log: _ErrorLog) -> dict[str, Any]:
    """The shared client settings, errors to ``log`` instead of librdkafka's stderr lines (the checklist says it)."""
    return {**config.client_settings(), "error_cb": log, "log_level": 0}


def _kafka_error(exc: BaseException) -> str:
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError):
        return f"{exc.args[0].name()}: {exc.args[0].str()}"
    return f"{type(exc).__name__}: {exc}"


def kafka_checks(config: SinkConfig, timeout_s: float) -> list[Check]:
    servers = config.bootstrap_servers
    log = _ErrorLog()
    admin = AdminClient(_quiet(config, log))
    try:
        metadata = admin.list_topics(timeout=timeout_s)
    except KafkaException as exc:
        fix = "check kafka.bootstrap_servers, the network path and the Kafka security settings"
        detail = f"no metadata from {servers} within {timeout_s:g} s ({log.cause(exc)})"
        return [Check("Kafka reachable", False, detail, Category.KAFKA, fix)]
    checks = [Check("Kafka reachable", True, f"{servers}: {len(metadata.brokers)} broker(s)", Category.KAFKA)]
    checks.append(_topic_creation(admin, config, timeout_s))
    checks.append(_transactions(config, timeout_s))
    checks.append(_state_topic(config, timeout_s))
    return checks


def _topic_creation(admin: AdminClient, config: SinkConfig, timeout_s: float) -> Check:
    """validate_only: the broker checks CREATE on the topic (and the replication factor) but creates nothing."""
    name = "Kafka topic creation"
    probe = f"{config.topic_prefix}._doctor-{uuid.uuid4().hex[:8]}"
    topic = NewTopic(probe, num_partitions=config.partitions, replication_factor=config.replication_factor)
    try:
        futures = admin.create_topics([topic], validate_only=True, request_timeout=timeout_s)
        futures[probe].result(timeout=timeout_s)
    except Exception as exc:
        fix = (
            f"allow Topic CREATE on the prefix {config.topic_prefix}. and check kafka.partitions / "
            "kafka.replication_factor against the cluster"
        )
        return Check(name, False, f"creating {probe} refused: {_kafka_error(exc)}", Category.KAFKA, fix)
    return Check(name, True, f"{probe} may be created (validated, not created)", Category.KAFKA)


def _transactions(config: SinkConfig, timeout_s: float) -> Check:
    name = "Kafka transactions"
    transactional_id = f"{config.transactional_id}.doctor"
    log = _ErrorLog()
    producer = Producer({**_quiet(config, log), "transactional.id": transactional_id, "enable.idempotence": True})
    try:
        producer.init_transactions(timeout_s)
    except KafkaException as exc:
        fix = f"allow TransactionalId WRITE and DESCRIBE on {config.transactional_id} as a prefix"
        return Check(name, False, f"init_transactions as {transactional_id}: {_kafka_error(exc)}", Category.KAFKA, fix)
    finally:
        producer.flush(0)
    return Check(name, True, f"idempotent transactional producer {transactional_id} initialised", Category.KAFKA)


def _state_topic(config: SinkConfig, timeout_s: float) -> Check:
    """read_committed from the state topic's beginning, as the sync's readback does; commits nothing."""
    name = "Kafka state topic"
    topic = config.state_topic_name
    fix = f"allow Topic READ and DESCRIBE on {topic} and Group READ on the prefix marketo-stream-readback-"
    log = _ErrorLog()
    consumer = Consumer(
        {
            **_quiet(config, log),
            "group.id": f"marketo-stream-readback-doctor-{uuid.uuid4().hex}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }
    )
    try:
        found = consumer.list_topics(topic, timeout=timeout_s).topics[topic]
        if found.error is not None and found.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
            return Check(name, True, f"{topic} does not exist yet (the first sync creates it)", Category.KAFKA)
        if found.error is not None:
            return Check(name, False, f"{topic}: {found.error.name()}: {found.error.str()}", Category.KAFKA, fix)
        partitions = [TopicPartition(topic, p) for p in found.partitions]
        consumer.committed(partitions, timeout=timeout_s)  # the group's offsets: Group READ/DESCRIBE
        consumer.assign([TopicPartition(topic, p.partition, OFFSET_BEGINNING) for p in partitions])
        for message in consumer.consume(num_messages=1, timeout=min(timeout_s, 2.0)):
            failure = message.error()
            if failure is not None and failure.code() != KafkaError._PARTITION_EOF:
                return Check(name, False, f"reading {topic}: {failure.name()}: {failure.str()}", Category.KAFKA, fix)
    except KafkaException as exc:
        return Check(name, False, f"reading {topic}: {_kafka_error(exc)}", Category.KAFKA, fix)
    finally:
        consumer.close()
    return Check(name, True, f"{topic} readable (read_committed)", Category.KAFKA)


def registry_check(config: SinkConfig, timeout_s: float) -> Check:
    name = "Schema Registry"
    url = mask_url(config.registry_url)
    conf = {"url": config.registry_url, **config.registry_config, "timeout": timeout_s, "max.retries": 0}
    try:
        server = SchemaRegistryClient(conf).get_config()
    except SchemaRegistryError as exc:
        status = exc.http_status_code
        if status in (401, 403):
            detail = f"{url} refused us: HTTP {status} {exc.error_message}"
            fix = "check the registry credentials in the Kafka settings"
        else:
            detail = f"{url} answered HTTP {status}: {exc.error_message}"
            fix = "check kafka.schema_registry_url (a Confluent-compatible API base, e.g. .../apis/ccompat/v7)"
        return Check(name, False, detail, Category.KAFKA, fix)
    except Exception as exc:
        detail = f"{url} unreachable within {timeout_s:g} s: {type(exc).__name__}: {exc}".replace(
            config.registry_url, url
        )
        return Check(name, False, detail, Category.KAFKA, "check kafka.schema_registry_url and the network path")
    level = _level(server.compatibility_level or server.compatibility)
    if level in GOOD_COMPATIBILITY:
        return Check(name, True, f"{url} reachable, compatibility {level}", Category.KAFKA)
    fix = "set the registry's compatibility to BACKWARD (or FULL): consumers rely on old records staying readable"
    return Check(name, True, f"{url} reachable, compatibility {level}", Category.KAFKA, fix, warning=True)


def _level(value: object) -> str:
    return str(getattr(value, "value", value) or "unset").upper()


def run_checks(settings: Settings, config: SinkConfig, timeout_s: float) -> list[Check]:
    """Every check, Marketo first; secrets masked in what they say."""
    checks = [*marketo_checks(settings, timeout_s), *kafka_checks(config, timeout_s), registry_check(config, timeout_s)]
    return scrubbed(checks, secrets_of(settings, config))
