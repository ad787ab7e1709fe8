"""The datastore contract for aggregations, run unchanged against every backend."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.datastore.test_contract import datastore, staged  # noqa: F401 - the backend fixture
from urbandata.datastore import Datastore
from urbandata.datastore.aggregation import Bucket, Metric
from urbandata.datastore.sql import Condition, Order

CSV = (
    "bezirk;wert;datum;zeit;aktiv\n"
    "Nord;1,5;01.02.2024;01.02.2024 08:15;ja\n"
    ";;;;nein\n"
    "Nord;2,5;15.02.2024;15.02.2024 09:45;nein\n"
    "Süd;4;03.03.2024;03.03.2024 10:00;ja\n"
)


def test_groups_metrics_and_order(datastore: Datastore, tmp_path: Path) -> None:  # noqa: F811
    ref = datastore.install(staged(tmp_path, CSV).staged, 3, 1)
    metrics = [
        Metric("count", None, "n"),
        Metric("sum", "wert", "s"),
        Metric("count_distinct", "aktiv", "d"),
        Metric("bool_and", "aktiv", "all"),
        Metric("bool_or", "aktiv", "any"),
    ]
    rows = datastore.aggregate(ref, ["bezirk"], None, metrics, order=[Order("bezirk")])
    assert [tuple(r) for r in rows] == [
        ("Nord", 2, 4.0, 2, False, True),
        ("Süd", 1, 4.0, 1, True, True),
        (None, 1, None, 1, False, False),
    ]
    top = datastore.aggregate(ref, ["bezirk"], None, metrics[:1], order=[Order("n", True), Order("bezirk")], limit=1)
    assert [tuple(r) for r in top] == [("Nord", 2)]
    only = datastore.aggregate(ref, [], None, [Metric("max", "wert", "m")], where=[Condition("bezirk", "eq", "Nord")])
    assert [tuple(r) for r in only] == [(2.5,)]


def test_time_buckets(datastore: Datastore, tmp_path: Path) -> None:  # noqa: F811
    ref = datastore.install(staged(tmp_path, CSV).staged, 3, 1)
    count = [Metric("count", None, "n")]
    months = datastore.aggregate(ref, [], Bucket("month", "datum", "b", as_date=True), count, order=[Order("b")])
    assert [tuple(r) for r in months] == [(dt.date(2024, 2, 1), 2), (dt.date(2024, 3, 1), 1), (None, 1)]
    hours = datastore.aggregate(ref, ["bezirk"], Bucket("hour", "zeit", "b"), count, order=[Order("b")], limit=2)
    assert [tuple(r) for r in hours] == [
        ("Nord", dt.datetime(2024, 2, 1, 8), 1),
        ("Nord", dt.datetime(2024, 2, 15, 9), 1),
    ]
    weeks = datastore.aggregate(ref, [], Bucket("week", "datum", "b", as_date=True), count, order=[Order("b")])
    assert [r[0] for r in weeks] == [dt.date(2024, 1, 29), dt.date(2024, 2, 12), dt.date(2024, 2, 26), None]
