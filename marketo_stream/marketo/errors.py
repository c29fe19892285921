"""Every way a Marketo call can end other than with data, as types the caller can act on.

    MarketoStreamError
    └── MarketoError(code, message, request_id)     Marketo (or the road to it) said no
        ├── AuthError                                identity or token trouble
        │   ├── BadCredentials                       identity answered 401: client id/secret wrong
        │   ├── TokenExpired                         601/602 persisted after a fresh token
        │   └── AccessDenied                         603: the API user lacks a permission
        ├── RetryableError                           transient (5xx, timeout, connection, 604, 608, 611,
        │   │                                        713, 614...) and still failing after our retries
        │   └── RateLimited                          606/615: the instance kept refusing after our waits
        ├── QuotaError                               stop cleanly; the same work succeeds after the reset
        │   ├── QuotaExceeded                        607, or our own daily call budget is spent
        │   └── ExportQuotaExceeded                  1029 "Export daily quota ... exceeded", or a job
        │                                            that cannot fit in what is left of today's MB
        ├── ExportQueueFull                          1029 "Too many jobs in queue" after our waits
        ├── UnsupportedFilter                        1035: the subscription lacks that bulk filter
        ├── FileGone                                 a bulk file answered 404 (expired or never made)
        ├── MarketoProtocolError                     an answer we cannot read, or paging that loops
        └── MarketoRequestError                      every other code: the request is wrong; fix it

``code`` is Marketo's code as the string it sends ("606"), ``"HTTP 502"`` for transport statuses, or a
word (``"connection"``, ``"timeout"``, ``"paging"``) for failures that never reached Marketo's envelope.
Messages never contain the client secret or an access token: everything built from a URL or a
transport exception passes through :func:`marketo_stream.marketo.secrets.redact` first.
"""

from __future__ import annotations

from marketo_stream.errors import MarketoStreamError


class MarketoError(MarketoStreamError):
    """Marketo answered with an error, or could not be reached; carries what Marketo said.

    ``endpoint`` (``GET /rest/v1/programs.json``) is set by the retry loop that gave up, so that a refusal can
    name the request it refused.
    """

    endpoint: str | None = None
    host: str | None = None
    """The Marketo host a transfer that gave up was talking to (set by the client on a :class:`RetryableError`), so
    that "unreachable" names where."""

    def __init__(self, code: str, message: str, request_id: str | None = None) -> None:
        self.code = code
        self.message = message
        self.request_id = request_id
        suffix = f" (requestId {request_id})" if request_id else ""
        super().__init__(f"Marketo {code}: {message}{suffix}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, request_id={self.request_id!r})"

    def __reduce__(self) -> tuple[type[MarketoError], tuple[str, str, str | None]]:
        return (type(self), (self.code, self.message, self.request_id))


class AuthError(MarketoError):
    """Authentication failed; retrying with the same settings will not help."""


class BadCredentials(AuthError):
    """The identity endpoint refused the client id or secret."""


class TokenExpired(AuthError):
    """A freshly issued token was still refused as invalid or expired."""


class AccessDenied(AuthError):
    """603: the API user's role, IP allow-list or a missing token blocked the call."""


class RetryableError(MarketoError):
    """A transient failure that outlived our retries; a later run will likely succeed."""


class RateLimited(RetryableError):
    """The instance's rate or concurrency limit kept refusing us after waiting for the window."""


class QuotaError(MarketoError):
    """A daily allowance is spent: stop, keep what is done, resume after midnight US Central."""


class QuotaExceeded(QuotaError):
    """Daily REST call quota (607), or the daily call budget we were configured to keep."""


class ExportQuotaExceeded(QuotaError):
    """Daily Bulk Extract volume is spent (1029), or the next job would not fit in what is left."""


class ExportQueueFull(MarketoError):
    """The shared export queue stayed full (1029 "Too many jobs in queue") for longer than we wait."""


class UnsupportedFilter(MarketoError):
    """1035: this subscription cannot filter bulk exports that way; fall back (e.g. to createdAt)."""


class FileGone(MarketoError):
    """A bulk export file answered 404: it expired, or the job never completed; re-create the job."""


class MarketoProtocolError(MarketoError):
    """Marketo's answer was not what the API promises (not JSON, or paging that would never end)."""


class MarketoRequestError(MarketoError):
    """The request itself is wrong (bad field, bad filter, not found...); retrying cannot help."""
