"""What every command shares: loading the settings, the logging options, and the one wrapper that sets logging
up and turns errors and signals into the documented exit statuses (``exit_codes.outcome``) with a message that
never carries a secret."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import FrameType

import click

from marketo_stream import logs
from marketo_stream.errors import Terminated
from marketo_stream.exit_codes import ExitStatus, outcome
from marketo_stream.redaction import redact
from marketo_stream.settings import LogSettings, Settings, load_settings

SIGNALLED = (ExitStatus.INTERRUPTED, ExitStatus.TERMINATED)

_META = "marketo_stream.log"
"""Key of the click context's ``meta`` (shared by a command and its group) holding the ``--log-*`` choices."""
_SETTINGS = "marketo_stream.log.settings"


def _remember(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        ctx.meta.setdefault(_META, {})[param.name] = value.lower()
    return value


def log_options() -> list[click.Option]:
    """``--log-level`` and ``--log-format``: the CLI adds them to every command (``cli.py``); they override the
    settings ``log.level`` and ``log.format`` (``MARKETO_STREAM_LOG__LEVEL``, ``MARKETO_STREAM_LOG__FORMAT``)."""
    return [
        click.Option(
            ["--log-level"],
            type=click.Choice(["debug", "info", "warning", "error", "critical"], case_sensitive=False),
            expose_value=False,
            callback=_remember,
            help="Least severe level logged to stderr (default: setting log.level, else warning).",
        ),
        click.Option(
            ["--log-format"],
            type=click.Choice(["text", "json"], case_sensitive=False),
            expose_value=False,
            callback=_remember,
            help="text, or json: one object per line with timestamp, level, logger, message, run_id, table, "
            "export_id (default: setting log.format, else text).",
        ),
    ]


def _context_meta() -> dict[str, object]:
    ctx = click.get_current_context(silent=True)
    return ctx.meta if ctx is not None else {}


def setup_logging() -> None:
    """Logging as the command line and the loaded settings (if any yet) say; the command line wins."""
    meta = _context_meta()
    chosen = meta.get(_META, {})
    configured = meta.get(_SETTINGS)
    base = configured if isinstance(configured, LogSettings) else LogSettings()
    assert isinstance(chosen, dict)
    level: logs.LogLevel = chosen.get("log_level", base.level)
    log_format: logs.LogFormat = chosen.get("log_format", base.format)
    logs.configure_logging(level, log_format)


def use_settings(settings: Settings) -> Settings:
    """Apply the settings' ``[log]`` section (under any ``--log-*`` option) from here on."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta[_SETTINGS] = settings.log
    setup_logging()
    return settings


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated(signum)


def install_signal_handlers() -> None:
    """SIGTERM raises ``Terminated`` in the main thread, as SIGINT raises KeyboardInterrupt: the open Kafka
    transaction is aborted (or left to the next run to abort) and the process exits 143."""
    signal.signal(signal.SIGTERM, _terminate)


def echo(text: str, *, err: bool = False) -> None:
    """``click.echo`` with secrets masked: every line the commands print goes through here."""
    click.echo(redact(text), err=err)


def settings_or_exit(config_path: Path | None) -> Settings:
    with handled_errors():
        return use_settings(load_settings(config_path))


@contextmanager
def handled_errors() -> Iterator[None]:
    """Every error becomes its documented exit status and a message on stderr.

    After a signal the process leaves at once (``os._exit``) once the message is out: worker threads still
    waiting on Marketo or Kafka must not hold the exit for their own timeouts, and the state in Kafka is
    consistent whatever they were doing (an uncommitted transaction is aborted by the next run).

    Logging is set up here (``--log-*`` options, then the ``[log]`` settings once loaded); a command's lines
    carry a run id, unless one is already set (``sync --follow`` sets one per pass).
    """
    setup_logging()
    install_signal_handlers()
    try:
        with ExitStack() as stack:
            if logs.current_run_id() is None:
                stack.enter_context(logs.run())
            yield
    except (SystemExit, click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
        raise
    except BaseException as exc:  # the one place where every error becomes a status
        status, message = outcome(exc)
        echo(f"error: {message}", err=True)
        if status in SIGNALLED:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
        raise SystemExit(status) from exc
