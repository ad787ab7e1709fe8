"""Fingerprint (hash, encoding) and CSV dialect detection from head and tail samples."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from urbandata.errors import IngestError
from urbandata.ingest.detect import SINGLE_COLUMN, count_newlines, detect_dialect, fingerprint, header_names


def write(tmp_path: Path, content: str | bytes, encoding: str = "utf-8", name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


# --- fingerprint -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "encoding"),
    [
        ("a;b\nKöln;1\n".encode(), "utf-8"),
        (b"a;b\n1;2\n", "utf-8"),
        (b"\xef\xbb\xbfa;b\n\xc3\xb6;1\n", "utf-8-sig"),
        ("a;b\nKöln – „Dom“;5 €\n".encode("cp1252"), "cp1252"),
        ("a;b\nKöln;1\n".encode("latin-1"), "latin-1"),
        ("a\tb\nKöln\t1\n".encode("utf-16"), "utf-16"),
    ],
)
def test_encoding(tmp_path: Path, content: bytes, encoding: str) -> None:
    fp = fingerprint(write(tmp_path, content), text=True)
    assert fp.encoding == encoding
    assert fp.sha256 == hashlib.sha256(content).hexdigest()
    assert fp.size == len(content)


def test_binary_formats_are_only_hashed(tmp_path: Path) -> None:
    fp = fingerprint(write(tmp_path, bytes(range(256)), name="x.parquet"), text=False)
    assert fp.encoding == "binary"
    assert fp.sha256 == hashlib.sha256(bytes(range(256))).hexdigest()


def test_encoding_errors_use_the_display_name_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "a;b\nKöln;1\n".encode() + b"\n" * 3 + "D\xfcsseldorf;2\n".encode("latin-1"))
    with pytest.raises(IngestError) as info:
        fingerprint(path, text=True, name="Einwohner 2020.csv")
    assert info.value.details == {"file": "Einwohner 2020.csv", "line": 6}


def test_mixed_encoding_found_after_the_first_chunk(tmp_path: Path) -> None:
    big = ("a;b\n" + "Köln;1\n" * 300_000).encode() + "Düsseldorf;2\n".encode("cp1252")
    with pytest.raises(IngestError) as info:
        fingerprint(write(tmp_path, big), text=True)
    assert info.value.code == "mixed_encoding"
    assert info.value.details["line"] == 300_002


def test_count_newlines(tmp_path: Path) -> None:
    path = write(tmp_path, "a\nb\r\nc\n\nd")
    assert count_newlines(path) == 4
    assert count_newlines(path, 2) == 1
    assert count_newlines(path, 0) == 0


# --- dialect -----------------------------------------------------------------------------------


def test_semicolon_beats_decimal_commas(tmp_path: Path) -> None:
    path = write(tmp_path, "Name;A;B\n" + "".join(f"X{i};{i},5;{i},25\n" for i in range(50)))
    d = detect_dialect(path, "utf-8")
    assert d.delimiter == ";"
    assert d.field_count == 3
    assert d.data_start_line == 2


def test_comma_file(tmp_path: Path) -> None:
    d = detect_dialect(write(tmp_path, 'a,b,c\n1,"x; y",3.5\n2,z,4\n'), "utf-8")
    assert d.delimiter == ","


def test_a_few_commas_do_not_make_a_comma_file(tmp_path: Path) -> None:
    d = detect_dialect(write(tmp_path, "Stadtteil\nInnenstadt\nWest, Nord\nSüd\nOst\n"), "utf-8")
    assert d.delimiter == SINGLE_COLUMN
    assert d.field_count == 1
    assert header_names(d) == ["Stadtteil"]


def test_title_lines_stacked_header_and_footer(tmp_path: Path) -> None:
    text = (
        "Tabelle 1: Fläche\r\n"
        "Stadt X;;;\r\n"
        ";Fläche;Fläche;Gewässer\r\n"
        ";insgesamt;Wald;Wasser\r\n"
        "31.12.2012;100;20;5\r\n"
        "31.12.2011;99;-;5\r\n"
        "_____\r\n"
        "(C)opyright Amt, 2013.\r\n"
    )
    path = write(tmp_path, text, "cp1252")
    d = detect_dialect(path, "cp1252")
    assert d.title_lines == ["Tabelle 1: Fläche", "Stadt X;;;"]
    assert len(d.header_rows) == 2
    assert header_names(d) == [None, "Fläche / insgesamt", "Fläche / Wald", "Gewässer / Wasser"]
    assert d.data_start_line == 5
    assert d.skip == 4
    assert d.footer_start_line == 7
    assert d.footer_lines == ["_____", "(C)opyright Amt, 2013."]
    raw = path.read_bytes()
    assert d.footer_start_offset == raw.index(b"_____")


def test_first_data_row_with_units_or_markers_is_not_a_header(tmp_path: Path) -> None:
    d = detect_dialect(write(tmp_path, "Name;Preis;Datum\nA;1.234,56 €;31.12.2012\nB;12,5;01.01.2013\n"), "utf-8")
    assert len(d.header_rows) == 1
    d = detect_dialect(write(tmp_path, "a;b;c\n1;-;k.A.\n2;3;4\n-;5;6\n"), "utf-8")
    assert len(d.header_rows) == 1


def test_multiline_header_cell(tmp_path: Path) -> None:
    d = detect_dialect(write(tmp_path, '"Name";"Fläche\n(ha)";"Jahr"\nA;1,5;2020\n'), "utf-8")
    assert header_names(d) == ["Name", "Fläche\n(ha)", "Jahr"]
    assert d.data_start_line == 3
    assert d.skip == 1  # DuckDB skips records, not lines


def test_blank_lines_before_the_header(tmp_path: Path) -> None:
    d = detect_dialect(write(tmp_path, "\n\na;b\n1;2\n"), "utf-8")
    assert header_names(d) == ["a", "b"]
    assert d.data_start_line == 4
    assert d.skip == 3


def test_multiline_field_at_the_end_is_not_a_footer(tmp_path: Path) -> None:
    d = detect_dialect(write(tmp_path, 'id;text;n\n1;a;2\n3;"Zeile eins\nZeile zwei";4\n'), "utf-8")
    assert d.footer_start_line is None
    d = detect_dialect(write(tmp_path, 'id;text\n1;a\n3;"Zeile eins\nnur Text am Ende"\n'), "utf-8")
    assert d.footer_start_line is None


def test_short_last_row_is_data_not_a_footer(tmp_path: Path) -> None:
    d = detect_dialect(write(tmp_path, "a;b;c\n1;2;3\n4;5\n"), "utf-8")
    assert d.footer_start_line is None


def test_blank_lines_at_the_end_are_not_a_footer(tmp_path: Path) -> None:
    d = detect_dialect(write(tmp_path, "a;b\n1;2\n\n\n;\n"), "utf-8")
    assert d.footer_start_line is None


def test_note_with_the_delimiter_in_it(tmp_path: Path) -> None:
    d = detect_dialect(write(tmp_path, "a;b;c\n1;2;3\n\nQuelle: Amt; eigene Berechnung\n"), "utf-8")
    assert d.footer_start_line == 4


def test_footer_line_number_in_a_large_file(tmp_path: Path) -> None:
    text = "a;b\n" + "1;2\n" * 100_000 + "Stand: 2024\n"
    path = write(tmp_path, text)
    d = detect_dialect(path, "utf-8")
    assert d.footer_start_line == 100_002
    assert detect_dialect(path, "utf-8", newline_count=100_002).footer_start_line == 100_002


def test_whitespace_only_file(tmp_path: Path) -> None:
    with pytest.raises(IngestError) as info:
        detect_dialect(write(tmp_path, "\n \n\t\n"), "utf-8", name="leer.csv")
    assert info.value.details["file"] == "leer.csv"
