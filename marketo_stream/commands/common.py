"""What every command shares: loading the settings, and the one wrapper that turns errors and signals into the
documented exit statuses (``exit_codes.outcome``) with a message that never carries a secret."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import click

from marketo_stream.errors import Terminated
from marketo_stream.exit_codes import ExitStatus, outcome
from marketo_stream.logs import configure_logging
from marketo_stream.redaction import redact
from marketo_stream.settings import Settings, load_settings

SIGNALLED = (ExitStatus.INTERRUPTED, ExitStatus.TERMINATED)


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
        return load_settings(config_path)


@contextmanager
def handled_errors() -> Iterator[None]:
    """Every error becomes its documented exit status and a message on stderr.

    After a signal the process leaves at once (``os._exit``) once the message is out: worker threads still
    waiting on Marketo or Kafka must not hold the exit for their own timeouts, and the state in Kafka is
    consistent whatever they were doing (an uncommitted transaction is aborted by the next run).
    """
    configure_logging()
    install_signal_handlers()
    try:
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
