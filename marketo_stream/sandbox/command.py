"""``marketo-stream sandbox``: serve a local Marketo until interrupted and print how to reach it."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

import click

from marketo_stream.sandbox.config import SandboxConfig, load_mapping
from marketo_stream.sandbox.faults import parse_rules
from marketo_stream.sandbox.permissions import PERMISSIONS
from marketo_stream.sandbox.server import Sandbox
from marketo_stream.sandbox.timefmt import iso_z
from marketo_stream.sandbox.world.scale import SCALES

_File = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option("--port", type=int, default=0, help="Port to bind; 0 picks a free one.  [default: 0]")
@click.option("--seed", type=int, help="Seed of the deterministic world.  [default: 1]")
@click.option("--scale", type=click.Choice(sorted(SCALES)), help="World size.  [default: small]")
@click.option("--start", help="Simulated time at start (ISO-8601).  [default: the machine's now]")
@click.option("--clock-speed", type=float, help="Simulated seconds per real second; 0 freezes.  [default: 1]")
@click.option("--config", "config_file", type=_File, help="JSON or TOML file of SandboxConfig settings.")
@click.option("--faults", "faults_file", type=_File, help="JSON or TOML file of fault rules.")
@click.option("--client-id", help="Client id to accept (default: derived from the seed).")
@click.option("--client-secret", help="Client secret to accept (default: derived from the seed).")
@click.option("--token-ttl", "token_ttl_seconds", type=int, help="Access token lifetime, seconds.  [default: 3600]")
@click.option("--rate-limit", "rate_limit_calls", type=int, help="Calls per rate window.  [default: 100]")
@click.option("--rate-window", "rate_limit_window_seconds", type=float, help="Rate window, seconds.  [default: 20]")
@click.option("--concurrency", "concurrency_limit", type=int, help="Calls in flight.  [default: 10]")
@click.option("--daily-quota", type=int, help="Calls per day (Chicago).  [default: 50000]")
@click.option("--export-quota-mb", "export_daily_quota_mb", type=float, help="Export MB per day.  [default: 500]")
@click.option("--status-refresh", "status_refresh_seconds", type=float, help="Job status tick, seconds.  [default: 60]")
@click.option("--job-seconds", "job_duration_seconds", type=float, help="Export job duration.  [default: 120]")
@click.option(
    "--deny-permission",
    "denied_permissions",
    type=click.Choice(PERMISSIONS),
    multiple=True,
    help="A permission the API user's role lacks: its calls answer 603 Access denied (repeatable).",
)
def sandbox_command(config_file: Path | None, faults_file: Path | None, **options: Any) -> None:
    """Serve a local Marketo (REST, Asset, Bulk Extract and identity APIs) on loopback until interrupted.

    The world is seeded and deterministic; the /_sandbox/ admin endpoints move its clock, script faults and tell
    the ground truth (see the README, "Using the sandbox in your own tests").
    """
    settings = load_mapping(config_file) if config_file else {}
    settings.update({k: v for k, v in options.items() if v is not None and v != ()})
    if faults_file:
        settings["faults"] = [*parse_rules(settings.get("faults", [])), *parse_rules(load_mapping(faults_file))]
    try:
        config = SandboxConfig.from_mapping(settings)
        sandbox = Sandbox(config).start()
    except (ValueError, OSError) as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(f"Marketo sandbox at {sandbox.url} (seed {config.seed}, scale {config.scale})")
    click.echo(f"  client id:     {sandbox.client_id}")
    click.echo(f"  client secret: {sandbox.client_secret}")
    if config.denied_permissions:
        click.echo(f"  role lacks:    {', '.join(config.denied_permissions)}")
    click.echo(f"  simulated now: {iso_z(sandbox.state.clock.now())}  (admin: {sandbox.url}/_sandbox/clock)")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
