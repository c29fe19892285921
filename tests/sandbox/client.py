"""A deliberately small HTTP helper for the sandbox tests: a token and JSON, nothing of marketo_stream's client."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import requests

from marketo_stream.sandbox import Sandbox


class Api:
    def __init__(self, sandbox: Sandbox, client_id: str | None = None, client_secret: str | None = None) -> None:
        self.url = sandbox.url
        self.client_id = client_id or sandbox.client_id
        self.client_secret = client_secret or sandbox.client_secret
        self.session = requests.Session()
        self.token = ""

    def authenticate(self) -> str:
        params = {"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.client_secret}
        answer = self.session.get(f"{self.url}/identity/oauth/token", params=params, timeout=30)
        answer.raise_for_status()
        self.token = answer.json()["access_token"]
        return self.token

    def twin(self) -> Api:
        """Another session with the same token, for calls from another thread."""
        other = Api.__new__(Api)
        other.__dict__.update(self.__dict__)
        other.session = requests.Session()
        return other

    def raw(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        if not self.token:
            self.authenticate()
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.session.request(method, f"{self.url}{path}", headers=headers, timeout=60, **kwargs)

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        answer = self.raw("GET", path, params=params)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def post(self, path: str, json: Any = None, **params: Any) -> dict[str, Any]:
        answer = self.raw("POST", path, json=json, params=params)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def admin(self, method: str, endpoint: str, json: Any = None, **params: Any) -> dict[str, Any]:
        answer = self.session.request(method, f"{self.url}/_sandbox/{endpoint}", json=json, params=params, timeout=60)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def advance(self, seconds: float, reauthenticate: bool = True) -> None:
        """Moves the simulated clock; by default takes a fresh token, since long jumps expire the old one."""
        self.admin("POST", "clock", {"advance_seconds": seconds})
        if reauthenticate and self.token:
            self.authenticate()


def error_code(body: dict[str, Any]) -> str | None:
    """The first Marketo error code of an envelope, or None when it succeeded."""
    if body.get("success", True):
        return None
    return str(body["errors"][0]["code"])


def wait_for_status(api: Api, base: str, export_id: str, wanted: set[str], tries: int = 500) -> dict[str, Any]:
    """Polls a job's status until it is one of ``wanted`` (real time passes only while the file is written)."""
    for _ in range(tries):
        job: dict[str, Any] = api.get(f"{base}/{export_id}/status.json")["result"][0]
        if job["status"] in wanted:
            return job
        time.sleep(0.01)
    raise AssertionError(f"job {export_id} never reached {wanted}: {job}")


def run_export(api: Api, base: str, body: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """Create, enqueue, wait for Completed, download: the finished job and the file's exact bytes."""
    created = api.post(f"{base}/create.json", json=body)
    assert created["success"], created
    export_id = created["result"][0]["exportId"]
    assert api.post(f"{base}/{export_id}/enqueue.json")["success"]
    job = wait_for_status(api, base, export_id, {"Completed", "Failed"})
    answer = api.raw("GET", f"{base}/{export_id}/file.json")
    assert answer.status_code == 200, answer.text
    return job, answer.content


def parse_csv(data: bytes, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=delimiter))


def walk_activities(api: Api, path: str, token: str, **params: Any) -> tuple[list[list[dict[str, Any]]], str]:
    """Follows ``nextPageToken`` while ``moreResult`` is true: the pages (as served) and the final token."""
    pages = []
    for _ in range(10_000):
        body = api.get(path, nextPageToken=token, **params)
        assert body["success"], body
        pages.append(body.get("result", []))
        token = body["nextPageToken"]
        if not body["moreResult"]:
            return pages, token
    raise AssertionError("paging never ended")


def since(api: Api, moment: str) -> str:
    token: str = api.get("/rest/v1/activities/pagingtoken.json", sinceDatetime=moment)["nextPageToken"]
    return token
