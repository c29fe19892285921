"""``marketo-stream config``: the configuration's schema, validation, and a masked view of it."""

from __future__ import annotations

import json
from pathlib import Path

import click

from marketo_stream.commands.common import echo, settings_or_exit
from marketo_stream.connections import masked_settings
from marketo_stream.settings import Settings

CONFIG_OPTION = click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="MARKETO_STREAM_CONFIG",
    help="TOML configuration file (env: MARKETO_STREAM_CONFIG); environment variables override it.",
)


@click.group("config")
def config_group() -> None:
    """Inspect and check the configuration."""


@config_group.command("schema")
def schema() -> None:
    """Print the JSON Schema of every setting."""
    click.echo(json.dumps(Settings.model_json_schema(), indent=2))


@config_group.command("validate")
@CONFIG_OPTION
def validate(config_path: Path | None) -> None:
    """Check the configuration (file + environment); errors name the setting and the fix."""
    settings_or_exit(config_path)
    click.echo("configuration is valid")


@config_group.command("show")
@CONFIG_OPTION
def show(config_path: Path | None) -> None:
    """Print the effective configuration, secrets masked (passwords, tokens, keys, URL user-info)."""
    settings = settings_or_exit(config_path)
    echo(json.dumps(masked_settings(settings), indent=2, default=str))
