"""The command line: parse, delegate, map outcomes to exit statuses. No logic lives here."""

from __future__ import annotations

import click

from marketo_stream import __version__
from marketo_stream.commands.common import log_options
from marketo_stream.commands.config import config_group
from marketo_stream.commands.demo import demo_command
from marketo_stream.commands.doctor import doctor_command
from marketo_stream.commands.health import health_command
from marketo_stream.commands.replay import replay_command
from marketo_stream.commands.resync import resync_command
from marketo_stream.commands.state import state_group
from marketo_stream.commands.sync import sync_command
from marketo_stream.sandbox.command import sandbox_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="marketo-stream")
def main() -> None:
    """Keep Kafka topics in step with an Adobe Marketo instance.

    Activities come through Marketo's Bulk Extract API, newest first; entities through the REST API.
    Every table is published as Avro with its schema in a Schema Registry, deletes as tombstones,
    and the sync state is committed to a compacted topic together with the records.
    """


main.add_command(config_group)
main.add_command(sync_command)
main.add_command(doctor_command)
main.add_command(state_group)
main.add_command(resync_command)
main.add_command(replay_command)
main.add_command(health_command)
main.add_command(sandbox_command)
main.add_command(demo_command)


def _with_log_options(command: click.Command) -> None:
    """Every command takes ``--log-level`` and ``--log-format`` (groups pass them on to their commands)."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _with_log_options(sub)
    else:
        command.params.extend(log_options())


_with_log_options(main)
