"""``marketo-stream health``: a liveness probe for ``sync --follow`` (Docker HEALTHCHECK, Kubernetes exec probe).

It asks the process's own metrics endpoint: an answer means the process is up; with ``--max-age`` it also
checks that the sync had news recently: a pass ended (``marketo_stream_last_run_timestamp_seconds``) or the running
pass moved on (``marketo_stream_last_progress_timestamp_seconds``: a milestone, an export job's poll, rows
committed, a wait begun), so a loop that hangs is restarted and a first sync of several hours is not.
Exit status 0 healthy, 1 not (Docker's convention for health checks).
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import click

from marketo_stream.metrics import stale


@click.command("health")
@click.option(
    "--url",
    default="http://127.0.0.1:9464/metrics",
    show_default=True,
    help="The metrics endpoint of the sync to check (sync --follow --metrics-port).",
)
@click.option(
    "--max-age",
    type=click.FloatRange(min=1),
    default=None,
    help="Unhealthy when the sync had no news (a pass ended, or the running one moved on) for this many seconds; "
    "keep it above the pause between passes and Marketo's job poll interval.",
)
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0.1), default=5.0, show_default=True)
def health_command(url: str, max_age: float | None, timeout_s: float) -> None:
    """Exit 0 when the sync serving URL is alive (and, with --max-age, made progress recently); else 1."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            text = response.read().decode("utf-8")
    except (OSError, urllib.error.URLError) as exc:
        click.echo(f"unhealthy: {url} did not answer: {exc}", err=True)
        raise SystemExit(1) from exc
    reason = stale(text, time.time(), max_age) if max_age is not None else None
    if reason is not None:
        click.echo(f"unhealthy: {reason}", err=True)
        raise SystemExit(1)
    click.echo("healthy")
