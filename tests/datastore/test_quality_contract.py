"""The datastore methods quality checks and version history rely on, on every backend."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.datastore.test_contract import datastore, staged  # noqa: F401 - the backend-parametrised fixture
from urbandata.datastore import Datastore
from urbandata.quality.rules import parse_rules
from urbandata.quality.validate import column_completeness, validate_version

TYPES = {"id": "integer", "name": "string", "wert": "number", "datum": "date", "aktiv": "boolean"}


def test_query_versions_and_copy(datastore: Datastore, tmp_path: Path) -> None:  # noqa: F811
    ref = datastore.install(staged(tmp_path).staged, 3, 1)
    rows = datastore.query_versions(
        f"SELECT {datastore.row_id}, name FROM {{t}} WHERE wert > {datastore.param_marker} ORDER BY 1", [1], {"t": ref}
    )
    assert rows == [(0, "Äpfel"), (3, "Zitronen")]
    copy = datastore.copy_version(ref, 3, 2)
    assert copy != ref and datastore.exists(copy)
    assert datastore.count(copy) == 4
    assert datastore.query_versions("SELECT count(*) FROM {a} JOIN {b} USING (id)", [], {"a": ref, "b": copy}) == [(4,)]
    datastore.drop(ref)
    assert not datastore.exists(ref) and datastore.count(copy) == 4


def test_rules_run_on_the_engine(datastore: Datastore, tmp_path: Path) -> None:  # noqa: F811
    ref = datastore.install(staged(tmp_path).staged, 4, 1)
    rules = parse_rules(
        [
            {"type": "required", "columns": ["wert", "datum"]},
            {"type": "pattern", "column": "name", "pattern": "[A-ZÄÖÜ][a-zäöü]+"},
            {"type": "range", "column": "wert", "min": 0},
            {"type": "date", "column": "datum", "max": "2024-02-01"},
            {"type": "row_count_change", "max_percent": 10},
        ]
    )
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    report = validate_version(
        datastore, ref, rules, TYPES, row_count=4, previous_row_count=2, targets={}, now=now, cap=3
    )
    assert [r["violations"] for r in report["rules"]] == [2, 0, 1, 2, 1]
    assert report["violations_total"] == 6 and report["truncated"] and len(report["violations"]) == 3
    assert report["violations"][0] == {"row": 2, "column": "wert", "value": None, "rule": 1, "message": "value missing"}
    completeness = column_completeness(datastore, ref, ["id", "wert", "datum"])
    assert completeness == {"id": 1.0, "wert": 0.75, "datum": 0.75}
