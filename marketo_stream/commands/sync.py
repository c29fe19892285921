"""``marketo-stream sync``: one pass, or ``--follow`` forever; a readable summary, or the same as JSON; metrics;
documented exit statuses.

Each pass is a run with its own ``run_id`` (on every log line, and in the JSON summary). After each pass its
summary fills the metrics (``metrics.METRICS.record_run``): served on ``--metrics-port`` (or ``metrics.port``),
and written to ``metrics.textfile`` when set.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import click

from marketo_stream import logs
from marketo_stream.commands.common import echo, handled_errors, settings_or_exit
from marketo_stream.commands.config import CONFIG_OPTION
from marketo_stream.exit_codes import ExitStatus, outcome
from marketo_stream.metrics import METRICS, Metrics
from marketo_stream.redaction import redact
from marketo_stream.report import Progress, SyncSummary
from marketo_stream.settings import Settings

log = logging.getLogger("marketo_stream.sync")

TRANSIENT = frozenset({ExitStatus.QUOTA, ExitStatus.KAFKA, ExitStatus.MARKETO_UNAVAILABLE})
"""What ``--follow`` waits out: the world will be back (a broker, Marketo, tomorrow's quota). Everything else
(configuration, a refusal, fencing, a bug) ends it, as it ends a one-shot run."""

MAX_BACKOFF_S = 900.0


@dataclass(frozen=True)
class Outputs:
    """Where a pass's summary goes besides the metrics."""

    as_json: bool = False
    summary_path: Path | None = None
    metrics: Metrics = METRICS


@click.command("sync")
@CONFIG_OPTION
@click.option("--follow", is_flag=True, help="Keep syncing, pausing sync.follow_interval_seconds between passes.")
@click.option("--interval", type=float, default=None, help="Seconds between passes with --follow.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object on stdout instead of text.")
@click.option(
    "--summary-json",
    "summary_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write each pass's summary as JSON to this file (replaced atomically).",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Serve Prometheus metrics on this port at /metrics (default: setting metrics.port; none).",
)
def sync_command(
    config_path: Path | None,
    follow: bool,
    interval: float | None,
    quiet: bool,
    as_json: bool,
    summary_path: Path | None,
    metrics_port: int | None,
) -> None:
    """Bring the Kafka topics up to date with Marketo."""
    settings = settings_or_exit(config_path)
    progress = Progress(sys.stderr, quiet=quiet)
    pause = interval if interval is not None else settings.sync.follow_interval_seconds
    outputs = Outputs(as_json=as_json, summary_path=summary_path, metrics=METRICS)
    port = metrics_port if metrics_port is not None else settings.metrics.port
    with handled_errors():
        if port is not None:
            served = outputs.metrics.serve(port, settings.metrics.address)
            log.info("serving metrics on %s:%d/metrics", settings.metrics.address, served)
        if follow:
            _follow(settings, progress, pause, outputs)
        else:
            _pass(settings, progress, outputs)


def _pass(settings: Settings, progress: Progress, outputs: Outputs, *, follow_tail: bool = False) -> None:
    """One pass; one that fails still counts in the metrics (and the textfile), then the error goes on."""
    try:
        _once(settings, progress, outputs, follow_tail=follow_tail)
    except Exception:
        outputs.metrics.record_failure()
        if settings.metrics.textfile is not None:
            outputs.metrics.write_textfile(settings.metrics.textfile)
        raise


def _once(settings: Settings, progress: Progress, outputs: Outputs, *, follow_tail: bool = False) -> None:
    from marketo_stream.sync.runner import SyncRunner

    run_id = logs.current_run_id() or logs.new_run_id()
    runner = SyncRunner(settings, progress=progress, follow_tail=follow_tail)
    try:
        summary = runner.run_once()
    finally:
        runner.close()
    publish_summary(summary, run_id, settings, outputs)


def publish_summary(summary: SyncSummary, run_id: str, settings: Settings, outputs: Outputs) -> None:
    """The pass's summary: metrics first (so a scrape never lags the printout), then the file, then the text."""
    outputs.metrics.record_run(summary, settings.kafka.topic_prefix)
    if settings.metrics.textfile is not None:
        outputs.metrics.write_textfile(settings.metrics.textfile)
    data = {"run_id": run_id, **summary.as_json()}
    if outputs.summary_path is not None:
        _write_atomically(outputs.summary_path, json.dumps(data, indent=2) + "\n")
    if outputs.as_json:
        click.echo(redact(json.dumps(data)))
    else:
        echo(summary.render())


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as file:
        file.write(redact(text))
    os.replace(temporary, path)


def _follow(settings: Settings, progress: Progress, pause: float, outputs: Outputs) -> None:
    """Passes for ever: a pass that fails for a transient reason is logged and retried after a growing pause;
    any other failure, or a signal, ends the loop with its status."""
    from marketo_stream.sync.tail_loop import TailFollower

    tail = TailFollower(settings, progress) if settings.follow.tail else None
    failures = 0
    while True:
        with logs.run():  # each pass is a run of its own: its lines, its summary, its failure share one id
            try:
                _pass(settings, progress, outputs, follow_tail=tail is not None)
                failures = 0
                wait = pause if tail is None else tail.follow(pause)  # the streaming tail until the next bulk pass
            except Exception as exc:
                status, message = outcome(exc)
                if status not in TRANSIENT:
                    raise
                failures += 1
                wait = min(pause * 2 ** (failures - 1), max(pause, MAX_BACKOFF_S))
                log.error("pass failed (exit status %d would end a one-shot run): %s", status, message)
        progress.step(f"next pass in {wait:.0f}s")
        time.sleep(wait)
