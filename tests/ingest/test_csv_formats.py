"""CSV ingestion of generated files: encodings, delimiters, German values, table layout quirks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pytest

from urbandata.ingest.pipeline import IngestOptions, StageResult, stage_file


def stage(tmp_path: Path, name: str, content: str | bytes, encoding: str = "utf-8", **options: Any) -> StageResult:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return stage_file(path, IngestOptions(display_name=name, **options), tmp_path / f"work-{name}")


def rows(result: StageResult) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(result.staged.path), read_only=True)
    try:
        return con.execute("SELECT * FROM data ORDER BY rowid").fetchall()
    finally:
        con.close()


def fields(result: StageResult) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in result.report["schema"]["fields"]}


def types(result: StageResult) -> dict[str, str]:
    return {name: f["type"] for name, f in fields(result).items()}


# --- encodings ---------------------------------------------------------------------------------

GERMAN = "Name;Länge;Preis\nKöln „Dom“ – Straße;1,5;12,50 €\nMünchen \"Ost\";2;3 €\nGrüße aus Düsseldorf;3,25;-\n"


@pytest.mark.parametrize(
    ("encoding", "reported"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp1252", "cp1252")]
)
def test_encodings_come_through_right(tmp_path: Path, encoding: str, reported: str) -> None:
    result = stage(tmp_path, "g.csv", GERMAN, encoding=encoding)
    assert result.report["encoding"] == reported
    assert list(types(result)) == ["Name", "Länge", "Preis"]
    assert types(result)["Länge"] == "number"
    data = rows(result)
    assert data[0][0] == "Köln „Dom“ – Straße"
    assert data[0][2] == "12,50 €"
    assert data[1][0] == 'München "Ost"'
    assert data[2] == ("Grüße aus Düsseldorf", 3.25, None)


def test_latin1_without_cp1252_characters(tmp_path: Path) -> None:
    result = stage(tmp_path, "l.csv", "Ort;Fläche\nKöln;405,02\nMünster;302,9\n", encoding="latin-1")
    assert result.report["encoding"] == "latin-1"
    assert any("converted to UTF-8" in n for n in result.report["notes"])
    assert rows(result) == [("Köln", 405.02), ("Münster", 302.9)]


def test_cp1252_file_with_footer(tmp_path: Path) -> None:
    text = (
        "Stadtteil;Einwohner;Stand\r\n"
        "Süd;1.234;31.12.2020\r\n"
        "Nord – West;987;31.12.2020\r\n"
        "\r\n"
        "Quelle: Amt für Statistik, „Bevölkerung“ – Stand 2021\r\n"
        "© Stadt Kaiserslautern; Kosten: 0 €\r\n"
    )
    result = stage(tmp_path, "f.csv", text, encoding="cp1252")
    assert rows(result) == [("Süd", 1234, dt.date(2020, 12, 31)), ("Nord – West", 987, dt.date(2020, 12, 31))]
    assert result.report["rows_rejected"] == 0
    assert any("2 note line(s) below the table skipped (from line 5)" in n for n in result.report["notes"])


def test_utf16_excel_unicode_text(tmp_path: Path) -> None:
    result = stage(tmp_path, "u.txt", "Ort\tWert\r\nKöln\t1,5\r\nMünchen\t2\r\n", encoding="utf-16")
    assert result.report["delimiter"] == "\t"
    assert rows(result) == [("Köln", 1.5), ("München", 2.0)]


# --- delimiters --------------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_delimiter_not_fooled_by_decimal_commas(tmp_path: Path, delimiter: str) -> None:
    lines = ["Bezirk", "Anteil", "Wert", "Text"]
    body = [["01", "12,5", "1.234,56", "a, b und c"], ["02", "7,25", "99,9", "d"], ["03", "0,5", "1,0", "e, f"]]
    text = "\n".join(delimiter.join(r) for r in [lines, *body]) + "\n"
    result = stage(tmp_path, "d.csv", text)
    assert result.report["delimiter"] == delimiter
    assert types(result) == {"Bezirk": "string", "Anteil": "number", "Wert": "number", "Text": "string"}
    assert rows(result) == [("01", 12.5, 1234.56, "a, b und c"), ("02", 7.25, 99.9, "d"), ("03", 0.5, 1.0, "e, f")]


def test_comma_delimiter_with_quoted_commas_and_decimal_points(tmp_path: Path) -> None:
    text = 'id,name,wert\n1,"Müller, Hans",2.5\n2,"Meier; Eva",3\n3,Schulz,1000000\n'
    result = stage(tmp_path, "c.csv", text)
    assert result.report["delimiter"] == ","
    assert types(result) == {"id": "integer", "name": "string", "wert": "number"}
    assert rows(result) == [(1, "Müller, Hans", 2.5), (2, "Meier; Eva", 3.0), (3, "Schulz", 1000000.0)]


def test_one_column_file(tmp_path: Path) -> None:
    result = stage(tmp_path, "one.csv", "Stadtteil\nInnenstadt\nWest, Nord\nSüd; Ost\n")
    assert list(types(result)) == ["Stadtteil"]
    assert result.report["delimiter"] is None
    assert rows(result) == [("Innenstadt",), ("West, Nord",), ("Süd; Ost",)]


# --- German values -----------------------------------------------------------------------------


def test_german_numbers(tmp_path: Path) -> None:
    text = (
        "betrag;einwohner;anteil;negativ;punkt\n"
        "1.234,56;510.285;76,70;-35;97.48\n"
        "-0,5;1.234.567;0,1;12;1.5\n"
        "12;999;100;-1.234;2\n"
    )
    result = stage(tmp_path, "n.csv", text)
    f = fields(result)
    assert f["betrag"]["type"] == "number" and f["betrag"]["decimalChar"] == ","
    assert f["einwohner"]["type"] == "integer" and f["einwohner"]["groupChar"] == "."
    assert types(result)["punkt"] == "number"
    assert rows(result) == [
        (1234.56, 510285, 76.7, -35, 97.48),
        (-0.5, 1234567, 0.1, 12, 1.5),
        (12.0, 999, 100.0, -1234, 2.0),
    ]


def test_dates_and_timestamps(tmp_path: Path) -> None:
    text = (
        "datum;zeit;gemischt;iso;iso_ts;iso_tz;monat\n"
        "31.12.2012;31.12.2012 23:59;01.02.2020 10:00;2012-12-31;2012-12-31T10:15:00;2020-06-01T12:00:00+02:00;"
        "2020-06\n"
        "1.2.2013;01.02.2013 08:05;02.02.2020;2013-02-01;2013-02-01 08:00:00;2020-06-01T10:00:00Z;2020-07\n"
    )
    result = stage(tmp_path, "dt.csv", text)
    assert types(result) == {
        "datum": "date", "zeit": "datetime", "gemischt": "datetime", "iso": "date", "iso_ts": "datetime",
        "iso_tz": "datetime", "monat": "yearmonth",
    }
    assert rows(result) == [
        (dt.date(2012, 12, 31), dt.datetime(2012, 12, 31, 23, 59), dt.datetime(2020, 2, 1, 10, 0),
         dt.date(2012, 12, 31), dt.datetime(2012, 12, 31, 10, 15), dt.datetime(2020, 6, 1, 10, 0), "2020-06"),
        (dt.date(2013, 2, 1), dt.datetime(2013, 2, 1, 8, 5), dt.datetime(2020, 2, 2, 0, 0),
         dt.date(2013, 2, 1), dt.datetime(2013, 2, 1, 8, 0), dt.datetime(2020, 6, 1, 10, 0), "2020-07"),
    ]


def test_booleans(tmp_path: Path) -> None:
    text = "ja_nein;j_n;tf;kreuz;wahr\nja;j;true;x;WAHR\nNein;n;FALSE;;falsch\nJA;J;True;X;wahr\n"
    result = stage(tmp_path, "b.csv", text)
    assert set(types(result).values()) == {"boolean"}
    assert rows(result) == [(True, True, True, True, True), (False, False, False, None, False),
                            (True, True, True, True, True)]


def test_codes_with_leading_zeros_stay_text(tmp_path: Path) -> None:
    text = "AGS;PLZ;Bezirk;Nr;Gemeindeschlüssel\n07312000;67655;04;1;073120000000\n07111000;01067;12;2;071110000000\n"
    result = stage(tmp_path, "codes.csv", text)
    assert types(result) == {"AGS": "string", "PLZ": "string", "Bezirk": "string", "Nr": "integer",
                             "Gemeindeschlüssel": "string"}
    assert rows(result) == [("07312000", "67655", "04", 1, "073120000000"),
                            ("07111000", "01067", "12", 2, "071110000000")]


def test_postal_codes_without_leading_zero_stay_text_by_name(tmp_path: Path) -> None:
    result = stage(tmp_path, "plz.csv", "Ort;PLZ\nKaiserslautern;67655\nKöln;50667\n")
    assert types(result)["PLZ"] == "string"


def test_null_markers(tmp_path: Path) -> None:
    text = 'a;b;c;d;e\n1;"";-;k.A.;n.v.\n2;3; - ;4;5\n-;4;6;k. A.;n.a.\n'
    result = stage(tmp_path, "null.csv", text)
    assert types(result) == {"a": "integer", "b": "integer", "c": "integer", "d": "integer", "e": "integer"}
    assert rows(result) == [(1, None, None, None, None), (2, 3, None, 4, 5), (None, 4, 6, None, None)]


# --- layout ------------------------------------------------------------------------------------


def test_title_lines_above_and_notes_below(tmp_path: Path) -> None:
    text = (
        "Bevölkerung nach Stadtteilen;;\n"
        "Stand: 31.12.2020;;\n"
        ";;\n"
        "Stadtteil;Einwohner;Fläche\n"
        "Innenstadt;12.345;3,2\n"
        "Betzenberg;4.321;1,1\n"
        "\n"
        "_____\n"
        "(C)opyright Stadt Kaiserslautern, 2021.\n"
        "Vervielfältigung mit Quellenangabe gestattet.\n"
    )
    result = stage(tmp_path, "t.csv", text)
    assert rows(result) == [("Innenstadt", 12345, 3.2), ("Betzenberg", 4321, 1.1)]
    notes = result.report["notes"]
    assert "2 title line(s) above the table skipped" in notes
    assert any(n.startswith("3 note line(s) below the table skipped") for n in notes)


def test_duplicate_and_empty_header_names(tmp_path: Path) -> None:
    result = stage(tmp_path, "h.csv", "Name;Name;;Wert;name\nA;B;C;1;x\nD;E;F;2;y\n")
    assert list(types(result)) == ["Name", "Name_2", "column_3", "Wert", "name_3"]
    assert rows(result)[0] == ("A", "B", "C", 1, "x")
    # the file's own header is kept for each column
    assert fields(result)["Name_2"]["x-source-name"] == "Name"


def test_quoted_header_crlf_and_quoted_values(tmp_path: Path) -> None:
    text = '"Name";"Wert in €";"Datum"\r\n"A";"1,5";"01.02.2020"\r\n"B";"2";"03.04.2021"\r\n'
    result = stage(tmp_path, "q.csv", text)
    assert types(result) == {"Name": "string", "Wert in €": "number", "Datum": "date"}
    assert rows(result) == [("A", 1.5, dt.date(2020, 2, 1)), ("B", 2.0, dt.date(2021, 4, 3))]


def test_embedded_delimiters_quotes_and_newlines(tmp_path: Path) -> None:
    text = 'id;text;n\r\n1;"a;b\r\nzweite Zeile";5\r\n2;"sagt ""hallo""";6\r\n3;z;7\r\n'
    result = stage(tmp_path, "e.csv", text)
    assert rows(result) == [(1, "a;b\r\nzweite Zeile", 5), (2, 'sagt "hallo"', 6), (3, "z", 7)]


