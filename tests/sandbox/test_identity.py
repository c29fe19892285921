"""Identity: client-credentials tokens and the 601/602/603 answers, as Marketo gives them."""

from __future__ import annotations

import requests

from marketo_stream.sandbox import Sandbox
from tests.sandbox.client import Api, error_code

TYPES = "/rest/v1/activities/types.json"


def _token_call(sandbox: Sandbox, method: str = "GET", **overrides: str) -> requests.Response:
    params = {
        "grant_type": "client_credentials",
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
    }
    params.update(overrides)
    url = f"{sandbox.url}/identity/oauth/token"
    if method == "POST":
        return requests.post(url, data=params, timeout=10)
    return requests.get(url, params=params, timeout=10)


def test_get_with_query_string_issues_a_bearer_token_for_3600_seconds(sandbox: Sandbox) -> None:
    answer = _token_call(sandbox)
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["access_token"]


def test_post_form_issues_a_token_too(sandbox: Sandbox) -> None:
    answer = _token_call(sandbox, "POST")
    assert answer.status_code == 200
    assert answer.json()["access_token"]


def test_a_repeat_call_within_the_ttl_returns_the_same_token_with_the_remaining_lifetime(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    first = _token_call(sandbox).json()
    api.advance(600)
    second = _token_call(sandbox).json()
    assert second["access_token"] == first["access_token"]
    assert second["expires_in"] == 3000


def test_the_ttl_is_configurable(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    sandbox = sandbox_factory(token_ttl_seconds=120)
    assert _token_call(sandbox).json()["expires_in"] == 120


def test_an_expired_token_answers_602_once_then_601_and_a_new_token_is_issued(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    old = api.authenticate()
    api.advance(3601, reauthenticate=False)
    assert error_code(api.get(TYPES)) == "602"
    assert error_code(api.get(TYPES)) == "601"
    assert api.authenticate() != old
    assert error_code(api.get(TYPES)) is None


def test_a_garbage_token_answers_601_and_no_token_603(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    api.token = "not-a-token"
    assert error_code(api.get(TYPES)) == "601"
    bare = requests.get(f"{sandbox.url}{TYPES}", timeout=10)
    assert bare.status_code == 200
    assert error_code(bare.json()) == "603"


def test_bad_credentials_answer_http_401_invalid_client(sandbox: Sandbox) -> None:
    answer = _token_call(sandbox, client_secret="wrong")
    assert answer.status_code == 401
    assert answer.json() == {"error": "invalid_client", "error_description": "Bad client credentials"}


def test_the_token_is_accepted_as_a_query_parameter_too(sandbox: Sandbox) -> None:
    token = _token_call(sandbox).json()["access_token"]
    answer = requests.get(f"{sandbox.url}{TYPES}", params={"access_token": token}, timeout=10)
    assert error_code(answer.json()) is None
