"""Token bookkeeping (pure: the identity call is a scripted function)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import requests

from marketo_stream.marketo.auth import Credentials, TokenSource
from marketo_stream.marketo.errors import BadCredentials


class ManualClock:
    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


def answer(status: int, body: dict[str, object]) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode()
    return response


class Identity:
    """Marketo's rule: the same token until it expires, with the remaining lifetime."""

    def __init__(self, clock: ManualClock, ttl: int = 3600) -> None:
        self.clock, self.ttl, self.issued, self.calls = clock, ttl, 0, 0
        self.expires = -1.0

    def __call__(self, method: str, path: str, params: dict[str, str]) -> requests.Response:
        self.calls += 1
        if params["client_secret"] != "right":
            return answer(401, {"error": "invalid_client", "error_description": "Bad client credentials"})
        if self.clock.t >= self.expires:
            self.issued += 1
            self.expires = self.clock.t + self.ttl
        return answer(200, {"access_token": f"token-{self.issued}", "expires_in": int(self.expires - self.clock.t)})


def test_a_token_is_reused_until_the_refresh_margin_then_used_up_then_replaced() -> None:
    clock = ManualClock()
    identity = Identity(clock)
    tokens = TokenSource(Credentials("id", "right"), identity, clock, refresh_margin_seconds=60)
    assert tokens.token() == "token-1"
    clock.t = 3000
    assert tokens.token() == "token-1" and identity.calls == 1
    clock.t = 3550
    assert tokens.token() == "token-1" and identity.calls == 2, "asked early, got the same token"
    clock.t = 3590
    assert tokens.token() == "token-1" and identity.calls == 2, "not asked again before it expires"
    clock.t = 3600
    assert tokens.token() == "token-2"


def test_invalidating_the_current_token_asks_identity_again() -> None:
    clock = ManualClock()
    identity = Identity(clock)
    tokens = TokenSource(Credentials("id", "right"), identity, clock)
    first = tokens.token()
    tokens.invalidate("some-older-token")
    tokens.token()
    assert identity.calls == 1
    tokens.invalidate(first)
    tokens.token()
    assert identity.calls == 2


def test_refused_credentials_raise_bad_credentials() -> None:
    clock = ManualClock()
    with pytest.raises(BadCredentials) as raised:
        TokenSource(Credentials("id", "wrong"), Identity(clock), clock).token()
    assert raised.value.code == "HTTP 401"


def test_credentials_never_print_their_secret() -> None:
    assert "right" not in repr(Credentials("id", "right"))
