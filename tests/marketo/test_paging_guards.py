"""Guards that stop paging from looping, and id batching (pure)."""

from __future__ import annotations

import pytest

from marketo_stream.marketo.errors import MarketoProtocolError
from marketo_stream.marketo.paging import StallGuard, batches


def test_consecutive_empty_pages_beyond_the_limit_raise() -> None:
    guard = StallGuard("/rest/v1/activities.json", limit=2)
    guard.observe([], "a")
    guard.observe([], "b")
    with pytest.raises(MarketoProtocolError) as raised:
        guard.observe([], "c")
    assert raised.value.code == "paging"


def test_a_page_with_rows_and_a_new_token_resets_the_count() -> None:
    guard = StallGuard("p", limit=1)
    for token in "abcdef":
        guard.observe([], token + "1")  # one stalled page: within the limit only because the count was reset
        guard.observe([{"id": 1}], token + "2")
    guard.observe([], "g1")
    with pytest.raises(MarketoProtocolError):
        guard.observe([], "g2")  # the second empty page in a row is past the limit: the count is real


def test_a_repeated_token_counts_as_no_progress_even_with_rows() -> None:
    guard = StallGuard("p", limit=1)
    guard.observe([{"id": 1}], "same")
    guard.observe([{"id": 1}], "same")
    with pytest.raises(MarketoProtocolError):
        guard.observe([{"id": 1}], "same")


def test_batches_hold_at_most_300_ids() -> None:
    sizes = [len(b) for b in batches(range(701))]
    assert sizes == [300, 300, 101]
    assert list(batches([])) == []
