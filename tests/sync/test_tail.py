"""The streaming tail against the real broker and registry, the sandbox over HTTP.

- An activity published by the tail is byte for byte the record a bulk export publishes (``_synced_at`` aside),
  and deleted leads become the same tombstones.
- Switching from the tail to Bulk Extract and back leaves each ``marketoGUID`` once in the read_committed topics.
- The tail paces itself to its share of the daily calls, counted in the sandbox's request log.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import SchemaRegistryClient

from marketo_stream.report import Progress
from marketo_stream.sandbox import Sandbox
from marketo_stream.settings import Settings, load_settings
from marketo_stream.sync.runner import SyncRunner
from marketo_stream.sync.tail import TailResult
from marketo_stream.sync.tail_loop import TailFollower, TailSession
from tests.fast import UNTHROTTLED_WINDOW_SECONDS
from tests.sync.topics import TopicReader

pytestmark = pytest.mark.kafka

WORLD: dict[str, Any] = {"scale": "tiny", "rate_limit_calls": 100_000}
Raw = tuple[bytes, bytes | None]


@pytest.fixture
def prefixes(kafka_admin: AdminClient) -> Iterator[Callable[[], str]]:
    made: list[str] = []

    def make() -> str:
        made.append(f"tail{uuid.uuid4().hex[:8]}")
        return made[-1]

    yield make
    topics = [t for t in kafka_admin.list_topics(timeout=30).topics if t.split(".")[0] in made]
    if topics:
        for future in kafka_admin.delete_topics(topics).values():
            future.exception(30)


@pytest.fixture
def settings_for(tmp_path: Path, bootstrap_servers: str, registry_url: str) -> Callable[..., Settings]:
    def make(sandbox: Sandbox, prefix: str, **env: str) -> Settings:
        return load_settings(
            None,
            {
                "MARKETO_STREAM_BASE_URL": sandbox.url,
                "MARKETO_STREAM_CLIENT_ID": sandbox.client_id,
                "MARKETO_STREAM_CLIENT_SECRET": sandbox.client_secret,
                "MARKETO_STREAM_BOOTSTRAP_SERVERS": bootstrap_servers,
                "MARKETO_STREAM_SCHEMA_REGISTRY_URL": registry_url,
                "MARKETO_STREAM_KAFKA__TOPIC_PREFIX": prefix,
                "MARKETO_STREAM_MARKETO__POLL_INTERVAL_SECONDS": "0",
                "MARKETO_STREAM_MARKETO__WINDOW_SECONDS": UNTHROTTLED_WINDOW_SECONDS,
                "MARKETO_STREAM_SYNC__WORK_DIR": str(tmp_path / prefix),
                "MARKETO_STREAM_SYNC__START_DATE": "2026-09-01T00:00:00Z",
                "MARKETO_STREAM_FOLLOW__SAFETY_LAG_SECONDS": "60",
                **{f"MARKETO_STREAM_FOLLOW__{name.upper()}": value for name, value in env.items()},
            },
        )

    return make


def bulk_pass(settings: Settings, *, follow_tail: bool = False) -> None:
    runner = SyncRunner(settings, follow_tail=follow_tail)
    try:
        runner.run_once()
    finally:
        runner.close()


def tail_pass(settings: Settings) -> TailResult:
    session = TailSession.open(settings, Progress(quiet=True))
    try:
        return session.tail_pass()
    finally:
        session.close()


def control(sandbox: Sandbox, path: str, body: dict[str, Any]) -> None:
    requests.post(f"{sandbox.url}/_sandbox/{path}", json=body, timeout=60).raise_for_status()


def read_raw(bootstrap: str, topic: str) -> list[Raw]:
    """Every committed (key, value) of a topic as bytes, read_committed, to the end of every partition."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"raw-{uuid.uuid4().hex}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )
    try:
        partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
        assigned = []
        for pid in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, pid), timeout=30)
            if high > low:
                assigned.append(TopicPartition(topic, pid, low))
        consumer.assign(assigned)
        remaining, found, idle = {p.partition for p in assigned}, [], 0
        while remaining and idle < 40:
            msg = consumer.poll(0.5)
            if msg is None:
                idle += 1
            elif msg.error():
                remaining.discard(msg.partition())
            else:
                found.append((msg.key(), msg.value()))
        assert not remaining, f"{topic}: did not reach the end of {remaining}"
        return found
    finally:
        consumer.close()


def activity_records(reader: TopicReader, prefix: str) -> dict[str, list[bytes]]:
    """The value bytes of every activity record by GUID, the schema id and ``_synced_at`` cut off."""
    found: dict[str, list[bytes]] = {}
    for topic in reader.topics(prefix):
        if not topic.startswith(f"{prefix}.activity_") or topic == f"{prefix}.activity_type":
            continue  # activity_type: the catalog of types, not activities
        for key, value in read_raw(reader.bootstrap, topic):
            assert value is not None, "activity topics hold no tombstones"
            synced = reader.decode(value)["_synced_at"]
            tail = b"\x02" + zigzag(synced)
            assert value.endswith(tail), "_synced_at is the last field"
            found.setdefault(str(reader.decode(key)["marketo_guid"]), []).append(value[5 : -len(tail)])
    return found


