"""The code table: every answer Marketo documents, mapped to what the client does about it.

Handling is data so that it can be read, reviewed and tested row by row; the retry loop in
:mod:`marketo_stream.marketo.retry` only carries out what a row says. HTTP 200 with ``success: false``
is an error like any other: :func:`resolve` is asked about the envelope's first error code.

``code`` keys are Marketo's code strings ("606"), ``"HTTP <status>"`` for transport statuses (with
``"HTTP 5xx"``/``"HTTP 4xx"`` catching the undocumented ones), and ``"timeout"``/``"connection"`` for
requests that never got an answer. 1029 has three meanings, told apart by message.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from marketo_stream.marketo.errors import (
    AccessDenied,
    BadCredentials,
    ExportQueueFull,
    ExportQuotaExceeded,
    FileGone,
    MarketoError,
    MarketoRequestError,
    QuotaExceeded,
    RateLimited,
    RetryableError,
    TokenExpired,
    UnsupportedFilter,
)


class Action(Enum):
    SUCCEED = "treat as success"
    RETRY = "retry with exponential backoff"
    WAIT_RATE = "wait for the rate window, then retry"
    WAIT_CONCURRENCY = "wait for a call in flight to finish, then retry"
    WAIT_SLOT = "wait for a slot in the export queue, then retry"
    REFRESH = "fetch a new access token, then retry once"
    RESEND_AS_POST = "resend as POST with _method=GET"
    STOP = "stop cleanly with a typed quota error"
    FAIL = "fail with a typed error"


@dataclass(frozen=True, slots=True)
class Resolution:
    code: str
    action: Action
    error: type[MarketoError]
    why: str
    message_contains: str | None = None
    retries: int | None = None
    """Overrides the policy's default number of retries for this action."""

    @property
    def key(self) -> str:
        """Retries are counted per action, and per row for rows with their own limit."""
        return f"{self.action.name}:{self.code}" if self.retries is not None else self.action.name


def _fail(code: str, why: str, error: type[MarketoError] = MarketoRequestError) -> Resolution:
    return Resolution(code, Action.FAIL, error, why)


def _retry(code: str, why: str, retries: int | None = None) -> Resolution:
    return Resolution(code, Action.RETRY, RetryableError, why, retries=retries)


