"""The datastore contract: one suite, run unchanged against every backend."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PG_URL, require_pg
from tests.helpers import write_csv
from urbandata.datastore import Datastore, open_datastore
from urbandata.datastore.sql import Condition, Order
from urbandata.ingest.pipeline import IngestOptions, StageResult, stage_file

CSV = (
    "id;name;wert;datum;aktiv\n"
    "1;Äpfel;1,5;01.02.2024;ja\n"
    "2;Birnen;;02.02.2024;nein\n"
    "3;Öl;-3,25;;ja\n"
    "4;Zitronen;10,0;04.02.2024;\n"
)


@pytest.fixture(params=["duckdb", "postgres"])
def datastore(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Datastore]:
    if request.param == "duckdb":
        ds = open_datastore(f"duckdb:///{tmp_path / 'store'}")
    else:
        require_pg()
        schema = request.getfixturevalue("pg_schemas")[1]
        ds = open_datastore(PG_URL, pg_schema=schema)
    yield ds
    ds.close()


def staged(tmp_path: Path, text: str = CSV, name: str = "s") -> StageResult:
    path = write_csv(tmp_path / f"{name}.csv", text)
    return stage_file(path, IngestOptions(display_name=path.name), tmp_path / f"work-{name}")


def test_install_select_count(datastore: Datastore, tmp_path: Path) -> None:
    ref = datastore.install(staged(tmp_path).staged, 7, 1)
    assert datastore.exists(ref)
    rows = datastore.select(ref, ["id", "name", "wert", "datum", "aktiv"], order=[Order("id")])
    assert [r[:5] for r in rows] == [
        (1, "Äpfel", 1.5, dt.date(2024, 2, 1), True),
        (2, "Birnen", None, dt.date(2024, 2, 2), False),
        (3, "Öl", -3.25, None, True),
        (4, "Zitronen", 10.0, dt.date(2024, 2, 4), None),
    ]
    assert datastore.count(ref) == 4
    assert datastore.count(ref, [Condition("wert", "gt", 0.0)]) == 2
    assert datastore.count(ref, [Condition("datum", "isnull", True)]) == 1
    assert datastore.count(ref, [Condition("name", "contains", "RN")]) == 1
    assert datastore.count(ref, [Condition("name", "prefix", "ö")]) == 1
    assert datastore.count(ref, [Condition("id", "in", (1, 3, 99))]) == 2
    assert datastore.count(ref, [Condition("id", "in", ())]) == 0
    assert datastore.count(ref, [Condition("aktiv", "eq", True), Condition("wert", "lt", 5.0)]) == 2


def test_keyset_after_with_nulls_and_descending(datastore: Datastore, tmp_path: Path) -> None:
    ref = datastore.install(staged(tmp_path).staged, 7, 1)
    order = [Order("wert", descending=True)]
    got: list[object] = []
    after = None
    while True:
        page = datastore.select(ref, ["id"], order=order, limit=1, after=after)
        if not page:
            break
        got.append(page[0][0])
        after = list(page[0][1:])
    assert got == [4, 1, 3, 2]  # NULLS LAST, then row id


def test_versions_are_independent_and_droppable(datastore: Datastore, tmp_path: Path) -> None:
    r1 = datastore.install(staged(tmp_path, name="a").staged, 7, 1)
    r2 = datastore.install(staged(tmp_path, "id;name\n9;neu\n", name="b").staged, 7, 2)
    assert datastore.count(r1) == 4 and datastore.count(r2) == 1
    datastore.drop(r2)
    assert not datastore.exists(r2) and datastore.count(r1) == 4


def test_iter_batches_streams_everything(datastore: Datastore, tmp_path: Path) -> None:
    text = "n;t\n" + "".join(f"{i};x{i}\n" for i in range(2500))
    ref = datastore.install(staged(tmp_path, text).staged, 1, 1)
    batches = list(datastore.iter_batches(ref, ["n"], order=[Order("n", True)], batch_size=1000))
    assert [len(b) for b in batches] == [1000, 1000, 500]
    assert batches[0][0] == (2499,)


def test_publish_stable_name(datastore: Datastore, tmp_path: Path) -> None:
    result = staged(tmp_path)
    ref = datastore.install(result.staged, 3, 1)
    datastore.publish("ds__res", ref, result.staged.columns)  # idempotent and repeatable
    datastore.publish("ds__res", ref, result.staged.columns)


def test_quoted_identifiers_are_safe(datastore: Datastore, tmp_path: Path) -> None:
    text = "a\"b;100%;x'y\n1;2;3\n"
    ref = datastore.install(staged(tmp_path, text).staged, 5, 1)
    assert datastore.select(ref, ['a"b', "100%", "x'y"], where=[Condition("100%", "eq", 2)])[0][:3] == (1, 2, 3)
