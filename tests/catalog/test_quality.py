"""Validation rules, validation on load, quality scores and freshness through the catalog services (both backends)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.helpers import make_dataset, make_org, write_csv
from urbandata.audit.service import query_log
from urbandata.auth.actor import RequestContext
from urbandata.catalog import quality, service
from urbandata.catalog.validation import ValidationFailed
from urbandata.errors import Forbidden, InvalidInput, NotFound
from urbandata.stores import Stores

DISTRICTS = "Code;Name\n01;Innenstadt\n02;Lauterstadt\n03;Erfenbach\n"
GOOD = "Id;Bezirk;Wert;Datum;Art\n1;01;10;01.03.2024;A\n2;02;20;02.03.2024;B\n3;03;30;03.03.2024;A\n"
BAD = "Id;Bezirk;Wert;Datum;Art\n1;01;10;01.03.2024;A\n1;09;500;02.03.1890;C\n3;;30;03.03.2024;A\n"
RULES = [
    {"type": "required", "columns": ["Bezirk"]},
    {"type": "unique", "columns": ["Id"]},
    {"type": "range", "column": "Wert", "min": 0, "max": 100},
    {"type": "enum", "column": "Art", "values": ["A", "B"]},
    {"type": "pattern", "column": "Bezirk", "pattern": "[0-9]{2}"},
    {"type": "date", "column": "Datum", "min": "2000-01-01", "not_future": True},
    {"type": "foreign_key", "column": "Bezirk", "dataset": "bezirke", "resource": "bezirke", "target_column": "Code"},
]


def _setup(admin: RequestContext, stores: Stores, tmp_path: Path, **meta: object) -> None:
    make_org(admin, stores)
    make_dataset(admin, stores, "bezirke")
    service.ingest_file(admin, stores, "bezirke", write_csv(tmp_path / "bezirke.csv", DISTRICTS))
    make_dataset(admin, stores, "messungen", **meta)
    service.ingest_file(admin, stores, "messungen", write_csv(tmp_path / "werte.csv", GOOD))


def test_rules_saved_and_a_failing_load_is_rejected(admin: RequestContext, stores: Stores, tmp_path: Path) -> None:
    _setup(admin, stores, tmp_path)
    saved = quality.set_rules(admin, stores, "messungen", "werte", RULES)
    assert saved["on_failure"] == "reject" and len(saved["rules"]) == 7
    assert saved["current_version"]["version"] == 1 and saved["current_version"]["passed"] is True
    dry = quality.set_rules(admin, stores, "messungen", "werte", [{"type": "range", "column": "Wert", "max": 15}])
    assert dry["current_version"]["violations_total"] == 2  # the current data would fail: the steward sees it now
    quality.set_rules(admin, stores, "messungen", "werte", RULES)
    v2 = service.ingest_file(admin, stores, "messungen", write_csv(tmp_path / "werte.csv", GOOD))
    assert v2.report["validation"]["passed"] is True
    with pytest.raises(ValidationFailed) as exc:
        service.ingest_file(admin, stores, "messungen", write_csv(tmp_path / "werte.csv", BAD))
    assert exc.value.status == 422
    assert "previous version stays current" in exc.value.message
    versions = service.list_versions(admin, stores, "messungen", "werte")
    assert [v.version for v in versions] == [2, 1] and versions[0].current
    report = quality.validation_reports(admin, stores, "messungen", "werte")[0]
    assert report["outcome"] == "rejected" and report["version"] == 3
    counts = {r["rule"]["type"]: r["violations"] for r in report["report"]["rules"]}
    assert counts == {
        "required": 1,
        "unique": 2,
        "range": 1,
        "enum": 1,
        "pattern": 0,  # empty values are the required rule's business
        "date": 1,
        "foreign_key": 1,
    }
    cells = {(v["row"], v["column"], v["rule"]) for v in report["report"]["violations"]}
    assert (3, "Bezirk", 1) in cells  # required: data row 3 has no Bezirk
    assert (2, "Wert", 3) in cells and (2, "Bezirk", 7) in cells
    assert any(e["action"] == "resource.validation" for e in query_log(admin, stores))


def test_warn_publishes_with_the_report(admin: RequestContext, stores: Stores, tmp_path: Path) -> None:
    _setup(admin, stores, tmp_path)
    quality.set_rules(admin, stores, "messungen", "werte", RULES[2:4], on_failure="warn")
    v = service.ingest_file(admin, stores, "messungen", write_csv(tmp_path / "werte.csv", BAD))
    assert v.current and v.report["validation"]["outcome"] == "warnings"
    assert v.report["validation"]["violations_total"] == 2
    q = quality.dataset_quality(admin, stores, "messungen")
    assert q["components"]["conformance"]["value"] == 0.0  # both rules failed


def test_row_count_change(admin: RequestContext, stores: Stores, tmp_path: Path) -> None:
    _setup(admin, stores, tmp_path)
    quality.set_rules(admin, stores, "messungen", "werte", [{"type": "row_count_change", "max_percent": 50}])
    with pytest.raises(ValidationFailed) as exc:
        service.ingest_file(admin, stores, "messungen", write_csv(tmp_path / "werte.csv", GOOD.split("\n2;")[0] + "\n"))
    assert "row count changed by 66.7 %" in str(exc.value.details)


def test_contradicting_rules_are_rejected(admin: RequestContext, stores: Stores, tmp_path: Path) -> None:
    _setup(admin, stores, tmp_path)
    bad_sets = [
        [{"type": "range", "column": "Wert", "min": 10, "max": 1}],
        [{"type": "range", "column": "Wert", "min": 0, "max": 5}, {"type": "range", "column": "Wert", "min": 10}],
        [{"type": "range", "column": "Nope", "min": 1}],
        [{"type": "range", "column": "Art", "min": 1}],
        [{"type": "pattern", "column": "Wert", "pattern": "x"}],
        [{"type": "pattern", "column": "Art", "pattern": "(["}],
        [
            {"type": "enum", "column": "Art", "values": ["A", "b"]},
            {"type": "pattern", "column": "Art", "pattern": "[A-Z]"},
        ],
        [{"type": "enum", "column": "Wert", "values": [1, 200]}, {"type": "range", "column": "Wert", "max": 100}],
        [{"type": "enum", "column": "Wert", "values": ["zehn"]}],
        [{"type": "date", "column": "Datum", "min": "2025-01-01", "max": "2024-01-01"}],
        [
            {
                "type": "foreign_key",
                "column": "Bezirk",
                "dataset": "bezirke",
                "resource": "bezirke",
                "target_column": "X",
            }
        ],
        [{"type": "foreign_key", "column": "Bezirk", "dataset": "nix", "resource": "bezirke", "target_column": "Code"}],
        [{"type": "unique", "columns": []}],
        [{"type": "sometimes"}],
        [{"type": "row_count_change", "max_percent": -1}],
        "not a list",
    ]
    for rules in bad_sets:
        with pytest.raises(InvalidInput) as exc:
            quality.set_rules(admin, stores, "messungen", "werte", rules)
        assert exc.value.status == 400 and exc.value.code == "invalid_rules", rules
    with pytest.raises(InvalidInput):
        quality.set_rules(admin, stores, "messungen", "werte", [], on_failure="maybe")
    assert quality.get_rules(admin, stores, "messungen", "werte")["rules"] == []


def test_rules_need_write_permission_and_visibility(
    admin: RequestContext, anon: RequestContext, stores: Stores, tmp_path: Path
) -> None:
    _setup(admin, stores, tmp_path)
    with pytest.raises(Forbidden):
        quality.set_rules(anon, stores, "messungen", "werte", [])
    make_dataset(admin, stores, "intern", access_level="internal")
    with pytest.raises(NotFound):
        quality.dataset_quality(anon, stores, "intern")
    with pytest.raises(NotFound):
        quality.get_rules(anon, stores, "intern", "x")


def test_freshness_at_any_date(admin: RequestContext, stores: Stores, tmp_path: Path) -> None:
    _setup(admin, stores, tmp_path, frequency="WEEKLY")
    loaded = service.list_versions(admin, stores, "messungen", "werte")[0].created_at
    loaded = loaded if loaded.tzinfo else loaded.replace(tzinfo=dt.UTC)
    now = quality.dataset_quality(admin, stores, "messungen", at=loaded + dt.timedelta(days=1))
    assert now["freshness"] == "fresh"
    assert dt.datetime.fromisoformat(now["due_at"]) == loaded + dt.timedelta(days=7)
    due = quality.dataset_quality(admin, stores, "messungen", at=loaded + dt.timedelta(days=6.5))
    assert due["freshness"] == "due"
    late = quality.dataset_quality(admin, stores, "messungen", at=loaded + dt.timedelta(days=9))
    assert late["freshness"] == "overdue" and late["overdue_since"] == now["due_at"]
    assert late["score"] == now["score"] - 20
    listed = quality.overdue(admin, stores, "statistik", at=loaded + dt.timedelta(days=9))
    assert [(e["dataset"], e["resource"]) for e in listed] == [("messungen", "werte")]
    assert quality.overdue(admin, stores, "statistik", at=loaded + dt.timedelta(days=2)) == []


def test_score_components(admin: RequestContext, stores: Stores, tmp_path: Path) -> None:
    _setup(admin, stores, tmp_path, license="other-closed", description="Messwerte", keywords=["Wert"])
    q = quality.dataset_quality(admin, stores, "messungen")
    comps = {k: v["value"] for k, v in q["components"].items()}
    assert comps["conformance"] == 1.0 and comps["completeness"] == 1.0 and comps["freshness"] == 1.0
    assert comps["openness"] == 0.5  # CSV is open, the licence is not
    assert comps["documentation"] == 0.0
    assert 0 < comps["metadata"] < 1 and "themes" in q["metadata_missing"]
    assert q["score"] == round(sum(v["points"] for v in q["components"].values()))
    org = quality.org_quality(admin, stores, "statistik")
    assert {d["dataset"] for d in org["datasets"]} == {"bezirke", "messungen"}
    assert 0 < org["score"] <= 100
