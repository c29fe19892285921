"""The warehouse side of the Connect tests: the worker's REST API, PostgreSQL, and knowing when a sink caught up.

"Caught up" is read from Kafka, not guessed from the table: a sink connector commits its consumer offsets
(group ``connect-<name>``) only for records it has written, so once the committed offset has passed the last
committed record of every topic, the table holds everything the sink will ever write for them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import requests
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient
from psycopg.rows import dict_row

from tests.infra import LOCAL_SCRIPT, unavailable

REPO = Path(__file__).resolve().parent.parent.parent
SHIPPED = REPO / "connect"
WAREHOUSE = "marketo"  # database, role and password of the local PostgreSQL (infra/local.py)


@dataclass(frozen=True)
class Warehouse:
    connect_url: str
    postgres_port: int
    started_here: bool

    def connect(self) -> psycopg.Connection[dict[str, Any]]:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.postgres_port,
            dbname=WAREHOUSE,
            user=WAREHOUSE,
            password=WAREHOUSE,
            autocommit=True,
            row_factory=dict_row,
            connect_timeout=5,
        )


def _connect_url() -> str:
    return f"http://127.0.0.1:{os.environ.get('MARKETO_STREAM_CONNECT_PORT', '18083')}"


def _postgres_port() -> int:
    return int(os.environ.get("MARKETO_STREAM_POSTGRES_PORT", "15432"))


def _reachable(found: Warehouse) -> bool:
    try:
        if requests.get(f"{found.connect_url}/connectors", timeout=5).status_code != 200:
            return False
        with found.connect() as conn:
            conn.execute("SELECT 1")
    except (requests.RequestException, psycopg.Error):
        return False
    return True


def ensure_warehouse() -> Warehouse:
    """The running PostgreSQL and Connect worker, started with ``infra/local.py`` when absent."""
    found = Warehouse(_connect_url(), _postgres_port(), started_here=False)
    if _reachable(found):
        return found
    proc = subprocess.run(
        [sys.executable, str(LOCAL_SCRIPT), "up", "--services", "postgres,connect"], capture_output=True, text=True
    )
    if proc.returncode != 0:
        unavailable(f"PostgreSQL/Kafka Connect not reachable and `make connect-up` failed:\n{proc.stderr[-2000:]}")
    found = Warehouse(found.connect_url, found.postgres_port, started_here=True)
    if not _reachable(found):
        unavailable(f"Kafka Connect ({found.connect_url}) or PostgreSQL (port {found.postgres_port}) not reachable")
    return found


def stop_warehouse() -> None:
    subprocess.run([sys.executable, str(LOCAL_SCRIPT), "down", "--services", "postgres,connect"], capture_output=True)


def shipped_connector(file_name: str, topic_prefix: str) -> dict[str, Any]:
    """A configuration from ``connect/``, renamed and pointed at ``topic_prefix`` instead of ``marketo``."""
    shipped = json.loads((SHIPPED / file_name).read_text())
    config = dict(shipped["config"])
    regex = config["topics.regex"]
    assert regex.startswith("marketo\\."), f"{file_name}: topics.regex should select the marketo prefix: {regex}"
    config["topics.regex"] = topic_prefix + regex.removeprefix("marketo")
    return {"name": f"{shipped['name']}-{topic_prefix}", "config": config}


class ConnectWorker:
    """The few calls of Connect's REST API the tests make."""

    def __init__(self, url: str) -> None:
        self.url = url

    def create(self, connector: Mapping[str, Any]) -> None:
        response = requests.post(f"{self.url}/connectors", json=connector, timeout=60)
        assert response.status_code == 201, f"creating {connector['name']}: {response.status_code} {response.text}"

    def delete(self, name: str) -> None:
        requests.delete(f"{self.url}/connectors/{name}", timeout=60)

    def task_threads(self, name: str) -> str:
        """Where the connector's threads are, from a thread dump the worker prints to its log on SIGQUIT: the
        stack a stuck task waits in (empty when the worker is not one this machine's scripts started)."""
        local = Path(os.environ.get("MARKETO_STREAM_LOCAL_DIR") or REPO / ".local")
        pid_file, log = local / "run" / "connect.pid", local / "logs" / "connect.log"
        try:
            pid = int(pid_file.read_text().strip())
            start = log.stat().st_size
            os.kill(pid, signal.SIGQUIT)
        except (OSError, ValueError):
            return ""
        time.sleep(2)
        with log.open("rb") as handle:
            handle.seek(start)
            dump = handle.read().decode(errors="replace")
        blocks = [block for block in dump.split("\n\n") if block.startswith('"') and name in block.split("\n", 1)[0]]
        return "\n\n".join(blocks)

    def failures(self, name: str) -> list[str]:
        """The traces of a failed connector or task; empty while everything runs (or still starts)."""
        status = requests.get(f"{self.url}/connectors/{name}/status", timeout=10).json()
        parts = [status.get("connector", {}), *status.get("tasks", [])]
        return [p.get("trace", "FAILED") for p in parts if p.get("state") == "FAILED"]


