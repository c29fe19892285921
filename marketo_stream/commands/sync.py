"""``marketo-stream sync``: one pass, or ``--follow`` forever; a readable summary, or the same as JSON; metrics;
documented exit statuses.

Each pass is a run with its own ``run_id`` (on every log line, and in the JSON summary). After each pass its
summary fills the metrics (``metrics.METRICS.record_run``): served on ``--metrics-port`` (or ``metrics.port``),
and written to ``metrics.textfile`` when set.

``--follow`` runs its passes with one ``SyncRunner``: one Marketo client (its rate window and token carry over),
one bulk exporter (what it learned of today's export volume), and one sink, so one transactional producer and
one registry client for the life of the process; each pass reads the committed state again (one short read of
the compacted state topic). The loop itself, its pauses and what a failure leads to are ``commands.follow``'s.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from marketo_stream import logs
from marketo_stream.commands.common import echo, handled_errors, settings_or_exit
from marketo_stream.commands.config import CONFIG_OPTION
from marketo_stream.commands.follow import TRANSIENT, FollowLoop, Wait
from marketo_stream.exit_codes import ExitStatus, outcome
from marketo_stream.metrics import METRICS, Metrics
from marketo_stream.redaction import redact
from marketo_stream.report import Progress, SyncSummary
from marketo_stream.settings import Settings

if TYPE_CHECKING:
    from marketo_stream.sync.runner import SyncRunner

log = logging.getLogger("marketo_stream.sync")


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
    progress = Progress(sys.stderr, quiet=quiet, interval_seconds=settings.log.progress_interval_seconds)
    pause = interval if interval is not None else settings.sync.follow_interval_seconds
    outputs = Outputs(as_json=as_json, summary_path=summary_path, metrics=METRICS)
    port = metrics_port if metrics_port is not None else settings.metrics.port
    outputs.metrics.follow_progress(progress.news_at)
    with handled_errors(), progress:
        if port is not None:
            served = outputs.metrics.serve(port, settings.metrics.address)
            log.info("serving metrics on %s:%d/metrics", settings.metrics.address, served)
        runner = make_runner(settings, progress, follow_tail=follow and settings.follow.tail)
        try:
            if follow:
                follow_loop(runner, settings, progress, pause, outputs).run()
            else:
                _pass(runner, settings, outputs)
        finally:
            runner.close()


def make_runner(settings: Settings, progress: Progress, *, follow_tail: bool = False) -> SyncRunner:
    from marketo_stream.sync.runner import SyncRunner

    return SyncRunner(settings, progress=progress, follow_tail=follow_tail)


def follow_loop(
    runner: SyncRunner, settings: Settings, progress: Progress, pause: float, outputs: Outputs
) -> FollowLoop:
    """The ``--follow`` loop over one runner (a tail between passes plugs in as the loop's ``wait``)."""

    def marketo_now() -> datetime:
        return runner.client.server_now() or datetime.now(UTC)

    loop = FollowLoop(lambda: _pass(runner, settings, outputs), pause, progress, marketo_now)
    if settings.follow.tail:  # the runner was made with follow_tail then
        loop.wait = tail_wait(runner, settings, progress, loop, outputs)
    return loop


def tail_wait(runner: SyncRunner, settings: Settings, progress: Progress, loop: FollowLoop, outputs: Outputs) -> Wait:
    """The pause between bulk passes spent streaming recent activities (``sync.tail_loop``), on the runner's own
    Marketo client and sink: still one producer and one registry client. A tail that fails for a reason the world
    will get over (or a spent quota) leaves the rest of the pause to an ordinary sleep and the next bulk pass.
    Each tail pass's records, calls and freshness go to the metrics (and the textfile) as it ends."""
    from marketo_stream.sync.tail import TailResult
    from marketo_stream.sync.tail_loop import TailFollower

    def counted(result: TailResult) -> None:
        if result.figures is not None:
            outputs.metrics.record_tail_pass(result.figures, settings.kafka.topic_prefix)
            if settings.metrics.textfile is not None:
                outputs.metrics.write_textfile(settings.metrics.textfile)

    tail = TailFollower(settings, progress, client=runner.client, sink=runner.sink, on_pass=counted)

    def wait(seconds: float, why: str) -> None:
        try:
            left = tail.follow(seconds)
        except Exception as exc:
            status, message = outcome(exc)
            if status not in TRANSIENT and status != ExitStatus.QUOTA:
                raise
            log.error("tail stopped (exit status %d would end a one-shot run): %s", status, message)
            left = seconds
        loop.sleep(left, why)

    return wait


def _pass(runner: SyncRunner, settings: Settings, outputs: Outputs) -> None:
    """One pass; one that fails still counts in the metrics (and the textfile), then the error goes on."""
    try:
        _once(runner, settings, outputs)
    except Exception:
        outputs.metrics.record_failure()
        if settings.metrics.textfile is not None:
            outputs.metrics.write_textfile(settings.metrics.textfile)
        raise


def _once(runner: SyncRunner, settings: Settings, outputs: Outputs) -> None:
    run_id = logs.current_run_id() or logs.new_run_id()
    summary = runner.run_once()
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
