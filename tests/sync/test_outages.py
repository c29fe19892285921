"""Honest failures: a broker or registry that is unreachable, refuses, or disappears mid-run ends a one-shot
run with exit 5 in bounded time, in a few lines naming what failed; a signal ends a run within seconds; and
the rerun, once the broker is back, leaves every topic equal to the truth.

The broker lost mid-run is a throwaway one started by the project's own script (``infra/local.py`` with its
own data directory and ports), so that stopping it disturbs no other test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import SchemaRegistryClient

from bench.ports import free_port
from marketo_stream.exit_codes import ExitStatus
from marketo_stream.sandbox import Sandbox
from tests.infra import LOCAL_SCRIPT
from tests.sync.test_end_to_end import differences, sync_env
from tests.sync.topics import TopicReader

pytestmark = pytest.mark.kafka


@dataclass
class Broker:
    """A broker of this module's own: stopping it is part of the test."""

    local_dir: Path
    port: int
    controller_port: int

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _infra(self, command: str) -> None:
        env = {
            **os.environ,
            "MARKETO_STREAM_LOCAL_DIR": str(self.local_dir),
            "MARKETO_STREAM_KAFKA_PORT": str(self.port),
            "MARKETO_STREAM_CONTROLLER_PORT": str(self.controller_port),
        }
        done = subprocess.run(
            [sys.executable, str(LOCAL_SCRIPT), command, "--services", "kafka"], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr

    def start(self) -> None:
        self._infra("up")

    def stop(self) -> None:
        self._infra("down")


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory, infra: object) -> Iterator[Broker]:
    found = Broker(tmp_path_factory.mktemp("broker"), free_port(), free_port())
    found.start()
    yield found
    found.stop()


def sync_process(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MARKETO_STREAM_")}
    return subprocess.Popen(
        [sys.executable, "-m", "marketo_stream", "sync", *args],
        env={**base, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str], within_s: float) -> tuple[int, str, float]:
    """Waits for the process; returns its status, everything it printed and how long it took."""
    started = time.monotonic()
    out, err = process.communicate(timeout=within_s)
    return process.returncode, out + err, time.monotonic() - started


def wait_for_line(process: subprocess.Popen[str], texts: tuple[str, ...], within_s: float) -> str:
    """Reads the process's stderr until a line holds one of ``texts``; returns what it read (the rest stays
    unread)."""
    assert process.stderr is not None
    lines: list[str] = []
    found = threading.Event()

    def read() -> None:
        for line in iter(process.stderr.readline, ""):  # type: ignore[union-attr]
            lines.append(line)
            if any(text in line for text in texts):
                found.set()
                return

    threading.Thread(target=read, daemon=True).start()
    assert found.wait(within_s), f"no line with any of {texts!r} within {within_s}s: {''.join(lines)[-2000:]}"
    return "".join(lines)


def wait_for_topic(bootstrap: str, topic: str, timeout_s: float = 60) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    deadline = time.monotonic() + timeout_s
    while topic not in admin.list_topics(timeout=10).topics:
        assert time.monotonic() < deadline, f"{topic} never appeared"
        time.sleep(0.2)


@pytest.fixture
def env_for(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path, registry_url: str
) -> Callable[[str], tuple[Sandbox, dict[str, str], str]]:
    """A tiny world and its settings; its static lists answer 30 s late once, so that a run started on it is
    still running when a test stops the broker or signals it (any moment after the state topic exists is
    mid-run: activities and leads are being committed, or the entity phase waits on the lists)."""

    def make(bootstrap: str) -> tuple[Sandbox, dict[str, str], str]:
        sandbox = sandbox_factory(scale="tiny", rate_limit_calls=100_000)
        slow = {"path": "/rest/v1/lists\\.json", "delay_seconds": 30, "times": 1}
        requests.post(f"{sandbox.url}/_sandbox/faults", json={"faults": [slow]}, timeout=30).raise_for_status()
        prefix = f"out{uuid.uuid4().hex[:8]}"
        env = sync_env(sandbox, prefix, tmp_path / prefix)
        env |= {
            "MARKETO_STREAM_BOOTSTRAP_SERVERS": bootstrap,
            "MARKETO_STREAM_SCHEMA_REGISTRY_URL": registry_url,
            "MARKETO_STREAM_SYNC__START_DATE": "2026-01-01T00:00:00Z",
            "MARKETO_STREAM_KAFKA__CONNECT_TIMEOUT_SECONDS": "5",
        }
        return sandbox, env, prefix

    return make


def assert_equal_to_truth(sandbox: Sandbox, bootstrap: str, registry_url: str, prefix: str) -> None:
    requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=30).raise_for_status()
    registry = SchemaRegistryClient({"url": registry_url})
    assert differences(sandbox, TopicReader(bootstrap, registry), registry, prefix) == []


