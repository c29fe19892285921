"""The secured local services refuse and admit as production clusters do: SASL_SSL with ACLs, a registry
behind TLS and basic auth. Failures are asserted the way a client meets them (error_cb, error codes, HTTP 401).
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterator

import pytest
import requests
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from tests.acls import grant_acls
from tests.infra import Credentials, SecureInfra

pytestmark = pytest.mark.kafka

RECORD = {"type": "record", "name": "Probe", "namespace": "test.secure", "fields": [{"name": "id", "type": "long"}]}


@pytest.fixture
def prefix(secure_infra: SecureInfra) -> Iterator[str]:
    """A prefix this test owns for topics, transactional ids and groups; its topics are deleted after."""
    owned = f"secure-{uuid.uuid4().hex[:12]}."
    yield owned
    admin = AdminClient(secure_infra.client_config(secure_infra.admin))
    topics = [t for t in admin.list_topics(timeout=10).topics if t.startswith(owned)]
    if topics:
        for future in admin.delete_topics(topics).values():
            with contextlib.suppress(Exception):
                future.result(timeout=30)


def _create_topic(config: dict[str, str], topic: str) -> None:
    admin = AdminClient(config)
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])[topic].result(timeout=30)


def _errors_seen(config: dict[str, str], seconds: float) -> list[KafkaError]:
    """Errors a client reports through error_cb while polled; auth failures never raise from calls."""
    seen: list[KafkaError] = []
    producer = Producer({**config, "error_cb": seen.append})
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not any(e.code() == KafkaError._AUTHENTICATION for e in seen):
        producer.poll(0.2)
    return seen


def test_marketo_with_granted_acls_writes_a_transaction_and_reads_it_committed(
    secure_infra: SecureInfra, prefix: str
) -> None:
    grant_acls(secure_infra, "User:marketo", prefix, prefix, prefix)
    config = secure_infra.client_config(secure_infra.marketo)
    topic = f"{prefix}records"
    _create_topic(config, topic)

    producer = Producer({**config, "transactional.id": f"{prefix}producer", "enable.idempotence": True})
    producer.init_transactions(30)
    producer.begin_transaction()
    producer.produce(topic, key=b"1", value=b"committed")
    producer.commit_transaction(30)

    consumer = Consumer(
        {
            **config,
            "group.id": f"{prefix}reader",
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    got = None
    deadline = time.monotonic() + 30
    try:
        while got is None and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is not None:
                assert msg.error() is None, msg.error()
                got = msg
        assert got is not None, "the committed record was not read back"
        assert (got.key(), got.value()) == (b"1", b"committed")
        consumer.commit(got, asynchronous=False)
    finally:
        consumer.close()


def test_wrong_password_is_reported_as_an_authentication_error(secure_infra: SecureInfra) -> None:
    config = secure_infra.client_config(Credentials("marketo", "not-the-password"))
    seen = _errors_seen(config, seconds=15)
    assert any(e.code() == KafkaError._AUTHENTICATION for e in seen), [e.str() for e in seen]


@pytest.mark.parametrize("user", ["stranger", "marketo"])
def test_users_without_grants_may_not_create_topics(secure_infra: SecureInfra, prefix: str, user: str) -> None:
    with pytest.raises(KafkaException) as raised:
        _create_topic(secure_infra.client_config(user), f"{prefix}forbidden")
    assert raised.value.args[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_plaintext_client_cannot_read_metadata(secure_infra: SecureInfra) -> None:
    admin = AdminClient({"bootstrap.servers": secure_infra.bootstrap_servers})
    with pytest.raises(KafkaException):
        admin.list_topics(timeout=3)


def test_registry_answers_401_without_the_right_password(secure_infra: SecureInfra) -> None:
    url = f"{secure_infra.registry_url}/subjects"
    verify = secure_infra.registry_ca_location
    assert requests.get(url, verify=verify, timeout=10).status_code == 401
    wrong = (secure_infra.registry_user, "not-the-password")
    assert requests.get(url, auth=wrong, verify=verify, timeout=10).status_code == 401
    right = (secure_infra.registry_user, secure_infra.registry_password)
    assert requests.get(url, auth=right, verify=verify, timeout=10).status_code == 200


def test_schema_registry_client_works_through_tls_and_basic_auth(secure_infra: SecureInfra) -> None:
    client = SchemaRegistryClient(secure_infra.registry_config())
    subject = f"secure-{uuid.uuid4().hex[:12]}-value"
    schema_id = client.register_schema(subject, Schema(json.dumps(RECORD), "AVRO"))
    assert client.get_latest_version(subject).schema_id == schema_id  # the subject list is paged: ask for it
    assert json.loads(client.get_schema(schema_id).schema_str)["name"] == "Probe"
