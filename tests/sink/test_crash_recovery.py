"""Killed at random moments and restarted from its committed state, a writer leaves every record exactly once."""

from __future__ import annotations

import random
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest
from confluent_kafka.admin import AdminClient

from marketo_stream.sink.state import read_state
from tests.infra import REPO
from tests.sink.kafka_reading import read_topic

pytestmark = pytest.mark.kafka

TOTAL, BATCH, KILLS = 200_000, 2_000, 12


@pytest.fixture
def prefix(kafka_admin: AdminClient) -> Iterator[str]:
    name = f"test-crash-{uuid.uuid4().hex[:10]}"
    yield name
    topics = [t for t in kafka_admin.list_topics(timeout=10).topics if t.startswith(name)]
    if topics:
        for future in kafka_admin.delete_topics(topics).values():
            future.exception(30)


def _start(bootstrap: str, registry: str, prefix: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.sink.crash_writer", bootstrap, registry, prefix, str(TOTAL), str(BATCH)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_sigkill_at_random_moments_loses_and_duplicates_nothing(
    bootstrap_servers: str, registry_url: str, prefix: str
) -> None:
    chance = random.Random(20240607)
    kills, resumed_from = 0, []
    while kills < KILLS:
        child = _start(bootstrap_servers, registry_url, prefix)
        assert child.stdout is not None
        opened = child.stdout.readline()
        assert opened.startswith("opened"), f"the writer did not open: {opened!r}"
        resumed_from.append(int(opened.split()[1]))
        # let a random number of transactions commit, then kill at a random moment of the next one: tied to
        # the writer's progress, not the machine's speed, so every kill lands while the writer works
        for _ in range(chance.randint(0, 3)):
            child.stdout.readline()
        time.sleep(chance.uniform(0.0, 0.05))
        if child.poll() is not None:
            break  # it finished before the kill
        child.kill()  # SIGKILL: no cleanup, possibly mid-transaction or mid-commit
        child.wait(30)
        kills += 1

    final = _start(bootstrap_servers, registry_url, prefix)
    output, _ = final.communicate(timeout=60)
    assert final.returncode == 0 and output.strip().endswith("done"), output

    assert kills == KILLS, f"the writer finished after {kills} kills; raise TOTAL so every kill lands"
    assert resumed_from == sorted(resumed_from) and len(set(resumed_from)) > 1, "restarts resume from saved progress"
    keys = Counter(r.key for r in read_topic(bootstrap_servers, f"{prefix}.events"))
    assert len(keys) == TOTAL, f"{TOTAL - len(keys)} records lost"
    assert set(keys.values()) == {1}, f"duplicated: {[k for k, n in keys.items() if n > 1][:5]}"
    assert read_state({"bootstrap.servers": bootstrap_servers}, f"{prefix}._state", 30) == {"writer": {"next": TOTAL}}
