from datetime import UTC, datetime, timedelta

import pytest

from marketo_stream.intervals import Interval, IntervalSet, format_instant, parse_instant


def day(n: int) -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=n)


def test_adjacent_and_overlapping_intervals_merge_whatever_order_they_finish_in() -> None:
    done = IntervalSet()
    done.add(Interval(day(10), day(20)))
    done.add(Interval(day(0), day(5)))
    done.add(Interval(day(5), day(10)))
    assert list(done) == [Interval(day(0), day(20))]


def test_missing_lists_the_gaps_inside_a_span_oldest_first() -> None:
    done = IntervalSet([Interval(day(2), day(4)), Interval(day(6), day(8))])
    assert done.missing(Interval(day(0), day(10))) == [
        Interval(day(0), day(2)),
        Interval(day(4), day(6)),
        Interval(day(8), day(10)),
    ]
    assert done.missing(Interval(day(2), day(4))) == []


def test_intersection_is_what_every_member_has_done() -> None:
    a = IntervalSet([Interval(day(0), day(10))])
    b = IntervalSet([Interval(day(5), day(15))])
    assert list(a.intersection(b)) == [Interval(day(5), day(10))]


def test_split_newest_first_keeps_every_chunk_within_the_size() -> None:
    chunks = list(Interval(day(0), day(70)).split_newest_first(timedelta(days=31)))
    assert chunks == [Interval(day(39), day(70)), Interval(day(8), day(39)), Interval(day(0), day(8))]


def test_json_round_trip_is_exact() -> None:
    done = IntervalSet([Interval(day(0), day(3)), Interval(day(5), day(6))])
    assert IntervalSet.from_json(done.to_json()) == done


@pytest.mark.parametrize(
    "text",
    ["2026-01-02T03:04:05Z", "2026-01-02T03:04:05Z+0000", "2026-01-02T04:04:05+01:00", "2026-01-02T03:04:05+0000"],
)
def test_marketo_timestamp_forms_parse_to_the_same_instant(text: str) -> None:
    assert parse_instant(text) == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_format_instant_drops_fractions_and_uses_z() -> None:
    assert format_instant(datetime(2026, 1, 2, 3, 4, 5, 999, tzinfo=UTC)) == "2026-01-02T03:04:05Z"


def test_an_interval_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError):
        Interval(day(2), day(1))
