"""Faults on demand: scripted answers for matching requests, from a config file or ``/_sandbox/faults``.

A rule (JSON/TOML object) matches requests whose path the regex ``path`` searches (and ``method``, if given). The
first ``after`` matching calls pass untouched; the next ``times`` calls (default 1; ``null``/0 = forever) get the
fault. Effects, combinable:

| key | effect |
|---|---|
| ``code`` (+ ``message``) | Marketo error envelope with that code (HTTP 200), e.g. ``"606"``, ``"1029"``, ``"1035"`` |
| ``http_status`` (+ ``body``) | a bare HTTP error such as 502, plain text |
| ``delay_seconds`` | answer late (real seconds; cut short by clearing the faults), then as otherwise |
| ``drop_after_bytes`` | file downloads: send the headers and that many body bytes, then drop the connection |
| ``corrupt_body: true`` | file downloads: the right size, one byte changed, so no match with ``fileChecksum`` |
| ``expire_token: true`` | API calls: the token expires now: this call 602, later uses 601, identity a new one |
| ``job: "fail"`` (+ ``message``) | on a bulk create/enqueue/status/file path: that job ends Failed with ``errorMsg`` |
| ``job: "file_gone"`` | on a bulk status/file path: the job stays Completed but its file is gone (404) |

Clearing the faults (``DELETE /_sandbox/faults``) ends every delay under way: a test holds calls in flight with a
long delay for as long as it needs them there, then lets them go, whatever the machine's speed.
``corrupt_body`` is a corruption in transit: the next download is sound unless the rule fires again.
``expire_token`` is a token's hour running out mid-run, as Marketo reports it (the first use after expiry 602).
On the identity path (``/identity/oauth/token``) ``http_status`` (e.g. 503), ``body`` and ``delay_seconds`` apply.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any


@dataclasses.dataclass(frozen=True, kw_only=True)
class FaultRule:
    path: str
    method: str | None = None
    after: int = 0
    times: int | None = 1
    code: str | None = None
    message: str | None = None
    http_status: int | None = None
    body: str | None = None
    delay_seconds: float = 0.0
    drop_after_bytes: int | None = None
    corrupt_body: bool = False
    expire_token: bool = False
    job: str | None = None

    def __post_init__(self) -> None:
        re.compile(self.path)
        if self.job not in (None, "fail", "file_gone"):
            raise ValueError(f"fault job effect must be 'fail' or 'file_gone', not {self.job!r}")
        if self.code is not None:
            object.__setattr__(self, "code", str(self.code))

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method) and re.search(self.path, path) is not None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None and v is not False}


def parse_rules(raw: Any) -> tuple[FaultRule, ...]:
    """Accepts a list of rule objects or ``{"faults": [...]}``."""
    if isinstance(raw, Mapping):
        raw = raw.get("faults", [])
    rules: list[FaultRule] = []
    for item in raw:
        if isinstance(item, FaultRule):
            rules.append(item)
            continue
        known = {f.name for f in dataclasses.fields(FaultRule)}
        unknown = sorted(set(item) - known)
        if unknown:
            raise ValueError(f"unknown fault keys {unknown}; known: {sorted(known)}")
        rules.append(FaultRule(**item))
    return tuple(rules)


class FaultPlan:
    """The live rules and how many matching calls each has seen."""

    def __init__(self, rules: Iterable[FaultRule] = ()) -> None:
        self._lock = threading.Lock()
        self._cleared = threading.Condition(self._lock)
        self._clearings = 0
        self._rules: list[tuple[FaultRule, list[int]]] = []
        self.add(rules)

    def add(self, rules: Iterable[FaultRule]) -> None:
        with self._lock:
            self._rules.extend((rule, [0]) for rule in rules)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._clearings += 1
            self._cleared.notify_all()

    def delay(self, seconds: float) -> None:
        """Waits ``seconds``, or until the rules are cleared."""
        deadline = time.monotonic() + seconds
        with self._lock:
            clearings = self._clearings
            while self._clearings == clearings and (left := deadline - time.monotonic()) > 0:
                self._cleared.wait(left)

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{**rule.as_dict(), "seen": seen[0]} for rule, seen in self._rules]

    def fire(self, method: str, path: str) -> list[FaultRule]:
        """Counts this call against every matching rule and returns those whose turn it is."""
        fired: list[FaultRule] = []
        with self._lock:
            for rule, seen in self._rules:
                if not rule.matches(method, path):
                    continue
                seen[0] += 1
                index = seen[0] - rule.after
                if index >= 1 and (not rule.times or index <= rule.times):
                    fired.append(rule)
        return fired
