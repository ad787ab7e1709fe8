"""$filter and $orderby compiled to SQL and run against the sta_* tables, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from urbandata.db import tables as t
from urbandata.errors import InvalidInput, NotImplementedFeature
from urbandata.sensors.model import DATASTREAMS, FEATURES, OBSERVATIONS, THINGS, EntitySet
from urbandata.sensors.query.compile import order_by, where_clause
from urbandata.sensors.query.geo import install_sqlite_functions, postgis_schema
from urbandata.sensors.query.parse import parse_filter, parse_orderby
from urbandata.stores import Stores

UTC = dt.UTC
KL_POLYGON = "geography'POLYGON ((7.7 49.4, 7.8 49.4, 7.8 49.5, 7.7 49.5, 7.7 49.4))'"
EAST_POLYGON = "geography'POLYGON ((7.75 49.45, 7.9 49.45, 7.9 49.6, 7.75 49.6, 7.75 49.45))'"
CROSSING_LINE = "geography'LINESTRING (7.6 49.45, 7.9 49.45)'"


def _at(hour: int, day: int = 13, minute: int = 0, micro: int = 0) -> dt.datetime:
    return dt.datetime(2021, 7, day, hour, minute, 0, micro, tzinfo=UTC)


def _point(x: float, y: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [x, y]}


def _populate(conn: sa.Connection) -> None:
    conn.execute(
        sa.insert(t.sta_things),
        [
            {
                "id": 1,
                "name": "Messstation Rathaus",
                "description": "Luft",
                "properties": {"owner": "Stadt", "floors": 3, "active": True, "nested": {"level": {"deep": "ja"}}},
            },
            {
                "id": 2,
                "name": "Parkhaus Zentrum",
                "description": "Parken",
                "properties": {"owner": "SWK", "floors": 10, "active": False},
            },
            {"id": 3, "name": "Ärztehaus Süd", "description": "Gesundheit", "properties": None},
            {"id": 4, "name": "it's", "description": "quote", "properties": {"owner": "12"}},
        ],
    )
    geo = {"description": "", "encoding_type": "application/geo+json"}
    conn.execute(
        sa.insert(t.sta_locations),
        [
            {**geo, "id": 1, "name": "Rathaus", "location": _point(7.7692, 49.4447)},
            {**geo, "id": 2, "name": "Parkhaus", "location": _point(7.7560, 49.4380)},
            {
                **geo,
                "id": 3,
                "name": "Süd",
                "location": {"type": "Feature", "properties": {}, "geometry": _point(8.2, 49.0)},
            },
        ],
    )
    conn.execute(sa.insert(t.sta_thing_locations), [{"thing_id": i, "location_id": i} for i in (1, 2, 3)])
    conn.execute(
        sa.insert(t.sta_sensors),
        [{"id": 1, "name": "Sensor", "description": "", "encoding_type": "text/html", "metadata": "https://x"}],
    )
    conn.execute(
        sa.insert(t.sta_observed_properties),
        [
            {"id": 1, "name": "Temperatur", "definition": "urn:t", "description": ""},
            {"id": 2, "name": "Belegung", "definition": "urn:b", "description": ""},
        ],
    )
    stream = {"sensor_id": 1, "description": "", "observation_type": "OM_Measurement"}
    conn.execute(
        sa.insert(t.sta_datastreams),
        [
            {
                **stream,
                "id": 1,
                "thing_id": 1,
                "observed_property_id": 1,
                "name": "Lufttemperatur",
                "unit_of_measurement": {"name": "Grad Celsius", "symbol": "°C"},
                "phenomenon_time_start": _at(10),
                "phenomenon_time_end": _at(17),
            },
            {
                **stream,
                "id": 2,
                "thing_id": 2,
                "observed_property_id": 2,
                "name": "Freie Plätze",
                "unit_of_measurement": {"name": "Anzahl", "symbol": "#"},
                "phenomenon_time_start": None,
                "phenomenon_time_end": None,
            },
        ],
    )
    conn.execute(
        sa.insert(t.sta_features),
        [
            {**geo, "id": 1, "name": "Rathaus", "feature": _point(7.7692, 49.4447)},
            {**geo, "id": 2, "name": "Parkhaus", "feature": _point(7.7560, 49.4380)},
        ],
    )
    observations: list[dict[str, Any]] = [
        # Datastream 1: results 1..8, hourly from 10:00 UTC; number 8 is an interval 17:00/17:30
        {
            "id": i + 1,
            "datastream_id": 1,
            "feature_id": 1,
            "phenomenon_time": _at(10 + i),
            "result_number": float(i + 1),
        }
        for i in range(8)
    ]
    observations[0].update(result_time=_at(10, minute=5), parameters={"quality": "gut", "n": 5})
    observations[7]["phenomenon_time_end"] = _at(17, minute=30)
    observations += [
        # Datastream 2: text, boolean, object and numeric-looking text results
        {"id": 9, "datastream_id": 2, "feature_id": 2, "phenomenon_time": _at(8, day=14), "result_json": "frei"},
        {"id": 10, "datastream_id": 2, "feature_id": 2, "phenomenon_time": _at(9, day=14), "result_json": True},
        {
            "id": 11,
            "datastream_id": 2,
            "feature_id": 2,
            "phenomenon_time": _at(10, day=14, micro=250000),
            "result_json": {"a": 1},
        },
        {
            # 2021-07-14T23:30:00-02:00 is 01:30 UTC on the 15th
            "id": 12,
            "datastream_id": 2,
            "feature_id": 2,
            "phenomenon_time": dt.datetime(2021, 7, 14, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-2))).astimezone(
                UTC
            ),
            "result_json": "10",
        },
    ]
    keys = {k for o in observations for k in o}
    conn.execute(sa.insert(t.sta_observations), [{k: o.get(k) for k in keys} for o in observations])


@pytest.fixture
def world(stores: Stores) -> Iterator[tuple[sa.Engine, str | None]]:
    install_sqlite_functions(stores.engine)
    with stores.engine.begin() as conn:
        _populate(conn)
        schema = postgis_schema(conn)
    if stores.engine.dialect.name == "postgresql":
        assert schema is not None, "the test database needs the postgis extension"
    yield stores.engine, schema


def select_ids(world: tuple[sa.Engine, str | None], entity: EntitySet, text: str) -> list[int]:
    engine, schema = world
    node = parse_filter(text, entity)
    tbl = entity.table.alias("outer_alias")  # callers may alias the table
    with engine.connect() as conn:
        cond = where_clause(entity, node, tbl, conn.dialect.name, geo_schema=schema)
        return [row[0] for row in conn.execute(sa.select(tbl.c.id).where(cond).order_by(tbl.c.id))]


def check(world: tuple[sa.Engine, str | None], entity: EntitySet, cases: list[tuple[str, list[int]]]) -> None:
    wrong = [(text, want, got) for text, want in cases if (got := select_ids(world, entity, text)) != want]
    assert wrong == [], "\n".join(f"{text}: expected {want}, got {got}" for text, want, got in wrong)


ALL_OBS = list(range(1, 13))


def test_comparisons_on_every_kind(world: tuple[sa.Engine, str | None]) -> None:
    check(
        world,
        THINGS,
        [
            ("name eq 'Parkhaus Zentrum'", [2]),
            ("name ne 'Parkhaus Zentrum'", [1, 3, 4]),
            ("name eq 'it''s'", [4]),
            ("description lt 'M'", [1, 3]),
            ("id ge 2 and id lt 4", [2, 3]),
            ("@iot.id eq '2'", [2]),
            ("id eq 'x'", []),
            ("id ne 'x'", [1, 2, 3, 4]),
            ("id eq 1 or id eq 4", [1, 4]),
            ("not (id eq 1 or id eq 4)", [2, 3]),
            ("id in (1, 3)", [1, 3]),
            ("name eq null", []),
            ("name ne null", [1, 2, 3, 4]),
        ],
    )
    check(
        world,
        OBSERVATIONS,
        [
            ("result eq 3", [3]),
            ("result ge 7", [7, 8]),
            ("result lt 2.5", [1, 2]),
            ("result eq 'frei'", [9]),
            ("result eq true", [10]),
            ("result eq false", []),
            ("result eq '10'", [12]),
            ("Datastream/id eq 1 and result gt '3'", [4, 5, 6, 7, 8]),  # numeric results, string literal
            ("result eq null", []),
            ("resultTime eq null", ALL_OBS[1:]),
            ("resultTime ne null", [1]),
            ("resultTime eq 2021-07-13T10:05:00Z", [1]),
            ("resultTime eq 2021-07-13T12:05:00+02:00", [1]),
            # an instant compares with its time; the interval 17:00/17:30 by its end (lt) or start (gt)
            ("phenomenonTime eq 2021-07-13T12:00:00+02:00", [1]),
            ("phenomenonTime lt 2021-07-13T17:15:00Z", [1, 2, 3, 4, 5, 6, 7]),
            ("phenomenonTime le 2021-07-13T17:30:00Z", [1, 2, 3, 4, 5, 6, 7, 8]),
            ("phenomenonTime ge 2021-07-13T17:00:00Z", [8, 9, 10, 11, 12]),
            ("phenomenonTime gt 2021-07-14T23:00:00-02:00", [12]),
            ("phenomenonTime gt 2021-07-15", [12]),
            ("phenomenonTime lt 2021-07-14T10:00:00.250Z and phenomenonTime gt 2021-07-14T08:00:00Z", [10]),
        ],
    )
    check(
        world,
        DATASTREAMS,
        [
            ("phenomenonTime lt 2021-07-13T18:00:00Z", [1]),
            ("phenomenonTime gt 2021-07-13T09:00:00Z", [1]),
            ("phenomenonTime lt 2021-07-13T12:00:00Z", []),
            ("phenomenonTime gt 2021-07-13T12:00:00Z", []),
            ("phenomenonTime eq null", [2]),
        ],
    )


def test_string_functions(world: tuple[sa.Engine, str | None]) -> None:
    check(
        world,
        THINGS,
        [
            ("substringof('haus', name)", [1, 2, 3]),
            ("substringof('Haus', name)", []),  # case-sensitive on both backends
            ("contains(name, 'Zentrum')", [2]),
            ("startswith(name, 'Mess')", [1]),
            ("endswith(name, 'Süd')", [3]),
            ("endswith(name, 'a suffix longer than any name in here')", []),
            ("length(name) eq 4", [4]),
            ("indexof(name, 'haus') eq 4", [2]),
            ("substring(name, 9) eq 'Zentrum'", [2]),
            ("substring(name, 0, 4) eq 'Mess'", [1]),
            ("tolower(name) eq 'ärztehaus süd'", [3]),
            ("toupper(name) eq 'PARKHAUS ZENTRUM'", [2]),
            ("trim(' Parkhaus Zentrum ') eq name", [2]),
            ("concat(concat(name, '!'), '?') eq 'it''s!?'", [4]),
            ("startswith(properties/owner, 'S')", [1, 2]),
            ("substringof('haus', name) eq false", [4]),
        ],
    )


def test_date_functions(world: tuple[sa.Engine, str | None]) -> None:
    check(
        world,
        OBSERVATIONS,
        [
            ("year(phenomenonTime) eq 2021", ALL_OBS),
            ("month(phenomenonTime) eq 7", ALL_OBS),
            ("day(phenomenonTime) eq 15", [12]),  # 23:30 at -02:00 is the 15th in UTC
            ("hour(phenomenonTime) eq 1", [12]),
            ("hour(phenomenonTime) eq 10", [1, 11]),
            ("minute(phenomenonTime) eq 30", [12]),
            ("second(phenomenonTime) eq 0", ALL_OBS),
            ("fractionalseconds(phenomenonTime) gt 0.2", [11]),
            ("date(phenomenonTime) eq 2021-07-14", [9, 10, 11]),
            ("time(phenomenonTime) eq 12:00:00", [3]),
            ("totaloffsetminutes(phenomenonTime) eq 0", ALL_OBS),
            ("totaloffsetminutes(2021-07-13T10:00:00+02:00) eq 120", ALL_OBS),
            ("year(2021-07-13T14:46:00Z) eq 2020", []),
            ("phenomenonTime lt now()", ALL_OBS),
            ("phenomenonTime gt now() sub duration'P100Y'", ALL_OBS),
            ("phenomenonTime lt now() sub duration'P100Y'", []),
            ("phenomenonTime lt mindatetime()", []),
            ("phenomenonTime lt maxdatetime()", ALL_OBS),
            ("resultTime add duration'PT1H' gt 2021-07-13T11:00:00Z", [1]),
            ("resultTime add duration'PT1H' gt 2021-07-13T11:06:00Z", []),
            ("resultTime sub duration'P1M' lt 2021-06-14T00:00:00Z", [1]),
            ("resultTime sub duration'P1M' lt 2021-06-13T00:00:00Z", []),
        ],
    )


def test_arithmetic_and_math(world: tuple[sa.Engine, str | None]) -> None:
    check(
        world,
        OBSERVATIONS,
        [
            ("result add 2 mul 3 eq 9", [3]),
            ("(result add 2) mul 3 eq 15", [3]),
            ("result sub 1 sub 2 eq 0", [3]),
            ("result div 2 eq 2", [4]),
            ("result mod 3 eq 1", [1, 4, 7]),
            ("result div 0 eq 1 or result mod 0 eq 1", []),  # no error, no match
            ("floor(result div 3) eq 1", [3, 4, 5]),
            ("ceiling(result div 3) eq 1", [1, 2, 3]),
            ("round(result mul 0.4) eq 2", [4, 5, 6]),
            ("-result lt -7", [8]),
            ("parameters/n add 1 eq 6", [1]),
        ],
    )


def test_json_properties(world: tuple[sa.Engine, str | None]) -> None:
    check(
        world,
        THINGS,
        [
            ("properties/owner eq 'SWK'", [2]),
            ("properties/floors gt 5", [2]),
            ("properties/floors lt '5'", [1]),  # a number-like string compares numerically too
            ("properties/floors eq 3.0", [1]),
            ("properties/active eq true", [1]),
            ("properties/active eq false", [2]),
            ("properties/active", [1]),
            ("properties/nested/level/deep eq 'ja'", [1]),
            ("properties/owner eq null", [3]),
            ("properties/owner gt 5", []),  # "12" is text, not a number
            ("properties/owner eq '12'", [4]),
            ("properties/owner in ('SWK', 'Stadt')", [1, 2]),
            ("properties/missing eq null", [1, 2, 3, 4]),
        ],
    )
    check(world, OBSERVATIONS, [("parameters/quality eq 'gut'", [1]), ("parameters/n ge 5", [1])])
    check(world, DATASTREAMS, [("unitOfMeasurement/name eq 'Anzahl'", [2]), ("unitOfMeasurement/symbol eq '°C'", [1])])


def test_relation_paths(world: tuple[sa.Engine, str | None]) -> None:
    check(
        world,
        OBSERVATIONS,
        [
            ("Datastream/id eq 2", [9, 10, 11, 12]),
            ("Datastream/Thing/name eq 'Messstation Rathaus'", list(range(1, 9))),
            ("Datastream/Thing/properties/owner eq 'SWK' and result eq 'frei'", [9]),
            ("FeatureOfInterest/name eq Datastream/Thing/Locations/name", ALL_OBS),
            ("Datastream/ObservedProperty/name eq 'Belegung' and not (result eq true)", [9, 11, 12]),
        ],
    )
    check(
        world,
        THINGS,
        [
            ("Datastreams/Observations/result gt 7", [1]),  # to-many: any
            ("Datastreams/Observations/FeatureOfInterest/name eq 'Parkhaus'", [2]),
            ("Locations/name eq 'Rathaus'", [1]),  # through the link table
            ("not (Datastreams/name eq 'Lufttemperatur')", [2, 3, 4]),
            ("Datastreams/Observations/result eq 'frei' and Datastreams/ObservedProperty/name eq 'Belegung'", [2]),
            ("length(Datastreams/name) gt 12", [1]),
        ],
    )
    check(world, DATASTREAMS, [("Thing/properties/owner eq 'SWK'", [2]), ("Observations/result eq true", [2])])


def run_order(world: tuple[sa.Engine, str | None], entity: EntitySet, text: str) -> list[int]:
    engine, _ = world
    items = parse_orderby(text, entity)
    tbl = entity.table
    with engine.connect() as conn:
        keys = order_by(entity, items, tbl, conn.dialect.name)
        return [row[0] for row in conn.execute(sa.select(tbl.c.id).order_by(*keys))]


def test_orderby_with_nulls_and_several_keys(world: tuple[sa.Engine, str | None]) -> None:
    assert run_order(world, THINGS, "properties/floors desc, id desc") == [2, 1, 4, 3]  # nulls last
    assert run_order(world, THINGS, "properties/floors, id") == [3, 4, 1, 2]  # nulls first
    assert run_order(world, DATASTREAMS, "phenomenonTime desc") == [1, 2]
    assert run_order(world, DATASTREAMS, "phenomenonTime asc") == [2, 1]
    # to-one relation key, then results: numbers, then texts (the object result has no text value)
    assert run_order(world, OBSERVATIONS, "Datastream/name asc, result desc") == [10, 9, 12, 11, 8, 7, 6, 5, 4, 3, 2, 1]
    assert run_order(world, OBSERVATIONS, "resultTime desc, @iot.id desc")[:3] == [1, 12, 11]
    with pytest.raises(InvalidInput, match="collection"):
        run_order(world, THINGS, "Datastreams/name")


def test_count_top_skip_like_the_ogc_priority_test(world: tuple[sa.Engine, str | None]) -> None:
    engine, schema = world
    o = t.sta_observations
    cond = where_clause(
        OBSERVATIONS, parse_filter("Datastream/id eq 1 and result gt '3'", OBSERVATIONS), o, engine.dialect.name, schema
    )
    keys = order_by(OBSERVATIONS, parse_orderby("phenomenonTime asc", OBSERVATIONS), o, engine.dialect.name)
    with engine.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(o).where(cond)).scalar_one()
        page = conn.execute(sa.select(o.c.result_number).where(cond).order_by(*keys).offset(2).limit(1)).all()
    assert count == 5
    assert page == [(6.0,)]


def test_geospatial_functions(world: tuple[sa.Engine, str | None]) -> None:
    check(
        world,
        THINGS,
        [
            (f"st_within(Locations/location, {KL_POLYGON})", [1, 2]),
            (f"st_contains({KL_POLYGON}, Locations/location)", [1, 2]),
            (f"st_intersects(Locations/location, {KL_POLYGON})", [1, 2]),
            (f"st_disjoint(Locations/location, {KL_POLYGON})", [3]),
            (f"st_relate(Locations/location, {KL_POLYGON}, 'T********')", [1, 2]),
            ("geo.distance(Locations/location, geography'POINT (7.7692 49.4447)') lt 0.001", [1]),
            ("geo.distance(Locations/location, geography'POINT (7.7692 49.4447)') lt 0.02", [1, 2]),
            # the third Location is a GeoJSON Feature: its geometry counts
            ("geo.intersects(Locations/location, geography'POLYGON ((8 48, 9 48, 9 50, 8 50, 8 48))')", [3]),
            ("st_equals(Locations/location, geography'POINT (8.2 49.0)')", [3]),
            ("st_touches(Locations/location, geography'LINESTRING (7.7692 49.4447, 7.9 49.5)')", [1]),
            (f"st_crosses({CROSSING_LINE}, {KL_POLYGON})", [1, 2, 3, 4]),
            (f"st_overlaps({EAST_POLYGON}, {KL_POLYGON}) and id eq 1", [1]),
            ("geo.length(geography'LINESTRING (0 0, 3 4)') eq 5", [1, 2, 3, 4]),
        ],
    )
    check(world, FEATURES, [(f"st_within(feature, {KL_POLYGON}) and name eq 'Parkhaus'", [2])])
    check(world, OBSERVATIONS, [(f"st_within(FeatureOfInterest/feature, {KL_POLYGON}) and result ge 8", [8])])


def test_a_long_or_chain_runs(world: tuple[sa.Engine, str | None]) -> None:
    chain = " or ".join(f"id eq {i}" for i in range(3, 300))
    assert select_ids(world, THINGS, chain) == [3, 4]


def test_type_errors_are_400(world: tuple[sa.Engine, str | None]) -> None:
    for text, message in [
        ("name add 1 eq 2", "add needs numbers, not a string"),
        ("name gt 1", "cannot compare a string with a number"),
        ("length(id) eq 1", "length() needs a string"),
        ("year(name) eq 2021", "year() needs a date-time"),
        ("geo.distance(name, geography'POINT (1 2)') lt 1", "needs a geometry"),
        ("name", "is not a condition"),
    ]:
        with pytest.raises(InvalidInput) as err:
            select_ids(world, THINGS, text)
        assert message in err.value.message, text
        assert err.value.status == 400


def test_geospatial_functions_without_postgis_are_501() -> None:
    node = parse_filter(f"st_within(Locations/location, {KL_POLYGON})", THINGS)
    with pytest.raises(NotImplementedFeature, match="PostGIS") as err:
        where_clause(THINGS, node, t.sta_things, "postgresql", geo_schema=None)
    assert err.value.status == 501
