"""``marketo-stream resync TABLE``: reset a table's state and sync, after showing what it will cost."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from marketo_stream.commands.common import handled_errors, settings_or_exit
from marketo_stream.commands.config import CONFIG_OPTION
from marketo_stream.commands.state import FENCES, YES_OPTION, not_confirmed
from marketo_stream.marketo.client import MarketoClient
from marketo_stream.operator import estimate_resync, plan_reset, read_sync_state, reset_table
from marketo_stream.operator.targets import resolve_table_with
from marketo_stream.report import Progress


@click.command("resync")
@CONFIG_OPTION
@click.argument("table")
@YES_OPTION
@click.option("--quiet", "-q", is_flag=True, help="Print only the plan and the summary.")
def resync_command(config_path: Path | None, table: str, yes: bool, quiet: bool) -> None:
    """Extract TABLE again from Marketo: prints the estimated API calls and bulk MB; proceeds only with --yes."""
    from marketo_stream.sync.runner import SyncRunner

    settings = settings_or_exit(config_path)
    with handled_errors():
        with MarketoClient.from_settings(settings.marketo) as client:
            target = resolve_table_with(table, client)
            states = read_sync_state(settings)
            click.echo("\n".join(plan_reset(target, states).describe()))
            click.echo("\n".join(estimate_resync(settings, target, states, client).describe(settings)))
        click.echo(FENCES)
        if not yes:
            not_confirmed(f"reset {table} and sync")
        reset_table(settings, target)
        runner = SyncRunner(settings, progress=Progress(sys.stderr, quiet=quiet))
        try:
            click.echo(runner.run_once().render())
        finally:
            runner.close()
