"""Excel ingestion (.xlsx, .xls): sheets, layouts of statistics-office exports, native types, bad workbooks."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pytest

from urbandata.errors import IngestError
from urbandata.ingest.pipeline import IngestOptions, StageResult, stage_file
from urbandata.ingest.tableschema import SchemaField, TableSchema

REAL = Path(__file__).parents[1] / "data" / "real"
ITNRW = "itnrw_33111-02ir_koeln_flaechennutzung"


def stage(path: Path, tmp_path: Path, **options: Any) -> StageResult:
    return stage_file(path, IngestOptions(display_name=options.pop("name", path.name), **options), tmp_path / "work")


def rows(result: StageResult, columns: str = "*") -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(result.staged.path), read_only=True)
    try:
        return con.execute(f"SELECT {columns} FROM data ORDER BY rowid").fetchall()
    finally:
        con.close()


def types(result: StageResult) -> dict[str, str]:
    return {f["name"]: f["type"] for f in result.report["schema"]["fields"]}


def workbook(path: Path, sheets: dict[str, list[list[Any]]], merges: dict[str, list[str]] | None = None) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, content in sheets.items():
        ws = wb.create_sheet(title)
        for row in content:
            ws.append(row)
        for ref in (merges or {}).get(title, []):
            ws.merge_cells(ref)
    wb.save(path)
    return path


# --- the real GENESIS export -------------------------------------------------------------------------


def test_itnrw_xls_loads_like_the_csv_of_the_same_table(tmp_path: Path) -> None:
    xls = stage(REAL / f"{ITNRW}.xls", tmp_path / "xls")
    csv = stage(REAL / f"{ITNRW}.csv", tmp_path / "csv")
    report = xls.report
    assert report["format"] == "xls"
    assert report["rows_loaded"] == 19 and report["rows_rejected"] == 0
    assert report["sheet"] == "Temporär" and report["sheets"] == ["Temporär"]
    assert "5 title row(s) above the table skipped" in report["notes"]
    assert "3 stacked header rows combined into column names" in report["notes"]
    assert "14 note row(s) below the table skipped" in report["notes"]
    xls_types, csv_types = types(xls), types(csv)
    # the .xls names its first column (a vertically merged 'Stichtag'); the CSV leaves it empty
    assert list(xls_types)[0] == "Stichtag" and list(csv_types)[0] == "column_1"
    assert list(xls_types)[1:] == list(csv_types)[1:]
    assert list(xls_types.values()) == ["date"] + ["integer"] * 21
    assert "Verkehrsfläche / Straße" in xls_types
    assert rows(xls) == rows(csv)
    first, last = rows(xls)[0], rows(xls)[-1]
    assert first[0] == dt.date(2012, 12, 31) and first[1] == 4051641
    assert last[0] == dt.date(1994, 12, 31) and last[-1] == 2354163
    moor = rows(xls, '"Landwirtschaftsfläche / Moor"')
    assert moor[:3] == [(0,), (0,), (0,)] and moor[3] == (None,)  # '-' = nothing there


# --- .xlsx written here ------------------------------------------------------------------------------


def test_xlsx_keeps_native_types_and_umlaut_headers(tmp_path: Path) -> None:
    path = workbook(tmp_path / "einwohner.xlsx", {"Daten": [
        ["Straße", "Einwohner", "Fläche km²", "Stichtag", "Zeitpunkt", "aktiv", "Gemeindeschlüssel", "Betrag (€)"],
        ["Hauptstraße", 1200, 1.5, dt.date(2023, 12, 31), dt.datetime(2024, 1, 2, 8, 30), True, "07312000", "1.234,56"],
        ["Königstraße", 340, 2, dt.date(2022, 12, 31), dt.datetime(2024, 1, 3, 17, 5), False, "07311000", "17,5"],
        ["Äußere Ringstraße", None, 0.25, dt.date(2021, 12, 31), dt.datetime(2024, 1, 4), True, "07315000", "-"],
    ]})
    result = stage(path, tmp_path)
    assert types(result) == {
        "Straße": "string", "Einwohner": "integer", "Fläche km²": "number", "Stichtag": "date",
        "Zeitpunkt": "datetime", "aktiv": "boolean", "Gemeindeschlüssel": "string", "Betrag (€)": "number",
    }
    assert rows(result) == [
        ("Hauptstraße", 1200, 1.5, dt.date(2023, 12, 31), dt.datetime(2024, 1, 2, 8, 30), True, "07312000", 1234.56),
        ("Königstraße", 340, 2.0, dt.date(2022, 12, 31), dt.datetime(2024, 1, 3, 17, 5), False, "07311000", 17.5),
        ("Äußere Ringstraße", None, 0.25, dt.date(2021, 12, 31), dt.datetime(2024, 1, 4), True, "07315000", None),
    ]
    assert result.report["sheet"] == "Daten"


def test_xlsx_title_rows_merged_stacked_headers_and_footnotes(tmp_path: Path) -> None:
    path = workbook(tmp_path / "bevoelkerung.xlsx", {"Tabelle 1": [
        ["Bevölkerung nach Stadtbezirken"],
        ["Stand: 31.12.2023"],
        [],
        ["Bezirk", "Einwohner", None, "Fläche"],
        [None, "männlich", "weiblich", "ha"],
        ["Innenstadt", 51000, 53000, 1640.5],
        ["Nord", 4100, "-", 980.25],
        ["Süd", 30500, 31020, "k.A."],
        [],
        ["1) vorläufige Zahlen"],
        ["Quelle: Statistikstelle"],
    ]}, merges={"Tabelle 1": ["A1:D1", "A4:A5", "B4:C4"]})
    result = stage(path, tmp_path)
    report = result.report
    assert types(result) == {"Bezirk": "string", "Einwohner / männlich": "integer",
                             "Einwohner / weiblich": "integer", "Fläche / ha": "number"}
    assert rows(result) == [("Innenstadt", 51000, 53000, 1640.5), ("Nord", 4100, None, 980.25),
                            ("Süd", 30500, 31020, None)]
    assert "2 title row(s) above the table skipped" in report["notes"]
    assert "2 note row(s) below the table skipped" in report["notes"]


def test_mixed_and_text_columns_use_the_text_inference(tmp_path: Path) -> None:
    path = workbook(tmp_path / "gemischt.xlsx", {"Blatt": [
        ["Nr", "Zahl als Text", "Gemischt", "Fehler"],
        [1, "12", 5, 10],
        [2, 13, "fünf", "#DIV/0!"],
        [3, "1.500", 7, 30],
    ]})
    result = stage(path, tmp_path)
    assert types(result) == {"Nr": "integer", "Zahl als Text": "integer", "Gemischt": "string", "Fehler": "integer"}
    assert rows(result) == [(1, 12, "5", 10), (2, 13, "fünf", None), (3, 1500, "7", 30)]
    assert any("Excel error values" in n for n in result.report["notes"])


def test_first_non_empty_sheet_is_the_default_and_every_sheet_can_be_chosen(tmp_path: Path) -> None:
    path = workbook(tmp_path / "mappe.xlsx", {
        "Deckblatt": [],
        "Daten": [["Jahr", "Wert"], [2022, 1.5], [2023, 2.5]],
        "Übersicht": [["Bezirk", "Anzahl"], ["Mitte", 3]],
    })
    result = stage(path, tmp_path / "a")
    assert result.report["sheet"] == "Daten"
    assert result.report["sheets"] == ["Deckblatt", "Daten", "Übersicht"]
    assert rows(result) == [(2022, 1.5), (2023, 2.5)]
    other = stage(path, tmp_path / "b", sheet="Übersicht")
    assert other.report["sheet"] == "Übersicht"
    assert rows(other) == [("Mitte", 3)]
    with pytest.raises(IngestError) as err:
        stage(path, tmp_path / "c", sheet="Tabelle9")
    assert err.value.code == "unknown_sheet"
    assert "'Deckblatt', 'Daten', 'Übersicht'" in err.value.message
    assert err.value.details["file"] == "mappe.xlsx"
    with pytest.raises(IngestError) as err:
        stage(path, tmp_path / "d", sheet="Deckblatt")
    assert err.value.code == "empty_sheet"


def test_a_rejected_value_is_located_by_excel_row_and_sheet(tmp_path: Path) -> None:
    path = workbook(tmp_path / "zaehlung.xlsx", {"Zählung": [
        ["Titel der Tabelle"],
        ["Ort", "Anzahl"],
        ["A", "12"],
        ["B", "zwölf"],
        ["C", "7"],
    ]})
    schema = TableSchema(fields=[SchemaField(name="Anzahl", type="integer")])
    result = stage(path, tmp_path, schema=schema)
    assert result.report["rows_loaded"] == 2 and result.report["rows_rejected"] == 1
    rejected = result.report["rejected"][0]
    assert rejected["line"] == 4 and rejected["sheet"] == "Zählung" and rejected["column"] == "Anzahl"
    assert rejected["value"] == "zwölf"


def test_workbook_saved_with_the_wrong_extension_is_read_by_its_content(tmp_path: Path) -> None:
    path = workbook(tmp_path / "echt.xlsx", {"Daten": [["a", "b"], [1, "Mitte"]]})
    renamed = path.rename(tmp_path / "alt.xls")
    result = stage(renamed, tmp_path)
    assert rows(result) == [(1, "Mitte")]
    assert any("xlsx workbook despite its .xls name" in n for n in result.report["notes"])


# --- bad workbooks -----------------------------------------------------------------------------------


def _error(path: Path, tmp_path: Path, **options: Any) -> IngestError:
    with pytest.raises(IngestError) as err:
        stage(path, tmp_path, **options)
    assert err.value.details["file"] == options.get("name", path.name)
    return err.value


def test_truncated_xlsx_is_reported_as_damaged(tmp_path: Path) -> None:
    good = workbook(tmp_path / "good.xlsx", {"Daten": [["a"], [1]] * 50})
    broken = tmp_path / "kaputt.xlsx"
    broken.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    err = _error(broken, tmp_path)
    assert err.code == "broken_excel" and "damaged" in err.message


def test_xlsx_with_corrupt_sheet_xml_is_reported_with_the_sheet(tmp_path: Path) -> None:
    good = workbook(tmp_path / "good.xlsx", {"Daten": [["a", "b"], [1, 2]]})
    bad = tmp_path / "defekt.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b"<row><c")
            dst.writestr(info, data)
    err = _error(bad, tmp_path)
    assert err.code == "broken_excel"


def _cfb(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE compound file (v3, 512-byte sectors) holding up to three streams of >= 4096 bytes."""
    end, free, nostream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFF
    items = [(n, d.ljust(4096, b"\0")) for n, d in streams.items()]
    fat = [0xFFFFFFFD, end]  # sector 0 holds the FAT, sector 1 the directory
    data, starts = b"", []
    for _, d in items:
        n = -(-len(d) // 512)
        starts.append(len(fat))
        fat += [len(fat) + i + 1 for i in range(n - 1)] + [end]
        data += d.ljust(n * 512, b"\0")
    fat += [free] * (128 - len(fat))

    def entry(name: str, kind: int, right: int, child: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        return (raw.ljust(64, b"\0") + struct.pack("<HBBIII", len(raw), kind, 1, nostream, right, child)
                + b"\0" * 36 + struct.pack("<IQ", start, size))

    directory = entry("Root Entry", 5, nostream, 1, end, 0)
    for i, ((name, d), start) in enumerate(zip(items, starts, strict=True), start=1):
        directory += entry(name, 2, i + 1 if i < len(items) else nostream, nostream, start, len(d))
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\0" * 6 + struct.pack("<9I", 0, 1, 1, 0, 4096, end, 0, end, 0)
              + struct.pack("<109I", 0, *([free] * 108)))
    return header + struct.pack("<128I", *fat) + directory.ljust(512, b"\0") + data


def test_password_protected_xlsx_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "geheim.xlsx"
    path.write_bytes(_cfb({"EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00", "EncryptedPackage": b"\x00" * 64}))
    err = _error(path, tmp_path)
    assert err.code == "encrypted_excel" and "password" in err.message


def test_office_container_without_a_workbook_is_not_excel(tmp_path: Path) -> None:
    path = tmp_path / "brief.xls"
    path.write_bytes(_cfb({"WordDocument": b"\xec\xa5" + b"\0" * 100}))
    assert _error(path, tmp_path).code == "not_excel"


def _zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def test_zip_bomb_is_refused_before_unpacking(tmp_path: Path) -> None:
    content_types = (b'<Types><Override ContentType="application/vnd.openxmlformats-officedocument.'
                     b'spreadsheetml.sheet.main+xml"/></Types>')
    path = _zip(tmp_path / "bombe.xlsx", {"[Content_Types].xml": content_types,
                                         "xl/worksheets/sheet1.xml": b"\0" * (40 * 1024**2)})
    assert path.stat().st_size < 200_000
    err = _error(path, tmp_path)
    assert err.code == "zip_bomb" and "xl/worksheets/sheet1.xml" in err.message


def test_workbook_larger_than_the_unpacked_limit_is_refused(tmp_path: Path) -> None:
    path = workbook(tmp_path / "gross.xlsx", {"Daten": [["Nr", "Text"]] + [[i, f"Zeile {i}"] for i in range(3000)]})
    err = _error(path, tmp_path, max_uncompressed_bytes=50_000)
    assert err.code == "excel_too_large" and "50,000" in err.message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"<html><body><table><tr><td>1</td></tr></table></body></html>", "HTML"),
        (b"Jahr;Wert\n2023;1,5\n", "CSV"),
        (bytes(range(256)) * 4, "not recognised"),
    ],
)
def test_xls_that_is_no_workbook(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "export.xls"
    path.write_bytes(content)
    err = _error(path, tmp_path)
    assert err.code == "not_excel" and expected in err.message


def test_zip_that_is_a_word_document(tmp_path: Path) -> None:
    path = _zip(tmp_path / "bericht.xlsx", {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"})
    err = _error(path, tmp_path)
    assert err.code == "not_excel" and "Word" in err.message


def test_empty_workbook_and_header_without_rows(tmp_path: Path) -> None:
    empty = workbook(tmp_path / "leer.xlsx", {"Tabelle1": [], "Tabelle2": []})
    err = _error(empty, tmp_path / "a")
    assert err.code == "empty_file" and "'Tabelle1', 'Tabelle2'" in err.message
    header_only = workbook(tmp_path / "kopf.xlsx", {"Daten": [["Jahr", "Wert"]]})
    err = _error(header_only, tmp_path / "b")
    assert err.code == "no_rows" and err.details["sheet"] == "Daten"


def test_broken_xls_is_reported_as_damaged(tmp_path: Path) -> None:
    data = (REAL / f"{ITNRW}.xls").read_bytes()
    path = tmp_path / "abgeschnitten.xls"
    path.write_bytes(data[:2048])
    err = _error(path, tmp_path)
    assert err.code == "broken_excel"


def test_formula_cells_load_their_cached_values(tmp_path: Path) -> None:
    # openpyxl cannot compute formulas; a file saved by Excel carries cached values. Here: no cache -> empty.
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Summen"
    ws.append(["a", "b", "Summe"])
    ws.append([1, 2, "=A2+B2"])
    buf = io.BytesIO()
    wb.save(buf)
    path = tmp_path / "formeln.xlsx"
    path.write_bytes(buf.getvalue())
    result = stage(path, tmp_path)
    assert rows(result, "a, b") == [(1, 2)]


def test_table_beside_an_empty_first_column_with_notes_in_it(tmp_path: Path) -> None:
    path = workbook(tmp_path / "versetzt.xlsx", {"Daten": [
        ["Übersicht"],
        [None, "Bezirk", "Wert"],
        [None, "Mitte", 1],
        [None, "Nord", 2],
        ["Fußnote 1"],
        ["Quelle: Amt für Statistik"],
    ]})
    result = stage(path, tmp_path)
    assert types(result) == {"Bezirk": "string", "Wert": "integer"}
    assert rows(result) == [("Mitte", 1), ("Nord", 2)]
    assert result.report["rejected"] == []
    assert "2 note row(s) below the table skipped" in result.report["notes"]
