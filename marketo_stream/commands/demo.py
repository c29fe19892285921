"""``marketo-stream demo``: the whole product in one command, against the bundled sandbox instead of Marketo.

It starts a sandbox Marketo in this process, syncs it into the configured Kafka and Schema Registry (the local
ones by default: ``make up``), prints the summary, then lets the sandbox's world move on a few days and syncs
again, so that the second summary shows an incremental run: new activities, changed and deleted leads.

The sandbox's clock starts ``--days`` before the machine's now, so that the second sync reaches the machine's
now, as a sync of a real instance would: the topics' event times end today, which is what someone looking at
them (or a consumer judging retention by its own clock) expects, and none is in the future, which the broker
refuses (``log.message.timestamp.after.max.ms``). The world is made relative to its start, so every run shows
the same world; ``--start`` pins the instant as well, for a byte-identical rerun.
"""

from __future__ import annotations

import os
import sys
import uuid
from datetime import UTC, datetime, timedelta

import click
import requests

from marketo_stream.commands.common import echo, handled_errors
from marketo_stream.intervals import format_instant, parse_instant
from marketo_stream.report import Progress
from marketo_stream.sandbox import Sandbox, SandboxConfig
from marketo_stream.settings import load_settings

WORLD_HISTORY_DAYS = 200
"""Longer than the history of the sandbox's demo world (180 days)."""


@click.command("demo")
@click.option("--scale", type=click.Choice(["tiny", "small", "demo"]), default="demo", show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--days", type=int, default=3, show_default=True, help="Simulated days between the two syncs.")
@click.option("--prefix", default=None, help="Topic prefix (default: demo-<random>).")
@click.option(
    "--start", default="", help="The sandbox's simulated now at start (ISO-8601).  [default: --days before now]"
)
def demo_command(scale: str, seed: int, days: int, prefix: str | None, start: str) -> None:
    """Sync a simulated Marketo instance into Kafka, twice, and print what was published."""
    from marketo_stream.sync.runner import SyncRunner

    prefix = prefix or f"demo-{uuid.uuid4().hex[:6]}"
    start = start or format_instant(datetime.now(UTC) - timedelta(days=days))
    try:
        config = SandboxConfig(
            seed=seed, scale=scale, start=start, clock_speed=0.0, status_refresh_seconds=0.0,
            job_duration_seconds=0.0, rate_limit_calls=1000,
        )  # fmt: skip
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--start") from exc
    progress = Progress(sys.stderr)
    progress.step(f"starting a sandbox Marketo ({scale} world, seed {seed})")
    with handled_errors(), Sandbox(config).start() as sandbox:  # a sandbox that cannot start is an error like any
        env = {
            "MARKETO_STREAM_BASE_URL": sandbox.url,
            "MARKETO_STREAM_CLIENT_ID": sandbox.client_id,
            "MARKETO_STREAM_CLIENT_SECRET": sandbox.client_secret,
            "MARKETO_STREAM_KAFKA__TOPIC_PREFIX": prefix,
            "MARKETO_STREAM_MARKETO__POLL_INTERVAL_SECONDS": "0.05",
            "MARKETO_STREAM_SYNC__WORK_DIR": f".local/demo/{prefix}",
            # the sandbox's world begins some months before its clock: no need to look further back
            "MARKETO_STREAM_SYNC__START_DATE": _world_start(sandbox.url),
        }
        settings = load_settings(None, {**_kafka_env(), **env})
        runner = SyncRunner(settings, progress=progress)
        try:
            echo(f"\n== first sync into topics {prefix}.* ==")
            echo(runner.run_once().render())
            requests.post(f"{sandbox.url}/_sandbox/clock", json={"advance_seconds": days * 86400}, timeout=60)
            echo(f"\n== {days} simulated days later: second sync ==")
            echo(runner.run_once().render())
        finally:
            runner.close()
    click.echo(
        f"\nTopics: {prefix}.* on {settings.kafka.bootstrap_servers}; schemas in {settings.kafka.schema_registry_url}."
        "\nStop the local Kafka and registry with `make down`."
    )


def _world_start(url: str) -> str:
    now = parse_instant(requests.get(f"{url}/_sandbox/clock", timeout=30).json()["now"])
    return format_instant(now - timedelta(days=WORLD_HISTORY_DAYS))


def _kafka_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith("MARKETO_STREAM_")}