def test_an_unreachable_broker_exits_5_in_bounded_time_in_a_few_lines(
    env_for: Callable[[str], tuple[Sandbox, dict[str, str], str]],
) -> None:
    servers = f"127.0.0.1:{free_port()}"
    _, env, _ = env_for(servers)
    status, printed, took = finish(sync_process(env, "--quiet"), within_s=60)

    assert status == ExitStatus.KAFKA, printed
    assert servers in printed and "did not answer" in printed
    assert took < 30, "kafka.connect_timeout_seconds (5 s here) bounds the wait"
    assert len(printed.splitlines()) < 20, printed


def test_an_unreachable_registry_exits_5_naming_the_url_without_its_password(
    env_for: Callable[[str], tuple[Sandbox, dict[str, str], str]], bootstrap_servers: str
) -> None:
    _, env, _ = env_for(bootstrap_servers)
    port = free_port()
    env["MARKETO_STREAM_SCHEMA_REGISTRY_URL"] = f"http://reg:registry-pass-1@127.0.0.1:{port}/apis/ccompat/v7"
    status, printed, _ = finish(sync_process(env, "--quiet"), within_s=120)

    assert status == ExitStatus.KAFKA, printed
    assert f"http://***@127.0.0.1:{port}/apis/ccompat/v7" in printed
    assert "registry-pass-1" not in printed


def test_a_prefix_too_long_for_the_catalog_is_refused_before_any_topic_exists(
    env_for: Callable[[str], tuple[Sandbox, dict[str, str], str]], bootstrap_servers: str, kafka_admin: AdminClient
) -> None:
    _, env, _ = env_for(bootstrap_servers)
    prefix = "long" + "x" * 226  # "._rejected" fits; activity topics do not
    env["MARKETO_STREAM_KAFKA__TOPIC_PREFIX"] = prefix
    status, printed, _ = finish(sync_process(env, "--quiet"), within_s=120)

    assert status == ExitStatus.CONFIG, printed
    assert "kafka.topic_prefix" in printed and "249" in printed
    assert not [t for t in kafka_admin.list_topics(timeout=30).topics if t.startswith(prefix)]


def test_a_broker_lost_mid_run_ends_it_with_5_and_the_rerun_loses_nothing(
    broker: Broker, env_for: Callable[[str], tuple[Sandbox, dict[str, str], str]], registry_url: str
) -> None:
    sandbox, env, prefix = env_for(broker.bootstrap_servers)
    env["MARKETO_STREAM_KAFKA__OUTAGE_TIMEOUT_SECONDS"] = "10"
    process = sync_process(env, "--quiet")
    try:
        wait_for_topic(broker.bootstrap_servers, f"{prefix}._state")
        broker.stop()
        status, printed, took = finish(process, within_s=120)
    finally:
        process.kill()
        broker.start()

    assert status == ExitStatus.KAFKA, printed
    assert broker.bootstrap_servers in printed
    assert took < 60, "kafka.outage_timeout_seconds (10 s here) bounds the wait"
    assert len(printed.splitlines()) < 40, printed

    requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=30).raise_for_status()
    rerun = sync_process(env, "--quiet")
    assert finish(rerun, within_s=300)[0] == 0
    assert_equal_to_truth(sandbox, broker.bootstrap_servers, registry_url, prefix)


def test_sigterm_while_the_broker_is_gone_ends_the_run_within_seconds(
    broker: Broker, env_for: Callable[[str], tuple[Sandbox, dict[str, str], str]], registry_url: str
) -> None:
    sandbox, env, prefix = env_for(broker.bootstrap_servers)
    process = sync_process(env, "--quiet")  # the default outage bound: two minutes
    try:
        wait_for_topic(broker.bootstrap_servers, f"{prefix}._state")
        broker.stop()
        # either line is logged from within a Kafka call that the outage holds up
        seen = wait_for_line(process, ("Connection refused", "retrying for up to"), within_s=120)
        process.send_signal(signal.SIGTERM)
        status, printed, took = finish(process, within_s=60)
        printed = seen + printed
    finally:
        process.kill()
        broker.start()

    assert status == ExitStatus.TERMINATED, printed
    assert took < 10
    assert "terminated" in printed

    requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=30).raise_for_status()
    rerun = sync_process(env, "--quiet")
    assert finish(rerun, within_s=300)[0] == 0
    assert_equal_to_truth(sandbox, broker.bootstrap_servers, registry_url, prefix)


def test_sigterm_mid_run_exits_143_and_the_rerun_equals_the_truth(
    env_for: Callable[[str], tuple[Sandbox, dict[str, str], str]], bootstrap_servers: str, registry_url: str
) -> None:
    sandbox, env, prefix = env_for(bootstrap_servers)
    process = sync_process(env, "--quiet")
    wait_for_topic(bootstrap_servers, f"{prefix}._state")
    process.send_signal(signal.SIGTERM)
    status, printed, took = finish(process, within_s=60)

    assert status == ExitStatus.TERMINATED, printed
    assert took < 10

    requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=30).raise_for_status()
    rerun = sync_process(env, "--quiet")
    assert finish(rerun, within_s=300)[0] == 0
    assert_equal_to_truth(sandbox, bootstrap_servers, registry_url, prefix)
