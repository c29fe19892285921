"""Client-credentials access tokens, fetched before they are needed and refreshed before they lapse.

Marketo hands back the *same* token with a shorter ``expires_in`` when asked again before expiry, so
refreshing "a minute early" cannot by itself produce a new token: once Marketo has answered with the
token we already hold, we keep it until it has actually expired instead of asking again on every call.
A 601/602 on an API call invalidates the token (the client then retries once with a fresh one).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import requests

from marketo_stream.marketo.clock import Clock
from marketo_stream.marketo.errors import BadCredentials, MarketoProtocolError
from marketo_stream.marketo.secrets import remember_secret

IDENTITY_PATH = "/identity/oauth/token"

Send = Callable[[str, str, dict[str, str]], requests.Response]
"""(endpoint label, URL, query parameters) → the identity answer; retries and counting live in the client."""


@dataclass(frozen=True, slots=True)
class Credentials:
    client_id: str
    client_secret: str

    def __repr__(self) -> str:
        return f"Credentials(client_id={self.client_id!r}, client_secret='***')"

    def __post_init__(self) -> None:
        remember_secret(self.client_secret)


class TokenSource:
    def __init__(self, credentials: Credentials, send: Send, clock: Clock, *, refresh_margin_seconds: float = 60.0):
        self._credentials = credentials
        self._send = send
        self._clock = clock
        self._margin = refresh_margin_seconds
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refresh_at = 0.0
        self.fetches = 0
        """Identity calls made so far (tests prove refreshes with it)."""

    def __repr__(self) -> str:
        return f"TokenSource(client_id={self._credentials.client_id!r})"

    def token(self) -> str:
        with self._lock:
            if self._token is None or self._clock.monotonic() >= self._refresh_at:
                self._fetch()
            assert self._token is not None
            return self._token

    def invalidate(self, token: str) -> None:
        """Marketo refused ``token`` (601/602): the next :meth:`token` asks identity again."""
        with self._lock:
            if token == self._token:
                self._refresh_at = 0.0

    def _fetch(self) -> None:
        params = {
            "grant_type": "client_credentials",
            "client_id": self._credentials.client_id,
            "client_secret": self._credentials.client_secret,
        }
        asked_at = self._clock.monotonic()
        response = self._send("GET", IDENTITY_PATH, params)
        self.fetches += 1
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code in (400, 401) or (isinstance(body, dict) and "error" in body):
            detail = body.get("error_description") or body.get("error") if isinstance(body, dict) else None
            raise BadCredentials(f"HTTP {response.status_code}", f"identity refused the credentials: {detail}")
        token = body.get("access_token") if isinstance(body, dict) else None
        expires_in = body.get("expires_in") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token or not isinstance(expires_in, int | float):
            raise MarketoProtocolError("protocol", "identity answer lacks access_token/expires_in")
        remember_secret(token)
        if token == self._token:
            # Marketo will not issue another before this one expires: use it up.
            self._refresh_at = asked_at + max(float(expires_in), 1.0)
        else:
            self._refresh_at = asked_at + max(float(expires_in) - self._margin, 0.0)
        self._token = token
