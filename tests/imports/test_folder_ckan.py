"""Watched folders (each new file loaded once, then moved to done/ or failed/) and CKAN sources."""

from __future__ import annotations

import os

import pytest

from tests.imports.conftest import CSV_OTHER_COLUMNS, CSV_V1, CSV_V2, FakeClock
from tests.imports.flaky_server import FlakyServer, Route
from urbandata.auth.actor import RequestContext
from urbandata.catalog import history
from urbandata.catalog import service as catalog
from urbandata.errors import InvalidInput
from urbandata.imports import service
from urbandata.imports.runner import folder_root
from urbandata.stores import Stores


def _current(admin: RequestContext, stores: Stores, dataset: str) -> int | None:
    res = catalog.get_dataset(admin, stores, dataset).resources
    return res[0].current_version if res else None


def test_folder_loads_each_new_file_once_and_moves_it(
    admin: RequestContext, stores: Stores, dataset: str, clock: FakeClock
) -> None:
    imp = service.create_import(admin, stores, dataset, "einwohner", {"source_type": "folder", "folder": "statistik"})
    folder = folder_root(admin.settings) / "statistik"
    assert folder.is_dir() and imp.source == {"folder": "statistik"}

    assert service.run_now(admin, stores, imp.id, clock=clock).outcome == "unchanged"  # nothing dropped yet

    (folder / "einwohner_2024.csv").write_bytes(CSV_V1)
    (folder / "einwohner_2025.csv").write_bytes(CSV_V2)
    os.utime(folder / "einwohner_2024.csv", (1_700_000_000, 1_700_000_000))  # older: loaded first
    (folder / "halb.csv.part").write_bytes(b"Stadtteil;Einw")  # still being copied: left alone
    run = service.run_now(admin, stores, imp.id, clock=clock)
    assert (run.outcome, run.version, run.rows) == ("success", 2, 3)
    assert run.details and [f["file"] for f in run.details["files"]] == ["einwohner_2024.csv", "einwohner_2025.csv"]
    assert sorted(p.name for p in (folder / "done").iterdir()) == ["einwohner_2024.csv", "einwohner_2025.csv"]
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == ["halb.csv.part"]
    lineage = history.lineage(admin, stores, dataset, "einwohner")
    assert lineage[0]["source"]["import"]["file"] == "einwohner_2025.csv"
    assert lineage[1]["source"]["import"]["file"] == "einwohner_2024.csv"

    assert service.run_now(admin, stores, imp.id, clock=clock).outcome == "unchanged"  # nothing is loaded twice
    assert _current(admin, stores, dataset) == 2

    (folder / "kaputt.csv").write_bytes(CSV_OTHER_COLUMNS)
    failed = service.run_now(admin, stores, imp.id, clock=clock)
    assert failed.outcome == "failed" and failed.error and "kaputt.csv" in failed.error
    assert "columns changed" in failed.error
    assert [p.name for p in (folder / "failed").iterdir()] == ["kaputt.csv"]
    assert _current(admin, stores, dataset) == 2


def test_folder_must_lie_inside_the_root(admin: RequestContext, stores: Stores, dataset: str) -> None:
    for bad in ("../../etc", "/etc", ""):
        with pytest.raises(InvalidInput):
            service.create_import(admin, stores, dataset, "einwohner", {"source_type": "folder", "folder": bad})


def _ckan_package(source: FlakyServer) -> dict[str, object]:
    return {
        "id": "b1a2",
        "name": "einwohner-stadtteile",
        "resources": [
            {"id": "r-0", "name": "Beschreibung", "url": source.url("/doc.pdf")},
            {"id": "r-1", "name": "Einwohner 2025", "url": source.url("/ckan/einwohner.csv")},
        ],
    }


def test_ckan_source_resolves_the_resource_through_package_show(
    admin: RequestContext, stores: Stores, dataset: str, source: FlakyServer, clock: FakeClock
) -> None:
    source.ckan["einwohner-stadtteile"] = _ckan_package(source)
    source.routes["/ckan/einwohner.csv"] = Route(body=CSV_V1, etag='"c1"')
    spec = {
        "source_type": "ckan",
        "ckan_url": source.url("/"),
        "ckan_dataset": "einwohner-stadtteile",
        "ckan_resource": "Einwohner 2025",
        "retries": 0,
    }
    imp = service.create_import(admin, stores, dataset, "einwohner", spec)
    run = service.run_now(admin, stores, imp.id, clock=clock)
    assert (run.outcome, run.version) == ("success", 1)
    assert source.count("/api/3/action/package_show") == 1
    origin = history.lineage(admin, stores, dataset, "einwohner")[0]["source"]["import"]
    assert origin["url"] == source.url("/ckan/einwohner.csv")
    assert origin["ckan"]["ckan_dataset"] == "einwohner-stadtteile"
    assert service.run_now(admin, stores, imp.id, clock=clock).outcome == "unchanged"  # by ETag, also via CKAN

    by_id = service.update_import(admin, stores, imp.id, {"ckan_resource": "r-9"})
    assert by_id.source["ckan_resource"] == "r-9"
    missing = service.run_now(admin, stores, imp.id, clock=clock)
    assert missing.outcome == "failed" and missing.error
    assert "no resource 'r-9'" in missing.error and "Einwohner 2025" in missing.error

    service.update_import(admin, stores, imp.id, {"ckan_dataset": "gibt-es-nicht", "ckan_resource": "r-1"})
    gone = service.run_now(admin, stores, imp.id, clock=clock)
    assert gone.outcome == "failed" and gone.error and "no dataset 'gibt-es-nicht'" in gone.error
    assert _current(admin, stores, dataset) == 1
