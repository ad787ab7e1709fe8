"""Parquet ingestion: native types kept, nested columns as JSON text, text columns inferred, broken files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from urbandata.errors import IngestError
from urbandata.ingest.pipeline import IngestOptions, StageResult, stage_file


def stage(path: Path, tmp_path: Path) -> StageResult:
    return stage_file(path, IngestOptions(display_name=path.name), tmp_path / "work")


def rows(result: StageResult, columns: str = "*") -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(result.staged.path), read_only=True)
    try:
        return con.execute(f"SELECT {columns} FROM data ORDER BY rowid").fetchall()
    finally:
        con.close()


def types(result: StageResult) -> dict[str, str]:
    return {f["name"]: f["type"] for f in result.report["schema"]["fields"]}


def test_native_types_nested_columns_and_umlauts(tmp_path: Path) -> None:
    path = tmp_path / "messungen.parquet"
    con = duckdb.connect()
    con.execute(f"""
        COPY (
            SELECT i AS "Messstellen-Nr", 'Königsplatz ' || i AS "Straße", i * 1.25 AS "Wert µg/m³",
                   DATE '2024-01-01' + CAST(i AS INTEGER) AS "Tag",
                   TIMESTAMPTZ '2024-01-01 12:00:00+01' + to_hours(i) AS "Zeitpunkt",
                   i % 2 = 0 AS "gültig", CAST(3.25 AS DECIMAL(10, 2)) AS "Betrag",
                   {{'lat': 49.44, 'lon': 7.77}} AS "Ort", [i, i + 1] AS "Werte",
                   '1.234,5' AS "Text", CAST('abc' AS BLOB) AS "Rohdaten"
            FROM range(3) t(i)
        ) TO '{path}' (FORMAT parquet)
    """)
    con.close()
    result = stage(path, tmp_path)
    assert result.report["format"] == "parquet" and result.report["rows_loaded"] == 3
    assert types(result) == {
        "Messstellen-Nr": "integer", "Straße": "string", "Wert µg/m³": "number", "Tag": "date",
        "Zeitpunkt": "datetime", "gültig": "boolean", "Betrag": "number", "Ort": "string", "Werte": "string",
        "Text": "number", "Rohdaten": "string",
    }
    first = rows(result)[1]
    assert first[:7] == (1, "Königsplatz 1", 1.25, dt.date(2024, 1, 2), dt.datetime(2024, 1, 1, 12, 0), False, 3.25)
    assert json.loads(first[7]) == {"lat": 49.44, "lon": 7.77}
    assert json.loads(first[8]) == [1, 2]
    assert first[9] == 1234.5  # German number in a text column, found by the shared inference
    assert first[10] == "YWJj"  # binary as base64
    assert any("nested columns kept as JSON text: Ort, Werte" in n for n in result.report["notes"])


def test_arrow_written_file_with_nulls_dictionary_strings_and_nanoseconds(tmp_path: Path) -> None:
    table = pa.table({
        "Bezirk": pa.array(["Mitte", "Süd", None, "Mitte"]).dictionary_encode(),
        "Einwohner": pa.array([51000, None, 4100, 7], pa.int32()),
        "Zeit": pa.array([0, 1_000_000_000, 2_000_000_000, None], pa.timestamp("ns")),
        "PLZ": pa.array(["01067", "67655", "67657", "80331"]),
    })
    path = tmp_path / "bezirke.parquet"
    pq.write_table(table, path)
    result = stage(path, tmp_path)
    assert types(result) == {"Bezirk": "string", "Einwohner": "integer", "Zeit": "datetime", "PLZ": "string"}
    assert rows(result) == [
        ("Mitte", 51000, dt.datetime(1970, 1, 1, 0, 0), "01067"),
        ("Süd", None, dt.datetime(1970, 1, 1, 0, 0, 1), "67655"),
        (None, 4100, dt.datetime(1970, 1, 1, 0, 0, 2), "67657"),
        ("Mitte", 7, None, "80331"),
    ]


@pytest.mark.parametrize("content", [b"PAR1 this is not parquet", b"Jahr;Wert\n2023;1\n"])
def test_broken_parquet(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "kaputt.parquet"
    path.write_bytes(content)
    with pytest.raises(IngestError) as err:
        stage(path, tmp_path)
    assert err.value.code == "broken_parquet" and "not a readable Parquet file" in err.value.message
    assert err.value.details["file"] == "kaputt.parquet"


def test_truncated_parquet(tmp_path: Path) -> None:
    good = tmp_path / "gut.parquet"
    pq.write_table(pa.table({"a": list(range(1000))}), good)
    path = tmp_path / "abgeschnitten.parquet"
    path.write_bytes(good.read_bytes()[:-100])
    with pytest.raises(IngestError) as err:
        stage(path, tmp_path)
    assert err.value.code == "broken_parquet"