CODE_TABLE: tuple[Resolution, ...] = (
    # transport
    _retry("timeout", "no answer in time; the request may be retried as it only reads"),
    _retry("connection", "connection refused, reset or dropped"),
    _fail("HTTP 401", "identity refused the client id or secret", BadCredentials),
    _fail("HTTP 404", "bulk file expired, was never produced, or the URL is wrong", FileGone),
    _fail("HTTP 413", "request body over 1 MB: split the request"),
    Resolution("HTTP 414", Action.RESEND_AS_POST, MarketoRequestError, "URI over 8 KB", retries=1),
    Resolution("HTTP 429", Action.WAIT_RATE, RateLimited, "gateway rate limiting"),
    _retry("HTTP 500", "internal error, sometimes a malformed URL: retry a little", retries=2),
    _retry("HTTP 502", "bad gateway or gateway timeout"),
    _retry("HTTP 503", "service unavailable"),
    _retry("HTTP 504", "gateway timeout"),
    _retry("HTTP 5xx", "other server-side failure"),
    _fail("HTTP 4xx", "other client-side refusal"),
    # 6xx/7xx response codes
    Resolution("601", Action.REFRESH, TokenExpired, "access token invalid"),
    Resolution("602", Action.REFRESH, TokenExpired, "access token expired"),
    _fail("603", "access denied: role, IP allow-list or missing token", AccessDenied),
    _retry("604", "request timed out on Marketo's side"),
    _fail("605", "HTTP method not supported"),
    Resolution("606", Action.WAIT_RATE, RateLimited, "instance rate limit (100 calls / 20 s)"),
    Resolution("607", Action.STOP, QuotaExceeded, "daily API call quota reached"),
    _retry("608", "API temporarily unavailable"),
    _fail("609", "invalid JSON body"),
    _fail("610", "requested resource not found"),
    _retry("611", "system error: retry a little, then give up", retries=2),
    _fail("612", "invalid content type"),
    _fail("613", "invalid multipart request"),
    _retry("614", "invalid subscription, usually temporary: retry a little", retries=2),
    Resolution("615", Action.WAIT_CONCURRENCY, RateLimited, "instance concurrency limit (10 in flight)"),
    _fail("616", "invalid subscription type"),
    _fail("701", "a required field is blank"),
    _fail("702", "no data found"),
    _fail("703", "feature not enabled"),
    _fail("704", "invalid date format"),
    _fail("709", "business rule violation"),
    _fail("710", "parent folder not found"),
    _fail("711", "incompatible folder type"),
    _fail("712", "merge to person account invalid"),
    _retry("713", "transient error"),
    _fail("714", "default record type not found"),
    _fail("718", "ExternalSalesPersonID not found"),
    _retry("719", "lock wait timeout", retries=2),
    # 1xxx codes that can come back at response level
    _fail("1001", "invalid value type"),
    _fail("1002", "missing required parameter"),
    _fail("1003", "invalid data (bad field, filter, range or token)"),
    _fail("1004", "lead not found"),
    _fail("1005", "lead already exists"),
    _fail("1006", "field not found"),
    _fail("1007", "multiple leads match the lookup"),
    _fail("1008", "access denied to partition"),
    _fail("1009", "partition name must be specified"),
    _fail("1010", "partition update not allowed"),
    _fail("1011", "field not supported"),
    _fail("1012", "invalid cookie value"),
    _fail("1013", "object not found"),
    _retry("1014", "failed to create object", retries=2),
    _fail("1015", "lead not in list"),
    _retry("1016", "too many imports queued", retries=2),
    _fail("1017", "object already exists"),
    _fail("1018", "CRM enabled"),
    _retry("1019", "import in progress", retries=2),
    _fail("1020", "too many clones to program today"),
    _fail("1021", "company update not allowed"),
    _fail("1022", "object in use"),
    _fail("1025", "program status not found"),
    _fail("1026", "custom object not enabled"),
    _fail("1027", "max custom activity types reached"),
    _fail("1028", "max attributes reached"),
    Resolution("1029", Action.SUCCEED, MarketoRequestError, "enqueue is idempotent", "already queued"),
    Resolution("1029", Action.STOP, ExportQuotaExceeded, "daily export volume spent", "quota"),
    Resolution("1029", Action.WAIT_SLOT, ExportQueueFull, "export queue (10) is full", "too many jobs"),
    _fail("1029", "bulk export refused for a reason we do not recognise"),
    _fail("1035", "unsupported filter type for this subscription", UnsupportedFilter),
    _fail("1036", "duplicate object in input"),
    _fail("1037", "lead already in or past that program status"),
    _fail("1042", "invalid runAt"),
    _fail("1048", "custom object discard draft failed"),
    _fail("1049", "activity attributes too long"),
    *(_fail(str(code), "merge in CRM failed") for code in range(1076, 1080)),
    _fail("1080", "merge with too many losing leads"),
)

UNKNOWN = _fail("unknown", "a code this table does not document")


def _http_key(status: int) -> str:
    exact = f"HTTP {status}"
    if any(row.code == exact for row in CODE_TABLE):
        return exact
    return "HTTP 5xx" if status >= 500 else "HTTP 4xx"


def resolve(code: str, message: str = "") -> Resolution:
    """The row for a Marketo code (and message, for codes with several meanings)."""
    lowered = message.lower()
    for row in CODE_TABLE:
        if row.code == code and (row.message_contains is None or row.message_contains in lowered):
            return row
    return UNKNOWN


def resolve_http(status: int) -> Resolution:
    """The row for a transport status that did not carry Marketo's envelope."""
    return resolve(_http_key(status))
