"""Kafka (reachable, topic creation, transactions, the state topic) and the Schema Registry, in bounded time."""

from __future__ import annotations

import contextlib
import threading
import uuid
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from marketo_stream.operator.doctor.checks import Category, Check
from marketo_stream.redaction import mask_url
from marketo_stream.sink.config import SinkConfig

GOOD_COMPATIBILITY = frozenset({"BACKWARD", "BACKWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"})


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
        with contextlib.suppress(KafkaException):  # a producer that hit a fatal error refuses even to flush
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
