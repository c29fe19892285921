"""Schemas that stay true: the records in Kafka name schema ids, and those ids must keep meaning those schemas.

A registry restarted mid-run and between runs keeps its schemas (KafkaSQL storage in the broker): the rerun
succeeds and every record decodes to the truth. A registry that forgot them (a fresh in-memory registry on the
same port) is caught before anything is registered or produced: exit 5 naming subject and id, no new record.

The broker and registry are this module's own, started by the project's script (``infra/local.py`` with their
own ports and data directory), so that restarting and wiping the registry disturbs no other test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import SchemaRegistryClient

from marketo_stream.exit_codes import ExitStatus
from marketo_stream.sandbox import Sandbox
from marketo_stream.sink.registry import fingerprint
from marketo_stream.sink.state import read_state
from tests.infra import LOCAL_SCRIPT
from tests.sync.test_end_to_end import differences, sync_env
from tests.sync.test_outages import finish, free_port, sync_process, wait_for_topic
from tests.sync.topics import TopicReader

pytestmark = pytest.mark.kafka


@dataclass
class Pair:
    """A broker and a registry keeping its schemas in it, both this module's own."""

    local_dir: Path
    kafka_port: int
    controller_port: int
    registry_port: int
    management_port: int

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def registry_url(self) -> str:
        return f"http://127.0.0.1:{self.registry_port}/apis/ccompat/v7"

    def infra(self, command: str, services: str, **extra: str) -> None:
        env = {
            **os.environ,
            "MARKETO_STREAM_LOCAL_DIR": str(self.local_dir),
            "MARKETO_STREAM_KAFKA_PORT": str(self.kafka_port),
            "MARKETO_STREAM_CONTROLLER_PORT": str(self.controller_port),
            "MARKETO_STREAM_REGISTRY_PORT": str(self.registry_port),
            "MARKETO_STREAM_REGISTRY_MGMT_PORT": str(self.management_port),
            **extra,
        }
        done = subprocess.run(
            [sys.executable, str(LOCAL_SCRIPT), command, "--services", services],
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout + done.stderr

    def restart_registry(self, storage: str = "kafkasql") -> None:
        self.infra("down", "registry")
        self.infra("up", "registry", MARKETO_STREAM_REGISTRY_STORAGE=storage)

    def registry(self) -> SchemaRegistryClient:
        """A new client: nothing remembered from before a restart."""
        return SchemaRegistryClient({"url": self.registry_url})


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    found = Pair(tmp_path_factory.mktemp("pair"), free_port(), free_port(), free_port(), free_port())
    found.infra("up", "kafka,registry")
    yield found
    found.infra("down", "kafka,registry")


@pytest.fixture
def env_for(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path, pair: Pair
) -> Callable[..., tuple[Sandbox, dict[str, str], str]]:
    def make(*, slow_lists: bool = False) -> tuple[Sandbox, dict[str, str], str]:
        sandbox = sandbox_factory(scale="tiny", rate_limit_calls=100_000)
        if slow_lists:  # a run still going while the test restarts the registry: held until ``release``
            slow = {"path": "/rest/v1/lists\\.json", "delay_seconds": 600, "times": 1}
            requests.post(f"{sandbox.url}/_sandbox/faults", json={"faults": [slow]}, timeout=30).raise_for_status()
        prefix = f"drift{uuid.uuid4().hex[:8]}"
        env = sync_env(sandbox, prefix, tmp_path / prefix) | {
            "MARKETO_STREAM_BOOTSTRAP_SERVERS": pair.bootstrap_servers,
            "MARKETO_STREAM_SCHEMA_REGISTRY_URL": pair.registry_url,
            "MARKETO_STREAM_SYNC__START_DATE": "2026-01-01T00:00:00Z",
        }
        return sandbox, env, prefix

    return make


def release(sandbox: Sandbox) -> None:
    """Lets the held lists call be answered: the run goes on (clearing the faults ends a delay under way)."""
    requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=30).raise_for_status()


