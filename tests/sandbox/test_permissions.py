"""The API user's role: an area it lacks answers Marketo's 603 "Access denied"; everything else is served."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable

import pytest
import requests

from marketo_stream.sandbox import PINNED_START, Sandbox, SandboxConfig
from tests.sandbox.client import Api, error_code

DENIED_PATHS = {
    "activities": ["/rest/v1/activities/types.json", "/bulk/v1/activities/export.json"],
    "leads": ["/rest/v1/leads/describe2.json", "/bulk/v1/leads/export.json", "/bulk/v1/program/members/export.json"],
    "lists": ["/rest/v1/lists.json", "/rest/asset/v1/staticLists.json"],
    "programs": ["/rest/asset/v1/programs.json"],
    "assets": ["/rest/asset/v1/forms.json", "/rest/asset/v1/emailTemplates.json"],
    "campaigns": ["/rest/v1/campaigns.json"],
    "opportunities": ["/rest/v1/opportunities/describe.json", "/rest/v1/opportunities/roles/describe.json"],
    "companies": ["/rest/v1/companies/describe.json"],
    "custom_objects": ["/rest/v1/customobjects.json"],
}


@pytest.mark.parametrize("permission", sorted(DENIED_PATHS))
def test_a_role_without_a_permission_gets_603_access_denied_for_that_area_only(
    sandbox_factory: Callable[..., Sandbox], permission: str
) -> None:
    api = Api(sandbox_factory(denied_permissions=[permission]))
    for path in DENIED_PATHS[permission]:
        answer = api.raw("GET", path)
        assert answer.status_code == 200, path
        body = answer.json()
        assert body["success"] is False, path
        assert body["errors"] == [{"code": "603", "message": "Access denied"}], path
    others = [path for name, paths in DENIED_PATHS.items() if name != permission for path in paths]
    for path in others:
        assert error_code(api.get(path)) != "603", path


def test_usage_statistics_and_identity_need_no_permission(sandbox_factory: Callable[..., Sandbox]) -> None:
    api = Api(sandbox_factory(denied_permissions=list(DENIED_PATHS)))
    assert api.authenticate()
    assert api.get("/rest/v1/stats/usage.json")["success"] is True


def test_denied_calls_are_counted_like_marketos(sandbox_factory: Callable[..., Sandbox]) -> None:
    api = Api(sandbox_factory(denied_permissions=["companies"]))
    api.get("/rest/v1/companies/describe.json")
    assert api.admin("GET", "stats")["calls_today"] == 1
    assert api.admin("GET", "requests")["requests"][-1]["code"] == "603"


def test_an_unknown_permission_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown permission.*bulk_import.*permissions are: activities"):
        SandboxConfig.from_mapping({"denied_permissions": ["bulk_import"]})


def test_the_sandbox_command_serves_a_role_without_the_denied_permissions() -> None:
    command = [
        sys.executable,
        "-m",
        "marketo_stream",
        "sandbox",
        "--scale",
        "tiny",
        "--start",
        PINNED_START,
        "--clock-speed",
        "0",
    ]
    server = subprocess.Popen(
        [*command, "--deny-permission", "opportunities", "--deny-permission", "custom_objects"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        lines = [server.stdout.readline() for _ in range(4)]
        url = re.search(r"at (http://127\.0\.0\.1:\d+)", lines[0])
        client_id = re.search(r"client id:\s+(\S+)", lines[1])
        secret = re.search(r"client secret:\s+(\S+)", lines[2])
        assert url and client_id and secret, lines
        assert "role lacks:    opportunities, custom_objects" in lines[3]
        params = {"grant_type": "client_credentials", "client_id": client_id[1], "client_secret": secret[1]}
        token = requests.get(f"{url[1]}/identity/oauth/token", params=params, timeout=10).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        denied = requests.get(f"{url[1]}/rest/v1/customobjects.json", headers=headers, timeout=10).json()
        served = requests.get(f"{url[1]}/rest/v1/companies/describe.json", headers=headers, timeout=10).json()
        assert error_code(denied) == "603"
        assert served["success"] is True
    finally:
        server.terminate()
        assert server.wait(timeout=10) == 0
