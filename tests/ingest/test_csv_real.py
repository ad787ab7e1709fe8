"""CSV ingestion on real municipal files (tests/data/real, see ATTRIBUTION.md there)."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import duckdb
import pytest

from urbandata.ingest.pipeline import IngestOptions, StageResult, stage_file

REAL = Path(__file__).parents[1] / "data" / "real"


def stage_real(name: str, tmp_path: Path) -> StageResult:
    return stage_file(REAL / name, IngestOptions(display_name=name), tmp_path / "work")


def rows(result: StageResult, columns: str = "*") -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(result.staged.path), read_only=True)
    try:
        return con.execute(f"SELECT {columns} FROM data ORDER BY rowid").fetchall()
    finally:
        con.close()


def types(result: StageResult) -> dict[str, str]:
    return {f["name"]: f["type"] for f in result.report["schema"]["fields"]}


def test_koeln_budget_thousands_dots_and_bom(tmp_path: Path) -> None:
    result = stage_real("koeln_bezirke_einzeldarstellung.csv", tmp_path)
    report = result.report
    assert report["rows_loaded"] == 252
    assert report["rows_rejected"] == 0
    assert report["encoding"] == "utf-8-sig"
    assert report["delimiter"] == ";"
    t = types(result)
    assert list(t)[0] == "Bezirk"  # the BOM is not part of the first column's name
    assert t["Ergebnis 2011"] == "integer"
    assert t["Plan 2017"] == "integer"
    assert t["Teilplanzeile"] == "string"
    data = {(r[0], r[2][:2]): r for r in rows(result)}
    assert data[(1, "02")][3] == 9577207  # "9.577.207"
    assert data[(1, "05")][3] == 510285  # "510.285": a thousands dot, not a decimal point
    assert data[(1, "03")][3] == -35
    assert data[(9, "28")][1] == "Mühlheim"  # (sic, as in the file)


def test_koeln_election_decimal_comma_and_umlaut_headers(tmp_path: Path) -> None:
    result = stage_real("koeln_btw2013_result_stadtteil.csv", tmp_path)
    report = result.report
    assert report["rows_loaded"] == 86
    assert report["delimiter"] == ";"  # not fooled by the decimal commas
    t = types(result)
    assert t["Wahlbeteiligung"] == "number"
    assert t["gültig"] == "integer"
    assert t["GRÜNE_Proz"] == "number"
    assert t["Nr"] == "string"  # empty in every row, but it has a header: kept
    # the trailing ';' on every line makes an empty column without a header: dropped, and said so
    assert not any(name.startswith("column_") for name in t)
    assert any("empty column" in n for n in report["notes"])
    by_name = {r[0]: r[1:] for r in rows(result, '"Name", "Wahlbeteiligung", "GRÜNE_Proz", "gültig"')}
    assert by_name["Altstadt/Nord"][0] == pytest.approx(76.7)
    assert by_name["Altstadt/Nord"][2] == 9693


def test_genesis_export_latin1_titles_stacked_header_footer(tmp_path: Path) -> None:
    result = stage_real("itnrw_33111-02ir_koeln_flaechennutzung.csv", tmp_path)
    report = result.report
    assert report["rows_loaded"] == 19
    assert report["rows_rejected"] == 0
    assert report["encoding"] in ("latin-1", "cp1252")
    notes = " | ".join(report["notes"])
    assert "6 title line(s)" in notes
    assert "3 stacked header rows" in notes
    assert "15 note line(s) below the table" in notes
    fields = report["schema"]["fields"]
    assert fields[0]["type"] == "date"
    assert fields[1]["name"] == "Bodenfläche insgesamt / Insgesamt"
    assert "Verkehrsfläche / Straße" in types(result)
    assert all(f["type"] == "integer" for f in fields[1:])
    data = rows(result)
    assert data[0][0] == dt.date(2012, 12, 31)
    assert data[0][1] == 4051641
    assert data[-1][0] == dt.date(1994, 12, 31)
    # "-" (nothing there) is a missing value, not a reason to read the column as text
    assert data[-1][14] is None
    # no copyright or footnote text got into the table
    assert all(isinstance(r[0], dt.date) for r in data)


def test_berlin_comma_separated_months_and_decimal_points(tmp_path: Path) -> None:
    result = stage_real("berlin_daten_berlin_de_domain_stats.csv", tmp_path)
    report = result.report
    assert report["rows_loaded"] == 83
    assert report["delimiter"] == ","
    assert types(result) == {
        "month": "yearmonth", "impressions": "integer", "visits": "integer", "visit_duration_avg_seconds": "number",
    }
    assert rows(result)[0] == ("2025-12", 46777, 14506, pytest.approx(97.48))


@pytest.mark.parametrize(
    "name",
    [
        "koeln_bezirke_einzeldarstellung.csv",
        "koeln_btw2013_result_stadtteil.csv",
        "itnrw_33111-02ir_koeln_flaechennutzung.csv",
        "berlin_daten_berlin_de_domain_stats.csv",
    ],
)
def test_report_of_a_real_load(name: str, tmp_path: Path) -> None:
    result = stage_real(name, tmp_path)
    report = result.report
    assert report["sha256"] == hashlib.sha256((REAL / name).read_bytes()).hexdigest()
    assert report["size"] == (REAL / name).stat().st_size
    assert report["file"] == name
    assert report["format"] == "csv"
    assert report["rejected"] == []
    assert report["duration_s"] >= 0
    assert result.staged.row_count == report["rows_loaded"]
    assert [c.name for c in result.staged.columns] == [f["name"] for f in report["schema"]["fields"]]
    # nothing left behind but the staged table
    assert sorted(p.name for p in (tmp_path / "work").iterdir() if p.is_file()) == ["staged.duckdb"]
