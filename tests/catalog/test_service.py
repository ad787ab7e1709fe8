"""Catalog actions on both metadata backends: organisations, datasets, profile validation, loads, versions."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import BTW, make_dataset, make_org, write_csv
from urbandata.auth.actor import RequestContext
from urbandata.catalog import service
from urbandata.catalog.models import OrganizationIn
from urbandata.errors import Conflict, IngestError, InvalidInput, NotFound
from urbandata.stores import Stores


def test_org_create_list_and_conflict(admin: RequestContext, stores: Stores) -> None:
    make_org(admin, stores, "umwelt", "Referat Umweltschutz")
    assert [o.slug for o in service.list_orgs(admin, stores)] == ["umwelt"]
    with pytest.raises(Conflict):
        make_org(admin, stores, "umwelt", "again")


def test_org_slug_rejects_path_tricks() -> None:
    for bad in ("../etc", "Umwelt", "a b", "x/y", ""):
        with pytest.raises(InvalidInput):
            OrganizationIn(slug=bad, name="x")


def test_dataset_metadata_validated_on_write(admin: RequestContext, stores: Stores) -> None:
    make_org(admin, stores)
    with pytest.raises(InvalidInput) as exc:
        make_dataset(admin, stores, "luft", license="my-own", frequency="SOMETIMES", contact_email="nope")
    fields = exc.value.details["fields"]
    assert set(fields) == {"license", "frequency", "contact_email"}
    with pytest.raises(InvalidInput):
        make_dataset(admin, stores, "luft", title="")
    with pytest.raises(InvalidInput):
        make_dataset(admin, stores, "luft", temporal_start="2024-02-01", temporal_end="2023-01-01")
    with pytest.raises(InvalidInput):
        make_dataset(admin, stores, "Luft Daten")


def test_dataset_defaults_attribution_and_conflict(admin: RequestContext, stores: Stores) -> None:
    make_org(admin, stores)
    ds = make_dataset(admin, stores, "luft", title="Luftqualität", license="dl-by-de/2.0", frequency="daily")
    assert ds.license == "dl-de/by-2-0"  # the dcat-ap.de identifier is mapped to ours
    assert ds.frequency == "DAILY"
    assert ds.frequency_label == "täglich"
    assert ds.meta["political_geocoding"].endswith("073120000000")
    assert ds.attribution and "Referat Statistik" in ds.attribution and "Namensnennung" in ds.attribution
    with pytest.raises(Conflict):
        make_dataset(admin, stores, "luft")
    with pytest.raises(NotFound):
        make_dataset(admin, stores, "wasser", org="nope")


def test_update_dataset_changes_metadata_and_search(admin: RequestContext, stores: Stores) -> None:
    make_org(admin, stores)
    make_dataset(admin, stores, "luft", title="Luftqualität")
    service.update_dataset(admin, stores, "luft", {"keywords": ["Feinstaub"], "access_level": "internal"})
    ds = service.get_dataset(admin, stores, "luft")
    assert ds.keywords == ["Feinstaub"] and ds.access_level == "internal"
    assert service.search_datasets(admin, stores, "feinstaub").count == 1


def test_invisible_dataset_is_not_found_for_anonymous(
    admin: RequestContext, anon: RequestContext, stores: Stores
) -> None:
    make_org(admin, stores)
    make_dataset(admin, stores, "intern", access_level="internal")
    make_dataset(admin, stores, "geheim", access_level="restricted")
    for slug in ("intern", "geheim"):
        with pytest.raises(NotFound):
            service.get_dataset(anon, stores, slug)
    assert service.get_dataset(admin, stores, "intern").slug == "intern"
    assert [o.dataset_count for o in service.list_orgs(anon, stores)] == [0]


def test_ingest_makes_versions_and_keeps_old_ones(admin: RequestContext, stores: Stores, tmp_path: Path) -> None:
    make_org(admin, stores)
    make_dataset(admin, stores, "btw")
    v1 = service.ingest_file(admin, stores, "btw", BTW, resource="ergebnis")
    assert (v1.version, v1.row_count, v1.current) == (1, 86, True)
    small = write_csv(tmp_path / "e.csv", "Nr;Name;Wahlbeteiligung\n1;Altstadt;76,7\n")
    v2 = service.ingest_file(admin, stores, "btw", small, resource="ergebnis")
    assert (v2.version, v2.row_count) == (2, 1)
    versions = service.list_versions(admin, stores, "btw", "ergebnis")
    assert [(v.version, v.current) for v in versions] == [(2, True), (1, False)]
    assert service.open_table(admin, stores, "btw", "ergebnis", version=1).row_count == 86
    assert v1.report["sha256"] == v1.source_sha256 and len(v1.source_sha256) == 64
    stored = stores.files_dir / "sha256" / v1.source_sha256[:2] / v1.source_sha256
    assert stored.read_bytes() == BTW.read_bytes()


def test_failed_load_changes_nothing(admin: RequestContext, stores: Stores, tmp_path: Path) -> None:
    make_org(admin, stores)
    make_dataset(admin, stores, "btw")
    service.ingest_file(admin, stores, "btw", BTW, resource="ergebnis")
    for bad in (
        write_csv(tmp_path / "empty.csv", ""),
        write_csv(tmp_path / "header.csv", "a;b\n"),
        tmp_path / "garbage.csv",
    ):
        if bad.name == "garbage.csv":
            bad.write_bytes(bytes(range(256)) * 40)
        with pytest.raises((IngestError, InvalidInput)):
            service.ingest_file(admin, stores, "btw", bad, resource="ergebnis")
    versions = service.list_versions(admin, stores, "btw", "ergebnis")
    assert [(v.version, v.current, v.row_count) for v in versions] == [(1, True, 86)]
    assert not any(stores.tmp_dir.iterdir())


def test_resource_name_defaults_to_file_stem(admin: RequestContext, stores: Stores, tmp_path: Path) -> None:
    make_org(admin, stores)
    make_dataset(admin, stores, "btw")
    path = write_csv(tmp_path / "Ergebnis Straßen 2013.csv", "a;b\n1;2\n")
    v = service.ingest_file(admin, stores, "btw", path)
    assert v.version == 1
    ds = service.get_dataset(admin, stores, "btw")
    assert [r.name for r in ds.resources] == ["ergebnis-strassen-2013"]
    assert ds.resources[0].sql_table == "btw__ergebnis-strassen-2013".replace("-", "_")


def test_anonymous_cannot_load_or_create(admin: RequestContext, anon: RequestContext, stores: Stores) -> None:
    make_org(admin, stores)
    make_dataset(admin, stores, "btw")
    with pytest.raises(Exception) as exc:
        service.ingest_file(anon, stores, "btw", BTW)
    assert getattr(exc.value, "status", None) == 403
    with pytest.raises(Exception) as exc2:
        service.create_dataset(anon, stores, "neu", "statistik", {"title": "x"})
    assert getattr(exc2.value, "status", None) == 403
