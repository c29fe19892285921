"""Things computed from the world as it is at one instant, built once and kept for the last few instants.

The frozen clock of tests and benchmarks asks every question at the same instant, and paging asks the same
question many times: a snapshot of 100,000 leads takes seconds to fold, an index over it milliseconds, and
answering from them a fraction of one. Builds run one at a time (a second caller waits for the first and takes
its result); they may nest, since an index is built from the snapshot of its own instant.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable
from typing import Any, TypeVar, cast

T = TypeVar("T")
_MISSING = object()


class InstantCache:
    def __init__(self, keep: int = 2) -> None:
        self._keep = keep
        self._slots: collections.OrderedDict[int, dict[str, Any]] = collections.OrderedDict()
        self._lock = threading.Lock()
        self._building = threading.RLock()

    def get(self, second: int, key: str, build: Callable[[], T]) -> T:
        found = self._find(second, key)
        if found is _MISSING:
            with self._building:
                found = self._find(second, key)
                if found is _MISSING:
                    found = build()
                    with self._lock:
                        self._slots.setdefault(second, {})[key] = found
                        self._slots.move_to_end(second)
                        while len(self._slots) > self._keep:
                            self._slots.popitem(last=False)
        return cast(T, found)

    def _find(self, second: int, key: str) -> Any:
        with self._lock:
            slot = self._slots.get(second)
            return _MISSING if slot is None else slot.get(key, _MISSING)

    def clear(self) -> None:
        with self._lock:
            self._slots.clear()
