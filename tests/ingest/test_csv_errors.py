"""Bad CSV input: a clear UrbanDataError naming file, line and column, or rejected rows with exact lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from urbandata.errors import IngestError, PayloadTooLarge, UrbanDataError
from urbandata.ingest.pipeline import IngestOptions, StageResult, stage_file


def stage(tmp_path: Path, name: str, content: str | bytes, encoding: str = "utf-8", **options: Any) -> StageResult:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return stage_file(path, IngestOptions(display_name=name, **options), tmp_path / "work")


def fails(tmp_path: Path, name: str, content: str | bytes, **options: Any) -> UrbanDataError:
    with pytest.raises(UrbanDataError) as info:
        stage(tmp_path, name, content, **options)
    err = info.value
    assert err.details["file"] == name
    assert err.status in (400, 413, 422)
    return err


def rows(result: StageResult) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(result.staged.path), read_only=True)
    try:
        return con.execute("SELECT * FROM data ORDER BY rowid").fetchall()
    finally:
        con.close()


def rejected(result: StageResult) -> list[tuple[int | None, str | None]]:
    return [(r["line"], r["column"]) for r in result.report["rejected"]]


# --- encodings ---------------------------------------------------------------------------------


def test_mixed_utf8_and_cp1252(tmp_path: Path) -> None:
    content = "Ort;Wert\nKöln;1\nBonn;2\n".encode() + "Düsseldorf;3\n".encode("cp1252")
    err = fails(tmp_path, "mixed.csv", content)
    assert isinstance(err, IngestError)
    assert err.code == "mixed_encoding"
    assert err.details["line"] == 4


def test_utf8_bom_with_cp1252_bytes(tmp_path: Path) -> None:
    err = fails(tmp_path, "bom.csv", b"\xef\xbb\xbfOrt;Wert\nBonn;1\nK\xf6ln;2\n")
    assert err.code == "mixed_encoding"
    assert err.details["line"] == 3


def test_unknown_encoding(tmp_path: Path) -> None:
    # DOS code page 850: "ü" is byte 0x81, which has no character in Windows-1252
    err = fails(tmp_path, "dos.csv", "Ort;Wert\nBonn;1\nMünchen;2\n".encode("cp850"))
    assert err.code == "unknown_encoding"
    assert err.details["line"] == 3


# --- not a table -------------------------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    assert fails(tmp_path, "empty.csv", b"").code == "empty_file"


def test_only_blank_lines(tmp_path: Path) -> None:
    assert fails(tmp_path, "blank.csv", "\r\n\r\n  \r\n").code == "empty_file"


@pytest.mark.parametrize("content", ["a;b;c\n", "a;b;c", "a;b;c\r\n\r\n", "Titel;;\n\na;b;c\n"])
def test_header_only(tmp_path: Path, content: str) -> None:
    err = fails(tmp_path, "header.csv", content)
    assert err.code == "no_rows"
    assert "no data rows" in err.message


def test_binary_garbage_named_csv(tmp_path: Path) -> None:
    assert fails(tmp_path, "garbage.csv", bytes(range(256)) * 64).code == "binary_file"


def test_zip_named_csv(tmp_path: Path) -> None:
    # an .xlsx (a ZIP) renamed to .csv
    assert fails(tmp_path, "tabelle.csv", b"PK\x03\x04\x14\x00\x06\x00\x08\x00" + bytes(2000)).code == "binary_file"


def test_control_characters_without_nul(tmp_path: Path) -> None:
    content = bytes(b % 31 + 1 for b in range(4000))
    assert fails(tmp_path, "ctrl.csv", content).code == "binary_file"


def test_file_over_the_size_budget(tmp_path: Path) -> None:
    err = fails(tmp_path, "big.csv", "a;b\n" + "1;2\n" * 100, max_bytes=100)
    assert isinstance(err, PayloadTooLarge)
    assert err.status == 413
    assert not (tmp_path / "work" / "staged.duckdb").exists()


# --- ragged rows -------------------------------------------------------------------------------


def test_ragged_rows_are_rejected_with_exact_lines(tmp_path: Path) -> None:
    text = "a;b;c\n1;2;3\n4;5\n6;7;8\n9;10;11;12\n13;14;15\n16;17\n18;19;20\n"
    result = stage(tmp_path, "ragged.csv", text)
    assert rows(result) == [(1, 2, 3), (6, 7, 8), (13, 14, 15), (18, 19, 20)]
    report = result.report
    assert report["rows_loaded"] == 4
    assert report["rows_rejected"] == 3
    assert [(r["line"], r["reason"], r["value"]) for r in report["rejected"]] == [
        (3, "too few fields (found 2, expected 3)", "4;5"),
        (5, "too many fields (found 4, expected 3)", "9;10;11;12"),
        (7, "too few fields (found 2, expected 3)", "16;17"),
    ]


def test_ragged_rows_after_titles_multiline_fields_and_blank_lines(tmp_path: Path) -> None:
    text = (
        "Tabelle 1;;\r\n"  # 1
        "\r\n"  # 2
        "a;b;c\r\n"  # 3
        '1;"zwei\r\nZeilen";3\r\n'  # 4-5
        "4;5\r\n"  # 6
        "\r\n"  # 7
        "6;7;8\r\n"  # 8
        '9;"drei\nZei\nlen";10\r\n'  # 9-11
        "11;12\r\n"  # 12
        "13;14;15;16\r\n"  # 13
        "17;18;19\r\n"  # 14
    )
    result = stage(tmp_path, "ml.csv", text)
    assert [r[0] for r in rows(result)] == [1, 6, 9, 17]
    assert rejected(result) == [(6, None), (12, None), (13, None)]


def test_ragged_last_row_is_rejected_not_dropped(tmp_path: Path) -> None:
    result = stage(tmp_path, "cut.csv", "a;b;c\n1;2;3\n4;5;6\n7;8")
    assert result.report["rows_loaded"] == 2
    assert rejected(result) == [(4, None)]


def test_unquoted_quote_is_rejected(tmp_path: Path) -> None:
    result = stage(tmp_path, "q.csv", 'a;b;c\n1;2;3\n4;"fünf"x;6\n7;8;9\n')
    assert rejected(result) == [(3, None)]
    assert "quote" in result.report["rejected"][0]["reason"]
    assert [r[0] for r in rows(result)] == [1, 7]


def test_every_row_ragged(tmp_path: Path) -> None:
    err = fails(tmp_path, "allbad.csv", "a;b;c\n1;2\n3;4;5;6\n")
    assert err.code == "no_rows"
    assert err.details["line"] == 2
    assert "too few fields" in err.message


def test_rows_wider_than_the_header_get_unnamed_columns(tmp_path: Path) -> None:
    result = stage(tmp_path, "wide.csv", "a;b;c\n1;2;3;4\n5;6;7;8\n")
    assert [f["name"] for f in result.report["schema"]["fields"]] == ["a", "b", "c", "column_4"]
    assert rows(result) == [(1, 2, 3, 4), (5, 6, 7, 8)]


def test_many_rejects_are_counted_and_the_report_is_capped(tmp_path: Path) -> None:
    lines = ["a;b"] + [f"{i};x" if i % 2 else f"{i}" for i in range(3000)]
    result = stage(tmp_path, "many.csv", "\n".join(lines) + "\n", max_rejects_reported=10)
    report = result.report
    assert report["rows_loaded"] == 1500
    assert report["rows_rejected"] == 1500
    assert len(report["rejected"]) == 10
    assert report["rejected"][0]["line"] == 2


# --- a Table Schema that contradicts the data ----------------------------------------------------


def test_forced_types_reject_rows_with_line_column_and_value(tmp_path: Path) -> None:
    from urbandata.ingest.tableschema import parse_schema

    schema = parse_schema({"fields": [
        {"name": "wert", "type": "number", "decimalChar": ","},
        {"name": "datum", "type": "date", "format": "%d.%m.%Y"},
    ]})
    text = (
        "id;wert;datum;text\n"  # 1
        "1;1,5;01.01.2020;a\n"  # 2
        "2;x;02.01.2020;b\n"  # 3  bad number
        "3;2;03.01.2020\n"  # 4  too few fields
        '4;"3";kaputt;"mehr\nzeilig"\n'  # 5-6  bad date
        "5;4;05.01.2020;e\n"  # 7
        "\n"  # 8
        "6;abc;31.02.2020;f\n"  # 9  bad number and bad date
        "7;5;07.01.2020;g;h\n"  # 10 too many fields
        "8;6;08.01.2020;i\n"  # 11
    )
    result = stage(tmp_path, "forced.csv", text, schema=schema)
    assert [r[0] for r in rows(result)] == [1, 5, 8]
    report = result.report
    assert report["rows_rejected"] == 5  # rows, not values: line 9 has two bad values
    got = [(r["line"], r["column"], r.get("value")) for r in report["rejected"]]
    assert got == [
        (3, "wert", "x"),
        (4, None, "3;2;03.01.2020"),
        (5, "datum", "kaputt"),
        (9, "datum", "31.02.2020"),
        (9, "wert", "abc"),
        (10, None, "7;5;07.01.2020;g;h"),
    ]
    assert report["rejected"][0]["reason"] == "value does not fit type number"
    assert "format %d.%m.%Y" in report["rejected"][2]["reason"]


def test_schema_naming_a_column_not_in_the_file(tmp_path: Path) -> None:
    from urbandata.ingest.tableschema import parse_schema

    schema = parse_schema({"fields": [{"name": "Einwohner", "type": "integer"}]})
    err = fails(tmp_path, "s.csv", "Stadtteil;Einwohnerzahl\nSüd;12\n", schema=schema)
    assert err.code == "schema_mismatch"
    assert err.details["column"] == "Einwohner"
    assert "Einwohnerzahl" in err.message


def test_forced_type_that_fits_no_row(tmp_path: Path) -> None:
    from urbandata.ingest.tableschema import parse_schema

    schema = parse_schema({"fields": [{"name": "b", "type": "date"}]})
    err = fails(tmp_path, "nodate.csv", "a;b\n1;gestern\n2;heute\n", schema=schema)
    assert err.code == "no_rows"
    assert err.details["line"] == 2
    assert err.details["column"] == "b"


def test_failed_load_leaves_no_converted_copy(tmp_path: Path) -> None:
    from urbandata.ingest.tableschema import parse_schema

    schema = parse_schema({"fields": [{"name": "b", "type": "date"}]})
    fails(tmp_path, "c.csv", "a;b\nKöln;gestern\n\nQuelle: Amt\n".encode("cp1252"), schema=schema)
    assert not list((tmp_path / "work").glob("source-utf8.*"))
