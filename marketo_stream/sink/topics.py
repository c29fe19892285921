"""Topics: created when missing, never silently changed when present.

Entity topics and the state topic are compacted (``cleanup.policy=compact``); event topics (activities)
are ``cleanup.policy=delete`` and keep their records forever (``retention.ms=-1``) unless a retention was
chosen. An existing topic whose cleanup policy differs is reported (a warning, and
``TopicManager.mismatches``) and left as it is.

Retention is a user's choice, so an existing event topic's ``retention.ms`` is changed in two cases only,
each logged with the old and new value: it still has the 30 days this tool once set by default
(``LEGACY_RETENTION_MS``, which deleted backfilled history nobody chose to delete), or a retention was
chosen for it (the sink's ``retention_ms`` or the table's). Any other retention, set by an operator while
none is chosen here, is reported like a cleanup policy and left alone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._config import AlterConfigOpType, ConfigEntry, ConfigResource
from confluent_kafka.cimpl import NewTopic

from marketo_stream.sink.errors import KafkaOperationError

log = logging.getLogger(__name__)

KEEP_FOREVER_MS = -1
"""``retention.ms`` of event topics when no retention is chosen: nothing is deleted for its age."""
LEGACY_RETENTION_MS = 30 * 24 * 3600 * 1000
"""The ``retention.ms`` event topics were once created with by default; such topics are moved on."""


@dataclass(frozen=True)
class TopicPolicyMismatch:
    """An existing topic with a setting (``config``) other than the one the table needs, left unchanged."""

    topic: str
    expected: str
    actual: str
    config: str = "cleanup.policy"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    compacted: bool
    partitions: int
    replication_factor: int
    retention_ms: int | None = None
    """Of an event topic: ``None`` when none was chosen (kept forever)."""

    @property
    def cleanup_policy(self) -> str:
        return "compact" if self.compacted else "delete"

    @property
    def retention(self) -> str:
        return str(KEEP_FOREVER_MS if self.retention_ms is None else self.retention_ms)

    def config(self, extra: Mapping[str, str]) -> dict[str, str]:
        settings = {**extra, "cleanup.policy": self.cleanup_policy}
        if not self.compacted:
            settings["retention.ms"] = self.retention
        return settings


class TopicManager:
    """Ensures topics exist with the right policy; remembers which existing ones do not have it."""

    def __init__(self, admin: AdminClient, extra_config: Mapping[str, str], timeout_s: float) -> None:
        self._admin = admin
        self._extra = dict(extra_config)
        self._timeout = timeout_s
        self._ensured: set[str] = set()
        self.mismatches: list[TopicPolicyMismatch] = []

    def ensure(self, spec: TopicSpec) -> None:
        self.ensure_all([spec])

    def ensure_all(self, specs: Iterable[TopicSpec]) -> None:
        """One listing and one create request for all the missing topics: a catalog of fifty tables created one
        by one waits for fifty controller round trips."""
        wanted = [spec for spec in specs if spec.name not in self._ensured]
        if not wanted:
            return
        try:
            existing = self._admin.list_topics(timeout=self._timeout).topics
        except KafkaException as exc:
            error: KafkaError = exc.args[0]
            raise KafkaOperationError("listing topics", error.code(), error.name(), error.str()) from exc
        missing = [spec for spec in wanted if spec.name not in existing]
        for spec in wanted:
            if spec.name in existing:
                self._check_policy(spec)
        if missing:
            self._create(missing)
        self._ensured.update(spec.name for spec in wanted)

    def _create(self, specs: list[TopicSpec]) -> None:
        new = [NewTopic(s.name, s.partitions, s.replication_factor, config=s.config(self._extra)) for s in specs]
        futures = self._admin.create_topics(new, operation_timeout=self._timeout)
        for spec in specs:
            try:
                futures[spec.name].result(self._timeout)
            except KafkaException as exc:
                error: KafkaError = exc.args[0]
                if error.code() == KafkaError.TOPIC_ALREADY_EXISTS:  # another instance was quicker
                    self._check_policy(spec)
                    continue
                raise KafkaOperationError(
                    f"creating topic {spec.name}", error.code(), error.name(), error.str()
                ) from exc

    def _check_policy(self, spec: TopicSpec) -> None:
        resource = ConfigResource(ConfigResource.Type.TOPIC, spec.name)
        try:
            configs = self._admin.describe_configs([resource])[resource].result(self._timeout)
        except KafkaException as exc:
            error: KafkaError = exc.args[0]
            raise KafkaOperationError(f"describing topic {spec.name}", error.code(), error.name(), error.str()) from exc
        actual = configs["cleanup.policy"].value if "cleanup.policy" in configs else "delete"
        policies = {p.strip() for p in actual.split(",")}
        fits = "compact" in policies if spec.compacted else policies == {"delete"}
        if not fits:
            mismatch = TopicPolicyMismatch(spec.name, spec.cleanup_policy, actual)
            self.mismatches.append(mismatch)
            log.warning(
                "topic %s exists with cleanup.policy=%s but its table needs %s; left unchanged",
                spec.name,
                actual,
                spec.cleanup_policy,
            )
        elif not spec.compacted and "retention.ms" in configs:
            self._check_retention(spec, configs["retention.ms"].value)

    def _check_retention(self, spec: TopicSpec, actual: str) -> None:
        wanted = spec.retention
        if actual == wanted:
            return
        if spec.retention_ms is None and actual != str(LEGACY_RETENTION_MS):
            self.mismatches.append(TopicPolicyMismatch(spec.name, wanted, actual, "retention.ms"))
            log.warning(
                "topic %s has retention.ms=%s, not chosen here; left unchanged (with no retention configured, "
                "event topics keep their records: retention.ms=%s)",
                spec.name,
                actual,
                wanted,
            )
            return
        resource = ConfigResource(
            ConfigResource.Type.TOPIC,
            spec.name,
            incremental_configs=[ConfigEntry("retention.ms", wanted, incremental_operation=AlterConfigOpType.SET)],
        )
        try:
            self._admin.incremental_alter_configs([resource])[resource].result(self._timeout)
        except KafkaException as exc:
            error: KafkaError = exc.args[0]
            raise KafkaOperationError(
                f"setting retention.ms={wanted} on topic {spec.name}", error.code(), error.name(), error.str()
            ) from exc
        log.warning("topic %s: retention.ms changed from %s to %s", spec.name, actual, wanted)
