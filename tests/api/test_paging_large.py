"""Paging a 100,000-row resource via the rows endpoint: every row exactly once, in order, and a reload from
another thread while paging never mixes versions (a cursor pins the version it started on). Both backends.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import make_dataset, make_org
from urbandata.auth.actor import RequestContext
from urbandata.catalog import service
from urbandata.stores import Stores

ROWS = 100_000
GROUPS = ["Nord", "Süd", "Ost", "West", "Mitte"]
URL = "/api/v1/datasets/gross/resources/daten/rows"


def write_big_csv(path: Path, rows: int, first_nr: int, groups: list[str]) -> list[tuple[int, str | None]]:
    """A German CSV with `rows` rows; returns (Nr, Gruppe) per row in file order. Every 50th Gruppe is empty."""
    lines = ["Nr;Gruppe;Wert;Datum"]
    out: list[tuple[int, str | None]] = []
    for i in range(rows):
        nr = first_nr + i
        group = "" if i % 50 == 7 else groups[(i * 7919) % len(groups)]
        lines.append(f"{nr};{group};{(i * 37) % 1000},{i % 10};{1 + i % 28:02d}.{1 + i % 12:02d}.2023")
        out.append((nr, group or None))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


@pytest.fixture
def big(admin: RequestContext, stores: Stores, tmp_path: Path) -> list[tuple[int, str | None]]:
    make_org(admin, stores)
    make_dataset(admin, stores, "gross")
    content = write_big_csv(tmp_path / "v1.csv", ROWS, 1, GROUPS)
    service.ingest_file(admin, stores, "gross", tmp_path / "v1.csv", resource="daten")
    return content


def expected_order(content: list[tuple[int, str | None]]) -> list[int]:
    """sort=Gruppe: ascending, NULLS LAST, ties in load order."""
    return [nr for nr, _ in sorted(content, key=lambda r: (r[1] is None, r[1] or "", r[0]))]


def test_every_row_exactly_once_in_order_while_a_reload_happens(
    client: TestClient, admin: RequestContext, stores: Stores, tmp_path: Path, big: list[tuple[int, str | None]]
) -> None:
    second = write_big_csv(tmp_path / "v2.csv", 30_000, 1_000_001, ["Altstadt", "Zentrum"])
    errors: list[BaseException] = []

    def reload() -> None:
        try:
            service.ingest_file(admin, stores, "gross", tmp_path / "v2.csv", resource="daten")
        except BaseException as exc:  # reported in the test thread
            errors.append(exc)

    loader = threading.Thread(target=reload, name="reload")
    doc: dict[str, Any] = client.get(URL, params={"sort": "Gruppe", "limit": 5000, "count": "true"}).json()
    assert doc["version"] == 1 and doc["total"] == ROWS
    pages = [doc]
    while doc["next"]:
        if len(pages) == 2:
            loader.start()  # the load runs while the next pages are read
        if len(pages) == 6:
            loader.join(timeout=300)  # from here on, version 2 is current for sure
            assert not errors, errors
            assert client.get(URL, params={"limit": 1}).json()["version"] == 2
        doc = client.get(doc["next"]).json()
        pages.append(doc)
    assert not loader.is_alive() and not errors

    assert len(pages) == ROWS // 5000 and all(len(p["rows"]) == 5000 for p in pages)
    assert {p["version"] for p in pages} == {1}  # the cursor pinned version 1 through the reload
    got = [row["Nr"] for p in pages for row in p["rows"]]
    assert got == expected_order(big)  # every row once, in order, no row of version 2
    assert max(got) == ROWS

    fresh = client.get(URL, params={"sort": "Gruppe", "limit": 5000, "count": "true"}).json()
    assert fresh["version"] == 2 and fresh["total"] == 30_000
    assert [r["Nr"] for r in fresh["rows"]] == expected_order(second)[:5000]


def test_descending_sort_on_a_number_with_ties(client: TestClient, big: list[tuple[int, str | None]]) -> None:
    wert = {nr: ((i * 37) % 1000) + (i % 10) / 10 for i, (nr, _) in enumerate(big)}
    url: str | None = f"{URL}?sort=-Wert&limit=5000&columns=Nr,Wert"
    seen: list[int] = []
    while url:
        doc = client.get(url).json()
        assert all(set(r) == {"Nr", "Wert"} for r in doc["rows"])
        seen += [r["Nr"] for r in doc["rows"]]
        url = doc["next"]
    assert seen == sorted(wert, key=lambda nr: (-wert[nr], nr))
