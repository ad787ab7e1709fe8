"""`urbandata demo` loads real files with the right types and labelled generated data, idempotently."""

from __future__ import annotations

from urbandata.auth.actor import RequestContext
from urbandata.catalog import service
from urbandata.catalog.rows import RowQuery, query_rows
from urbandata.demo.loader import DATASETS, load_demo
from urbandata.stores import Stores


def test_demo_loads_everything_once(admin: RequestContext, anon: RequestContext, stores: Stores) -> None:
    lines = list(load_demo(admin, stores))
    assert sum("rows loaded" in line for line in lines) == len(DATASETS)
    again = list(load_demo(admin, stores))
    assert sum("exists, kept" in line for line in again) == len(DATASETS)
    public = service.search_datasets(anon, stores, "", page_size=100)
    assert public.count == len(DATASETS) - 1  # the waiting-time table is internal
    pop = query_rows(
        admin,
        stores,
        "einwohner-stadtteile",
        "einwohner",
        RowQuery(filters=[("Bezirksnummer", "04")], sort=["Stichtag"], limit=1),
    )
    row = pop.rows[0]
    assert row["Stadtteil"] == "Innenstadt-Südwest" and row["Stichtag"] == "2015-12-31"
    assert isinstance(row["Einwohner"], int) and isinstance(row["Fläche (km²)"], float)
    ds = service.get_dataset(anon, stores, "einwohner-stadtteile")
    assert "Generierte Beispieldaten" in ds.description
    koeln = service.get_dataset(anon, stores, "bundestagswahl-2013-koeln")
    assert koeln.attribution and "Stadt Köln" in koeln.attribution
