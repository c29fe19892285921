"""One configuration model: a TOML file, overridden by environment variables, validated in one place.

Why pydantic: every setting gets its type, default, bounds and documentation once, and from that we get
validation errors that name the setting, and the JSON Schema that ``config schema`` prints.

Environment variables: ``MARKETO_STREAM_<SECTION>__<SETTING>`` (for instance
``MARKETO_STREAM_MARKETO__CLIENT_SECRET``), plus the short forms in ``SHORT_ENV``. Secrets may also be
read from a file named by ``<VAR>_FILE``. Secrets are ``SecretStr``: they print as ``**********``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from marketo_stream.errors import ConfigError

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


class KafkaSettings(_Section):
    bootstrap_servers: str = Field("127.0.0.1:19092", description="Kafka bootstrap servers")
    schema_registry_url: str = Field(
        "http://127.0.0.1:18081/apis/ccompat/v7", description="Confluent-compatible Schema Registry URL"
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
    delete_markers: bool = Field(False, description="Write a delete-marker record before each tombstone")
    producer: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Extra librdkafka producer settings"
    )

    def effective_transactional_id(self) -> str:
        return self.transactional_id or f"marketo-stream-{self.topic_prefix}"

    def effective_state_topic(self) -> str:
        """The sink's default too: ``_state`` cannot be a table's name, so prefix-selecting sinks skip it."""
        return self.state_topic or f"{self.topic_prefix}._state"


class SyncSettings(_Section):
    start_date: datetime | None = Field(
        None, description="Oldest data to backfill; default: Marketo's retention (25 months for activities)"
    )
    priority_days: int = Field(7, ge=1, le=31, description="The newest span fetched before any history")
    lookback_hours: float = Field(24.0, ge=0, description="Re-read overlap that catches late-committed activities")
    max_window_days: int = Field(31, ge=1, le=31, description="Largest bulk export window")
    target_rows_per_export: int = Field(500_000, ge=1000, description="Adaptive window sizing aims at this")
    transaction_rows: int = Field(20_000, ge=1, description="Records per Kafka transaction")
    follow_interval_seconds: float = Field(900.0, gt=0, description="Pause between runs with --follow")
    work_dir: Path = Field(Path(".local/work"), description="Where export files are downloaded")


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


class Settings(_Section):
    marketo: MarketoSettings
    kafka: KafkaSettings = KafkaSettings()
    sync: SyncSettings = SyncSettings()
    block: BlockSettings = BlockSettings()
    hash: HashSettings = HashSettings()

    @model_validator(mode="after")
    def _hashing_needs_a_secret(self) -> Settings:
        if any(self.hash.columns.values()) and self.hash.secret is None:
            raise ValueError(
                "hash.secret is required when hash.columns is set "
                "(set it in the file or MARKETO_STREAM_HASH__SECRET / MARKETO_STREAM_HASH__SECRET_FILE)"
            )
        return self


def _setting_for(name: str) -> tuple[str, str] | None:
    if name in SHORT_ENV:
        return SHORT_ENV[name]
    if name.startswith(ENV_PREFIX) and "__" in name:
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
        if section in Settings.model_fields:
            return section, key
    return None


def _env_overrides(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """``VAR=value`` or ``VAR_FILE=path`` (the file's content, for secrets); the plain form wins."""
    found: dict[str, dict[str, Any]] = {}
    for var, raw in environ.items():
        from_file = var.endswith("_FILE") and var[:-5] not in environ
        target = _setting_for(var[:-5] if from_file else var)
        if target is None:
            continue
        value = raw
        if from_file:
            try:
                value = Path(raw).read_text().strip()
            except OSError as exc:
                raise ConfigError(f"{var} names a file that cannot be read: {exc}") from exc
        section, key = target
        found.setdefault(section, {})[key] = value
    return found


def _merge(base: dict[str, Any], overrides: dict[str, dict[str, Any]]) -> dict[str, Any]:
    merged = {k: dict(v) if isinstance(v, dict) else v for k, v in base.items()}
    for section, values in overrides.items():
        merged.setdefault(section, {}).update(values)
    return merged


def describe_errors(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        lines.append(f"  {where}: {error['msg']}")
    return "invalid configuration:\n" + "\n".join(lines)


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """The file (if any) first, then the environment on top; raises ConfigError naming each bad setting."""
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
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc)) from exc
