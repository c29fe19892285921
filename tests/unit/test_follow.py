"""``sync --follow``: an outage is logged and waited out with a growing pause, a spent daily quota waits for its
reset at midnight US Central, a pause ends at once when asked to, and anything else ends the loop with its exit
status, as it ends a one-shot run."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from marketo_stream.cli import main
from marketo_stream.commands import sync as sync_command
from marketo_stream.commands.follow import QUOTA_RESET_MARGIN_S, FollowLoop, seconds_to_quota_reset
from marketo_stream.errors import ConfigError
from marketo_stream.exit_codes import ExitStatus
from marketo_stream.marketo.errors import ExportQuotaExceeded, QuotaExceeded, RetryableError
from marketo_stream.report import Progress
from marketo_stream.sink.errors import KafkaUnavailableError

ENV = {"MARKETO_STREAM_BASE_URL": "http://127.0.0.1:1", "MARKETO_STREAM_CLIENT_ID": "id",
       "MARKETO_STREAM_CLIENT_SECRET": "secret-value", "MARKETO_STREAM_FOLLOW__TAIL": "false"}  # fmt: skip

MARKETO_NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
"""09:00 in Chicago (UTC-6 in November): the quota resets 15 hours later."""


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
    monkeypatch.setattr(FollowLoop, "sleep", lambda _, seconds, why: pauses.append(seconds))
    result = CliRunner().invoke(main, ["sync", "--follow", "--interval", "10"], env=ENV)

    assert result.exit_code == ExitStatus.CONFIG, result.output
    assert len(passes) == 4
    assert pauses == [10, 20, 10], "failed passes back off, a good one resets the pause"


@pytest.mark.parametrize(
    "spent", [QuotaExceeded("607", "daily call budget reached"), ExportQuotaExceeded("1029", "Export daily quota")]
)
def test_a_spent_quota_waits_for_midnight_us_central(spent: Exception) -> None:
    outcomes: Iterator[BaseException | None] = iter([spent, None, ConfigError("enough")])
    pauses: list[tuple[float, str]] = []

    def one_pass() -> None:
        failure = next(outcomes)
        if failure is not None:
            raise failure

    loop = FollowLoop(
        one_pass, 60.0, Progress(quiet=True), lambda: MARKETO_NOW, wait=lambda s, why: pauses.append((s, why))
    )
    with pytest.raises(ConfigError):
        loop.run()

    assert pauses[0] == (15 * 3600 + QUOTA_RESET_MARGIN_S, "Marketo's daily quota resets at midnight US Central")
    assert pauses[1][0] == 60.0, "after the reset, the usual interval"


def test_the_reset_follows_daylight_saving_time() -> None:
    summer = datetime(2026, 7, 1, 4, 0, tzinfo=UTC)  # 23:00 in Chicago (UTC-5)
    assert seconds_to_quota_reset(summer) == 3600 + QUOTA_RESET_MARGIN_S


def test_a_pause_ends_at_once_when_the_loop_is_stopped() -> None:
    loop = FollowLoop(lambda: None, 3600.0, Progress(quiet=True))
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    time.sleep(0.2)  # the first pass is done and the hour's pause has begun
    loop.stop()
    thread.join(timeout=5)
    assert not thread.is_alive(), "stop ends the pause instead of sleeping an hour"
