from datetime import UTC, datetime, timedelta

import pytest

from marketo_stream.intervals import Interval, IntervalSet
from marketo_stream.planner import (
    DATA_START_MARGIN,
    MAX_BULK_WINDOW,
    data_floor,
    known_empty,
    plan_windows,
    reads_on_from_latest,
    unprobed_history,
    window_size,
)
from marketo_stream.sync.windows import export_pays

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_first_run_fetches_the_newest_seven_days_before_any_history() -> None:
    plan = plan_windows(IntervalSet(), now=NOW, horizon=NOW - 100 * DAY)
    assert plan.priority == (Interval(NOW - 7 * DAY, NOW),)
    assert plan.backfill[0].end == NOW - 7 * DAY
    assert all(a.start == b.end for a, b in zip(plan.backfill, plan.backfill[1:], strict=False)), "newest to oldest"
    assert plan.backfill[-1].start == NOW - 100 * DAY
    assert all(w.length <= MAX_BULK_WINDOW for w in plan.all())


def test_later_run_brings_new_data_up_to_date_with_a_lookback_then_backfills() -> None:
    done = IntervalSet([Interval(NOW - 30 * DAY, NOW - 2 * DAY)])
    plan = plan_windows(done, now=NOW, horizon=NOW - 60 * DAY, lookback=DAY)
    assert plan.priority == (Interval(NOW - 3 * DAY, NOW),)
    assert plan.backfill == (Interval(NOW - 60 * DAY, NOW - 30 * DAY),)


def test_a_long_outage_is_caught_up_newest_window_first() -> None:
    done = IntervalSet([Interval(NOW - 100 * DAY, NOW - 80 * DAY)])
    plan = plan_windows(done, now=NOW, horizon=NOW - 100 * DAY, lookback=DAY)
    assert plan.priority[0].end == NOW
    assert plan.priority[-1].start == NOW - 81 * DAY
    assert [w.end for w in plan.priority] == sorted((w.end for w in plan.priority), reverse=True)
    assert plan.backfill == ()


def test_nothing_left_when_everything_down_to_the_horizon_is_done() -> None:
    done = IntervalSet([Interval(NOW - 50 * DAY, NOW)])
    plan = plan_windows(done, now=NOW, horizon=NOW - 50 * DAY, lookback=timedelta(0))
    assert plan.all() == ()


def test_gaps_left_by_windows_that_finished_out_of_order_are_planned() -> None:
    done = IntervalSet([Interval(NOW - 7 * DAY, NOW), Interval(NOW - 40 * DAY, NOW - 20 * DAY)])
    plan = plan_windows(done, now=NOW, horizon=NOW - 40 * DAY, lookback=timedelta(0))
    assert plan.backfill == (Interval(NOW - 20 * DAY, NOW - 7 * DAY),)


def test_window_size_targets_rows_per_export_within_marketo_limits() -> None:
    assert window_size(None, target_rows=100, smallest=DAY, largest=40 * DAY) == MAX_BULK_WINDOW
    assert window_size(10.0, target_rows=100, smallest=DAY, largest=31 * DAY) == 10 * DAY
    assert window_size(1e9, target_rows=100, smallest=DAY, largest=31 * DAY) == DAY
    assert window_size(1e-12, target_rows=10**9, smallest=DAY, largest=31 * DAY) == 31 * DAY


def test_a_window_longer_than_marketo_allows_is_refused() -> None:
    with pytest.raises(ValueError):
        plan_windows(IntervalSet(), now=NOW, horizon=NOW - DAY, window=32 * DAY)


def test_the_span_below_where_data_starts_is_known_empty_and_planned_no_window() -> None:
    horizon = NOW - 760 * DAY
    floor = data_floor(NOW - 40 * DAY, now=NOW, horizon=horizon)
    assert floor == NOW - 40 * DAY - DATA_START_MARGIN
    empty = known_empty(IntervalSet(), horizon=horizon, floor=floor)
    assert empty == Interval(horizon, floor)
    done = IntervalSet([empty])
    plan = plan_windows(done, now=NOW, horizon=horizon, refresh_from_latest=reads_on_from_latest(done, horizon, True))
    assert plan.priority == (Interval(NOW - 7 * DAY, NOW),), "the newest week first, as on any first run"
    assert plan.backfill[-1].start == floor and len(plan.all()) == 3, "two windows cover the 33 days of history left"


def test_no_data_at_all_makes_the_whole_history_known_empty() -> None:
    horizon = NOW - 760 * DAY
    assert data_floor(None, now=NOW, horizon=horizon) == NOW
    assert known_empty(IntervalSet(), horizon=horizon, floor=NOW) == Interval(horizon, NOW)


def test_data_older_than_the_horizon_leaves_nothing_known_empty() -> None:
    horizon = NOW - 100 * DAY
    assert data_floor(NOW - 300 * DAY, now=NOW, horizon=horizon) == horizon
    assert known_empty(IntervalSet(), horizon=horizon, floor=horizon) is None


def test_history_is_probed_only_while_nothing_is_done_at_the_horizon() -> None:
    horizon = NOW - 100 * DAY
    assert unprobed_history(IntervalSet(), horizon=horizon, now=NOW)
    assert unprobed_history(IntervalSet([Interval(NOW - 7 * DAY, NOW)]), horizon=horizon, now=NOW)
    assert not unprobed_history(IntervalSet([Interval(horizon, NOW - 50 * DAY)]), horizon=horizon, now=NOW)


def test_a_later_run_reads_on_from_its_newest_window_but_a_first_run_not_from_empty_history() -> None:
    horizon = NOW - 100 * DAY
    history_only = IntervalSet([Interval(horizon, NOW - 30 * DAY)])
    assert not reads_on_from_latest(history_only, horizon, first_run=True)
    assert reads_on_from_latest(history_only, horizon, first_run=False)
    newest_done = IntervalSet([Interval(horizon, NOW - 30 * DAY), Interval(NOW - 7 * DAY, NOW - DAY)])
    assert reads_on_from_latest(newest_done, horizon, first_run=True)


def test_a_member_export_pays_only_where_it_takes_fewer_calls_than_paging() -> None:
    assert not export_pays({program: 1 for program in range(5)}), "five programs of one page: five calls"
    assert export_pays({program: 1 for program in range(10)}), "ten programs: one job is six calls"
    assert export_pays({1: 20}), "one program of 20 pages"
    assert not export_pays({}), "nothing to read"


def test_a_history_shorter_than_a_window_is_one_window() -> None:
    horizon = NOW - 760 * DAY
    done = IntervalSet([Interval(horizon, NOW - 20 * DAY)])
    plan = plan_windows(done, now=NOW, horizon=horizon, refresh_from_latest=False)
    assert plan.priority == (Interval(NOW - 20 * DAY, NOW),) and plan.backfill == ()
