"""Server-side aggregation per Datastream (urbandata extension), on both backends: results equal a
brute-force computation over the raw observations, bucket boundaries follow the time zone (DST),
edge hours are exact, bad input is a 400 and invisible Datastreams are 404."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sensors.conftest import STA, bearer, create_station
from tests.sensors.ext_support import UTC, add_observations, random_series
from urbandata.auth.actor import RequestContext
from urbandata.sensors import aggregate as agg
from urbandata.stores import Stores

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
START = dt.datetime(2026, 10, 10, tzinfo=UTC)
END = dt.datetime(2026, 11, 20, tzinfo=UTC)  # spans the end of summer time (2026-10-25)


def _iso(t: dt.datetime) -> str:
    return t.isoformat()


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _brute(series: list[tuple[dt.datetime, float]], start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    vals = [v for t, v in series if start <= t < end]
    if not vals:
        return {"count": 0, "min": None, "max": None, "sum": None, "avg": None}
    return {"count": len(vals), "min": min(vals), "max": max(vals), "sum": sum(vals), "avg": sum(vals) / len(vals)}


def _check_against_raw(
    body: dict[str, Any], series: list[tuple[dt.datetime, float]], frm: dt.datetime, to: dt.datetime
) -> None:
    buckets = body["value"]
    assert buckets, body
    assert _parse(buckets[0]["start"]) == frm and _parse(buckets[-1]["end"]) == to
    for a, b in zip(buckets, buckets[1:], strict=False):
        assert a["end"] == b["start"]  # contiguous, no gaps or overlaps
    total = 0
    for b in buckets:
        want = _brute(series, _parse(b["start"]), _parse(b["end"]))
        assert b["count"] == want["count"], b
        total += b["count"]
        for fn in ("min", "max", "sum", "avg"):
            if want[fn] is None:
                assert b[fn] is None
            else:
                assert b[fn] == pytest.approx(want[fn], rel=1e-9, abs=1e-6), (fn, b)
    assert total == len([1 for t, _ in series if frm <= t < to])


@pytest.fixture
def random_stream(client: TestClient, stores: Stores, sensor_world: dict[str, str]) -> tuple[int, list[Any]]:
    _, ds = create_station(client, sensor_world["steward"])
    series = random_series(7, START, END, 3000)
    add_observations(stores, ds, series)
    return ds, series


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    offset_s=st.integers(min_value=0, max_value=40 * 86400),
    length_s=st.integers(min_value=1, max_value=45 * 86400),
    interval=st.sampled_from(["hour", "day", "week", "month"]),
    tz=st.sampled_from(["Europe/Berlin", "UTC", "Asia/Kolkata", "America/St_Johns"]),
)
def test_aggregates_equal_a_brute_force_computation(
    admin: RequestContext,
    stores: Stores,
    random_stream: tuple[int, list[Any]],
    offset_s: int,
    length_s: int,
    interval: str,
    tz: str,
) -> None:
    ds, series = random_stream
    frm = START - dt.timedelta(days=1) + dt.timedelta(seconds=offset_s)
    to = frm + dt.timedelta(seconds=length_s)
    body = agg.aggregate(
        admin,
        stores,
        ds,
        {"interval": interval, "from": _iso(frm), "to": _iso(to), "tz": tz},
        base_url="http://x/sta/v1.1",
    )
    _check_against_raw(body, series, frm, to)
    zone = zoneinfo.ZoneInfo(tz)
    for b in body["value"][1:]:  # every boundary but the range's own start is a local bucket start
        local = _parse(b["start"]).astimezone(zone)
        if interval == "hour":
            assert local.astimezone(UTC).minute == 0
        else:
            assert (local.hour, local.minute) == (0, 0)
            if interval == "week":
                assert local.weekday() == 0
            if interval == "month":
                assert local.day == 1


def test_minute_buckets_are_exact_and_edges_are_partial(
    admin: RequestContext, stores: Stores, random_stream: tuple[int, list[Any]]
) -> None:
    ds, series = random_stream
    frm = dt.datetime(2026, 10, 24, 22, 17, 31, tzinfo=UTC)
    to = frm + dt.timedelta(hours=30, seconds=7)
    body = agg.aggregate(
        admin, stores, ds, {"interval": "minute", "from": _iso(frm), "to": _iso(to)}, base_url="http://x/sta/v1.1"
    )
    assert len(body["value"]) == 30 * 60 + 1  # 1799 whole minutes and two partial edge minutes
    _check_against_raw(body, series, frm, to)


def test_edge_hours_come_from_raw_observations(
    client: TestClient, stores: Stores, admin: RequestContext, sensor_world: dict[str, str]
) -> None:
    _, ds = create_station(client, sensor_world["steward"])
    t0 = dt.datetime(2026, 11, 2, 8, tzinfo=UTC)
    add_observations(stores, ds, [(t0 + dt.timedelta(minutes=10 * i), float(i)) for i in range(18)])  # 08:00-10:50
    body = agg.aggregate(
        admin,
        stores,
        ds,
        {
            "interval": "day",
            "from": "2026-11-02T08:25:00Z",
            "to": "2026-11-02T10:35:00Z",
            "functions": "count,sum,min,max",
        },
        base_url="http://x/sta/v1.1",
    )
    # 08:30..08:50 (3, 4, 5), the whole hour 09:xx from the rollup (6..11), 10:00..10:30 (12..15)
    assert body["value"] == [
        {
            "start": "2026-11-02T08:25:00Z",
            "end": "2026-11-02T10:35:00Z",
            "count": 13,
            "sum": float(sum(range(3, 16))),
            "min": 3.0,
            "max": 15.0,
        }
    ]


def test_day_buckets_follow_berlin_summer_time_change(
    client: TestClient, sensor_world: dict[str, str], stores: Stores
) -> None:
    _, ds = create_station(client, sensor_world["steward"])
    # one value per UTC hour from 23 Oct to 27 Oct 2026; summer time ends on Sunday 25 Oct
    first = dt.datetime(2026, 10, 22, 22, tzinfo=UTC)
    add_observations(stores, ds, [(first + dt.timedelta(hours=h), 1.0) for h in range(4 * 24 + 1)])
    r = client.get(
        f"{STA}/Datastreams({ds})/Aggregations",
        params={
            "interval": "day",
            "from": "2026-10-23T00:00:00+02:00",
            "to": "2026-10-27T00:00:00+01:00",
            "functions": "count",
        },
    )
    assert r.status_code == 200, r.text
    days = r.json()["value"]
    assert [(d["start"], d["count"]) for d in days] == [
        ("2026-10-22T22:00:00Z", 24),
        ("2026-10-23T22:00:00Z", 24),
        ("2026-10-24T22:00:00Z", 25),  # the 25-hour Sunday
        ("2026-10-25T23:00:00Z", 24),
    ]
    assert r.json()["timeZone"] == "Europe/Berlin"
    utc = client.get(
        f"{STA}/Datastreams({ds})/Aggregations",
        params={
            "interval": "day",
            "from": "2026-10-24T00:00:00Z",
            "to": "2026-10-26T00:00:00Z",
            "tz": "UTC",
            "functions": "count",
        },
    ).json()["value"]
    assert [d["count"] for d in utc] == [24, 24]


def test_empty_buckets_are_listed_with_count_zero(
    client: TestClient, sensor_world: dict[str, str], stores: Stores
) -> None:
    _, ds = create_station(client, sensor_world["steward"])
    add_observations(stores, ds, [(dt.datetime(2026, 11, 2, 10, 30, tzinfo=UTC), 4.5)])
    r = client.get(
        f"{STA}/Datastreams({ds})/Aggregations?interval=hour&from=2026-11-02T09:00:00Z&to=2026-11-02T12:00:00Z"
    )
    body = r.json()
    assert body["Datastream@iot.id"] == ds and body["functions"] == ["min", "max", "avg", "sum", "count"]
    assert [(b["count"], b["avg"]) for b in body["value"]] == [(0, None), (1, 4.5), (0, None)]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z", "interval"),
        ("interval=fortnight&from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z", "interval"),
        ("interval=hour&from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z", "from"),
        ("interval=hour&from=gestern&to=2026-11-01T00:00:00Z", "from"),
        ("interval=hour&from=2026-11-01T00:00:00Z", "to"),
        ("interval=hour&from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&functions=avg,median", "functions"),
        ("interval=day&from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&tz=Mars/Olympus", "tz"),
        ("interval=minute&from=2020-01-01T00:00:00Z&to=2026-11-02T00:00:00Z", "interval"),
        ("interval=hour&from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&$top=3", "$top"),
    ],
)
def test_bad_input_is_a_clear_400(client: TestClient, sensor_world: dict[str, str], query: str, parameter: str) -> None:
    _, ds = create_station(client, sensor_world["steward"])
    r = client.get(f"{STA}/Datastreams({ds})/Aggregations?{query}")
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["details"]["parameter"] == parameter and err["message"]


def test_invisible_datastream_is_404_like_a_missing_one(
    client: TestClient, sensor_world: dict[str, str], stores: Stores
) -> None:
    _, ds = create_station(client, sensor_world["steward"], name="Interne Station", dataset="luft-intern")
    add_observations(stores, ds, [(dt.datetime(2026, 11, 2, 10, tzinfo=UTC), 1.0)])
    q = "interval=hour&from=2026-11-02T00:00:00Z&to=2026-11-03T00:00:00Z"
    hidden = client.get(f"{STA}/Datastreams({ds})/Aggregations?{q}")
    missing = client.get(f"{STA}/Datastreams(999999)/Aggregations?{q}")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"]["code"] == missing.json()["error"]["code"]
    assert hidden.json()["error"]["message"].replace(str(ds), "N") == missing.json()["error"]["message"].replace(
        "999999", "N"
    )
    own = client.get(f"{STA}/Datastreams({ds})/Aggregations?{q}", headers=bearer(sensor_world["reader"]))
    assert own.status_code == 200 and sum(b["count"] for b in own.json()["value"]) == 1
