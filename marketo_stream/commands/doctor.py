"""``marketo-stream doctor``: a checklist of everything a sync needs, with the fix for each failure."""

from __future__ import annotations

import json
from pathlib import Path

import click

from marketo_stream.commands.common import handled_errors, use_settings
from marketo_stream.commands.config import CONFIG_OPTION
from marketo_stream.errors import ConfigError
from marketo_stream.operator.doctor import Category, Check, as_json, exit_status, render, run_checks
from marketo_stream.settings import load_settings


@click.command("doctor")
@CONFIG_OPTION
@click.option("--json", "as_json_output", is_flag=True, help="Print the checklist as JSON.")
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds each Kafka, registry and Marketo check may wait.",
)
def doctor_command(config_path: Path | None, as_json_output: bool, timeout_s: float) -> None:
    """Check the configuration, Marketo (credentials, each API permission, today's quota), Kafka (reachable,
    topic creation, transactions, the state topic) and the Schema Registry; print one line per check.

    Exit status: 0 all good; 2 configuration; 7 Marketo unreachable; 4 Marketo refused (credentials or a
    permission); 5 Kafka or the registry; 3 the daily quota is spent. When several fail, the first in that order
    wins.
    """
    from marketo_stream.sync.runner import sink_config

    with handled_errors():  # the checks report what they find; anything else is an error like any command's
        try:
            settings = use_settings(load_settings(config_path))
        except ConfigError as exc:
            fix = "run `marketo-stream config validate` and set what it names (file or MARKETO_STREAM_* variables)"
            checks = [Check("configuration", False, str(exc), Category.CONFIG, fix)]
        else:
            config = sink_config(settings)
            loaded = Check("configuration", True, "valid", Category.CONFIG)
            checks = [loaded, *run_checks(settings, config, timeout_s)]
        if as_json_output:
            click.echo(json.dumps(as_json(checks), indent=2, ensure_ascii=False))
        else:
            click.echo(render(checks))
    raise SystemExit(exit_status(checks))
