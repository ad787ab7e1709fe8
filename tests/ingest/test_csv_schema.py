"""Inferred Table Schema: the report, overriding it and reloading with it, late anomalies."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import duckdb

from urbandata.ingest.pipeline import SAMPLE_ROWS, IngestOptions, StageResult, stage_file
from urbandata.ingest.tableschema import TableSchema, parse_schema


def stage(
    tmp_path: Path, name: str, content: str | bytes, schema: TableSchema | None = None, **options: Any
) -> StageResult:
    path = tmp_path / name
    if not path.exists():
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    work = tmp_path / f"work-{len(list(tmp_path.glob('work-*')))}"
    return stage_file(path, IngestOptions(display_name=name, schema=schema, **options), work)


def rows(result: StageResult) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(result.staged.path), read_only=True)
    try:
        return con.execute("SELECT * FROM data ORDER BY rowid").fetchall()
    finally:
        con.close()


def types(result: StageResult) -> dict[str, str]:
    return {f["name"]: f["type"] for f in result.report["schema"]["fields"]}


TEXT = "Bezirk;Einwohner;Stichtag;Anteil\n04;12.345;31.12.2020;1,5\n12;987;31.12.2021;2\n"


def test_report_contents(tmp_path: Path) -> None:
    result = stage(tmp_path, "r.csv", TEXT)
    report = result.report
    assert report["rows_loaded"] == 2
    assert report["rows_rejected"] == 0
    assert report["rejected"] == []
    assert report["sha256"] == hashlib.sha256(TEXT.encode()).hexdigest()
    assert isinstance(report["duration_s"], float)
    schema = report["schema"]
    assert [f["name"] for f in schema["fields"]] == ["Bezirk", "Einwohner", "Stichtag", "Anteil"]
    assert schema["fields"][1] == {"name": "Einwohner", "type": "integer", "groupChar": "."}
    assert schema["fields"][2] == {"name": "Stichtag", "type": "date", "format": "%d.%m.%Y"}
    assert schema["fields"][3] == {"name": "Anteil", "type": "number", "decimalChar": ","}
    assert "k.A." in schema["missingValues"]


def test_inferred_schema_reloads_to_the_same_table(tmp_path: Path) -> None:
    first = stage(tmp_path, "r.csv", TEXT)
    again = stage(tmp_path, "r.csv", TEXT, schema=parse_schema(first.report["schema"]))
    assert again.report["schema"] == first.report["schema"]
    assert rows(again) == rows(first)


def test_override_a_column_to_text(tmp_path: Path) -> None:
    inferred = stage(tmp_path, "r.csv", TEXT).report["schema"]
    for f in inferred["fields"]:
        if f["name"] == "Einwohner":
            f.clear()
            f.update(name="Einwohner", type="string")
    result = stage(tmp_path, "r.csv", TEXT, schema=parse_schema(inferred))
    assert types(result)["Einwohner"] == "string"
    assert rows(result)[0] == ("04", "12.345", dt.date(2020, 12, 31), 1.5)


def test_partial_schema_infers_the_other_columns(tmp_path: Path) -> None:
    schema = parse_schema({"fields": [{"name": "Bezirk", "type": "integer"}]})
    result = stage(tmp_path, "r.csv", TEXT, schema=schema)
    assert types(result) == {"Bezirk": "integer", "Einwohner": "integer", "Stichtag": "date", "Anteil": "number"}
    assert [r[0] for r in rows(result)] == [4, 12]


def test_give_a_date_format(tmp_path: Path) -> None:
    text = "Tag;Wert\n12/31/2020;1\n01/15/2021;2\n"
    assert types(stage(tmp_path, "us.csv", text))["Tag"] == "string"  # not a format we guess
    schema = parse_schema({"fields": [{"name": "Tag", "type": "date", "format": "%m/%d/%Y"}]})
    result = stage(tmp_path, "us.csv", text, schema=schema)
    assert rows(result) == [(dt.date(2020, 12, 31), 1), (dt.date(2021, 1, 15), 2)]


def test_give_boolean_words_and_missing_values(tmp_path: Path) -> None:
    text = "Name;Offen;Plätze\nA;geöffnet;12\nB;geschlossen;?\nC;geöffnet;-\n"
    schema = parse_schema({
        "fields": [{"name": "Offen", "type": "boolean", "trueValues": ["geöffnet"], "falseValues": ["geschlossen"]}],
        "missingValues": ["", "?"],
    })
    result = stage(tmp_path, "b.csv", text, schema=schema)
    assert rows(result) == [("A", True, "12"), ("B", False, None), ("C", True, "-")]  # "-" is text now
    assert result.report["schema"]["missingValues"] == ["", "?"]


def test_late_anomaly_demotes_the_inferred_column_to_text(tmp_path: Path) -> None:
    n = SAMPLE_ROWS + 5000
    body = "".join(f"{i};{i * 2};{i % 28 + 1:02d}.01.2020;ja;{i % 10}\n" for i in range(n))
    text = "id;zahl;datum;flag;ziffer\n" + body + f"{n};viel;31.02.2020;vielleicht;7\n"
    result = stage(tmp_path, "late.csv", text)
    assert types(result) == {"id": "integer", "zahl": "string", "datum": "string", "flag": "string",
                             "ziffer": "integer"}
    report = result.report
    assert report["rows_loaded"] == n + 1
    assert report["rows_rejected"] == 0
    note = next(x for x in report["notes"] if x.startswith("kept as text"))
    assert "zahl (integer)" in note and "datum (date)" in note and "flag (boolean)" in note
    data = rows(result)
    assert data[0] == (0, "0", "01.01.2020", "ja", 0)
    assert data[-1] == (n, "viel", "31.02.2020", "vielleicht", 7)


def test_late_postal_code_with_leading_zero_keeps_the_column_text(tmp_path: Path) -> None:
    body = "".join(f"Berlin;{10115 + i % 100}\n" for i in range(SAMPLE_ROWS + 1000))
    result = stage(tmp_path, "plz.csv", "Ort;Code\n" + body + "Dresden;01067\n")
    assert types(result)["Code"] == "string"
    assert rows(result)[-1] == ("Dresden", "01067")


def test_user_given_type_is_not_demoted(tmp_path: Path) -> None:
    body = "".join(f"{i};{i}\n" for i in range(50))
    schema = parse_schema({"fields": [{"name": "n", "type": "integer"}]})
    result = stage(tmp_path, "u.csv", "id;n\n" + body + "50;fünfzig\n", schema=schema)
    assert types(result)["n"] == "integer"
    assert result.report["rows_loaded"] == 50
    assert [(r["line"], r["column"], r["value"]) for r in result.report["rejected"]] == [(52, "n", "fünfzig")]
