"""``marketo-stream sync``: one pass, or ``--follow`` forever; a readable summary; documented exit statuses."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import click

from marketo_stream.commands.common import echo, handled_errors, settings_or_exit
from marketo_stream.commands.config import CONFIG_OPTION
from marketo_stream.exit_codes import ExitStatus, outcome
from marketo_stream.report import Progress
from marketo_stream.settings import Settings

log = logging.getLogger("marketo_stream.sync")

TRANSIENT = frozenset({ExitStatus.QUOTA, ExitStatus.KAFKA, ExitStatus.MARKETO_UNAVAILABLE})
"""What ``--follow`` waits out: the world will be back (a broker, Marketo, tomorrow's quota). Everything else
(configuration, a refusal, fencing, a bug) ends it, as it ends a one-shot run."""

MAX_BACKOFF_S = 900.0


@click.command("sync")
@CONFIG_OPTION
@click.option("--follow", is_flag=True, help="Keep syncing, pausing sync.follow_interval_seconds between passes.")
@click.option("--interval", type=float, default=None, help="Seconds between passes with --follow.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the summary.")
def sync_command(config_path: Path | None, follow: bool, interval: float | None, quiet: bool) -> None:
    """Bring the Kafka topics up to date with Marketo."""
    settings = settings_or_exit(config_path)
    progress = Progress(sys.stderr, quiet=quiet)
    pause = interval if interval is not None else settings.sync.follow_interval_seconds
    with handled_errors():
        if follow:
            _follow(settings, progress, pause)
        else:
            _once(settings, progress)


def _once(settings: Settings, progress: Progress) -> None:
    from marketo_stream.sync.runner import SyncRunner

    runner = SyncRunner(settings, progress=progress)
    try:
        echo(runner.run_once().render())
    finally:
        runner.close()


def _follow(settings: Settings, progress: Progress, pause: float) -> None:
    """Passes for ever: a pass that fails for a transient reason is logged and retried after a growing pause;
    any other failure, or a signal, ends the loop with its status."""
    failures = 0
    while True:
        try:
            _once(settings, progress)
            failures = 0
            wait = pause
        except Exception as exc:
            status, message = outcome(exc)
            if status not in TRANSIENT:
                raise
            failures += 1
            wait = min(pause * 2 ** (failures - 1), max(pause, MAX_BACKOFF_S))
            log.error("pass failed (exit status %d would end a one-shot run): %s", status, message)
        progress.step(f"next pass in {wait:.0f}s")
        time.sleep(wait)
