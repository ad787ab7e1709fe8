"""Version diffs, restore, lineage and retention through the catalog services (both backends)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.helpers import make_dataset, make_org, write_csv
from urbandata.auth.actor import RequestContext
from urbandata.catalog import history, quality, service
from urbandata.catalog.rows import RowQuery, query_rows
from urbandata.catalog.validation import ValidationFailed
from urbandata.errors import Forbidden, InvalidInput, NotFound
from urbandata.stores import Stores

V1 = "Id;Name;Wert\n1;Alpha;10\n2;Beta;20\n3;Gamma;30\n"
V2 = "Id;Name;Wert;Neu\n1;Alpha;10;x\n2;Beta;25;y\n4;Delta;40;z\n"


def _two_versions(admin: RequestContext, stores: Stores, tmp_path: Path) -> None:
    make_org(admin, stores)
    make_dataset(admin, stores, "werte")
    service.ingest_file(admin, stores, "werte", write_csv(tmp_path / "tab.csv", V1))
    service.ingest_file(admin, stores, "werte", write_csv(tmp_path / "tab.csv", V2))


def test_diff_by_key(admin: RequestContext, stores: Stores, tmp_path: Path) -> None:
    _two_versions(admin, stores, tmp_path)
    d = history.diff(admin, stores, "werte", "tab", 1, 2, keys=["Id"])
    assert d["schema"] == {"added": ["Neu"], "removed": [], "changed": []}
    assert d["rows"] == {"added": 1, "removed": 1, "changed": 1}
    assert d["added"] == [{"Id": 4, "Name": "Delta", "Wert": 40, "Neu": "z"}]
    assert d["removed"] == [{"Id": 3, "Name": "Gamma", "Wert": 30}]
    assert d["changed"] == [{"key": {"Id": 2}, "changes": {"Wert": {"from": 20, "to": 25}}}]
    assert d["truncated"] is False


def test_diff_without_key_and_bad_keys(admin: RequestContext, stores: Stores, tmp_path: Path) -> None:
    _two_versions(admin, stores, tmp_path)
    d = history.diff(admin, stores, "werte", "tab", 1, 2)
    assert d["keys"] == [] and d["rows"]["added"] == 2 and d["rows"]["removed"] == 2
    quality.set_rules(admin, stores, "werte", "tab", [{"type": "unique", "columns": ["Id"]}], on_failure="warn")
    assert history.diff(admin, stores, "werte", "tab", 1, 2)["keys"] == ["Id"]  # the unique rule is the key
    with pytest.raises(InvalidInput):
        history.diff(admin, stores, "werte", "tab", 1, 2, keys=["Neu"])
    service.ingest_file(admin, stores, "werte", write_csv(tmp_path / "tab.csv", "Id;Name;Wert\n1;A;1\n2;B;2\n"))
    service.ingest_file(admin, stores, "werte", write_csv(tmp_path / "tab.csv", "Id;Name;Wert\n1;A;1\n1;B;2\n"))
    with pytest.raises(InvalidInput, match="not unique"):
        history.diff(admin, stores, "werte", "tab", 3, 4, keys=["Id"])
    with pytest.raises(NotFound):
        history.diff(admin, stores, "werte", "tab", 1, 9)


def test_restore_makes_a_new_current_version(admin: RequestContext, stores: Stores, tmp_path: Path) -> None:
    _two_versions(admin, stores, tmp_path)
    restored = history.restore(admin, stores, "werte", "tab", 1)
    assert restored.version == 3 and restored.current and restored.report["restored_from"] == 1
    rows = query_rows(admin, stores, "werte", "tab", RowQuery(limit=10))
    assert [r["Name"] for r in rows.rows] == ["Alpha", "Beta", "Gamma"]
    assert history.diff(admin, stores, "werte", "tab", 1, 3)["rows"] == {"added": 0, "removed": 0, "changed": None}
    lin = history.lineage(admin, stores, "werte", "tab")
    assert [e["source"]["kind"] for e in lin] == ["restore", "upload", "upload"]
    assert lin[0]["source"]["restored_from"] == 1 and lin[2]["source"]["sha256"] == lin[0]["source"]["sha256"]
    assert lin[1]["schema"]["fields"][3]["name"] == "Neu" and lin[1]["created_by"]
    with pytest.raises(NotFound):
        history.restore(admin, stores, "werte", "tab", 7)


def test_restore_is_validated_and_guarded(
    admin: RequestContext, anon: RequestContext, stores: Stores, tmp_path: Path
) -> None:
    _two_versions(admin, stores, tmp_path)
    quality.set_rules(admin, stores, "werte", "tab", [{"type": "range", "column": "Wert", "min": 15}])
    with pytest.raises(ValidationFailed):
        history.restore(admin, stores, "werte", "tab", 1)
    assert service.list_versions(admin, stores, "werte", "tab")[0].version == 2
    with pytest.raises(Forbidden):
        history.restore(anon, stores, "werte", "tab", 1)


def test_retention_prunes_data_keeps_metadata(admin: RequestContext, stores: Stores, tmp_path: Path) -> None:
    _two_versions(admin, stores, tmp_path)
    service.ingest_file(admin, stores, "werte", write_csv(tmp_path / "tab.csv", V1))
    with pytest.raises(InvalidInput):
        history.set_retention(admin, stores, "werte", "tab", history.Retention())
    history.set_retention(admin, stores, "werte", "tab", history.Retention(keep_last=1))
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert history.apply_retention(admin, stores, "werte", "tab", now=later) == [1, 2]
    assert history.apply_retention(admin, stores, "werte", "tab", now=later) == []
    assert len(service.list_versions(admin, stores, "werte", "tab")) == 3
    assert [e["data_pruned"] for e in history.lineage(admin, stores, "werte", "tab")] == [False, True, True]
    with pytest.raises(NotFound):
        history.restore(admin, stores, "werte", "tab", 1)
    with pytest.raises(NotFound):
        history.diff(admin, stores, "werte", "tab", 1, 3)


def test_retention_keeps_the_first_of_each_month_longer() -> None:
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    versions = [SimpleNamespace(version=i + 1, created_at=t0 + dt.timedelta(days=10 * i)) for i in range(9)]
    now = t0 + dt.timedelta(days=90)
    rule = history.Retention(keep_last=2, keep_days=15, monthly_days=60)
    pruned = [v.version for v in history._to_prune(versions, 9, rule, now)]
    # versions 1..9 fall on Jan 1, 11, 21, 31, Feb 10, 20, Mar 2, 12, 22; now is Apr 1.
    # kept: the last two (8, 9); younger than 15 days: 9; first of their month within 60 days: 5 (Feb), 7 (Mar)
    assert pruned == [1, 2, 3, 4, 6]
