"""The HTTP edge: a parsed request, the kinds of answer a route gives, and how they go on the wire."""

from __future__ import annotations

import dataclasses
import json
import re
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from marketo_stream.sandbox.envelope import ApiError
from marketo_stream.sandbox.faults import FaultRule


@dataclasses.dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes = b""
    form: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    client_id: str = ""
    faults: list[FaultRule] = dataclasses.field(default_factory=list)
    target_length: int = 0

    @classmethod
    def parse(cls, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Request:
        split = urllib.parse.urlsplit(target)
        query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        form: dict[str, list[str]] = {}
        content_type = headers.get("content-type", "") or ""
        if body and content_type.startswith("application/x-www-form-urlencoded"):
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        if method == "POST" and (query.get("_method") == ["GET"] or form.get("_method") == ["GET"]):
            method = "GET"
            for key, values in form.items():
                query.setdefault(key, []).extend(values)
        return cls(method, split.path, query, headers, body, form, target_length=len(target))

    def get(self, name: str, default: str | None = None) -> str | None:
        """First value of a query or form parameter."""
        values = self.query.get(name) or self.form.get(name)
        return values[0] if values else default

    def get_list(self, name: str) -> list[str]:
        """All values, whether repeated (``a=1&a=2``) or comma-separated (``a=1,2``)."""
        values = (self.query.get(name) or []) + (self.form.get(name) or [])
        return [part.strip() for value in values for part in value.split(",") if part.strip()]

    def get_int(self, name: str, default: int) -> int:
        value = self.get(name)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except ValueError as exc:
            raise ApiError("1003", f"Invalid value '{value}' for {name}") from exc

    def json(self) -> dict[str, Any]:
        if not self.body:
            return {}
        try:
            loaded = json.loads(self.body)
        except ValueError as exc:
            raise ApiError("609") from exc
        if not isinstance(loaded, dict):
            raise ApiError("609")
        return loaded


@dataclasses.dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json;charset=UTF-8"
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    file: Path | None = None
    file_range: tuple[int, int] | None = None
    marketo_code: str | None = None
    drop_after_bytes: int | None = None
    replace_byte: tuple[int, int] | None = None
    """``(offset in the file, byte)``: a file served with that one byte changed (the ``corrupt_body`` fault)."""

    @classmethod
    def json(cls, payload: Mapping[str, Any], status: int = 200) -> Response:
        code = None
        if payload.get("success") is False and payload.get("errors"):
            code = str(payload["errors"][0].get("code"))
        return cls(status, json.dumps(payload).encode(), marketo_code=code)

    @classmethod
    def text(cls, status: int, message: str) -> Response:
        return cls(status, message.encode(), content_type="text/plain;charset=UTF-8")


Handler = Callable[[Request, re.Match[str]], Response]


@dataclasses.dataclass(frozen=True)
class Route:
    methods: frozenset[str]
    pattern: re.Pattern[str]
    handler: Handler


class Router:
    """Regex routes; a known path with the wrong method is Marketo's 605."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, methods: str, pattern: str, handler: Handler) -> None:
        self.routes.append(Route(frozenset(methods.split()), re.compile(pattern + r"\Z"), handler))

    def include(self, other: Router) -> None:
        self.routes.extend(other.routes)

    def resolve(self, method: str, path: str) -> tuple[Handler, re.Match[str]]:
        wrong_method = False
        for route in self.routes:
            match = route.pattern.match(path)
            if match is None:
                continue
            if method in route.methods:
                return route.handler, match
            wrong_method = True
        raise ApiError("605") if wrong_method else ApiError("610")
