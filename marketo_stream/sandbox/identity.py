"""Client-credentials tokens as Marketo issues them: one live token per client id, reused until it expires.

The first use of an expired token answers 602, every later use 601 (the token is then forgotten), as Marketo's
error-handling notes describe.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from typing import Any

from marketo_stream.sandbox.clock import SimClock
from marketo_stream.sandbox.envelope import ApiError


@dataclasses.dataclass
class _Token:
    client_id: str
    expires_at: float
    expiry_reported: bool = False


class TokenStore:
    def __init__(self, clock: SimClock, ttl_seconds: int, clients: dict[str, str], scope: str) -> None:
        self._clock = clock
        self._ttl = ttl_seconds
        self._clients = dict(clients)
        self._scope = scope
        self._tokens: dict[str, _Token] = {}
        self._live: dict[str, str] = {}
        self._lock = threading.Lock()

    def issue(self, client_id: str, client_secret: str) -> dict[str, Any] | None:
        """The identity answer, or None when the credentials are wrong (HTTP 401)."""
        if not client_id or self._clients.get(client_id) != client_secret:
            return None
        now = self._clock.now()
        with self._lock:
            current = self._live.get(client_id)
            token = self._tokens.get(current) if current else None
            if current is None or token is None or token.expires_at <= now:
                current = f"{uuid.uuid4()}:sb"
                token = _Token(client_id, now + self._ttl)
                self._tokens[current] = token
                self._live[client_id] = current
            remaining = max(0, int(token.expires_at - now))
        return {"access_token": current, "token_type": "bearer", "expires_in": remaining, "scope": self._scope}

    def expire(self, access_token: str) -> None:
        """The token's lifetime ends now (a scripted fault), as if its hour were up."""
        with self._lock:
            token = self._tokens.get(access_token)
            if token is not None:
                token.expires_at = min(token.expires_at, self._clock.now())

    def client_of(self, access_token: str | None) -> str:
        """The client id owning a usable token; raises 603 (none), 602 (first use after expiry) or 601."""
        if not access_token:
            raise ApiError("603")
        with self._lock:
            token = self._tokens.get(access_token)
            if token is None:
                raise ApiError("601")
            if token.expires_at <= self._clock.now():
                if token.expiry_reported:
                    raise ApiError("601")
                token.expiry_reported = True
                raise ApiError("602")
            return token.client_id
