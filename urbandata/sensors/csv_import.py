"""Observations of one Datastream from a CSV file (`urbandata sensors import`).

Columns (header required, any order, case-insensitive): `phenomenonTime`, `result`, optional
`resultTime`. German exports work as they are: `;` delimiter, decimal comma (`12,5`, `1.234,5`),
times `dd.mm.yyyy HH:MM[:SS]` in local time (Europe/Berlin); ISO 8601 times too (without a zone
they are read as Europe/Berlin). Encodings UTF-8 (with or without BOM) and Windows-1252.

The whole file is read and checked before anything is written. A file that cannot be read as such
a table (binary, wrong header, no rows) is an error and stores nothing; single bad rows are rejected
with their line number and reason, the others are written in batches through the one observation
write path (each batch one transaction). Observations whose phenomenonTime is already stored are
duplicates and rejected, so re-running an interrupted import adds exactly what is missing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from urbandata.auth.actor import RequestContext
from urbandata.errors import IngestError, InvalidInput, UrbanDataError
from urbandata.sensors import service
from urbandata.sensors.provision import OM, sta_base_url
from urbandata.stores import Stores

BERLIN = ZoneInfo("Europe/Berlin")
BATCH = 5000
COLUMNS = ("phenomenontime", "result", "resulttime")
_GERMAN_TIME = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_GERMAN_NUMBER = re.compile(r"^[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?$|^[+-]?\d+,\d+$")
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_TRUE = {"true", "wahr", "ja", "j", "1", "x"}
_FALSE = {"false", "falsch", "nein", "n", "0"}


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str


@dataclass
class ParsedCsv:
    rows: list[tuple[int, dict[str, Any]]]  # (line number, observation body)
    rejected: list[Rejected]
    delimiter: str


@dataclass
class ImportReport:
    stored: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    rows: int = 0

    def lines(self) -> list[str]:
        out = [f"{self.stored} of {self.rows} observations stored, {len(self.rejected)} rejected"]
        out += [f"line {r.line}: {r.reason}" for r in sorted(self.rejected, key=lambda r: r.line)]
        return out


def _decode(raw: bytes, source: str) -> str:
    if b"\x00" in raw[:4096]:
        raise IngestError(f"{source} is not a text file (binary data)", code="not_csv", file=source)
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise IngestError(f"{source} is neither UTF-8 nor Windows-1252 text", code="bad_encoding", file=source)


def parse_time(text: str) -> str:
    """A CSV time as an ISO 8601 instant in UTC (or an ISO interval `start/end`)."""
    s = text.strip()
    if "/" in s:
        start, end = s.split("/", 1)
        return f"{parse_time(start)}/{parse_time(end)}"
    m = _GERMAN_TIME.match(s)
    if m:
        day, month, year = int(m[1]), int(m[2]), int(m[3])
        hour, minute, second = int(m[4] or 0), int(m[5] or 0), int(m[6] or 0)
        try:
            when = dt.datetime(year, month, day, hour, minute, second, tzinfo=BERLIN)
        except ValueError as exc:
            raise ValueError(f"invalid date {s!r}: {exc}") from None
    else:
        try:
            when = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"not a time (dd.mm.yyyy HH:MM or ISO 8601): {s!r}") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=BERLIN)
    return when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def parse_number(text: str, *, german: bool = True) -> int | float:
    """`12,5` `1.234,5` `-3` `12.5` `1e3` → a number; integers stay integers. `german`: a dot
    before three digits groups thousands (`1.234` = 1234), as in files with the `;` delimiter."""
    s = text.strip().replace("\u00a0", "").replace(" ", "")
    if german and _GERMAN_NUMBER.match(s):
        s = s.replace(".", "").replace(",", ".")
    elif not _PLAIN_NUMBER.match(s):
        raise ValueError(f"not a number: {text.strip()!r}")
    if re.fullmatch(r"[+-]?\d+", s):
        return int(s)
    return float(s)


def parse_result(text: str, observation_type: str, *, german: bool = True) -> Any:
    kind = observation_type.removeprefix(OM)
    s = text.strip()
    if s == "":
        raise ValueError("empty result")
    if kind == "OM_CategoryObservation":
        return s
    if kind == "OM_TruthObservation":
        low = s.casefold()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ValueError(f"not a truth value (ja/nein, true/false): {s!r}")
    if kind == "OM_CountObservation":
        number = parse_number(s, german=german)
        if isinstance(number, float):
            if not number.is_integer():
                raise ValueError(f"not a whole number: {s!r}")
            return int(number)
        return number
    if kind == "OM_Measurement":
        return parse_number(s, german=german)
    try:  # OM_Observation and others: a number when it looks like one, else the text
        return parse_number(s, german=german)
    except ValueError:
        return s


def _delimiter(header: str) -> str:
    for d in (";", "\t", ",", "|"):
        if d in header:
            return d
    return ","


def parse_observation_csv(raw: bytes, observation_type: str, *, source: str = "CSV") -> ParsedCsv:
    """Read the whole file; raise IngestError when it is not an observation table at all."""
    text = _decode(raw, source)
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise IngestError(f"{source} is empty", code="empty_file", file=source)
    delimiter = _delimiter(lines[first])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    index: dict[str, int] = {}
    rows: list[tuple[int, dict[str, Any]]] = []
    rejected: list[Rejected] = []
    start_line = 1
    for record in reader:
        line = start_line
        start_line = reader.line_num + 1
        if not any(cell.strip() for cell in record):
            continue
        if header is None:
            header = [h.strip().lstrip("\ufeff") for h in record]
            names = [h.casefold() for h in header]
            unknown = [h for h, n in zip(header, names, strict=True) if n not in COLUMNS]
            missing = [c for c in ("phenomenonTime", "result") if c.casefold() not in names]
            if missing or unknown:
                problem = (
                    f"missing column(s) {', '.join(missing)}" if missing else f"unknown column(s) {', '.join(unknown)}"
                )
                raise IngestError(
                    f"{source}: {problem}; expected the header phenomenonTime{delimiter}result[{delimiter}resultTime]",
                    code="bad_header",
                    file=source,
                    line=line,
                )
            if len(set(names)) != len(names):
                raise IngestError(f"{source}: a column appears twice", code="bad_header", file=source, line=line)
            index = {n: i for i, n in enumerate(names)}
            continue
        if len(record) != len(header):
            rejected.append(Rejected(line, f"{len(record)} fields, the header has {len(header)}"))
            continue
        try:
            body: dict[str, Any] = {
                "phenomenonTime": parse_time(record[index["phenomenontime"]]),
                "result": parse_result(record[index["result"]], observation_type, german=delimiter != ","),
            }
            if "resulttime" in index and record[index["resulttime"]].strip():
                body["resultTime"] = parse_time(record[index["resulttime"]])
        except ValueError as exc:
            rejected.append(Rejected(line, str(exc)))
            continue
        rows.append((line, body))
    if header is None:
        raise IngestError(f"{source} has no header line", code="bad_header", file=source)
    if not rows and not rejected:
        raise IngestError(f"{source} has a header but no observations", code="empty_file", file=source)
    return ParsedCsv(rows, rejected, delimiter)


def _chunks(items: list[tuple[int, dict[str, Any]]], size: int) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def import_csv(
    ctx: RequestContext,
    stores: Stores,
    datastream_id: int,
    raw: bytes,
    *,
    source: str = "CSV",
    strict: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a CSV of observations into the Datastream. `strict`: store nothing when any row is bad.
    `progress(n)` is called after each written batch with the number of rows it handled."""
    base = sta_base_url(ctx.settings)
    stream = service.get(ctx, stores, f"Datastreams({datastream_id})", {}, base_url=base)
    parsed = parse_observation_csv(raw, str(stream.get("observationType", "")), source=source)
    report = ImportReport(rejected=list(parsed.rejected), rows=len(parsed.rows) + len(parsed.rejected))
    if strict and parsed.rejected:
        first = min(parsed.rejected, key=lambda r: r.line)
        raise InvalidInput(
            f"{source}: {len(parsed.rejected)} bad row(s), nothing stored; first at line {first.line}: {first.reason}",
            code="bad_rows",
            file=source,
            line=first.line,
        )
    for chunk in _chunks(parsed.rows, BATCH):
        results = service.create_observations(ctx, stores, datastream_id, [b for _, b in chunk], base_url=base)
        for (line, _), result in zip(chunk, results, strict=True):
            if isinstance(result, UrbanDataError):
                report.rejected.append(Rejected(line, result.message))
            else:
                report.stored += 1
        if progress is not None:
            progress(len(chunk))
    return report
