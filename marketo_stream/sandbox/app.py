"""One request's way through the sandbox: faults, identity, Marketo's limits, the route, then the request log.

Order per API call: the token is checked (601/602/603), a concurrency slot is taken (615), scripted faults fire
(the token expiring: 602; delay, bare HTTP error, error code), the daily quota (607) and the rolling window (606)
are checked, the API user's role is checked (603 for an area it lacks), the route answers. Identity calls and the
``/_sandbox`` admin plane are never counted nor limited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from marketo_stream.sandbox.envelope import MESSAGES, ApiError, failure
from marketo_stream.sandbox.faults import FaultRule
from marketo_stream.sandbox.http import Request, Response, Router
from marketo_stream.sandbox.timefmt import iso_z

if TYPE_CHECKING:
    from marketo_stream.sandbox.state import SandboxState

_LOGGED_BODY_PATHS = ("/export/create.json",)
URI_LIMIT = 8 * 1024  # lead-database GETs; longer ones must be sent as POST with _method=GET
BODY_LIMIT = 1024 * 1024


class SandboxApp:
    def __init__(self, state: SandboxState, api: Router, admin: Router) -> None:
        self.state = state
        self._api = api
        self._admin = admin

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/_sandbox/"):
            return self._answer(self._admin, request)
        started = self.state.clock.now()
        response, counted = self._api_call(request)
        self._log(request, response, started, counted)
        return response

    def _api_call(self, request: Request) -> tuple[Response, bool]:
        state = self.state
        if request.path == "/identity/oauth/token":
            fired = state.faults.fire(request.method, request.path)
            return self._scripted(fired) or _identity(state, request), False
        if request.target_length > URI_LIMIT and request.path.startswith("/rest/v1/"):
            return Response.text(414, "Request-URI Too Long"), False
        if len(request.body) > BODY_LIMIT:
            return Response.text(413, "Request Entity Too Large"), False
        token = _token(request, state.config.accept_query_token)
        try:
            request.client_id = state.tokens.client_of(token)
        except ApiError as error:
            return Response.json(failure(error.code, error.message)), False
        try:
            with state.limits.in_flight():
                fired = state.faults.fire(request.method, request.path)
                if token and any(rule.expire_token for rule in fired):
                    state.tokens.expire(token)
                    state.tokens.client_of(token)  # the first use after expiry: 602
                response = self._scripted(fired)
                if response is None:
                    state.limits.admit()
                    state.role.check(request.path)
                    request_faults = [
                        rule for rule in fired if rule.job or rule.drop_after_bytes is not None or rule.corrupt_body
                    ]
                    request.faults = request_faults
                    response = self._answer(self._api, request)
                    if response.drop_after_bytes is None:
                        drops = [r.drop_after_bytes for r in request_faults if r.drop_after_bytes is not None]
                        response.drop_after_bytes = drops[0] if drops else None
        except ApiError as error:
            response = Response.json(failure(error.code, error.message))
        counted = response.status < 500 and state.limits.record(state.user_of(request.client_id), response.marketo_code)
        return response, counted

    def _scripted(self, fired: list[FaultRule]) -> Response | None:
        """Applies delays, then the first bare HTTP error or error code among the rules that fired."""
        delay = sum(rule.delay_seconds for rule in fired)
        if delay:
            self.state.faults.delay(delay)
        for rule in fired:
            if rule.http_status is not None:
                return Response.text(rule.http_status, rule.body or "Bad Gateway")
            if rule.code is not None:
                message = rule.message or _default_message(rule.code, self.state)
                return Response.json(failure(rule.code, message))
        return None

    @staticmethod
    def _answer(router: Router, request: Request) -> Response:
        try:
            handler, match = router.resolve(request.method, request.path)
            return handler(request, match)
        except ApiError as error:
            return Response.json(failure(error.code, error.message))

    def _log(self, request: Request, response: Response, started: float, counted: bool) -> None:
        entry: dict[str, Any] = {
            "time": iso_z(started),
            "method": request.method,
            "path": request.path,
            "query": {k: _masked(k, v) for k, v in request.query.items()},
            "client_id": request.client_id,
            "status": response.status,
            "code": response.marketo_code,
            "counted": counted,
        }
        if request.path.endswith(_LOGGED_BODY_PATHS) and request.body:
            try:
                entry["body"] = request.json()
            except ApiError:
                entry["body"] = request.body.decode("utf-8", "replace")
        self.state.log.append(entry)


def _masked(name: str, values: list[str]) -> str | list[str]:
    if name in ("client_secret", "access_token"):
        return "***"
    return values if len(values) > 1 else values[0]


def _token(request: Request, accept_query: bool) -> str | None:
    header = request.headers.get("authorization") or ""
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.get("access_token") if accept_query else None


def _identity(state: SandboxState, request: Request) -> Response:
    if request.method not in ("GET", "POST"):
        return Response.json(failure("605", MESSAGES["605"]))
    if request.get("grant_type") != "client_credentials":
        body = {"error": "unsupported_grant_type", "error_description": "Unsupported grant type"}
        return Response.json(body, status=400)
    issued = state.tokens.issue(request.get("client_id") or "", request.get("client_secret") or "")
    if issued is None:
        return Response.json({"error": "invalid_client", "error_description": "Bad client credentials"}, status=401)
    return Response.json(issued)


def _default_message(code: str, state: SandboxState) -> str:
    config = state.config
    template = MESSAGES.get(code, "Error")
    return template.format(
        calls=config.rate_limit_calls,
        seconds=f"{config.rate_limit_window_seconds:g}",
        limit=config.concurrency_limit,
        field="field",
    )