def read_committed_consumer(bootstrap_servers: str) -> Consumer:
    """A consumer of committed records only, in a group of its own, that reports the end of each partition."""
    return Consumer(
        {
            "bootstrap.servers": bootstrap_servers,
            "group.id": f"test-reader-{uuid.uuid4().hex}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )


def committed_ends(bootstrap_servers: str, topics: Iterable[str]) -> dict[TopicPartition, int]:
    """Per partition, the offset just past its last committed record (control markers and aborted data skipped)."""
    consumer = read_committed_consumer(bootstrap_servers)
    try:
        metadata = consumer.list_topics(timeout=10)
        partitions = [TopicPartition(t, p, 0) for t in topics for p in metadata.topics[t].partitions]
        consumer.assign(partitions)
        ends = {TopicPartition(tp.topic, tp.partition): 0 for tp in partitions}
        pending = set(ends)
        deadline = time.monotonic() + 60
        while pending and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            tp = TopicPartition(msg.topic(), msg.partition())
            if msg.error():
                pending.discard(tp)  # end of partition (or an error the assertion below reports)
                continue
            ends[tp] = msg.offset() + 1
        assert not pending, f"could not read to the end of {sorted(str(tp) for tp in pending)}"
        return ends
    finally:
        consumer.close()


def consumed_topics(admin: AdminClient, connector: str) -> set[str]:
    """The topics a sink connector has committed offsets for."""
    group = f"connect-{connector}"
    result = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group].result(timeout=10)
    return {tp.topic for tp in result.topic_partitions if tp.offset >= 0}


def wait_until_caught_up(
    admin: AdminClient,
    worker: ConnectWorker,
    connector: str,
    ends: Mapping[TopicPartition, int],
    timeout: float = 120.0,
) -> None:
    """Until the connector's committed offsets reach ``ends``; fails at once when the connector fails."""
    group = f"connect-{connector}"
    request = [ConsumerGroupTopicPartitions(group, [TopicPartition(tp.topic, tp.partition) for tp in ends])]
    deadline = time.monotonic() + timeout
    behind: dict[str, int] = {}
    while time.monotonic() < deadline:
        failed = worker.failures(connector)
        assert not failed, f"connector {connector} failed:\n" + "\n".join(f[:3000] for f in failed)
        result = admin.list_consumer_group_offsets(request)[group].result(timeout=10)
        committed = {TopicPartition(tp.topic, tp.partition): tp.offset for tp in result.topic_partitions}
        behind = {f"{tp.topic}[{tp.partition}]": end - committed.get(tp, -1) for tp, end in ends.items()}
        if all(lag <= 0 for lag in behind.values()):
            return
        time.sleep(0.5)
    threads = worker.task_threads(connector)
    raise AssertionError(
        f"connector {connector} did not catch up within {timeout:.0f}s; records behind: {behind}\n"
        f"its threads:\n{threads or '(no thread dump)'}"
    )
