"""``marketo-stream replay``: re-extract one window of one table, leaving the sync's state alone."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from marketo_stream.commands.common import handled_errors, settings_or_exit
from marketo_stream.commands.config import CONFIG_OPTION
from marketo_stream.commands.state import YES_OPTION, not_confirmed
from marketo_stream.intervals import parse_instant
from marketo_stream.marketo.client import MarketoClient
from marketo_stream.operator import replay, replay_windows
from marketo_stream.operator.replay import check_replayable, replay_sink_config, window_between
from marketo_stream.operator.targets import resolve_table_with


def _instant(_: click.Context, param: click.Parameter, value: str) -> datetime:
    try:
        return parse_instant(value)
    except ValueError as exc:
        raise click.BadParameter(f"not an ISO-8601 instant: {value!r} (e.g. 2026-10-01T00:00:00Z)") from exc


@click.command("replay")
@CONFIG_OPTION
@click.option("--table", "table", required=True, help="An activity table (activity_<type>) or lead.")
@click.option("--since", required=True, callback=_instant, help="Window start (ISO-8601, inclusive).")
@click.option("--until", required=True, callback=_instant, help="Window end (ISO-8601, exclusive).")
@click.option("--to-topic", default=None, help="Publish to this topic (<prefix>.<name>) instead of the table's.")
@YES_OPTION
def replay_command(
    config_path: Path | None, table: str, since: datetime, until: datetime, to_topic: str | None, yes: bool
) -> None:
    """Export one window of TABLE again and publish it; the sync's state is not touched."""
    settings = settings_or_exit(config_path)
    with handled_errors():
        with MarketoClient.from_settings(settings.marketo) as client:
            target = resolve_table_with(table, client)
        check_replayable(target)
        window = window_between(since, until)
        windows = replay_windows(window, settings.sync.max_window_days)
        config, suffix = replay_sink_config(settings, to_topic)
        topic = config.topic(suffix) if suffix else f"{config.topic_prefix}.{target.name}"
        click.echo(
            f"replay {table} {window}: {len(windows)} bulk export(s) to topic {topic}, transactional id "
            f"{config.transactional_id}; the sync's state is not read for progress nor written"
        )
        if not yes:
            not_confirmed(f"replay {table}")
        result = replay(settings, target, window, to_topic=to_topic)
    click.echo(
        f"published {result.records:,} record(s) of {table} to {result.topic} from {result.exports} export(s) "
        f"({result.bulk_bytes / 1_000_000:.2f} MB)"
        + (f"; {result.rejected} row(s) did not fit" if result.rejected else "")
    )
