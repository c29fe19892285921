"""What the sandbox was asked and what it answered, so tests can prove call counts and request order."""

from __future__ import annotations

import collections
import itertools
import re
import threading
from typing import Any


class RequestLog:
    def __init__(self, keep: int = 50_000) -> None:
        self._entries: collections.deque[dict[str, Any]] = collections.deque(maxlen=keep)
        self._seq = itertools.count(1)
        self._lock = threading.Lock()

    def append(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append({"seq": next(self._seq), **entry})

    def entries(self, since: int = 0, path: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            found = [e for e in self._entries if e["seq"] > since]
        if path:
            pattern = re.compile(path)
            found = [e for e in found if pattern.search(e["path"])]
        return found

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
