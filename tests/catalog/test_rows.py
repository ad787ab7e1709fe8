"""Reading rows: typed filters, sort, keyset paging that never mixes versions, counts, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import BTW, make_dataset, make_org, write_csv
from urbandata.auth.actor import RequestContext
from urbandata.catalog import service
from urbandata.catalog.rows import RowQuery, parse_where, query_rows
from urbandata.errors import InvalidInput, NotFound
from urbandata.stores import Stores


@pytest.fixture
def btw(admin: RequestContext, stores: Stores) -> None:
    make_org(admin, stores)
    make_dataset(admin, stores, "btw")
    service.ingest_file(admin, stores, "btw", BTW, resource="ergebnis")


def rows(ctx: RequestContext, stores: Stores, **kw: object) -> list[dict[str, object]]:
    return query_rows(ctx, stores, "btw", "ergebnis", RowQuery(**kw)).rows  # type: ignore[arg-type]


@pytest.mark.usefixtures("btw")
def test_values_have_their_types(admin: RequestContext, stores: Stores) -> None:
    first = rows(admin, stores, filters=[("Name", "Altstadt/Nord")], columns=["Name", "Wahlbeteiligung", "Nr", "CDU"])
    assert first == [{"Name": "Altstadt/Nord", "Wahlbeteiligung": 76.7, "Nr": None, "CDU": 3621}]


@pytest.mark.usefixtures("btw")
def test_filters_sort_and_columns(admin: RequestContext, stores: Stores) -> None:
    top = rows(
        admin,
        stores,
        filters=[("Wahlbeteiligung__gte", "83.5")],
        sort=["-Wahlbeteiligung"],
        columns=["Name", "Wahlbeteiligung"],
    )
    assert [r["Name"] for r in top] == ["Hahnwald", "Klettenberg", "Lövenich"]
    assert rows(admin, stores, filters=[("Name__prefix", "alt")], columns=["Name"]) == [
        {"Name": "Altstadt/Nord"},
        {"Name": "Altstadt/Süd"},
    ]
    assert len(rows(admin, stores, filters=[("Name__contains", "KALK")], columns=["Name"])) >= 1
    assert len(rows(admin, stores, filters=[("Name__in", "Hahnwald,Lövenich")], columns=["Name"])) == 2
    assert len(rows(admin, stores, filters=[("Nr__isnull", "true")], limit=1000)) == 86
    assert rows(admin, stores, filters=[("Nr__isnull", "false")]) == []


@pytest.mark.usefixtures("btw")
def test_keyset_paging_visits_every_row_once_in_order(admin: RequestContext, stores: Stores) -> None:
    seen: list[tuple[object, object]] = []
    cursor = None
    while True:
        page = query_rows(
            admin,
            stores,
            "btw",
            "ergebnis",
            RowQuery(
                sort=["-Wahlbeteiligung", "Name"],
                columns=["Name", "Wahlbeteiligung"],
                limit=7,
                cursor=cursor,
                count=True,
            ),
        )
        assert page.total == 86
        seen += [(r["Wahlbeteiligung"], r["Name"]) for r in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == 86 and len(set(seen)) == 86
    assert seen == sorted(seen, key=lambda t: (-float(t[0]), str(t[1])))  # type: ignore[arg-type]


@pytest.mark.usefixtures("btw")
def test_cursor_pins_its_version_during_a_reload(admin: RequestContext, stores: Stores, tmp_path: Path) -> None:
    page = query_rows(admin, stores, "btw", "ergebnis", RowQuery(columns=["Name"], limit=50))
    service.ingest_file(
        admin, stores, "btw", write_csv(tmp_path / "x.csv", "Name;Wahlbeteiligung\nNeu;1,0\n"), resource="ergebnis"
    )
    rest = query_rows(admin, stores, "btw", "ergebnis", RowQuery(columns=["Name"], limit=50, cursor=page.next_cursor))
    assert rest.table.version == 1 and len(rest.rows) == 36
    assert query_rows(admin, stores, "btw", "ergebnis", RowQuery()).rows == [{"Name": "Neu", "Wahlbeteiligung": 1.0}]
    old = query_rows(admin, stores, "btw", "ergebnis", RowQuery(version=1, count=True))
    assert old.total == 86


@pytest.mark.usefixtures("btw")
def test_bad_queries_are_clear_400s(admin: RequestContext, stores: Stores) -> None:
    cases: list[dict[str, object]] = [
        {"filters": [("Nope", "1")]},
        {"filters": [("CDU__gte", "viel")]},
        {"filters": [("Nr__isnull", "maybe")]},
        {"sort": ["-Nope"]},
        {"columns": ["Name", "Nope"]},
        {"limit": 0},
        {"limit": 10**9},
        {"cursor": "not-a-cursor"},
        {"cursor": "WzEsWzEsMl1d"},  # a cursor for another sort order
    ]
    for kw in cases:
        with pytest.raises(InvalidInput):
            rows(admin, stores, **kw)
    with pytest.raises(NotFound):
        rows(admin, stores, version=99)


def test_parse_where() -> None:
    assert parse_where("Name=Altstadt") == ("Name", "Altstadt")
    assert parse_where("CDU>=100") == ("CDU__gte", "100")
    assert parse_where("a!=b") == ("a__ne", "b")
    with pytest.raises(InvalidInput):
        parse_where("nothing")
