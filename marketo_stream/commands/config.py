"""``marketo-stream config``: the configuration's schema, validation, and a masked view of it."""

from __future__ import annotations

import json
from pathlib import Path

import click

from marketo_stream.errors import ConfigError
from marketo_stream.exit_codes import ExitStatus
from marketo_stream.settings import Settings, load_settings

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
    try:
        load_settings(config_path)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(ExitStatus.CONFIG) from exc
    click.echo("configuration is valid")


@config_group.command("show")
@CONFIG_OPTION
def show(config_path: Path | None) -> None:
    """Print the effective configuration, secrets masked."""
    try:
        settings = load_settings(config_path)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(ExitStatus.CONFIG) from exc
    click.echo(json.dumps(settings.model_dump(mode="json"), indent=2, default=str))