def tombstoned_leads(reader: TopicReader, prefix: str) -> set[int]:
    return {int(r.key["id"]) for r in reader.read(f"{prefix}.lead") if r.value is None}


def zigzag(number: int) -> bytes:
    value, out = (number << 1) ^ (number >> 63), bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def test_the_tail_publishes_what_bulk_does_byte_for_byte_and_never_twice_across_switches(
    sandbox_factory: Callable[..., Sandbox],
    settings_for: Callable[..., Settings],
    prefixes: Callable[[], str],
    bootstrap_servers: str,
    registry_client: SchemaRegistryClient,
) -> None:
    sandbox = sandbox_factory(**{**WORLD, "scale": "small"})
    by_bulk, by_tail = prefixes(), prefixes()
    bulk_settings = settings_for(sandbox, by_bulk)
    tail_settings = settings_for(sandbox, by_tail, max_gap_hours="400", bulk_threshold_rows="2000")
    bulk_pass(bulk_settings)
    bulk_pass(tail_settings)  # the same catch-up for both

    control(sandbox, "activities", {"per_minute": 1, "minutes": 120})
    control(sandbox, "clock", {"advance_seconds": 11 * 86400})  # a lead is deleted on day 10
    bulk_pass(bulk_settings)
    quiet = tail_pass(tail_settings)
    assert quiet.handover is None and quiet.published > 100

    reader = TopicReader(bootstrap_servers, registry_client)
    from_bulk, from_tail = activity_records(reader, by_bulk), activity_records(reader, by_tail)
    assert set(from_tail) == set(from_bulk)
    differing = [guid for guid in from_tail if from_tail[guid] != from_bulk[guid]]
    assert differing == [], "each activity: the same Avro bytes through REST as through a bulk export"
    deleted = tombstoned_leads(reader, by_bulk)
    assert deleted and tombstoned_leads(reader, by_tail) == deleted, "deleted leads: the same tombstones"

    control(sandbox, "activities", {"per_minute": 25, "minutes": 100})  # more than the tail pages: bulk takes over
    control(sandbox, "clock", {"advance_seconds": 105 * 60})
    assert tail_pass(tail_settings).handover is not None
    bulk_pass(tail_settings, follow_tail=True)
    control(sandbox, "activities", {"per_minute": 2, "minutes": 20})
    control(sandbox, "clock", {"advance_seconds": 25 * 60})
    assert tail_pass(tail_settings).published > 0, "bulk hands back to the tail"

    published = Counter({guid: len(values) for guid, values in activity_records(reader, by_tail).items()})
    assert [guid for guid, times in published.items() if times > 1] == []
    bulk_pass(bulk_settings)
    assert set(published) == set(activity_records(reader, by_bulk)), "nothing missed either"


def test_the_tail_spends_no_more_than_its_share_of_the_daily_calls(
    sandbox_factory: Callable[..., Sandbox],
    settings_for: Callable[..., Settings],
    prefixes: Callable[[], str],
) -> None:
    sandbox = sandbox_factory(**WORLD)
    settings = settings_for(sandbox, prefixes(), daily_calls="10000", tail_call_share="0.5", tail_interval_seconds="0")
    bulk_pass(settings)
    clock = [0.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds  # the follower's time, moved only by its pauses

    since = max(e["seq"] for e in requests.get(f"{sandbox.url}/_sandbox/requests", timeout=30).json()["requests"])
    follower = TailFollower(settings, Progress(quiet=True), sleep=sleep, monotonic=lambda: clock[0])
    follower.follow(3600.0)  # one hour of the follower's time
    entries = requests.get(f"{sandbox.url}/_sandbox/requests", params={"since": since}, timeout=30).json()["requests"]
    counted = sum(1 for e in entries if e["counted"])
    hourly_share = 10_000 * 0.5 / 24
    assert follower.passes >= 10, "the tail polls all the hour"
    assert 0 < counted <= follower.calls, "the sandbox counts what the tail counts (it may waive a failed call)"
    last_pass = 2 * counted / follower.passes  # a pass spends before it pauses: the last one is over the share
    assert counted <= hourly_share + last_pass


def test_the_tail_hands_a_gap_to_bulk_at_once_but_never_twice_in_a_row_without_a_pause(
    sandbox_factory: Callable[..., Sandbox],
    settings_for: Callable[..., Settings],
    prefixes: Callable[[], str],
) -> None:
    sandbox = sandbox_factory(**WORLD)
    settings = settings_for(sandbox, prefixes(), max_gap_hours="1")
    bulk_pass(settings)
    control(sandbox, "clock", {"advance_seconds": 2 * 3600})  # the process was away: the bulk windows are old
    clock = [0.0]
    follower = TailFollower(settings, Progress(quiet=True), sleep=lambda s: None, monotonic=lambda: clock[0])
    assert follower.follow(900.0) == 0.0, "a gap goes to Bulk Extract at once"
    assert follower.follow(900.0) == 900.0, "a bulk pass that did not close the gap is not followed by another at once"
    bulk_pass(settings, follow_tail=True)  # closes the gap
    follower.sleep = lambda seconds: clock.__setitem__(0, clock[0] + seconds)
    passes = follower.passes
    assert follower.follow(600.0) < 600.0 and follower.passes >= passes + 3, "the tail polls again, paced"
