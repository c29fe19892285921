"""fetch_ahead and first_pages_ahead: results in input order, bounded lookahead, errors at their turn, early stop
cancels the rest."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from itertools import count

import pytest

from marketo_stream.sync.prefetch import fetch_ahead, first_pages_ahead


def test_results_come_in_the_order_of_the_items_whatever_order_the_fetches_end_in() -> None:
    finished: list[int] = []
    last_done = threading.Event()

    def fetch(n: int) -> int:
        if n == 0:
            assert last_done.wait(timeout=5)  # the first item ends only after the third has
        finished.append(n)
        if n == 2:
            last_done.set()
        return n * 10

    assert list(fetch_ahead(range(4), fetch, workers=3)) == [(n, n * 10) for n in range(4)]
    assert finished.index(2) < finished.index(0)


def test_fetches_run_at_the_same_time_up_to_the_number_of_workers() -> None:
    barrier = threading.Barrier(3, timeout=5)

    def fetch(n: int) -> int:
        barrier.wait()  # breaks (raises) unless three fetches are in flight together
        return n

    assert [n for n, _ in fetch_ahead(range(3), fetch, workers=3)] == [0, 1, 2]


def test_an_endless_source_is_read_only_a_few_items_past_the_last_one_consumed() -> None:
    started: list[int] = []
    lock = threading.Lock()

    def fetch(n: int) -> int:
        with lock:
            started.append(n)
        return n

    results = fetch_ahead(count(), fetch, workers=4)
    taken = [next(results)[0] for _ in range(3)]
    results.close()
    assert taken == [0, 1, 2]
    assert max(started) <= 2 + 4


def test_a_failed_fetch_raises_when_its_turn_comes() -> None:
    def fetch(n: int) -> int:
        if n == 2:
            raise ValueError("no such program")
        return n

    seen = []
    with pytest.raises(ValueError, match="no such program"):
        for n, _ in fetch_ahead(range(5), fetch, workers=3):
            seen.append(n)
    assert seen == [0, 1]


def test_one_worker_fetches_in_turn_on_the_calling_thread() -> None:
    threads = []

    def fetch(n: int) -> int:
        threads.append(threading.current_thread())
        return n

    assert list(fetch_ahead(range(3), fetch, workers=1)) == [(0, 0), (1, 1), (2, 2)]
    assert set(threads) == {threading.current_thread()}


class Opened:
    """The pages the listings have produced so far, in order, with a way to wait for one without guessing how long
    the read-ahead threads take."""

    def __init__(self) -> None:
        self.pages: list[str] = []
        self._changed = threading.Condition()

    def add(self, page: str) -> None:
        with self._changed:
            self.pages.append(page)
            self._changed.notify_all()

    def wait_for(self, *pages: str, timeout: float = 5.0) -> list[str]:
        """A copy of the pages once all of ``pages`` are among them; fails the test after ``timeout`` seconds."""
        with self._changed:
            assert self._changed.wait_for(lambda: set(pages) <= set(self.pages), timeout=timeout), (pages, self.pages)
            return list(self.pages)


def _pages(opened: Opened, size: int) -> Callable[[str], Iterator[str]]:
    def pages(name: str) -> Iterator[str]:
        for number in range(size):
            opened.add(f"{name}{number}")
            yield f"{name}{number}"

    return pages


def test_every_page_of_every_listing_is_read_in_order() -> None:
    listed = first_pages_ahead(["a", "b", "c"], _pages(Opened(), 3), workers=2)
    assert [(item, list(pages)) for item, pages in listed] == [(n, [f"{n}0", f"{n}1", f"{n}2"]) for n in "abc"]


def test_later_pages_are_read_ahead_only_for_the_listing_being_read_and_only_depth_pages_ahead() -> None:
    opened = Opened()
    listed = first_pages_ahead(["a", "b"], _pages(opened, 10), workers=2, depth=2)
    item, pages = next(listed)
    assert (item, next(pages)) == ("a", "a0")
    # The pages after the one being published are on their way; once both are read, the reader has nothing more
    # to do until the consumer takes one, so what it has not read by then it will not read.
    read = opened.wait_for("a1", "a2")
    assert "a3" not in read, "two pages ahead, no more"
    assert "b1" not in read, "a listing whose turn has not come has only its first page read"
    assert list(pages) == [f"a{n}" for n in range(1, 10)]
    item, pages = next(listed)
    assert (item, list(pages)) == ("b", [f"b{n}" for n in range(10)])


def test_a_listing_left_early_stops_being_read() -> None:
    opened = Opened()
    listed = first_pages_ahead(["a", "b"], _pages(opened, 1000), workers=2, depth=2)
    _, pages = next(listed)
    next(pages)
    _, pages = next(listed)  # "a" left after one page
    assert next(pages) == "b0"
    listed.close()  # joins the fetch and read-ahead threads: nothing adds to ``opened`` after it returns
    read = list(opened.pages)
    assert len([page for page in read if page.startswith("a")]) <= 3
    assert not [t for t in threading.enumerate() if t.name.startswith("marketo-read-ahead") and t.is_alive()]


def test_a_failing_later_page_raises_in_its_turn() -> None:
    def pages(name: str) -> Iterator[str]:
        yield f"{name}0"
        yield f"{name}1"
        raise ValueError("611 system error")

    seen: list[str] = []
    with pytest.raises(ValueError, match="611"):
        for _, listing in first_pages_ahead(["a"], pages, workers=2):
            seen.extend(listing)
    assert seen == ["a0", "a1"]
