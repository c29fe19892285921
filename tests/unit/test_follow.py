"""``sync --follow``: an outage is logged and waited out with a growing pause; anything else ends the loop with
its exit status, as it ends a one-shot run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from marketo_stream.cli import main
from marketo_stream.commands import sync as sync_command
from marketo_stream.errors import ConfigError
from marketo_stream.exit_codes import ExitStatus
from marketo_stream.marketo.errors import RetryableError
from marketo_stream.sink.errors import KafkaUnavailableError

ENV = {"MARKETO_STREAM_BASE_URL": "http://127.0.0.1:1", "MARKETO_STREAM_CLIENT_ID": "id",
       "MARKETO_STREAM_CLIENT_SECRET": "secret-value", "MARKETO_STREAM_FOLLOW__TAIL": "false"}  # fmt: skip


def test_follow_waits_out_outages_and_stops_on_anything_else(monkeypatch: pytest.MonkeyPatch) -> None:
    outcomes: Iterator[BaseException | None] = iter(
        [
            KafkaUnavailableError("b:9092", "connecting", 5, "refused", authentication=False),
            RetryableError("connection", "Marketo unreachable"),
            None,
            ConfigError("kafka.topic_prefix: refused"),
        ]
    )
    passes: list[str] = []
    pauses: list[float] = []

    def one_pass(*_: object, **__: object) -> None:
        passes.append("pass")
        failure = next(outcomes)
        if failure is not None:
            raise failure

    monkeypatch.setattr(sync_command, "_once", one_pass)
    monkeypatch.setattr(sync_command.time, "sleep", pauses.append)
    result = CliRunner().invoke(main, ["sync", "--follow", "--interval", "10"], env=ENV)

    assert result.exit_code == ExitStatus.CONFIG, result.output
    assert len(passes) == 4
    assert pauses == [10, 20, 10], "failed passes back off, a good one resets the pause"
