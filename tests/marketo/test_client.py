"""The client against the sandbox: retries that run out, tokens, long URLs and the per-endpoint call counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from marketo_stream.marketo.client import MarketoClient, endpoint_of
from marketo_stream.marketo.errors import ExportQueueFull, RateLimited, RetryableError, TokenExpired
from marketo_stream.marketo.retry import RetryPolicy
from marketo_stream.sandbox import Sandbox
from tests.marketo.support import TYPES, SandboxAdmin, SandboxClock, make_client

USAGE = "/rest/v1/stats/usage.json"


def codes_answered(admin: SandboxAdmin, path: str = "activities/types") -> list[str | None]:
    return [entry["code"] for entry in admin.requests(path)]


def test_transient_errors_that_persist_raise_retryable_error_after_backing_off(
    client: MarketoClient, admin: SandboxAdmin, clock: SandboxClock
) -> None:
    admin.fault("activities/types", code="608", times=None)
    with pytest.raises(RetryableError) as raised:
        client.get(TYPES)
    assert (raised.value.code, raised.value.message) == ("608", "API Temporarily Unavailable")
    assert raised.value.request_id
    retries = client.config.retry.transient_retries
    assert codes_answered(admin) == ["608"] * (retries + 1)
    assert clock.slept == [1.0, 2.0, 4.0, 8.0][:retries], "exponential backoff"


def test_606_that_persists_raises_rate_limited_after_waiting_a_window_each_time(
    sandbox: Sandbox, admin: SandboxAdmin, clock: SandboxClock
) -> None:
    client = make_client(sandbox, clock, retry=RetryPolicy(rate_waits=2))
    admin.fault("activities/types", code="606", times=None)
    with pytest.raises(RateLimited) as raised:
        client.get(TYPES)
    assert raised.value.code == "606"
    assert clock.slept == [20.0, 20.0]


def test_a_queue_that_stays_full_raises_export_queue_full_after_growing_waits(
    sandbox: Sandbox, admin: SandboxAdmin, clock: SandboxClock
) -> None:
    client = make_client(sandbox, clock, retry=RetryPolicy(slot_waits=4))
    admin.fault("activities/types", code="1029", message="Too many jobs in queue", times=None)
    with pytest.raises(ExportQueueFull):
        client.get(TYPES)
    assert clock.slept == [60.0, 120.0, 240.0, 240.0]


def test_a_token_refused_again_after_refreshing_raises_token_expired(
    client: MarketoClient, admin: SandboxAdmin
) -> None:
    admin.fault("activities/types", code="601", times=None)
    with pytest.raises(TokenExpired):
        client.get(TYPES)
    assert codes_answered(admin) == ["601", "601"], "refreshed and retried exactly once"


def test_an_expired_token_is_refreshed_and_the_call_retried(
    sandbox: Sandbox, admin: SandboxAdmin, clock: SandboxClock
) -> None:
    client = make_client(sandbox, clock, token_refresh_margin_seconds=0)
    first = client.tokens.token()
    admin.advance(3601)  # the sandbox's token lapses while our clock does not notice
    assert client.get(TYPES).success
    assert codes_answered(admin) == ["602", None]
    assert client.tokens.token() != first


def test_the_token_is_renewed_before_it_expires_without_marketo_ever_refusing_it(
    client: MarketoClient, admin: SandboxAdmin, clock: SandboxClock
) -> None:
    first = client.tokens.token()
    clock.sleep(3550)  # within the refresh margin: Marketo hands back the same token
    assert client.get(TYPES).success
    assert client.tokens.token() == first
    clock.sleep(60)  # now past its expiry
    assert client.get(TYPES).success
    assert client.tokens.token() != first
    assert codes_answered(admin) == [None, None], "never a 601/602"
    assert client.tokens.fetches == 3


def test_a_lead_database_get_longer_than_8kb_goes_as_post_with_method_get(
    client: MarketoClient, admin: SandboxAdmin
) -> None:
    long_filter = ",".join(str(n) for n in range(2000))
    assert client.get(TYPES, {"filterValues": long_filter}).success
    assert client.get(TYPES, {"filterValues": "1,2"}).success
    first, second = admin.requests("activities/types")
    assert first["query"]["_method"] == "GET" and first["query"]["filterValues"] == long_filter
    assert "_method" not in second["query"]


def test_call_counts_per_endpoint_match_what_marketo_saw(client: MarketoClient, admin: SandboxAdmin) -> None:
    admin.fault("activities/types", code="604", times=1)
    for _ in range(3):
        client.get(TYPES)
    client.usage_today()
    seen = Counter(endpoint_of(e["method"], e["path"]) for e in admin.requests())
    assert client.call_counts() == dict(seen)
    assert client.call_counts() == {
        "GET /identity/oauth/token": 1,
        "GET /rest/v1/activities/types.json": 4,
        "GET /rest/v1/stats/usage.json": 1,
    }


def test_endpoints_are_counted_with_their_ids_folded_away() -> None:
    assert endpoint_of("get", "/bulk/v1/leads/export/ce45a7a1-f19d-4ce2-882c-a3c795940a7d/status.json") == (
        "GET /bulk/v1/leads/export/{id}/status.json"
    )
    assert endpoint_of("POST", "/rest/v1/lists/1234/leads.json") == "POST /rest/v1/lists/{id}/leads.json"
    assert (
        endpoint_of("GET", "/bulk/v1/customobjects/car_c/export.json") == "GET /bulk/v1/customobjects/car_c/export.json"
    )


def test_usage_today_counts_every_integrations_calls(sandbox_factory: Callable[..., Sandbox]) -> None:
    sandbox = sandbox_factory(extra_clients=[("other-integration", "other-secret")])
    admin = SandboxAdmin(sandbox)
    clock = SandboxClock(admin)
    ours = make_client(sandbox, clock)
    theirs = MarketoClient(sandbox.url, "other-integration", "other-secret", clock=clock)
    for _ in range(4):
        theirs.get(TYPES)
    ours.get(TYPES)
    assert ours.usage_today() == 5
