"""The CSV path never holds a whole file in Python memory: detection samples head and tail,
transcoding and footer cutting stream, the engine parses, and locating rejected rows streams."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from urbandata.ingest.pipeline import IngestOptions, stage_file
from urbandata.ingest.tableschema import parse_schema

ROWS = 200_000


def write_big(path: Path, encoding: str) -> None:
    with path.open("w", encoding=encoding, newline="") as fh:
        fh.write("id;name;wert;text\r\n")
        for i in range(ROWS):
            # long lines, few distinct values: the file is big, the inference sample is not
            fh.write(f"{i};Straße {i % 97};{i % 1000},5;Grünfläche – „{'x' * 60}“ {i % 7}\r\n")
        fh.write("kaputt;a\r\n")  # a ragged row near the end
        fh.write(f"{ROWS};Ende;nix;z\r\n")  # a value that does not fit the given type
        fh.write("\r\nQuelle: Amt für Statistik\r\n")  # a note below the table


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_python_memory_stays_far_below_the_file_size(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "big.csv"
    write_big(path, encoding)
    size = path.stat().st_size
    assert size > 15_000_000
    schema = parse_schema({"fields": [{"name": "wert", "type": "number", "decimalChar": ","}]})
    tracemalloc.start()
    try:
        result = stage_file(path, IngestOptions(display_name="big.csv", schema=schema), tmp_path / "work")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # reading the file whole would take at least its size (and a decoded copy twice or four times that)
    assert peak < size * 0.4, f"peak Python memory {peak:,} bytes for a {size:,} byte file"
    report = result.report
    assert report["rows_loaded"] == ROWS
    # the reject path (exact line numbers) is the one that reads the whole file in Python: streamed
    assert [(r["line"], r["column"]) for r in report["rejected"]] == [(ROWS + 2, None), (ROWS + 3, "wert")]
    assert any("note line(s) below the table" in n for n in report["notes"])
