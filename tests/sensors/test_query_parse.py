"""Parsing of the SensorThings query options: the $filter grammar, literals, paths, errors."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from urbandata.errors import InvalidInput, NotImplementedFeature
from urbandata.sensors.model import DATASTREAMS, OBSERVATIONS, THINGS
from urbandata.sensors.query.ast import Arith, Call, Compare, Duration, Geometry, In, Lit, Logical, Not, Path
from urbandata.sensors.query.parse import Expand, OrderItem, Query, parse_filter, parse_query


def lit(text: str) -> Lit:
    node = parse_filter(f"result eq {text}", OBSERVATIONS)
    assert isinstance(node, Compare) and isinstance(node.right, Lit)
    return node.right


# --- precedence ----------------------------------------------------------------------------------


def test_mul_binds_tighter_than_add_and_add_tighter_than_comparison() -> None:
    node = parse_filter("result add 2 mul 3 eq 8", OBSERVATIONS)
    assert node == Compare(
        "eq",
        Arith("add", Path((), "result"), Arith("mul", Lit(2, "number"), Lit(3, "number"))),
        Lit(8, "number"),
    )


def test_arithmetic_is_left_associative() -> None:
    node = parse_filter("result sub 1 sub 2 eq 0", OBSERVATIONS)
    assert isinstance(node, Compare)
    assert node.left == Arith("sub", Arith("sub", Path((), "result"), Lit(1, "number")), Lit(2, "number"))


def test_not_applies_to_the_comparison_and_and_binds_tighter_than_or() -> None:
    node = parse_filter("not name eq 'a' and description eq 'b' or id eq 1", THINGS)
    name_eq = Compare("eq", Path((), "name"), Lit("a", "string"))
    desc_eq = Compare("eq", Path((), "description"), Lit("b", "string"))
    id_eq = Compare("eq", Path((), "id"), Lit(1, "number"))
    assert node == Logical("or", Logical("and", Not(name_eq), desc_eq), id_eq)


def test_parentheses_override_precedence() -> None:
    node = parse_filter("not (name eq 'a' and (id eq 1 or id eq 2))", THINGS)
    assert isinstance(node, Not) and isinstance(node.operand, Logical)
    assert node.operand.op == "and"
    assert isinstance(node.operand.right, Logical) and node.operand.right.op == "or"
    grouped = parse_filter("(result add 2) mul 3 eq 12", OBSERVATIONS)
    assert isinstance(grouped, Compare)
    assert grouped.left == Arith("mul", Arith("add", Path((), "result"), Lit(2, "number")), Lit(3, "number"))


def test_keywords_need_a_word_boundary() -> None:
    # a JSON key that starts with a keyword is a name, not `not`/`and`
    node = parse_filter("properties/notes eq 'x' and properties/android eq true", THINGS)
    assert isinstance(node, Logical)
    assert node.left == Compare("eq", Path((), "properties", ("notes",)), Lit("x", "string"))
    assert node.right == Compare("eq", Path((), "properties", ("android",)), Lit(True, "bool"))


# --- literals ------------------------------------------------------------------------------------


def test_literal_kinds() -> None:
    assert lit("'it''s'") == Lit("it's", "string")
    assert lit("''") == Lit("", "string")
    assert lit("42") == Lit(42, "number")
    assert lit("-42") == Lit(-42, "number")
    assert lit("2.5") == Lit(2.5, "number")
    assert lit("1.5e3") == Lit(1500.0, "number")
    assert lit("true") == Lit(True, "bool")
    assert lit("false") == Lit(False, "bool")
    assert lit("null") == Lit(None, "null")
    assert lit("2021-07-13") == Lit(dt.date(2021, 7, 13), "date")
    assert lit("14:46:00") == Lit(dt.time(14, 46), "time")


def test_datetime_literals_keep_their_offset_and_default_to_utc() -> None:
    utc = lit("2021-07-13T14:46:00Z").value
    assert utc == dt.datetime(2021, 7, 13, 14, 46, tzinfo=dt.UTC)
    offset = lit("2021-07-13T16:46:00+02:00").value
    assert isinstance(offset, dt.datetime) and offset == utc
    assert offset.utcoffset() == dt.timedelta(hours=2)
    assert lit("2021-07-13T14:46:00.1234567Z").value == dt.datetime(2021, 7, 13, 14, 46, 0, 123456, tzinfo=dt.UTC)
    assert lit("2021-07-13T14:46").value == dt.datetime(2021, 7, 13, 14, 46, tzinfo=dt.UTC)


def test_duration_literal() -> None:
    d = lit("duration'P1Y2M3DT4H5M6.5S'").value
    assert isinstance(d, Duration)
    assert d.months == 14
    assert d.seconds == 3 * 86400 + 4 * 3600 + 5 * 60 + 6.5
    assert lit("duration'PT1H'").value == Duration(0, 3600, "PT1H")
    with pytest.raises(InvalidInput, match="invalid duration 'P'"):
        lit("duration'P'")


def test_geography_and_geometry_literals() -> None:
    point = lit("geography'POINT (7.7 49.4)'").value
    assert isinstance(point, Geometry)
    assert json.loads(point.geojson) == {"type": "Point", "coordinates": [7.7, 49.4]}
    poly = lit("geometry'POLYGON ((7 49, 8 49, 8 50, 7 50, 7 49))'").value
    assert isinstance(poly, Geometry) and json.loads(poly.geojson)["type"] == "Polygon"
    line = lit("geography'SRID=4326;LINESTRING (7 49, 8 50)'").value
    assert isinstance(line, Geometry) and json.loads(line.geojson)["type"] == "LineString"
    multi = lit("geography'MULTIPOINT ((7 49), (8 50))'").value
    assert isinstance(multi, Geometry) and json.loads(multi.geojson)["type"] == "MultiPoint"
    with pytest.raises(InvalidInput, match="invalid WKT geometry 'POINT \\(7.7\\)' at position 11"):
        lit("geography'POINT (7.7)'")


# --- paths ---------------------------------------------------------------------------------------


def test_paths_across_relations_and_into_json() -> None:
    node = parse_filter("Datastream/Thing/name eq 'x'", OBSERVATIONS)
    assert isinstance(node, Compare) and node.left == Path(("Datastream", "Thing"), "name")
    deep = parse_filter("Datastreams/Observations/FeatureOfInterest/id eq 1", THINGS)
    assert isinstance(deep, Compare)
    assert deep.left == Path(("Datastreams", "Observations", "FeatureOfInterest"), "id")
    iot = parse_filter("@iot.id eq 1 and Datastream/@iot.id eq 2", OBSERVATIONS)
    assert isinstance(iot, Logical)
    assert iot.left == Compare("eq", Path((), "id"), Lit(1, "number"))
    assert iot.right == Compare("eq", Path(("Datastream",), "id"), Lit(2, "number"))
    js = parse_filter("unitOfMeasurement/name eq 'Grad'", DATASTREAMS)
    assert isinstance(js, Compare) and js.left == Path((), "unitOfMeasurement", ("name",))
    params = parse_filter("parameters/x/y gt 2", OBSERVATIONS)
    assert isinstance(params, Compare) and params.left == Path((), "parameters", ("x", "y"))


def test_functions_and_in() -> None:
    node = parse_filter("substringof('haus', name) or startswith(tolower(name), 'par')", THINGS)
    assert isinstance(node, Logical)
    assert node.left == Call("substringof", (Lit("haus", "string"), Path((), "name")))
    assert node.right == Call("startswith", (Call("tolower", (Path((), "name"),)), Lit("par", "string")))
    members = parse_filter("id in (1, 2, 3)", THINGS)
    assert members == In(Path((), "id"), (Lit(1, "number"), Lit(2, "number"), Lit(3, "number")))
    assert parse_filter("ST_WITHIN(Thing/Locations/location, geography'POINT (1 2)')", DATASTREAMS) == Call(
        "st_within", (Path(("Thing", "Locations"), "location"), Lit(lit("geography'POINT (1 2)'").value, "geometry"))
    )


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "expected"),
    [
        ("name eq", 8, "expected a value"),
        ("name eq 'x' and", 16, "expected a value"),
        ("(name eq 'x'", 13, "expected ')'"),
        ("name eq 'x' )", 13, "expected the end of the text, found ')'"),
        ("name eq 'x", 9, "found '''"),
        ("name eq # 1", 9, "found '#'"),
        ("name eq 'a' eq 'b'", 13, "and, or"),
        ("name 'x'", 6, "a comparison (eq, ne, gt, ge, lt, le)"),
    ],
)
def test_syntax_errors_name_the_position_and_what_was_expected(text: str, position: int, expected: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_filter(text, THINGS)
    assert err.value.status == 400
    assert f"position {position}" in err.value.message
    assert expected in err.value.message
    assert err.value.details["position"] == position


def test_unknown_names_and_wrong_arity_are_400() -> None:
    with pytest.raises(InvalidInput, match="unknown function 'frobnicate' at position 1"):
        parse_filter("frobnicate(name) eq 1", THINGS)
    with pytest.raises(InvalidInput, match="Things has no property or relation 'colour'"):
        parse_filter("colour eq 'red'", THINGS)
    with pytest.raises(InvalidInput, match="Datastreams has no property or relation 'Owner'"):
        parse_filter("Datastream/Owner/name eq 'x'", OBSERVATIONS)
    with pytest.raises(InvalidInput, match="ends at a navigation property"):
        parse_filter("Datastream eq 1", OBSERVATIONS)
    with pytest.raises(InvalidInput, match="has no sub-properties"):
        parse_filter("name/first eq 'x'", THINGS)
    with pytest.raises(InvalidInput, match=r"substring\(\) takes 2 or 3 arguments, got 1 \(at position 1\)"):
        parse_filter("substring(name) eq 'x'", THINGS)
    with pytest.raises(InvalidInput, match=r"now\(\) takes 0 arguments, got 1"):
        parse_filter("now(1) eq 1", THINGS)
    with pytest.raises(InvalidInput, match="is empty"):
        parse_filter("  ", THINGS)


# --- the other options ---------------------------------------------------------------------------


def test_parse_query_all_options() -> None:
    q = parse_query(
        {
            "$filter": "result gt 5",
            "$orderby": "phenomenonTime desc, Datastream/name,@iot.id ASC",
            "$top": "10",
            "$skip": "20",
            "$count": "true",
            "$select": "result,phenomenonTime,@iot.id,Datastream",
            "$resultFormat": "dataArray",
            "unrelated": "ignored",
        },
        OBSERVATIONS,
    )
    assert q.filter == Compare("gt", Path((), "result"), Lit(5, "number"))
    assert q.orderby == (
        OrderItem(("phenomenonTime",), True),
        OrderItem(("Datastream", "name"), False),
        OrderItem(("id",), False),
    )
    assert (q.top, q.skip, q.count, q.result_format) == (10, 20, True, "dataArray")
    assert q.select == ("result", "phenomenonTime", "id", "Datastream")
    assert parse_query({}, THINGS) == Query()


def test_nested_expand_options() -> None:
    q = parse_query(
        {
            "$expand": "Datastreams($select=name;$expand=Observations($filter=result gt 5;"
            "$orderby=phenomenonTime desc;$top=1;$count=true)),Locations,Datastreams/ObservedProperty"
        },
        THINGS,
    )
    first, second, third = q.expand
    assert first.path == ("Datastreams",)
    assert first.query.select == ("name",)
    (obs,) = first.query.expand
    assert obs == Expand(
        ("Observations",),
        Query(
            filter=Compare("gt", Path((), "result"), Lit(5, "number")),
            orderby=(OrderItem(("phenomenonTime",), True),),
            top=1,
            count=True,
        ),
    )
    assert second == Expand(("Locations",), Query())
    assert third == Expand(("Datastreams", "ObservedProperty"), Query())


def test_expand_filter_may_contain_delimiters_in_strings() -> None:
    q = parse_query({"$expand": "Datastreams($filter=name eq 'a;b,c)' or name eq 'it''s')"}, THINGS)
    (e,) = q.expand
    assert isinstance(e.query.filter, Logical)
    assert e.query.filter.left == Compare("eq", Path((), "name"), Lit("a;b,c)", "string"))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"$top": "-1"}, "$top must be a non-negative integer"),
        ({"$top": "ten"}, "$top must be a non-negative integer"),
        ({"$skip": "1.5"}, "$skip must be a non-negative integer"),
        ({"$count": "yes"}, "$count must be true or false"),
        ({"$select": "name,colour"}, "Things has no property or relation 'colour'"),
        ({"$orderby": "colour desc"}, "Things has no property or relation 'colour'"),
        ({"$orderby": "name sideways"}, "$orderby: syntax error at position 6"),
        ({"$expand": "Sensors"}, "Things has no relation 'Sensors'"),
        ({"$expand": "Datastreams/Observationz"}, "Datastreams has no relation 'Observationz'"),
        ({"$expand": "Datastreams($top=x)"}, "$expand=Datastreams($top) must be a non-negative integer"),
        ({"$expand": "Datastreams($filter=colour eq 1)"}, "Datastreams has no property or relation 'colour'"),
        ({"$expand": "Datastreams($filter=name eq)"}, "$expand=Datastreams($filter): syntax error at position 8"),
        ({"$expand": "Datastreams($top=1"}, "unbalanced parentheses"),
        ({"$expand": "Datastreams($resultFormat=dataArray)"}, "not allowed inside"),
        ({"$resultFormat": "dataArray"}, "applies to Observations"),
    ],
)
def test_bad_options_are_400(params: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_query(params, THINGS)
    assert err.value.status == 400
    assert message in err.value.message


@pytest.mark.parametrize("params", [{"$search": "x"}, {"$apply": "groupby"}, {"$expand": "Datastreams($levels=2)"}])
def test_unsupported_system_options_are_501(params: dict[str, str]) -> None:
    with pytest.raises(NotImplementedFeature) as err:
        parse_query(params, THINGS)
    assert err.value.status == 501
    assert err.value.code == "not_implemented"
    assert "$" in err.value.message


def test_long_or_chains_parse_and_absurd_filters_are_400() -> None:
    long_chain = " or ".join(f"id eq {i}" for i in range(300))
    node = parse_filter(long_chain, THINGS)
    assert isinstance(node, Logical) and node.right == Compare("eq", Path((), "id"), Lit(299, "number"))
    assert parse_filter("(" * 5000 + "id eq 1" + ")" * 5000, THINGS) == Compare("eq", Path((), "id"), Lit(1, "number"))
    with pytest.raises(InvalidInput, match="too long"):
        parse_filter(" or ".join(f"id eq {i}" for i in range(3000)), THINGS)
    with pytest.raises(InvalidInput, match="too long|nested too deeply"):
        parse_filter("not " * 5000 + "id eq 1", THINGS)
