"""Freshness contracts with injected time."""

from __future__ import annotations

import datetime as dt

from urbandata.quality.freshness import evaluate, score_of, worst

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def test_fresh_due_overdue_for_a_weekly_period() -> None:
    at = evaluate(T0, 7, T0 + dt.timedelta(days=1))
    assert at.status == "fresh" and at.due_at == T0 + dt.timedelta(days=7) and at.overdue_since is None
    assert evaluate(T0, 7, T0 + dt.timedelta(days=6.2)).status == "fresh"
    assert evaluate(T0, 7, T0 + dt.timedelta(days=6.5)).status == "due"  # inside the last 10 % of the period
    assert evaluate(T0, 7, T0 + dt.timedelta(days=7)).status == "due"
    late = evaluate(T0, 7, T0 + dt.timedelta(days=30))
    assert late.status == "overdue" and late.overdue_since == T0 + dt.timedelta(days=7)


def test_no_promise_without_a_period_and_naive_times_are_utc() -> None:
    assert evaluate(T0, None, T0 + dt.timedelta(days=999)).as_dict()["due_at"] is None
    assert evaluate(T0, None, T0).status == "fresh"
    naive = evaluate(T0.replace(tzinfo=None), 1, dt.datetime(2026, 3, 5))
    assert naive.status == "overdue" and naive.due_at == T0 + dt.timedelta(days=1)


def test_worst_and_scores() -> None:
    a, b = evaluate(T0, 1, T0 + dt.timedelta(days=3)), evaluate(T0, 10, T0 + dt.timedelta(days=3))
    assert worst([b, a]) is a
    assert worst([]).status == "fresh"
    assert [score_of(s) for s in ("fresh", "due", "overdue")] == [1.0, 0.5, 0.0]
