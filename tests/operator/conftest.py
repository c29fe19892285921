"""A world synced twice (a tiny sandbox, the real broker and registry) with column policies set, shared by the
operator tests that only read it; tests that change state sync a world of their own (``synced_world_factory``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner, Result
from confluent_kafka.admin import AdminClient

from marketo_stream.cli import main
from marketo_stream.sandbox import Sandbox, SandboxConfig
from marketo_stream.settings import Settings, load_settings
from marketo_stream.sync.runner import SyncRunner
from tests.conftest import SANDBOX_TEST_SETTINGS

HASH_SECRET = "operator-test-hmac-key"
BLOCKED_LEAD_COLUMN = "phone"
HASHED_LEAD_COLUMNS = ("email", "id")
"""``id`` is the lead table's key: hashed keys must still pair every tombstone with its records."""

POLICIES = f"""
[block]
columns = {{ lead = ["{BLOCKED_LEAD_COLUMN}"] }}

[hash]
columns = {{ lead = {list(HASHED_LEAD_COLUMNS)!r} }}
secret = "{HASH_SECRET}"
""".replace("'", '"')


@dataclass
class World:
    sandbox: Sandbox
    prefix: str
    config: Path
    settings: Settings

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(main, [*args, "-c", str(self.config)], env={}, catch_exceptions=False)

    def sync(self) -> None:
        runner = SyncRunner(self.settings)
        try:
            runner.run_once()
        finally:
            runner.close()

    def advance(self, days: float) -> None:
        answer = requests.post(f"{self.sandbox.url}/_sandbox/clock", json={"advance_seconds": days * 86400}, timeout=30)
        answer.raise_for_status()

    def topic(self, table: str) -> str:
        return f"{self.prefix}.{table}"


def world_config(sandbox: Sandbox, prefix: str, work: Path, bootstrap: str, registry: str) -> str:
    return f"""
[marketo]
base_url = "{sandbox.url}"
client_id = "{sandbox.client_id}"
client_secret = "{sandbox.client_secret}"
poll_interval_seconds = 0.01
window_seconds = 0.2

[kafka]
bootstrap_servers = "{bootstrap}"
schema_registry_url = "{registry}"
topic_prefix = "{prefix}"

[sync]
work_dir = "{work}"
start_date = 2026-01-01T00:00:00Z
{POLICIES}"""


@pytest.fixture(scope="package")
def synced_world_factory(
    bootstrap_servers: str, registry_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[], World]]:
    """Worlds synced, the clock advanced 10 days, synced again; their sandboxes and topics go afterwards."""
    made: list[World] = []

    def make() -> World:
        sandbox = Sandbox(
            SandboxConfig.from_mapping({**SANDBOX_TEST_SETTINGS, "scale": "tiny", "rate_limit_calls": 100_000})
        ).start()
        prefix = f"op{uuid.uuid4().hex[:8]}"
        home = tmp_path_factory.mktemp(prefix)
        config = home / "marketo-stream.toml"
        config.write_text(world_config(sandbox, prefix, home / "work", bootstrap_servers, registry_url))
        world = World(sandbox, prefix, config, load_settings(config, {}))
        made.append(world)
        world.sync()
        world.advance(10)
        world.sync()
        return world

    yield make
    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    for world in made:
        world.sandbox.stop()
        topics = [t for t in admin.list_topics(timeout=30).topics if t.startswith(world.prefix + ".")]
        for future in admin.delete_topics(topics).values() if topics else ():
            future.exception(30)


@pytest.fixture(scope="package")
def world(synced_world_factory: Callable[[], World]) -> World:
    """The shared world: tests using it must leave its state and topics as they found them."""
    return synced_world_factory()
