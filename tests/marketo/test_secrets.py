"""The client secret and access tokens never reach a log line, an error message or a repr."""

from __future__ import annotations

import logging
import socket
import traceback
from datetime import UTC, datetime

import pytest

from marketo_stream.marketo.client import MarketoClient
from marketo_stream.marketo.errors import BadCredentials, MarketoError, RetryableError
from marketo_stream.marketo.secrets import redact
from marketo_stream.sandbox import Sandbox
from tests.marketo.support import TYPES, SandboxAdmin, SandboxClock, make_client


class InstantClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return 0.0

    def sleep(self, seconds: float) -> None:
        pass


def full_text(error: BaseException) -> str:
    return "".join(traceback.format_exception(error)) + repr(error)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_secret_and_token_stay_out_of_debug_logs_errors_and_reprs(
    sandbox: Sandbox, admin: SandboxAdmin, clock: SandboxClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(sandbox, clock)
    admin.fault("activities/types", code="608", times=1)
    admin.fault("activities/types", code="610", times=1, after=2)
    client.get(TYPES)  # identity (secret in its URL), a retried 608
    with pytest.raises(MarketoError) as failed:
        client.get(TYPES)
    token = client.tokens.token()

    shown = caplog.text + full_text(failed.value) + repr(client) + repr(client.tokens)
    assert "client_secret=***" in caplog.text, "urllib3 did log the identity URL, masked"
    assert sandbox.client_secret not in shown
    assert token not in shown


def test_bad_credentials_error_does_not_quote_the_secret(sandbox: Sandbox, clock: SandboxClock) -> None:
    wrong = "not-the-secret-0123456789"
    with pytest.raises(BadCredentials) as refused:
        make_client(sandbox, clock, secret=wrong).get(TYPES)
    assert refused.value.code == "HTTP 401"
    assert "Bad client credentials" in refused.value.message
    assert wrong not in full_text(refused.value)


def test_connection_errors_on_the_identity_url_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "s3cret-that-must-not-leak"
    client = MarketoClient(f"http://127.0.0.1:{closed_port()}", "id", secret, clock=InstantClock())
    with pytest.raises(RetryableError) as unreachable:
        client.get(TYPES)
    assert unreachable.value.code == "connection"
    assert "client_secret=***" in unreachable.value.message
    assert secret not in full_text(unreachable.value) + caplog.text


def test_redact_masks_query_parameters_bearer_headers_and_json_tokens() -> None:
    text = 'GET /x?client_secret=abc&access_token=def Authorization: Bearer ghi {"access_token": "jkl"}'
    assert redact(text) == 'GET /x?client_secret=***&access_token=*** Authorization: Bearer *** {"access_token": "***"}'
