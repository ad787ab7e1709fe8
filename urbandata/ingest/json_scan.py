"""Streaming helpers for JSON files: UTF-8 byte streams, record-by-record scanning with line numbers.

DuckDB reads JSON fast but says little about where a file is broken; these scanners walk the file in
Python with bounded memory to name the line of the first problem, and the line of each record.
"""

from __future__ import annotations

import codecs
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

_WS = re.compile(r"[ \t\r\n]*")
CHUNK = 1 << 20
MAX_RECORD_CHARS = 256 * 1024**2


class JsonProblem(Exception):
    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


def kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


class _Utf8Recoder(io.RawIOBase):
    """Bytes in some text encoding -> UTF-8 bytes, decoded chunk by chunk."""

    def __init__(self, raw: IO[bytes], encoding: str) -> None:
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        self._buf = b""
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._buf and not self._eof:
            chunk = self._raw.read(CHUNK)
            self._eof = not chunk
            self._buf = self._decoder.decode(chunk, final=self._eof).encode("utf-8")
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_utf8(path: Path, encoding: str) -> IO[bytes]:
    """The file as a stream of UTF-8 bytes without a byte order mark."""
    if encoding in ("utf-8", "utf-8-sig"):
        fh = path.open("rb")
        if fh.read(3) != codecs.BOM_UTF8:
            fh.seek(0)
        return fh
    return io.BufferedReader(_Utf8Recoder(path.open("rb"), encoding), CHUNK)


def text_encoding(encoding: str) -> str:
    return "utf-8-sig" if encoding == "utf-8" else encoding


class _Buffer:
    """A window on a text stream that keeps line numbers while it slides."""

    def __init__(self, fh: IO[str]) -> None:
        self.fh = fh
        self.text = fh.read(CHUNK)
        self.eof = not self.text
        self._cpos = 0  # line numbers are counted up to this position
        self._cline = 1
        self._col0 = 0  # characters of the buffer's first line that were dropped already

    def line_at(self, p: int) -> int:
        if p < self._cpos:
            return self._cline - self.text.count("\n", p, self._cpos)
        self._cline += self.text.count("\n", self._cpos, p)
        self._cpos = p
        return self._cline

    def column_at(self, p: int) -> int:
        nl = self.text.rfind("\n", 0, p)
        return p - nl if nl >= 0 else self._col0 + p + 1

    def more(self, pos: int) -> int:
        """Drop the text before `pos` and read more (at least as much as is held); return the new `pos`."""
        if self.eof:
            return pos
        line = self.line_at(pos)
        self._col0 = self.column_at(pos) - 1
        data = self.fh.read(max(CHUNK, len(self.text) - pos))
        self.eof = not data
        self.text = self.text[pos:] + data
        self._cpos, self._cline = 0, line
        return 0

    def skip_ws(self, pos: int) -> int:
        while True:
            m = _WS.match(self.text, pos)
            pos = m.end() if m else pos
            if pos < len(self.text) or self.eof:
                return pos
            pos = self.more(pos)

    def problem(self, message: str, pos: int) -> JsonProblem:
        return JsonProblem(message, self.line_at(pos), self.column_at(pos))


def iter_array(fh: IO[str]) -> Iterator[tuple[int, Any]]:
    """Yield (line, value) for each element of a top-level JSON array; JsonProblem names the line if broken."""
    dec = json.JSONDecoder()
    b = _Buffer(fh)
    pos = b.skip_ws(0)
    if pos >= len(b.text):
        raise JsonProblem("The file holds no JSON.", 1)
    if b.text[pos] != "[":
        raise b.problem("Expected a JSON array '[' of records.", pos)
    pos = b.skip_ws(pos + 1)
    index = 0
    while b.text[pos : pos + 1] != "]":
        while True:
            try:
                value, end = dec.raw_decode(b.text, pos)
            except json.JSONDecodeError as exc:
                if not b.eof and len(b.text) - pos < MAX_RECORD_CHARS:
                    pos = b.more(pos)
                    continue
                raise b.problem(f"Broken JSON in record {index + 1}: {exc.msg}.", exc.pos) from exc
            if end >= len(b.text) and not b.eof:  # a number may go on in the next chunk
                pos = b.more(pos)
                continue
            break
        yield b.line_at(pos), value
        index += 1
        pos = b.skip_ws(end)
        c = b.text[pos : pos + 1]
        if c == ",":
            pos = b.skip_ws(pos + 1)
            if b.text[pos : pos + 1] == "]":
                raise b.problem(f"Broken JSON after record {index}: a ',' before the closing ']'.", pos)
            continue
        if c != "]":
            found = f"found {c!r}" if c else "but the file ends"
            raise b.problem(f"Broken JSON after record {index}: expected ',' or ']', {found}.", pos)
    pos = b.skip_ws(pos + 1)
    if pos < len(b.text):
        raise b.problem("Unexpected content after the end of the JSON array.", pos)


def iter_lines(fh: IO[str]) -> Iterator[tuple[int, Any]]:
    """Yield (line, value) for each non-blank line of newline-delimited JSON."""
    for lineno, line in enumerate(fh, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise JsonProblem(f"Broken JSON on this line: {exc.msg}.", lineno, exc.colno) from exc
        yield lineno, value


def locate_json_error(path: Path, encoding: str, limit: int = 64 * 1024**2) -> JsonProblem | None:
    """Where a JSON document is broken (line and column), for files small enough to parse whole."""
    if path.stat().st_size > limit:
        return None
    try:
        json.loads(path.read_text(encoding=text_encoding(encoding)))
    except json.JSONDecodeError as exc:
        return JsonProblem(f"Broken JSON: {exc.msg}.", exc.lineno, exc.colno)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return JsonProblem(f"Broken JSON: {exc}.")
    return None
