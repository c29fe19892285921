"""Topics: created when missing, never silently changed when present.

Entity topics and the state topic are compacted (``cleanup.policy=compact``); event topics (activities)
are time-retained (``cleanup.policy=delete`` with ``retention.ms``). An existing topic whose cleanup
policy differs is reported (a warning, and ``TopicManager.mismatches``) and left as it is: changing a
topic's retention is an operator's decision.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._config import ConfigResource
from confluent_kafka.cimpl import NewTopic

from marketo_stream.sink.errors import KafkaOperationError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TopicPolicyMismatch:
    """An existing topic whose cleanup policy is not the one the table needs."""

    topic: str
    expected: str
    actual: str


@dataclass(frozen=True)
class TopicSpec:
    name: str
    compacted: bool
    partitions: int
    replication_factor: int
    retention_ms: int | None = None

    @property
    def cleanup_policy(self) -> str:
        return "compact" if self.compacted else "delete"

    def config(self, extra: Mapping[str, str]) -> dict[str, str]:
        settings = {**extra, "cleanup.policy": self.cleanup_policy}
        if not self.compacted and self.retention_ms is not None:
            settings["retention.ms"] = str(self.retention_ms)
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