def test_trailing_empty_lines_and_empty_rows(tmp_path: Path) -> None:
    text = "a;b;c\r\n1;2;3\r\n;;\r\n\r\n4;5;6\r\n;;\r\n\r\n\r\n"
    result = stage(tmp_path, "empty_rows.csv", text)
    assert rows(result) == [(1, 2, 3), (4, 5, 6)]
    assert result.report["rows_rejected"] == 0
    assert "2 empty row(s) skipped" in result.report["notes"]


def test_no_newline_at_end(tmp_path: Path) -> None:
    assert rows(stage(tmp_path, "nn.csv", "a;b\n1;2\n3;4")) == [(1, 2), (3, 4)]


def test_old_mac_line_ends(tmp_path: Path) -> None:
    result = stage(tmp_path, "mac.csv", "Ort;Wert\rKöln;1\rBonn;2\r")
    assert rows(result) == [("Köln", 1), ("Bonn", 2)]


def test_trailing_delimiter_column_is_dropped(tmp_path: Path) -> None:
    result = stage(tmp_path, "td.csv", "a;b;\n1;2;\n3;4;\n")
    assert list(types(result)) == ["a", "b"]
    assert rows(result) == [(1, 2), (3, 4)]


def test_data_rows_end_with_a_delimiter_the_header_lacks(tmp_path: Path) -> None:
    result = stage(tmp_path, "excel.csv", "Ort;Wert\r\nKöln;1\r\nBonn;2\r\n")
    assert rows(result) == [("Köln", 1), ("Bonn", 2)]
    result = stage(tmp_path, "excel2.csv", "Ort;Wert\r\nKöln;1;\r\nBonn;2;\r\n")
    assert list(types(result)) == ["Ort", "Wert"]
    assert rows(result) == [("Köln", 1), ("Bonn", 2)]


def test_header_cell_spanning_lines(tmp_path: Path) -> None:
    result = stage(tmp_path, "mh.csv", '"Name";"Fläche\n(ha)";"Jahr"\nA;1,5;2020\nB;2;2021\n')
    assert list(types(result)) == ["Name", "Fläche (ha)", "Jahr"]
    assert rows(result) == [("A", 1.5, 2020), ("B", 2.0, 2021)]