def end_offsets(bootstrap: str, prefix: str) -> dict[str, int]:
    """Every partition's end offset of the run's topics (a commit or an abort moves it)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": uuid.uuid4().hex})
    try:
        topics = admin.list_topics(timeout=30).topics
        return {
            f"{name}/{pid}": consumer.get_watermark_offsets(TopicPartition(name, pid), timeout=30)[1]
            for name, meta in topics.items()
            if name.startswith(prefix + ".")
            for pid in meta.partitions
        }
    finally:
        consumer.close()


def kept_ids(pair: Pair, prefix: str) -> dict[str, dict[str, str]]:
    doc = read_state({"bootstrap.servers": pair.bootstrap_servers}, f"{prefix}._state", 30)["schemas"]
    subjects = doc["subjects"]
    assert isinstance(subjects, dict)
    return subjects


def assert_equal_to_truth(sandbox: Sandbox, pair: Pair, prefix: str) -> None:
    requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=30).raise_for_status()
    registry = pair.registry()
    assert differences(sandbox, TopicReader(pair.bootstrap_servers, registry), registry, prefix) == []


def test_a_registry_restarted_mid_run_and_between_runs_loses_no_schema(
    pair: Pair, env_for: Callable[..., tuple[Sandbox, dict[str, str], str]]
) -> None:
    sandbox, env, prefix = env_for(slow_lists=True)
    process = sync_process(env, "--quiet")
    try:
        wait_for_topic(pair.bootstrap_servers, f"{prefix}.lead")  # made once every schema is registered
        pair.restart_registry()  # while the run publishes, and then waits on the slow lists
        release(sandbox)
        status, printed, _ = finish(process, within_s=300)
    finally:
        process.kill()
    assert status == 0, printed
    kept = kept_ids(pair, prefix)
    topics = set(TopicReader(pair.bootstrap_servers, pair.registry()).topics(prefix))
    assert {subject.rsplit("-", 1)[0] for subject in kept} == topics - {f"{prefix}._state"}, "every table's ids"
    versions = {subject: pair.registry().get_versions(subject) for subject in kept}

    pair.restart_registry()
    status, printed, _ = finish(sync_process(env, "--quiet"), within_s=300)

    assert status == 0, printed
    assert kept_ids(pair, prefix) == kept, "the same ids: nothing was registered anew"
    assert {subject: pair.registry().get_versions(subject) for subject in kept} == versions
    registry = pair.registry()
    for ids in kept.values():
        for schema_id, print_ in ids.items():
            assert fingerprint(json.loads(registry.get_schema(int(schema_id)).schema_str or "")) == print_
    assert_equal_to_truth(sandbox, pair, prefix)  # every record decodes, to the values an uninterrupted run has


def test_a_registry_that_forgot_its_schemas_stops_the_run_before_anything_is_produced(
    pair: Pair, env_for: Callable[..., tuple[Sandbox, dict[str, str], str]]
) -> None:
    sandbox, env, prefix = env_for()
    status, printed, _ = finish(sync_process(env, "--quiet"), within_s=300)
    assert status == 0, printed
    kept = kept_ids(pair, prefix)
    before = end_offsets(pair.bootstrap_servers, prefix)

    pair.restart_registry(storage="memory")  # the same port, empty, as the in-memory registry came back
    try:
        status, printed, _ = finish(sync_process(env, "--quiet"), within_s=300)
        left_behind = pair.registry().get_subjects()
    finally:
        pair.restart_registry()  # the registry that kept them, for the rerun and the other tests

    assert status == ExitStatus.KAFKA, printed
    assert "no longer holds" in printed and "no schema (HTTP 404" in printed
    subject, ids = next(iter(sorted(kept.items())))
    assert f"{subject} id {next(iter(ids))}: the registry now has no schema" in printed
    assert "Nothing was registered or produced" in printed
    assert end_offsets(pair.bootstrap_servers, prefix) == before, "not one record, state or marker more"
    assert left_behind == [], "nothing registered in the registry that forgot"

    status, printed, _ = finish(sync_process(env, "--quiet"), within_s=300)
    assert status == 0, printed
    assert_equal_to_truth(sandbox, pair, prefix)


def test_a_registry_that_forgot_while_the_run_went_on_ends_it_with_5_not_success(
    pair: Pair, env_for: Callable[..., tuple[Sandbox, dict[str, str], str]]
) -> None:
    """The issue's run: the registry came back empty mid-sync, and the sync said 0. Now it says 5, and the
    registry that kept the schemas in the broker, back in place, lets the rerun finish with every record true."""
    sandbox, env, prefix = env_for(slow_lists=True)
    process = sync_process(env, "--quiet")
    try:
        wait_for_topic(pair.bootstrap_servers, f"{prefix}.lead")  # every schema registered
        pair.restart_registry(storage="memory")  # while the run publishes, and then waits on the slow lists
        release(sandbox)
        status, printed, _ = finish(process, within_s=300)
    finally:
        process.kill()
        pair.restart_registry()

    assert status == ExitStatus.KAFKA, printed
    assert "found after this run's last commit" in printed and "no schema (HTTP 404" in printed
    assert "this run's included" in printed

    status, printed, _ = finish(sync_process(env, "--quiet"), within_s=300)
    assert status == 0, printed
    assert_equal_to_truth(sandbox, pair, prefix)
