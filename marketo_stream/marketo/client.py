"""The Marketo HTTP client: every call goes through the budget, the token, the code table and the retry loop.

One method, :meth:`MarketoClient.request`, sends a JSON call and returns its :class:`Envelope` only when
Marketo said yes (or the code table says its "no" means yes); every other outcome is a typed
:class:`MarketoError`. :meth:`MarketoClient.download` streams a bulk file to disk, resuming with
``Range`` after a dropped connection. The client counts its calls per endpoint for the run report, and per table
(:meth:`MarketoClient.charged_to`: calls, export jobs created and bytes downloaded while a phase reads that table).
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import re
import threading
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import requests

from marketo_stream.marketo.auth import Credentials, TokenSource
from marketo_stream.marketo.budget import BudgetLimits, CallBudget
from marketo_stream.marketo.clock import SYSTEM_CLOCK, Clock
from marketo_stream.marketo.envelope import Envelope, parse_envelope
from marketo_stream.marketo.errors import MarketoError, MarketoProtocolError, RetryableError
from marketo_stream.marketo.resolution import Action, Resolution, resolve, resolve_http
from marketo_stream.marketo.retry import Again, RetryPolicy, run_with_retries
from marketo_stream.marketo.secrets import guard_loggers, redact
from marketo_stream.marketo.transfer import stream_to_file

if TYPE_CHECKING:
    from marketo_stream.settings import MarketoSettings

T = TypeVar("T")

log = logging.getLogger("marketo_stream.marketo")

LEAD_DB_PREFIX = "/rest/v1/"
USAGE_PATH = "/rest/v1/stats/usage.json"
UNCHARGED = "(metadata, other)"
"""The table label of calls made outside any :meth:`MarketoClient.charged_to` block."""
_EXPORT_CREATE = re.compile(r"^POST /bulk/v1/.+/export/create\.json$")
_ID_SEGMENT = re.compile(r"^(\d+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$")

Params = Mapping[str, str | int | float | bool | list[str] | list[int] | None]


@dataclass(frozen=True, slots=True)
class ClientConfig:
    timeout_seconds: float = 60.0
    budget: BudgetLimits = field(default_factory=BudgetLimits)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    token_refresh_margin_seconds: float = 60.0
    max_url_bytes: int = 8192
    """Lead-database GETs longer than this go as POST with ``_method=GET`` (Marketo answers 414 above 8 KB)."""
    download_chunk_bytes: int = 1 << 16


def endpoint_of(method: str, path: str) -> str:
    """``GET /bulk/v1/leads/export/{id}/status.json``: one label per endpoint, ids folded away."""
    segments = [("{id}" if _ID_SEGMENT.match(s) else s) for s in path.split("?", 1)[0].split("/")]
    return f"{method.upper()} {'/'.join(segments)}"


def _query(params: Params | None) -> list[tuple[str, str]]:
    """Marketo takes lists as comma-separated values; booleans as true/false; None is left out."""
    pairs: list[tuple[str, str]] = []
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            pairs.append((key, "true" if value else "false"))
        elif isinstance(value, list):
            pairs.append((key, ",".join(str(v) for v in value)))
        else:
            pairs.append((key, str(value)))
    return pairs


class MarketoClient:
    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        config: ClientConfig | None = None,
        clock: Clock = SYSTEM_CLOCK,
        session: requests.Session | None = None,
    ) -> None:
        guard_loggers()
        self.base_url = base_url.rstrip("/")
        self.config = config or ClientConfig()
        self.clock = clock
        self._session = session or requests.Session()
        self._session.headers.update({"Accept-Encoding": "gzip", "User-Agent": "marketo-stream"})
        self.budget = CallBudget(self.config.budget, clock)
        self.budget.read_usage_with(self._read_usage)
        self.tokens = TokenSource(
            Credentials(client_id, client_secret),
            self._identity_send,
            clock,
            refresh_margin_seconds=self.config.token_refresh_margin_seconds,
        )
        self._counts: Counter[str] = Counter()
        self._errors: Counter[tuple[str, str]] = Counter()
        self._downloaded = 0
        self._charged_to = UNCHARGED
        self._by_table: dict[str, TableUsage] = {}
        self._server_time: tuple[datetime, float] | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: MarketoSettings, *, clock: Clock = SYSTEM_CLOCK) -> MarketoClient:
        limits = BudgetLimits(
            calls_per_window=settings.calls_per_window,
            window_seconds=settings.window_seconds,
            max_concurrency=settings.max_concurrency,
            daily_calls=settings.daily_call_budget,
        )
        config = ClientConfig(
            timeout_seconds=settings.timeout_seconds,
            budget=limits,
            retry=RetryPolicy(rate_window_seconds=settings.window_seconds),
        )
        secret = settings.client_secret.get_secret_value()
        return cls(settings.base_url, settings.client_id, secret, config=config, clock=clock)

    def __repr__(self) -> str:
        return f"MarketoClient({self.base_url!r}, {self.tokens!r})"

    def __enter__(self) -> MarketoClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    # -- what callers read back ----------------------------------------------------------------------------

    def call_counts(self) -> dict[str, int]:
        """Calls sent so far, per endpoint: retries included, identity too (which Marketo does not count)."""
        with self._lock:
            return dict(self._counts)

    def error_counts(self) -> dict[tuple[str, str], int]:
        """Calls answered with an error so far, per (endpoint, code): Marketo's code (``606``), ``HTTP 502``,
        ``timeout`` or ``connection``; each is also in :meth:`call_counts`."""
        with self._lock:
            return dict(self._errors)

    def usage_by_table(self) -> dict[str, TableUsage]:
        """Calls, export jobs created and bulk bytes downloaded so far, per table label (see :meth:`charged_to`)."""
        with self._lock:
            return {label: replace(usage) for label, usage in self._by_table.items()}

    @contextlib.contextmanager
    def charged_to(self, label: str) -> Iterator[None]:
        """Every call sent inside the block (from any thread: a phase's prefetch workers too) counts against
        ``label``, so the run report can say what each table cost. Blocks nest; the innermost label wins."""
        previous, self._charged_to = self._charged_to, label
        try:
            yield
        finally:
            self._charged_to = previous

    @property
    def downloaded_bytes(self) -> int:
        with self._lock:
            return self._downloaded

    def usage_today(self) -> int:
        """The instance's calls today, all integrations together (``stats/usage.json``)."""
        return self._read_usage()

    # -- JSON calls ----------------------------------------------------------------------------------------

    def get(self, path: str, params: Params | None = None, *, retry: RetryPolicy | None = None) -> Envelope:
        return self.request("GET", path, params=params, retry=retry)

    def post(
        self, path: str, *, params: Params | None = None, json: Any = None, retry: RetryPolicy | None = None
    ) -> Envelope:
        return self.request("POST", path, params=params, json=json, retry=retry)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        retry: RetryPolicy | None = None,
    ) -> Envelope:
        """One logical call: retried per the code table until it succeeds or fails for good."""
        method = method.upper()
        url = self.base_url + path
        query = _query(params)
        as_form = [method == "GET" and path.startswith(LEAD_DB_PREFIX) and self._too_long(url, query)]

        def attempt() -> Envelope:
            with self.budget.call():
                token = self.tokens.token()
                if as_form[0]:
                    response = self._send(
                        "POST", url, endpoint_of(method, path), token, params=[("_method", "GET")], data=query
                    )
                else:
                    response = self._send(method, url, endpoint_of(method, path), token, params=query, json=json)
                with response:
                    return self._interpret(response, token, path, as_form)

        what = endpoint_of(method, path)
        return self._naming_host(lambda: self._retried(attempt, retry or self.config.retry, what))

    def _too_long(self, url: str, query: list[tuple[str, str]]) -> bool:
        full = url + "?" + urllib.parse.urlencode(query) if query else url
        return len(full.encode()) > self.config.max_url_bytes

    def _interpret(self, response: requests.Response, token: str, path: str, as_form: list[bool]) -> Envelope:
        if response.status_code != 200:
            row = resolve_http(response.status_code)
            error = row.error(row_code(row, response.status_code), _short_text(response), None)
            if row.action is Action.RESEND_AS_POST and path.startswith(LEAD_DB_PREFIX) and not as_form[0]:
                as_form[0] = True
                raise Again(row, error, wait=0.0)
            raise self._act(row, error, token, retry_after=response.headers.get("Retry-After"))
        envelope = parse_envelope(response.content)
        item = envelope.first_error
        if envelope.success:
            return envelope
        if item is None:
            raise MarketoProtocolError("protocol", "success:false without errors", envelope.request_id)
        row = resolve(item.code, item.message)
        if row.action is Action.SUCCEED:
            return replace(envelope, absorbed=item)
        raise self._act(row, row.error(item.code, redact(item.message), envelope.request_id), token)

    def _act(self, row: Resolution, error: MarketoError, token: str, retry_after: str | None = None) -> Exception:
        """The exception that carries out ``row``: an :class:`Again` to retry, or the typed error itself."""
        if row.action is Action.REFRESH:
            self.tokens.invalidate(token)
            return Again(row, error, wait=0.0)
        if row.action in (Action.RETRY, Action.WAIT_RATE, Action.WAIT_CONCURRENCY, Action.WAIT_SLOT):
            return Again(row, error, wait=_seconds(retry_after))
        return error

    # -- transport -----------------------------------------------------------------------------------------

    def _retried(self, attempt: Callable[[], T], policy: RetryPolicy, what: str) -> T:
        """``attempt`` run per the retry policy; each attempt answered with an error is counted for ``what``."""

        def counted() -> T:
            try:
                return attempt()
            except Again as again:
                self._count_error(what, again.error.code)
                raise
            except MarketoError as error:
                self._count_error(what, error.code)
                raise

        return run_with_retries(counted, policy, self.clock.sleep, what=what)

    def _count_error(self, endpoint: str, code: str) -> None:
        with self._lock:
            self._errors[endpoint, code] += 1

    def _send(
        self, method: str, url: str, endpoint: str, token: str | None, *, stream: bool = False, **kwargs: Any
    ) -> requests.Response:
        """One HTTP exchange, counted; transport failures become :class:`Again` with a redacted message."""
        headers = dict(kwargs.pop("headers", None) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        with self._lock:
            self._counts[endpoint] += 1
            usage = self._table_usage()
            usage.calls += 1
            if _EXPORT_CREATE.match(endpoint):
                usage.export_jobs += 1
        try:
            response = self._session.request(
                method, url, headers=headers, timeout=self.config.timeout_seconds, stream=stream, **kwargs
            )
        except requests.Timeout as exc:
            raise Again(resolve("timeout"), RetryableError("timeout", redact(str(exc)))) from None
        except requests.RequestException as exc:
            raise Again(resolve("connection"), RetryableError("connection", redact(str(exc)))) from None
        log.debug("%s → HTTP %s", endpoint, response.status_code)
        self._note_server_time(response.headers.get("Date"))
        return response

    def _note_server_time(self, header: str | None) -> None:
        if not header:
            return
        try:
            at = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return
        if at.tzinfo is None:
            return
        with self._lock:
            self._server_time = (at, self.clock.monotonic())

    def server_now(self) -> datetime | None:
        """Marketo's clock, from the ``Date`` header of its latest answer (to the second), or None before any.

        Windows are planned up to Marketo's now, not ours: a fast local clock must never mark as extracted a
        span that Marketo has not reached yet.
        """
        with self._lock:
            if self._server_time is None:
                return None
            at, seen = self._server_time
            return at + timedelta(seconds=self.clock.monotonic() - seen)

    def server_date(self) -> datetime | None:
        """The ``Date`` of Marketo's latest answer as Marketo gave it (to the second, not carried forward): the
        server time the run summary reports freshness against."""
        with self._lock:
            return None if self._server_time is None else self._server_time[0]

    def _identity_send(self, method: str, path: str, params: dict[str, str]) -> requests.Response:
        def attempt() -> requests.Response:
            response = self._send(method, self.base_url + path, endpoint_of(method, path), None, params=params)
            if response.status_code >= 500:
                row = resolve_http(response.status_code)
                raise Again(row, row.error(row.code, _short_text(response)))
            return response

        return self._retried(attempt, self.config.retry, endpoint_of(method, path))

    def _read_usage(self) -> int:
        """Reads stats/usage outside the daily check (the budget calls this to do that check)."""

        def attempt() -> Envelope:
            token = self.tokens.token()
            with self._send("GET", self.base_url + USAGE_PATH, endpoint_of("GET", USAGE_PATH), token) as response:
                return self._interpret(response, token, USAGE_PATH, [False])

        envelope = self._retried(attempt, self.config.retry, "GET " + USAGE_PATH)
        totals = [int(day.get("total") or 0) for day in envelope.result]
        return totals[0] if totals else 0

    # -- bulk files ----------------------------------------------------------------------------------------

    def download(self, path: str, dest: Path, *, retry: RetryPolicy | None = None) -> int:
        """Stream a bulk file into ``dest``; bytes already in ``dest`` are kept and the rest asked for by ``Range``.

        Returns the size of ``dest``. A dropped connection resumes from what arrived; a 404 raises
        :class:`~marketo_stream.marketo.errors.FileGone`; a JSON error envelope (Marketo answers the file
        endpoint's rate limits that way) goes through the code table like any call.
        """
        url = self.base_url + path
        endpoint = endpoint_of("GET", path)

        def attempt() -> int:
            with self.budget.call():
                token = self.tokens.token()
                offset = dest.stat().st_size if dest.exists() else 0
                headers = {"Range": f"bytes={offset}-"} if offset else {}
                response = self._send("GET", url, endpoint, token, stream=True, headers=headers)
                with response:
                    if response.headers.get("Content-Type", "").startswith("application/json"):
                        self._interpret(response, token, path, [True])
                        raise MarketoProtocolError("protocol", "file endpoint answered JSON instead of the file")
                    if response.status_code not in (200, 206, 416):
                        self._interpret(response, token, path, [True])
                    return stream_to_file(response, dest, offset, self.config.download_chunk_bytes, self._add_bytes)

        return self._naming_host(lambda: self._retried(attempt, retry or self.config.retry, endpoint))

    def _naming_host(self, call: Callable[[], T]) -> T:
        """A call whose transient failure, once its retries are spent, names the host it could not use."""
        try:
            return call()
        except RetryableError as exc:
            exc.host = exc.host or urllib.parse.urlsplit(self.base_url).netloc
            raise

    def _add_bytes(self, count: int) -> None:
        with self._lock:
            self._downloaded += count
            self._table_usage().bulk_bytes += count

    def _table_usage(self) -> TableUsage:
        """The current label's figures (the caller holds the lock)."""
        usage = self._by_table.get(self._charged_to)
        if usage is None:
            usage = self._by_table[self._charged_to] = TableUsage()
        return usage


@dataclass(slots=True)
class TableUsage:
    """What reading one table cost in Marketo's scarce resources."""

    calls: int = 0
    """HTTP calls sent, retries and identity included."""
    export_jobs: int = 0
    """Bulk export jobs created."""
    bulk_bytes: int = 0
    """Bytes of export files downloaded."""

    def minus(self, before: TableUsage | None) -> TableUsage:
        if before is None:
            return replace(self)
        return TableUsage(
            self.calls - before.calls, self.export_jobs - before.export_jobs, self.bulk_bytes - before.bulk_bytes
        )


def row_code(row: Resolution, status: int) -> str:
    return f"HTTP {status}" if row.code.startswith("HTTP") else row.code


def _short_text(response: requests.Response) -> str:
    try:
        text = response.text
    except requests.RequestException:
        text = ""
    return redact(text.strip()[:300]) or (response.reason or f"HTTP {response.status_code}")


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
