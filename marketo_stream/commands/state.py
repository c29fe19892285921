"""``marketo-stream state``: show the sync state without disturbing a running sync, reset one table's state.

Also the pieces the operator commands share: ``--yes`` and what happens without it.
Without ``--yes`` a command that would change something prints what it would do, changes nothing and exits
with ``NOT_CONFIRMED`` (2), so that a script that forgot ``--yes`` never goes on as if it had been done.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from marketo_stream.commands.common import handled_errors, settings_or_exit
from marketo_stream.commands.config import CONFIG_OPTION
from marketo_stream.exit_codes import ExitStatus
from marketo_stream.marketo.client import MarketoClient
from marketo_stream.operator import plan_reset, read_sync_state, render_state, reset_table, state_as_json
from marketo_stream.operator.targets import resolve_table_with

NOT_CONFIRMED = ExitStatus.CONFIG
FENCES = (
    "this writes with the sync's transactional id: a sync running now is fenced (it stops, and restarted it "
    "reads the new state)"
)

YES_OPTION = click.option("--yes", is_flag=True, help="Do it; without --yes only print what would be done.")


def not_confirmed(what: str) -> None:
    click.echo(f"nothing changed: run again with --yes to {what}")
    raise SystemExit(NOT_CONFIRMED)


@click.group("state")
def state_group() -> None:
    """Inspect and reset the sync state kept in Kafka."""


@state_group.command("show")
@CONFIG_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the state documents as JSON.")
def show(config_path: Path | None, as_json: bool) -> None:
    """Print the committed sync state (read only: safe while a sync runs)."""
    settings = settings_or_exit(config_path)
    with handled_errors():
        states = read_sync_state(settings)
    click.echo(json.dumps(state_as_json(states), indent=2) if as_json else render_state(states))


@state_group.command("reset")
@CONFIG_OPTION
@click.argument("table")
@YES_OPTION
def reset(config_path: Path | None, table: str, yes: bool) -> None:
    """Forget TABLE's progress so that the next sync extracts it again."""
    settings = settings_or_exit(config_path)
    with handled_errors(), MarketoClient.from_settings(settings.marketo) as client:
        target = resolve_table_with(table, client)
        if not yes:
            click.echo("\n".join(plan_reset(target, read_sync_state(settings)).describe()))
            click.echo(FENCES)
            not_confirmed(f"reset {table}")
        plan = reset_table(settings, target)
    click.echo("\n".join(plan.describe()))
    click.echo("state reset" if not plan.empty else "nothing to reset")
