"""One mapping from error to exit status: every error the code raises on purpose has a documented status that
is not 1 ("a bug"), and the README's table lists every status."""

from __future__ import annotations

import importlib
import pkgutil
import re
import signal
from pathlib import Path

import pytest

import marketo_stream
from marketo_stream.bulk.errors import ExportVerificationError
from marketo_stream.errors import ConfigError, MarketoStreamError, Terminated
from marketo_stream.exit_codes import ExitStatus, outcome
from marketo_stream.marketo.errors import AccessDenied, BadCredentials, QuotaExceeded, RetryableError, TokenExpired
from marketo_stream.sink.errors import KafkaUnavailableError, RegistryUnavailableError

README = Path(__file__).resolve().parents[2] / "README.md"


def _all_error_types() -> list[type[BaseException]]:
    for module in pkgutil.walk_packages(marketo_stream.__path__, "marketo_stream."):
        if ".sandbox" not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    found: list[type[BaseException]] = []
    pending: list[type[BaseException]] = [MarketoStreamError]
    while pending:
        kind = pending.pop()
        found.append(kind)
        pending.extend(kind.__subclasses__())
    return [k for k in found if not k.__name__.startswith("_") and k.__module__.startswith("marketo_stream")]


@pytest.mark.parametrize("kind", _all_error_types(), ids=lambda k: k.__name__)
def test_every_error_of_ours_has_a_documented_status_other_than_bug(kind: type[BaseException]) -> None:
    error = kind.__new__(kind)
    status, _ = outcome(error)
    if kind is MarketoStreamError:
        assert status is ExitStatus.FAILED, "the bare base class is only ever a bug"
    else:
        assert status is not ExitStatus.FAILED, f"{kind.__name__} has no exit status of its own"


@pytest.mark.parametrize(
    ("error", "status", "says"),
    [
        (ConfigError("kafka.topic_prefix: too long"), ExitStatus.CONFIG, "kafka.topic_prefix"),
        (QuotaExceeded("607", "Daily quota reached"), ExitStatus.QUOTA, "midnight"),
        (BadCredentials("401", "Bad client credentials"), ExitStatus.MARKETO, "client_secret"),
        (RetryableError("connection", "host unreachable"), ExitStatus.MARKETO_UNAVAILABLE, "later"),
        (ExportVerificationError("activities", "e1", "checksum"), ExitStatus.MARKETO_UNAVAILABLE, "corrupt"),
        (KafkaUnavailableError("b:9092", "connecting", 30, "x", authentication=True), ExitStatus.KAFKA, "b:9092"),
        (RegistryUnavailableError("https://r", "listing", "refused"), ExitStatus.KAFKA, "https://r"),
        (KeyboardInterrupt(), ExitStatus.INTERRUPTED, "resumes"),
        (Terminated(15), ExitStatus.TERMINATED, "resumes"),
        (ValueError("surprise"), ExitStatus.FAILED, "bug"),
    ],
)
def test_each_failure_class_has_its_status_and_says_what_to_do(
    error: BaseException, status: ExitStatus, says: str
) -> None:
    found, message = outcome(error)
    assert found is status
    assert says in message


def test_a_signal_is_named_not_numbered() -> None:
    """Found by ``bench_realtime``, which stops ``sync --follow`` with SIGTERM: the message began "error: 15"."""
    _, message = outcome(Terminated(signal.SIGTERM))
    assert message.splitlines()[0] == "terminated by SIGTERM"


def test_a_refused_permission_names_the_endpoint() -> None:
    error = AccessDenied("603", "Access denied", "req-1")
    error.endpoint = "GET /rest/v1/opportunities.json"
    status, message = outcome(error)
    assert status is ExitStatus.MARKETO
    assert "GET /rest/v1/opportunities.json" in message and "permission" in message


def test_a_token_refused_again_after_a_fresh_one_is_not_called_a_missing_permission() -> None:
    """Found by the chaos suite (``make chaos``, fault "602 again after a fresh token")."""
    status, message = outcome(TokenExpired("602", "Access token expired", "req-2"))
    assert status is ExitStatus.MARKETO
    assert "fresh token" in message and "permission" not in message


def test_the_readme_table_lists_every_status() -> None:
    table = README.read_text().split("**Exit statuses**", 1)[1]
    documented = {int(m) for m in re.findall(r"^\| (\d+) \|", table, flags=re.MULTILINE)}
    assert documented == {int(s) for s in ExitStatus}
