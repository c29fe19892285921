"""One configuration model: a TOML file, overridden by environment variables, validated in one place.

Why pydantic: every setting gets its type, default, bounds and documentation once, and from that we get
validation errors that name the setting, and the JSON Schema that ``config schema`` prints.

Environment variables: ``MARKETO_STREAM_<SECTION>__<SETTING>`` (for instance
``MARKETO_STREAM_MARKETO__CLIENT_SECRET``), plus the short forms in ``SHORT_ENV``. Secrets may also be
read from a file named by ``<VAR>_FILE``. Secrets are ``SecretStr``: they print as ``**********``.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, get_origin

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from marketo_stream.errors import ConfigError
from marketo_stream.redaction import remember_secret

ENV_PREFIX = "MARKETO_STREAM_"

SHORT_ENV: dict[str, tuple[str, str]] = {
    "MARKETO_STREAM_BOOTSTRAP_SERVERS": ("kafka", "bootstrap_servers"),
    "MARKETO_STREAM_SCHEMA_REGISTRY_URL": ("kafka", "schema_registry_url"),
    "MARKETO_STREAM_BASE_URL": ("marketo", "base_url"),
    "MARKETO_STREAM_CLIENT_ID": ("marketo", "client_id"),
    "MARKETO_STREAM_CLIENT_SECRET": ("marketo", "client_secret"),
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MarketoSettings(_Section):
    base_url: str = Field(description="Instance REST host, e.g. https://123-ABC-456.mktorest.com")
    client_id: str = Field(description="Custom service client id")
    client_secret: SecretStr = Field(description="Custom service client secret (never printed)")
    calls_per_window: int = Field(80, ge=1, le=100, description="Our share of Marketo's 100 calls per 20 s")
    window_seconds: float = Field(20.0, gt=0, description="Length of the rate window")
    max_concurrency: int = Field(5, ge=1, le=10, description="Calls in flight at once (Marketo allows 10)")
    daily_call_budget: int | None = Field(
        None, ge=1, description="Stop before this many calls today, counting other integrations (stats/usage)"
    )
    export_daily_mb: int = Field(500, ge=1, description="The instance's daily bulk export quota in MB")
    poll_interval_seconds: float = Field(60.0, ge=0, description="Bulk job status polling interval")
    job_timeout_seconds: float = Field(3 * 3600, gt=0, description="Cancel our export job after this long")
    timeout_seconds: float = Field(60.0, gt=0, description="HTTP timeout per request")

    @field_validator("base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


KAFKA_TOPIC_NAME_MAX = 249
"""Kafka refuses longer topic names."""

LONGEST_FIXED_SUFFIX = "._rejected"
"""The longest suffix of a topic every run may create after the prefix (``._state`` is shorter)."""

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"]
LibrdkafkaValue = str | int | float | bool


class KafkaSettings(_Section):
    """Where Kafka is and how every Kafka client (producer, admin, state reader) logs in to it.

    The security settings are librdkafka's, spelled with underscores; ``client`` passes any other librdkafka
    setting to every client and ``producer`` to the producer only. OAUTHBEARER with ``sasl_oauthbearer_method
    = "oidc"`` fetches tokens from the identity provider itself; ``"aws_msk_iam"`` signs tokens for MSK IAM
    (needs the optional package ``aws-msk-iam-sasl-signer-python``).
    """

    bootstrap_servers: str = Field("127.0.0.1:19092", description="Kafka bootstrap servers")
    schema_registry_url: str = Field(
        "http://127.0.0.1:18081/apis/ccompat/v7", description="Confluent-compatible Schema Registry URL"
    )
    security_protocol: SecurityProtocol = Field("PLAINTEXT", description="PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL")
    sasl_mechanism: SaslMechanism | None = Field(
        None, description="PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER (required with SASL_*)"
    )
    sasl_username: str | None = Field(None, description="SASL user (PLAIN, SCRAM); an API key on Confluent Cloud")
    sasl_password: SecretStr | None = Field(None, description="SASL password (never printed)")
    sasl_oauthbearer_method: Literal["oidc", "aws_msk_iam"] = Field(
        "oidc", description="With OAUTHBEARER: 'oidc' (client credentials) or 'aws_msk_iam' (MSK IAM tokens)"
    )
    sasl_oauthbearer_client_id: str | None = Field(None, description="OIDC client id")
    sasl_oauthbearer_client_secret: SecretStr | None = Field(None, description="OIDC client secret (never printed)")
    sasl_oauthbearer_token_endpoint_url: str | None = Field(None, description="OIDC token endpoint")
    sasl_oauthbearer_scope: str | None = Field(None, description="OIDC scope")
    sasl_oauthbearer_extensions: str | None = Field(
        None, description="SASL extensions, e.g. logicalCluster=lkc-abc,identityPoolId=pool-xyz (Confluent Cloud)"
    )
    aws_region: str | None = Field(None, description="AWS region of the MSK cluster (aws_msk_iam)")
    ssl_ca_location: Path | None = Field(None, description="CA certificate(s) (PEM) that signed the brokers'")
    ssl_certificate_location: Path | None = Field(None, description="Client certificate (PEM) for mutual TLS")
    ssl_key_location: Path | None = Field(None, description="Client private key (PEM) for mutual TLS")
    ssl_key_password: SecretStr | None = Field(None, description="Password of the client key (never printed)")
    ssl_endpoint_identification: bool = Field(True, description="Check that the broker certificate names the host")
    client: dict[str, LibrdkafkaValue] = Field(
        default_factory=dict, description="Extra librdkafka settings for every Kafka client (secrets masked)"
    )
    producer: dict[str, LibrdkafkaValue] = Field(
        default_factory=dict, description="Extra librdkafka producer settings (secrets masked)"
    )
    connect_timeout_seconds: float = Field(
        30.0, gt=0, description="How long to try reaching Kafka or the registry at start before exit 5"
    )
    outage_timeout_seconds: float = Field(
        120.0, gt=0, description="How long a run waits out a lost broker or registry before exit 5"
    )
    topic_prefix: str = Field("marketo", pattern=r"^[A-Za-z0-9._-]+$", description="Topics are <prefix>.<table>")
    partitions: int = Field(1, ge=1, description="Partitions of topics this tool creates")
    replication_factor: int = Field(1, ge=1, description="Replication factor of topics this tool creates")
    activity_retention_days: int | None = Field(
        None, ge=1, description="Keep activities newer than this many days (by activityDate); None keeps all"
    )
    transactional_id: str | None = Field(
        None, description="Stable per Marketo instance; default marketo-stream-<topic_prefix>"
    )
    state_topic: str | None = Field(None, description="Compacted state topic; default <prefix>._state")
    delete_mode: Literal["tombstone", "soft", "both"] = Field(
        "tombstone",
        description="What a delete publishes: a tombstone, a record flagged __deleted=true instead (soft), or both",
    )
    delete_markers: bool = Field(False, description="Deprecated alias of delete_mode = 'both'")

    @field_validator("topic_prefix")
    @classmethod
    def _prefix_leaves_room(cls, value: str) -> str:
        longest = len(value) + len(LONGEST_FIXED_SUFFIX)
        if longest > KAFKA_TOPIC_NAME_MAX:
            raise ValueError(
                f"is {len(value)} characters: topic {value[:20]}...{LONGEST_FIXED_SUFFIX} would be {longest} "
                f"characters and Kafka allows {KAFKA_TOPIC_NAME_MAX}; table topics need room too (keep it short)"
            )
        return value

    @model_validator(mode="after")
    def _security_is_complete(self) -> KafkaSettings:
        sasl = self.security_protocol.startswith("SASL_")
        if sasl and self.sasl_mechanism is None:
            raise ValueError(f"kafka.sasl_mechanism is required with security_protocol {self.security_protocol}")
        if not sasl and self.sasl_mechanism is not None:
            raise ValueError(f"kafka.sasl_mechanism is set but security_protocol is {self.security_protocol}")
        if sasl and self.sasl_mechanism in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"):
            missing = [n for n in ("sasl_username", "sasl_password") if getattr(self, n) is None]
            if missing:
                raise ValueError(f"{self.sasl_mechanism} needs kafka.{' and kafka.'.join(missing)}")
        if sasl and self.sasl_mechanism == "OAUTHBEARER":
            needed: tuple[str, ...] = ("aws_region",)
            if self.sasl_oauthbearer_method == "oidc":
                needed = ("sasl_oauthbearer_client_id", "sasl_oauthbearer_client_secret")
                needed += ("sasl_oauthbearer_token_endpoint_url",)
            missing = [n for n in needed if getattr(self, n) is None]
            if missing:
                raise ValueError(
                    f"OAUTHBEARER ({self.sasl_oauthbearer_method}) needs kafka.{' and kafka.'.join(missing)}"
                )
        if (self.ssl_certificate_location is None) != (self.ssl_key_location is None):
            raise ValueError("mutual TLS needs both kafka.ssl_certificate_location and kafka.ssl_key_location")
        _files_exist(self, ("ssl_ca_location", "ssl_certificate_location", "ssl_key_location"), "kafka")
        return self

    @model_validator(mode="after")
    def _one_delete_mode(self) -> KafkaSettings:
        if self.delete_markers and self.delete_mode not in ("tombstone", "both"):
            raise ValueError(
                f"kafka.delete_markers (deprecated) means kafka.delete_mode = 'both', which contradicts "
                f"kafka.delete_mode = {self.delete_mode!r}: set kafka.delete_mode alone"
            )
        return self

    def effective_delete_mode(self) -> Literal["tombstone", "soft", "both"]:
        """``delete_mode``, or ``both`` when only the deprecated ``delete_markers`` is set."""
        return "both" if self.delete_markers else self.delete_mode

    def effective_transactional_id(self) -> str:
        return self.transactional_id or f"marketo-stream-{self.topic_prefix}"

    def effective_state_topic(self) -> str:
        """The sink's default too: ``_state`` cannot be a table's name, so prefix-selecting sinks skip it."""
        return self.state_topic or f"{self.topic_prefix}._state"


class SchemaRegistrySettings(_Section):
    """How the registry client logs in: basic auth, a bearer token, or OAuth client credentials; TLS.

    The URL stays ``kafka.schema_registry_url``; ``user:password@`` in it works too (and is never printed).
    """

    basic_auth_user: str | None = Field(None, description="Basic auth user (an API key on Confluent Cloud)")
    basic_auth_password: SecretStr | None = Field(None, description="Basic auth password (never printed)")
    bearer_token: SecretStr | None = Field(None, description="A static bearer token (never printed)")
    oauth_client_id: str | None = Field(None, description="OAuth client id (client credentials grant)")
    oauth_client_secret: SecretStr | None = Field(None, description="OAuth client secret (never printed)")
    oauth_token_endpoint_url: str | None = Field(None, description="OAuth token endpoint")
    oauth_scope: str | None = Field(None, description="OAuth scope")
    logical_cluster: str | None = Field(None, description="Confluent Cloud: the registry's lsrc-... id (bearer)")
    identity_pool_id: str | None = Field(None, description="Confluent Cloud: identity pool (bearer)")
    ssl_ca_location: Path | None = Field(None, description="CA certificate (PEM) that signed the registry's")
    ssl_certificate_location: Path | None = Field(None, description="Client certificate (PEM) for mutual TLS")
    ssl_key_location: Path | None = Field(None, description="Client private key (PEM) for mutual TLS")

    @model_validator(mode="after")
    def _one_way_in(self) -> SchemaRegistrySettings:
        ways = [
            name
            for name, used in (
                ("basic auth", self.basic_auth_user is not None or self.basic_auth_password is not None),
                ("bearer_token", self.bearer_token is not None),
                ("oauth", self.oauth_client_id is not None or self.oauth_client_secret is not None),
            )
            if used
        ]
        if len(ways) > 1:
            raise ValueError(f"choose one way to log in to the registry, not {' and '.join(ways)}")
        if (self.basic_auth_user is None) != (self.basic_auth_password is None):
            raise ValueError("basic auth needs both schema_registry.basic_auth_user and basic_auth_password")
        if "oauth" in ways:
            missing = [
                n
                for n in ("oauth_client_id", "oauth_client_secret", "oauth_token_endpoint_url")
                if getattr(self, n) is None
            ]
            if missing:
                raise ValueError(f"OAuth needs schema_registry.{' and schema_registry.'.join(missing)}")
        if (self.ssl_certificate_location is None) != (self.ssl_key_location is None):
            raise ValueError("mutual TLS needs both schema_registry.ssl_certificate_location and ssl_key_location")
        _files_exist(self, ("ssl_ca_location", "ssl_certificate_location", "ssl_key_location"), "schema_registry")
        return self


def _files_exist(section: BaseModel, names: tuple[str, ...], where: str) -> None:
    for name in names:
        path = getattr(section, name)
        if path is not None and not Path(path).is_file():
            raise ValueError(f"{where}.{name} names {path}, which is not a readable file")


class SyncSettings(_Section):
    start_date: datetime | None = Field(
        None, description="Oldest data to backfill; default: Marketo's retention (25 months for activities)"
    )
    priority_days: int = Field(7, ge=1, le=31, description="The newest span fetched before any history")
    lookback_hours: float = Field(24.0, ge=0, description="Re-read overlap that catches late-committed activities")
    max_window_days: int = Field(31, ge=1, le=31, description="Largest bulk export window")
    target_rows_per_export: int = Field(500_000, ge=1000, description="Adaptive window sizing aims at this")
    transaction_rows: int = Field(20_000, ge=1, description="Records per Kafka transaction")
    row_workers: int | None = Field(
        None,
        ge=1,
        description="Processes reading, converting and encoding bulk activity rows (default: one per core; 1: all "
        "in the sync process). The sync process alone produces and commits",
    )
    follow_interval_seconds: float = Field(900.0, gt=0, description="Pause between runs with --follow")
    full_reread_minutes: float = Field(
        60.0,
        ge=0,
        description="Tables Marketo tells no changes of are read again at most this often (Marketo minutes): "
        "companies and opportunities in full, custom objects by an export of the span since the last; runs between "
        "read only new companies and opportunities (0: every run)",
    )
    work_dir: Path = Field(Path(".local/work"), description="Where export files are downloaded")


class FollowSettings(_Section):
    """The streaming tail of ``sync --follow``: between bulk passes, activities and deletes through REST paging
    tokens (README, "Freshness and API calls")."""

    tail: bool = Field(True, description="Keep activities current through REST paging tokens between bulk passes")
    tail_call_share: float = Field(
        0.3,
        gt=0,
        le=1,
        description="Share of the instance's daily API calls sync --follow may spend: the tail gets what each bulk "
        "pass leaves of its cycle's share (it slows to fit)",
    )
    daily_calls: int = Field(50_000, ge=1, description="The instance's daily API call quota, shared by integrations")
    tail_interval_seconds: float = Field(5.0, ge=0, description="Shortest pause between two tail passes")
    bulk_threshold_rows: int = Field(
        30_000, ge=1, description="A tail pass that finds more activities than this hands over to Bulk Extract"
    )
    max_gap_hours: float = Field(
        6.0, gt=0, description="The tail starts only when the bulk windows end this recently; older: Bulk Extract"
    )
    safety_lag_seconds: float = Field(
        600.0, ge=0, description="The tail marks activities done up to this long before Marketo's now (late commits)"
    )


BLOCKABLE_GROUPS = ("activities", "entities", "memberships", "metadata", "custom_objects")


class BlockSettings(_Section):
    groups: list[str] = Field(
        default_factory=list, description=f"Groups of tables never published: {', '.join(BLOCKABLE_GROUPS)}"
    )
    tables: list[str] = Field(default_factory=list, description="Tables never published (not 'lead')")
    columns: dict[str, list[str]] = Field(default_factory=dict, description="table -> columns never published")

    @field_validator("groups")
    @classmethod
    def _known_groups(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(BLOCKABLE_GROUPS))
        if unknown:
            raise ValueError(f"unknown group(s) {', '.join(unknown)}; groups are: {', '.join(BLOCKABLE_GROUPS)}")
        return value

    @field_validator("tables")
    @classmethod
    def _lead_stays(cls, value: list[str]) -> list[str]:
        if "lead" in value:
            raise ValueError(
                "the lead table cannot be blocked (deletes, merges and memberships refer to it); "
                "block its columns instead with block.columns.lead"
            )
        return value


class HashSettings(_Section):
    columns: dict[str, list[str]] = Field(default_factory=dict, description="table -> columns replaced by HMAC")
    secret: SecretStr | None = Field(None, description="HMAC key (required when any column is hashed)")


class LogSettings(_Section):
    """How log lines look; ``--log-level`` and ``--log-format`` on any command override these."""

    level: Literal["debug", "info", "warning", "error", "critical"] = Field(
        "warning", description="Least severe level logged: debug, info, warning, error, critical"
    )
    format: Literal["text", "json"] = Field(
        "text", description="text (one readable line) or json (one object per line, with run_id, table, export_id)"
    )
    progress_interval_seconds: float = Field(
        30.0, gt=0, description="Off a terminal, a progress line at least this often while a sync runs or waits"
    )


class MetricsSettings(_Section):
    """Prometheus metrics: served over HTTP by ``sync --follow``, written to a file by one-shot runs."""

    port: int | None = Field(
        None, ge=0, le=65535, description="Serve /metrics on this port with sync --follow (--metrics-port overrides)"
    )
    address: str = Field("0.0.0.0", description="Address the metrics server listens on")
    textfile: Path | None = Field(
        None, description="After each run, write the metrics here (node_exporter textfile collector; *.prom)"
    )


class Settings(_Section):
    marketo: MarketoSettings
    kafka: KafkaSettings = KafkaSettings()
    schema_registry: SchemaRegistrySettings = SchemaRegistrySettings()
    sync: SyncSettings = SyncSettings()
    follow: FollowSettings = FollowSettings()
    block: BlockSettings = BlockSettings()
    hash: HashSettings = HashSettings()
    log: LogSettings = LogSettings()
    metrics: MetricsSettings = MetricsSettings()

    @model_validator(mode="after")
    def _hashing_needs_a_secret(self) -> Settings:
        if any(self.hash.columns.values()) and self.hash.secret is None:
            raise ValueError(
                "hash.secret is required when hash.columns is set "
                "(set it in the file or MARKETO_STREAM_HASH__SECRET / MARKETO_STREAM_HASH__SECRET_FILE)"
            )
        return self


NOT_SETTINGS = frozenset(
    {
        "MARKETO_STREAM_CONFIG",  # the CLI's --config
        "MARKETO_STREAM_SCHEMAS_DIR",  # where the fixed tables' .avsc files are
        # the local infrastructure scripts (infra/) and the Connect configurations (connect/)
        "MARKETO_STREAM_KAFKA_PORT",
        "MARKETO_STREAM_CONTROLLER_PORT",
        "MARKETO_STREAM_REGISTRY_PORT",
        "MARKETO_STREAM_REGISTRY_MGMT_PORT",
        "MARKETO_STREAM_REGISTRY_STORAGE",
        "MARKETO_STREAM_REGISTRY_KAFKA_CLIENT",
        "MARKETO_STREAM_POSTGRES_PORT",
        "MARKETO_STREAM_POSTGRES_BIN",
        "MARKETO_STREAM_POSTGRES_OS_USER",
        "MARKETO_STREAM_CONNECT_PORT",
        "MARKETO_STREAM_CONNECT_URL",
        "MARKETO_STREAM_LOCAL_DIR",
        "MARKETO_STREAM_INFRA_CACHE",
        "MARKETO_STREAM_READY_TIMEOUT",
        "MARKETO_STREAM_JAVA",
        "MARKETO_STREAM_GO",
        "MARKETO_STREAM_SECURE_KAFKA_PORT",
        "MARKETO_STREAM_SECURE_CONTROLLER_PORT",
        "MARKETO_STREAM_SECURE_REGISTRY_PORT",
        "MARKETO_STREAM_WAREHOUSE_URL",
        "MARKETO_STREAM_WAREHOUSE_USER",
        "MARKETO_STREAM_WAREHOUSE_PASSWORD",
    }
)
"""``MARKETO_STREAM_*`` variables that are not settings; any other unknown one is an error (a typo would
otherwise be ignored silently)."""


def _fields(section: str) -> dict[str, Any]:
    annotation = Settings.model_fields[section].annotation
    assert isinstance(annotation, type) and issubclass(annotation, BaseModel)
    return dict(annotation.model_fields)


def setting_variables() -> dict[str, tuple[str, str]]:
    """Every environment variable that sets a setting, with its (section, key); ``_FILE`` forms not included."""
    names = {
        f"{ENV_PREFIX}{section.upper()}__{key.upper()}": (section, key)
        for section in Settings.model_fields
        for key in _fields(section)
    }
    return {**names, **SHORT_ENV}


def _is_structured(section: str, key: str) -> bool:
    """Lists and maps are given as JSON in the environment."""
    annotation = _fields(section)[key].annotation
    return get_origin(annotation) in (list, dict)


def _unknown(var: str, known: Mapping[str, tuple[str, str]]) -> ConfigError:
    candidates = [*known, *(f"{name}_FILE" for name in known)]
    close = difflib.get_close_matches(var, candidates, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}?" if close else "; `marketo-stream config schema` lists the settings"
    return ConfigError(f"environment variable {var} is not a setting of marketo-stream{hint}")


def _env_overrides(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """``VAR=value`` or ``VAR_FILE=path`` (the file's content, for secrets); the plain form wins.

    Lists and maps take JSON (``MARKETO_STREAM_BLOCK__GROUPS='["memberships"]'``). A ``MARKETO_STREAM_*``
    variable that names no setting is an error naming the closest one.
    """
    known = setting_variables()
    found: dict[str, dict[str, Any]] = {}
    for var, raw in environ.items():
        if not var.startswith(ENV_PREFIX) or var in NOT_SETTINGS:
            continue
        from_file = var.endswith("_FILE") and var[:-5] in known
        target = known.get(var[:-5] if from_file else var)
        if target is None:
            raise _unknown(var, known)
        if from_file and var[:-5] in environ:
            continue
        value: Any = raw
        if from_file:
            try:
                value = Path(raw).read_text().strip()
            except OSError as exc:
                raise ConfigError(f"{var} names a file that cannot be read: {exc}") from exc
        section, key = target
        if _is_structured(section, key):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise ConfigError(f"{var} must be JSON (a list or a map): {exc}") from exc
        found.setdefault(section, {})[key] = value
    return found


def _merge(base: dict[str, Any], overrides: dict[str, dict[str, Any]]) -> dict[str, Any]:
    merged = {k: dict(v) if isinstance(v, dict) else v for k, v in base.items()}
    for section, values in overrides.items():
        merged.setdefault(section, {}).update(values)
    return merged


_SECRET_KEY = re.compile(r"password|secret|token|jaas|credential|\.pem$|apikey|api\.key", re.IGNORECASE)
"""Keys whose values are secrets in the free-form librdkafka maps (``kafka.client``, ``kafka.producer``)."""


def is_secret_key(name: str) -> bool:
    return bool(_SECRET_KEY.search(name))


def _secret_values(model: BaseModel) -> list[str]:
    """Every secret value held by the settings: SecretStr fields, secret-looking map keys, URL user-info."""
    found: list[str] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif isinstance(value, BaseModel):
            found.extend(_secret_values(value))
        elif isinstance(value, Mapping):
            found.extend(str(v) for k, v in value.items() if is_secret_key(str(k)))
        elif isinstance(value, str) and "://" in value:
            userinfo = value.split("://", 1)[1].split("/", 1)[0].rpartition("@")[0]
            found.extend(part for part in (userinfo, userinfo.partition(":")[2]) if part)
    return found


def describe_errors(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        lines.append(f"  {where}: {error['msg']}")
    return "invalid configuration:\n" + "\n".join(lines)


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """The file (if any) first, then the environment on top; raises ConfigError naming each bad setting.

    Every secret value it holds is remembered by :mod:`marketo_stream.redaction`, so that no message or log
    line of this process can print it."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text())
        except OSError as exc:
            raise ConfigError(f"cannot read the config file {path}: {exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    data = _merge(data, _env_overrides(os.environ if environ is None else environ))
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc)) from exc
    for secret in _secret_values(settings):
        remember_secret(secret)
    return settings
