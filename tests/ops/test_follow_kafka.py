"""``sync --follow`` against the sandbox and real brokers: its metrics endpoint serves every declared metric with
the figures of the pass's summary; a signal ends its pause at once; and a broker stopped between passes fails
the next pass, which is retried and succeeds once the broker is back, with the same transactional producer.

The broker that is stopped is this module's own (``infra/local.py`` with its own ports and data directory), so
that no other test loses its broker."""

from __future__ import annotations

import json
import signal
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient
from prometheus_client.parser import text_string_to_metric_families

from marketo_stream.exit_codes import ExitStatus
from marketo_stream.metrics import describe
from marketo_stream.sandbox import Sandbox
from tests.sync.test_end_to_end import sync_env
from tests.sync.test_outages import Broker, free_port, sync_process

pytestmark = pytest.mark.kafka

PRODUCER_MADE = "transactional producer"


class Lines:
    """A process's stdout and stderr, read as they come, each line kept once."""

    def __init__(self, process: object) -> None:
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._changed = threading.Condition()
        for stream, into in ((process.stdout, self.stdout), (process.stderr, self.stderr)):  # type: ignore[attr-defined]
            threading.Thread(target=self._read, args=(stream, into), daemon=True).start()

    def _read(self, stream: object, into: list[str]) -> None:
        for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
            with self._changed:
                into.append(line)
                self._changed.notify_all()

    def wait_for(self, found: Callable[[], bool], within_s: float, what: str) -> None:
        deadline = time.monotonic() + within_s
        with self._changed:
            while not found():
                left = deadline - time.monotonic()
                assert left > 0, f"no {what} within {within_s}s: {''.join(self.stderr)[-3000:]}"
                self._changed.wait(left)

    def summaries(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.stdout if line.startswith("{")]

    def wait_for_summaries(self, count: int, within_s: float) -> list[dict[str, object]]:
        self.wait_for(lambda: len(self.summaries()) >= count, within_s, f"{count} pass summaries")
        return self.summaries()


@pytest.fixture
def prefix(kafka_admin: AdminClient) -> Iterator[str]:
    name = f"fol{uuid.uuid4().hex[:8]}"
    yield name
    topics = [t for t in kafka_admin.list_topics(timeout=30).topics if t.startswith(name + ".")]
    if topics:
        for future in kafka_admin.delete_topics(topics).values():
            future.exception(30)


@pytest.fixture(scope="module")
def own_broker(tmp_path_factory: pytest.TempPathFactory, infra: object) -> Iterator[Broker]:
    found = Broker(tmp_path_factory.mktemp("follow-broker"), free_port(), free_port())
    found.start()
    yield found
    found.stop()


def follow_env(sandbox: Sandbox, prefix: str, work: Path, bootstrap: str, registry_url: str) -> dict[str, str]:
    return sync_env(sandbox, prefix, work) | {
        "MARKETO_STREAM_BOOTSTRAP_SERVERS": bootstrap,
        "MARKETO_STREAM_SCHEMA_REGISTRY_URL": registry_url,
        "MARKETO_STREAM_SYNC__START_DATE": "2026-09-01T00:00:00Z",
        "MARKETO_STREAM_KAFKA__CONNECT_TIMEOUT_SECONDS": "5",
        # the pause between passes is a plain sleep here: these tests are of the loop and its passes; the streaming
        # tail that can spend the pause instead has its own tests (tests/sync/test_tail.py)
        "MARKETO_STREAM_FOLLOW__TAIL": "false",
    }


def samples(url: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Family name (counters with ``_total``) -> labels -> value."""
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        name = f"{family.name}_total" if family.type == "counter" else family.name
        into = found.setdefault(name, {})
        for sample in family.samples:
            if sample.name in (family.name, f"{family.name}_total"):
                into[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def test_the_metrics_endpoint_serves_every_metric_with_the_figures_of_the_summary(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path, prefix: str, bootstrap_servers: str, registry_url: str
) -> None:
    sandbox = sandbox_factory(scale="tiny", rate_limit_calls=100_000)
    env = follow_env(sandbox, prefix, tmp_path / "work", bootstrap_servers, registry_url)
    port = free_port()
    process = sync_process(env, "--follow", "--interval", "600", "--json", "--metrics-port", str(port), "-q")
    try:
        lines = Lines(process)
        summary = lines.wait_for_summaries(1, within_s=300)[0]
        served = samples(f"http://127.0.0.1:{port}/metrics")
        process.send_signal(signal.SIGTERM)  # in its ten-minute pause
        started = time.monotonic()
        process.wait(timeout=30)
        took = time.monotonic() - started
    finally:
        process.kill()

    assert process.returncode == ExitStatus.TERMINATED
    assert took < 10, "a signal ends the pause between passes at once"
    assert {m.name for m in describe()} <= set(served), "every declared metric is served"
    tables = summary["tables"]
    assert isinstance(tables, dict) and tables
    records = served["marketo_stream_records_total"]
    assert records == {(("topic", f"{prefix}.{t}"),): float(f["records"]) for t, f in tables.items()}
    published = served["marketo_stream_published_bytes_total"]
    assert published == {(("topic", f"{prefix}.{t}"),): float(f["bytes"]) for t, f in tables.items() if f["bytes"]}
    assert all(f["bytes"] > 0 for f in tables.values() if f["records"]), "every record has its serialized bytes"
    calls: dict[str, float] = {}
    for labels, value in served["marketo_stream_api_calls_total"].items():
        endpoint = dict(labels)["endpoint"]
        calls[endpoint] = calls.get(endpoint, 0.0) + value
    by_endpoint = summary["api_calls"]["by_endpoint"]  # type: ignore[index]
    assert calls == {endpoint: float(n) for endpoint, n in by_endpoint.items()}
    assert served["marketo_stream_runs_total"] == {(("outcome", "completed"),): 1.0}
    lag = served["marketo_stream_freshness_lag_seconds"]
    assert set(dict(labels)["table"] for labels in lag) == set(summary["newest_by_activity_type"])  # type: ignore[arg-type]


def test_follow_survives_a_broker_stopped_between_passes_with_one_producer(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path, prefix: str, own_broker: Broker, registry_url: str
) -> None:
    sandbox = sandbox_factory(scale="tiny", rate_limit_calls=100_000)
    env = follow_env(sandbox, prefix, tmp_path / "work", own_broker.bootstrap_servers, registry_url)
    pause = 12  # the broker stops well within it (a few seconds); the failed pass then waits twice as long
    process = sync_process(env, "--follow", "--interval", str(pause), "--json", "-q", "--log-level", "info")
    stopped = False
    try:
        lines = Lines(process)
        lines.wait_for_summaries(1, within_s=300)
        own_broker.stop()  # well within the pause that follows the first pass
        stopped = True
        lines.wait_for(lambda: any("pass failed" in line for line in lines.stderr), 120, "failed pass")
        own_broker.start()
        stopped = False
        summaries = lines.wait_for_summaries(2, within_s=300)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        finally:
            process.kill()
            if stopped:
                own_broker.start()

    failed = [line for line in lines.stderr if "pass failed" in line]
    assert "exit status 5" in failed[0] and own_broker.bootstrap_servers in failed[0], failed[0]
    assert [s["outcome"] for s in summaries[:2]] == ["completed", "completed"]
    made = [line for line in lines.stderr if PRODUCER_MADE in line]
    assert len(made) == 1 and "producer 1 of this sink" in made[0], made
    assert len({s["run_id"] for s in summaries}) == len(summaries), "each pass is a run of its own"
