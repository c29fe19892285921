"""``marketo-stream sync``: one pass, or ``--follow`` forever; a readable summary; documented exit statuses."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import click

from marketo_stream.commands.config import CONFIG_OPTION
from marketo_stream.errors import ConfigError, MarketoStreamError
from marketo_stream.exit_codes import ExitStatus
from marketo_stream.marketo.errors import MarketoError, QuotaError
from marketo_stream.report import Progress
from marketo_stream.settings import load_settings
from marketo_stream.sink import ProducerFencedError, SinkError


def exit_status(exc: BaseException) -> tuple[ExitStatus, str]:
    """The exit status for an error, and what the operator should do next."""
    if isinstance(exc, QuotaError):
        return ExitStatus.QUOTA, f"{exc}\nNothing was lost. Run again after midnight US Central, when the quota resets."
    if isinstance(exc, ProducerFencedError):
        return (
            ExitStatus.FENCED,
            f"{exc}\nAnother marketo-stream with the same transactional id is running; this one stopped.",
        )
    if isinstance(exc, SinkError):
        return (
            ExitStatus.KAFKA,
            f"{exc}\nCheck the broker and Schema Registry (make status); state is consistent, rerun.",
        )
    if isinstance(exc, MarketoError):
        return ExitStatus.MARKETO, f"{exc}\nCheck the Marketo credentials, permissions and the request named above."
    if isinstance(exc, ConfigError):
        return ExitStatus.CONFIG, str(exc)
    if isinstance(exc, KeyboardInterrupt):
        return ExitStatus.INTERRUPTED, "interrupted; committed work is kept, the next run resumes"
    return ExitStatus.FAILED, f"{type(exc).__name__}: {exc}\nThis is a bug: please report it with the log."


@click.command("sync")
@CONFIG_OPTION
@click.option("--follow", is_flag=True, help="Keep syncing, pausing sync.follow_interval_seconds between passes.")
@click.option("--interval", type=float, default=None, help="Seconds between passes with --follow.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the summary.")
def sync_command(config_path: Path | None, follow: bool, interval: float | None, quiet: bool) -> None:
    """Bring the Kafka topics up to date with Marketo."""
    from marketo_stream.sync.runner import SyncRunner

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(config_path)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(ExitStatus.CONFIG) from exc
    progress = Progress(sys.stderr, quiet=quiet)
    runner = SyncRunner(settings, progress=progress)
    pause = interval if interval is not None else settings.sync.follow_interval_seconds
    try:
        while True:
            summary = runner.run_once()
            click.echo(summary.render())
            if not follow:
                return
            progress.step(f"next pass in {pause:.0f}s")
            time.sleep(pause)
    except (MarketoStreamError, KeyboardInterrupt, Exception) as exc:
        status, message = exit_status(exc)
        click.echo(f"error: {message}", err=True)
        raise SystemExit(status) from exc
    finally:
        runner.close()
