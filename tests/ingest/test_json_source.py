"""JSON ingestion: arrays of records and NDJSON, native types, nested values, broken files with line numbers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from urbandata.errors import IngestError
from urbandata.ingest.pipeline import IngestOptions, StageResult, stage_file
from urbandata.ingest.tableschema import SchemaField, TableSchema


def stage(path: Path, tmp_path: Path, **options: Any) -> StageResult:
    return stage_file(path, IngestOptions(display_name=path.name, **options), tmp_path / "work")


def rows(result: StageResult, columns: str = "*") -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(result.staged.path), read_only=True)
    try:
        return con.execute(f"SELECT {columns} FROM data ORDER BY rowid").fetchall()
    finally:
        con.close()


def types(result: StageResult) -> dict[str, str]:
    return {f["name"]: f["type"] for f in result.report["schema"]["fields"]}


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


RECORDS = [
    {"Straße": "Hauptstraße 1", "Einwohner": 1200, "Fläche": 1.5, "Betrag": "1.234,56", "Stichtag": "31.12.2023",
     "geändert": "2024-01-02T08:30:00", "aktiv": True, "Adresse": {"PLZ": "67655", "Ort": "Kaiserslautern"},
     "Tags": ["Park", "Süd"], "PLZ": "01067"},
    {"Straße": "Königstraße", "Einwohner": 340, "Fläche": 2, "Betrag": "17,5", "Stichtag": "31.12.2022",
     "geändert": "2024-01-03T17:05:00", "aktiv": False, "Adresse": None, "Tags": [], "PLZ": "67657"},
]


def test_array_of_records_keeps_types_and_nests_as_json_text(tmp_path: Path) -> None:
    path = write(tmp_path / "strassen.json", json.dumps(RECORDS, ensure_ascii=False, indent=2))
    result = stage(path, tmp_path)
    assert result.report["rows_loaded"] == 2
    assert types(result) == {
        "Straße": "string", "Einwohner": "integer", "Fläche": "number", "Betrag": "number", "Stichtag": "date",
        "geändert": "datetime", "aktiv": "boolean", "Adresse": "string", "Tags": "string", "PLZ": "string",
    }
    first, second = rows(result)
    assert first[:7] == ("Hauptstraße 1", 1200, 1.5, 1234.56, dt.date(2023, 12, 31), dt.datetime(2024, 1, 2, 8, 30),
                         True)
    assert json.loads(first[7]) == {"PLZ": "67655", "Ort": "Kaiserslautern"}
    assert json.loads(first[8]) == ["Park", "Süd"]
    assert first[9] == "01067"  # a code with a leading zero stays text
    assert second[:4] == ("Königstraße", 340, 2.0, 17.5) and second[7] is None
    assert any("nested values kept as JSON text" in n for n in result.report["notes"])


def test_ndjson_with_blank_lines_and_varying_fields(tmp_path: Path) -> None:
    text = '{"id": 1, "Messstelle": "Königsplatz", "NO2": 41.5}\n\n{"id": 2, "Messstelle": "Süd", "NO2": null, ' \
           '"Bemerkung": "Ausfall"}\n{"id": 3, "Messstelle": "Nord", "NO2": 12}\n'
    result = stage(write(tmp_path / "luft.jsonl", text), tmp_path)
    assert types(result) == {"id": "integer", "Messstelle": "string", "NO2": "number", "Bemerkung": "string"}
    assert rows(result) == [(1, "Königsplatz", 41.5, None), (2, "Süd", None, "Ausfall"), (3, "Nord", 12.0, None)]


def test_format_is_decided_by_content_not_extension(tmp_path: Path) -> None:
    ndjson_named_json = write(tmp_path / "zeilen.json", '{"a": 1}\n{"a": 2}\n')
    assert rows(stage(ndjson_named_json, tmp_path / "a")) == [(1,), (2,)]
    array_named_ndjson = write(tmp_path / "liste.ndjson", '[{"a": 1}, {"a": 2}]')
    assert rows(stage(array_named_ndjson, tmp_path / "b")) == [(1,), (2,)]


def test_mixed_value_types_become_text(tmp_path: Path) -> None:
    path = write(tmp_path / "gemischt.json", '[{"Wert": 1}, {"Wert": "zwei"}, {"Wert": 3.5}]')
    result = stage(path, tmp_path)
    assert types(result) == {"Wert": "string"}
    assert rows(result) == [("1",), ("zwei",), ("3.5",)]


def test_windows_1252_json_is_converted(tmp_path: Path) -> None:
    path = write(tmp_path / "alt.json", '[{"Ort": "Gießen", "Größe": 5}]', encoding="cp1252")
    result = stage(path, tmp_path)
    assert types(result) == {"Ort": "string", "Größe": "integer"}
    assert rows(result) == [("Gießen", 5)]


def test_rejected_value_names_the_line_of_its_record(tmp_path: Path) -> None:
    records = [{"Ort": "A", "Anzahl": "1"}, {"Ort": "B", "Anzahl": "viele"}, {"Ort": "C", "Anzahl": "3"}]
    path = write(tmp_path / "zaehlung.json", json.dumps(records, indent=2))  # each record spans 4 lines
    schema = TableSchema(fields=[SchemaField(name="Anzahl", type="integer")])
    result = stage(path, tmp_path, schema=schema)
    assert result.report["rows_loaded"] == 2 and result.report["rows_rejected"] == 1
    rejected = result.report["rejected"][0]
    assert rejected["line"] == 6 and rejected["record"] == 2 and rejected["value"] == "viele"


# --- bad input ---------------------------------------------------------------------------------------


def _error(path: Path, tmp_path: Path) -> IngestError:
    with pytest.raises(IngestError) as err:
        stage(path, tmp_path)
    assert err.value.details["file"] == path.name
    return err.value


def test_broken_array_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "kaputt.json", '[\n  {"a": 1},\n  {"a": 2},\n  {"a": tru}\n]\n')
    err = _error(path, tmp_path)
    assert err.code == "broken_json" and err.details["line"] == 4 and "record 3" in err.message


def test_truncated_array_says_the_file_ends(tmp_path: Path) -> None:
    path = write(tmp_path / "abgeschnitten.json", '[{"a": 1},\n{"a": 2}')
    err = _error(path, tmp_path)
    assert err.details["line"] == 2 and "the file ends" in err.message


def test_broken_ndjson_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "kaputt.ndjson", '{"a": 1}\n{"a": 2}\n{"a": 3\n{"a": 4}\n')
    err = _error(path, tmp_path)
    assert err.code == "broken_json" and err.details["line"] == 3


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("[1, 2, 3]", "Record 1 is a number", 1),
        ('[{"a": 1},\n "zwei"]', "Record 2 is a string", 2),
        ('{"a": 1}\n[1, 2]\n', "Record 2 is an array", 2),
        ("[]", "empty", 1),
        ('"nur Text"', "not a JSON array of records", 1),
    ],
)
def test_json_that_is_not_records(tmp_path: Path, text: str, message: str, line: int) -> None:
    err = _error(write(tmp_path / "daten.json", text), tmp_path)
    assert message in err.message and err.details["line"] == line


def test_wrapper_object_says_where_the_records_are(tmp_path: Path) -> None:
    doc = {"meta": {"stand": "2024-01-01"}, "daten": [{"a": 1}, {"a": 2}]}
    for name, text in (("kompakt.json", json.dumps(doc)), ("huebsch.json", json.dumps(doc, indent=2))):
        err = _error(write(tmp_path / name, text), tmp_path / f"work-{name}")
        assert err.code == "not_records" and "'daten'" in err.message
