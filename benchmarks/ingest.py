#!/usr/bin/env python
"""Ingest benchmark: our end-to-end CSV load against DuckDB's own `read_csv` and PostgreSQL's `COPY`.

It generates a realistic, seeded German municipal CSV export (`;` delimiter, decimal commas,
thousands dots, `dd.mm.yyyy` dates, umlauts, `k.A.` markers, CRLF line ends) in UTF-8 and in
Windows-1252, then measures in one run on the same machine:

1. ours, end to end, on the embedded default (SQLite metadata + DuckDB datastore): detection,
   inference, typed load and checks, keeping the original, installing and switching the version;
2. raw DuckDB: `CREATE TABLE t AS SELECT * FROM read_csv(...)` with the right options given by hand;
3. ours on PostgreSQL (metadata and datastore on PostgreSQL), if the server is reachable;
4. plain PostgreSQL `COPY` of the same file into an all-text table, if the server is reachable;
5. the peak memory (RSS) of our ingest in a child process, and with `--big` on a ~1 GB file.

It reports rows/s and MB/s (MB = 10^6 bytes), the ratios "ours / raw DuckDB" (target >= 0.5) and
"ours on PG / PG COPY", checks that every column got the right type and that aggregates over the
loaded table equal the generator's own, and writes everything as JSON to the output directory.
It asserts nothing about timings: it reports figures.

    .venv/bin/python benchmarks/ingest.py                 # 1,000,000 rows, best/median of 3
    .venv/bin/python benchmarks/ingest.py --rows 200000 --repeat 5
    .venv/bin/python benchmarks/ingest.py --big           # also the ~1 GB file (takes a while)
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import decimal
import functools
import json
import math
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import psycopg
from rich.console import Console
from rich.table import Table

from urbandata.auth.actor import Actor, RequestContext
from urbandata.catalog import service
from urbandata.catalog.models import OrganizationIn
from urbandata.config import Settings
from urbandata.datastore.duckdb import DuckDBDatastore
from urbandata.datastore.types import duckdb_to_field_type
from urbandata.stores import Stores

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "out"
DEFAULT_PG_URL = os.environ.get("URBANDATA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
MB = 1_000_000
BIG_TARGET_BYTES = 1_000_000_000
MEMORY_TARGET_BYTES = 1_000_000_000
RATIO_TARGET = 0.5
GENERATOR_VERSION = 1  # bump when the generated content changes, so cached files are regenerated
ENCODINGS = ("utf-8", "cp1252")
SLUG = "messwerte-benchmark"
RESOURCE = "messwerte"

# --- the generated export -----------------------------------------------------------------------

HEADER = [
    "Nr", "Stadtteil", "Bezirksnummer", "Messstelle", "Datum", "Zeitstempel", "Temperatur (°C)",
    "Betrag (€)", "Anzahl", "Breite", "Länge", "Aktiv", "Bemerkung",
]
# The Table Schema type each column must get; the report marks any column typed otherwise.
EXPECTED_TYPES = {
    "Nr": "integer", "Stadtteil": "string", "Bezirksnummer": "string", "Messstelle": "string",
    "Datum": "date", "Zeitstempel": "datetime", "Temperatur (°C)": "number", "Betrag (€)": "number",
    "Anzahl": "integer", "Breite": "number", "Länge": "number", "Aktiv": "boolean", "Bemerkung": "string",
}
# Kaiserslautern districts with an approximate centre (degrees x 10^5); numbers and stations are made up
# (generated data, not official figures).
DISTRICTS = [
    ("Innenstadt-Ost", 4944400, 777500),
    ("Betzenberg", 4943400, 775500),
    ("Lämmchesberg/Uni-Wohnstadt", 4942500, 775500),
    ("Bännjerrück/Karl-Pfaff-Siedlung", 4943200, 773500),
    ("Grübentälchen/Volkspark", 4943700, 778200),
    ("Mölschbach", 4940400, 778600),
    ("Dansenberg", 4941500, 772700),
    ("Hohenecken", 4941800, 770700),
    ("Erfenbach", 4947100, 771200),
    ("Erlenbach", 4947600, 773800),
    ("Siegelbach", 4946600, 769500),
    ("Morlautern", 4947400, 777000),
    ("Einsiedlerhof", 4944300, 766100),
]
STATION_KINDS = ["Ortsmitte", "Schulhof", "Sportplatz", "Friedhof", "Bushaltestelle", "Spielplatz"]
REMARKS = [
    "Messwert plausibel", "Sensor gewartet", "Straßenbauarbeiten in der Nähe", "Wert geschätzt",
    "Gerät neu kalibriert", "Störung behoben", "Überprüfung durch Außendienst", "Grünpflege vor Ort",
]
START = dt.datetime(2018, 1, 1)
STEP = dt.timedelta(minutes=15)
NEWLINE = "\r\n"  # exports from Excel and municipal software on Windows
CHUNK_ROWS = 20_000


@dataclass(frozen=True)
class Station:
    district: str
    code: str  # Bezirksnummer with leading zero
    name: str
    lat5: int
    lon5: int


def stations() -> list[Station]:
    out = []
    for i, (district, lat5, lon5) in enumerate(DISTRICTS):
        short = district.split("/")[0]
        for k in range(3):
            kind = STATION_KINDS[(i + 2 * k) % len(STATION_KINDS)]
            out.append(Station(district, f"{i + 1:02d}", f"{kind} {short}", lat5 + 150 * k - 150, lon5 + 120 * k))
    return out


def _dec(value: int, places: int) -> str:
    """A fixed-point integer (value x 10^places) written with a decimal comma."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 10**places)
    return f"{sign}{whole},{frac:0{places}d}"


def _money(cents: int) -> str:
    """1234567 -> '12.345,67' (thousands dots, decimal comma)."""
    euros, c = divmod(cents, 100)
    return f"{euros:,}".replace(",", ".") + f",{c:02d}"


@dataclass
class Generated:
    """The generated files and the aggregates the loaded tables are checked against."""

    rows: int
    seed: int
    files: dict[str, str]  # encoding -> path
    sizes: dict[str, int]  # encoding -> bytes
    expected: dict[str, Any]
    seconds: float = 0.0
    reused: bool = False

    def path(self, encoding: str) -> Path:
        return Path(self.files[encoding])


def _rows(rows: int, seed: int, expected: dict[str, Any]) -> Iterator[str]:
    """Yield text chunks of CRLF-terminated lines; fill `expected` with the aggregates of the content."""
    rng = random.Random(seed)
    sts = stations()
    n_st = len(sts)
    sum_anzahl = sum_cents = n_temp = sum_temp10 = n_remark = n_aktiv = 0
    tick = -1
    date_s = ts_s = ""
    base_temp = 0.0
    last_ts = START
    buf: list[str] = [";".join(HEADER)]
    for i in range(rows):
        t, s = divmod(i, n_st)
        if t != tick:
            tick = t
            last_ts = START + t * STEP
            date_s = last_ts.strftime("%d.%m.%Y")
            ts_s = f"{date_s} {last_ts:%H:%M}"
            doy = last_ts.timetuple().tm_yday
            hour = last_ts.hour + last_ts.minute / 60
            base_temp = 10.0 - 9.0 * math.cos(2 * math.pi * (doy - 15) / 365.25) - 4.0 * math.cos(
                2 * math.pi * (hour - 4) / 24
            )
        st = sts[s]
        if rng.random() < 0.01:
            temp = ""  # sensor failure: empty field
        else:
            t10 = round((base_temp + rng.gauss(0.0, 1.5)) * 10)
            temp = _dec(t10, 1)
            n_temp += 1
            sum_temp10 += t10
        cents = round(rng.lognormvariate(5.8, 1.3) * 100)
        sum_cents += cents
        anzahl = rng.randrange(0, 1200)
        sum_anzahl += anzahl
        lat = _dec(st.lat5 + rng.randint(-30, 30), 5)
        lon = _dec(st.lon5 + rng.randint(-30, 30), 5)
        if rng.random() < 0.9:
            aktiv = "ja"
            n_aktiv += 1
        else:
            aktiv = "nein"
        r = rng.random()
        if r < 0.35:
            remark = "k.A."
        elif r < 0.40:
            remark = ""
        elif r < 0.41:
            remark = '"Ausfall; Ersatzwert eingesetzt"'  # quoted, with the delimiter inside
            n_remark += 1
        else:
            remark = REMARKS[int(r * 1000) % len(REMARKS)]
            n_remark += 1
        buf.append(
            f"{i + 1};{st.district};{st.code};{st.name};{date_s};{ts_s};{temp};{_money(cents)};{anzahl};"
            f"{lat};{lon};{aktiv};{remark}"
        )
        if len(buf) >= CHUNK_ROWS:
            yield NEWLINE.join(buf) + NEWLINE
            buf = []
    if buf:
        yield NEWLINE.join(buf) + NEWLINE
    codes = sorted({st.code for st in sts[: min(rows, n_st)]})
    expected.update(
        {
            "rows": rows,
            "sum Anzahl": sum_anzahl,
            "sum Betrag (€)": sum_cents / 100,
            "count Temperatur (°C)": n_temp,
            "sum Temperatur (°C)": sum_temp10 / 10,
            "count Bemerkung": n_remark,
            "Aktiv = ja": n_aktiv,
            "min Datum": START.date().isoformat(),
            "max Zeitstempel": last_ts.isoformat(),
            "min Bezirksnummer": codes[0] if codes else None,
            "distinct Bezirksnummer": len(codes),
        }
    )


def generate(out_dir: Path, rows: int, seed: int, encodings: tuple[str, ...], regenerate: bool) -> Generated:
    """Write the export in each encoding, streaming (bounded memory); reuse identical earlier output."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"messwerte-{rows}-s{seed}-g{GENERATOR_VERSION}"
    files = {enc: str(out_dir / f"{stem}.{enc.replace('-', '')}.csv") for enc in encodings}
    sidecar = out_dir / f"{stem}.json"
    if not regenerate and sidecar.exists():
        try:
            cached = Generated(**json.loads(sidecar.read_text(encoding="utf-8")))
            if all(
                enc in cached.files and Path(cached.files[enc]).is_file()
                and Path(cached.files[enc]).stat().st_size == cached.sizes[enc]
                for enc in encodings
            ):
                cached.reused = True
                return cached
        except (TypeError, ValueError, KeyError, OSError):
            pass
    started = time.perf_counter()
    expected: dict[str, Any] = {}
    parts = {enc: Path(files[enc] + ".part") for enc in encodings}
    with contextlib.ExitStack() as stack:
        handles = {enc: stack.enter_context(parts[enc].open("wb")) for enc in encodings}
        for chunk in _rows(rows, seed, expected):
            for enc, fh in handles.items():
                fh.write(chunk.encode(enc))
    for enc in encodings:
        os.replace(parts[enc], files[enc])
    gen = Generated(
        rows=rows, seed=seed, files=files, sizes={enc: Path(files[enc]).stat().st_size for enc in encodings},
        expected=expected, seconds=round(time.perf_counter() - started, 2),
    )
    sidecar.write_text(json.dumps(gen.__dict__ | {"reused": False}, indent=2, ensure_ascii=False), encoding="utf-8")
    return gen


# --- checks of a loaded table -------------------------------------------------------------------


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# (check name, SQL aggregate, column that must be typed for the aggregate to make sense)
CHECKS: list[tuple[str, str, str | None]] = [
    ("rows", "count(*)", None),
    ("sum Anzahl", f"sum({_q('Anzahl')})", "Anzahl"),
    ("sum Betrag (€)", f"sum({_q('Betrag (€)')})", "Betrag (€)"),
    ("count Temperatur (°C)", f"count({_q('Temperatur (°C)')})", None),
    ("sum Temperatur (°C)", f"sum({_q('Temperatur (°C)')})", "Temperatur (°C)"),
    ("count Bemerkung", f"count({_q('Bemerkung')})", None),
    ("Aktiv = ja", f"sum(CASE WHEN {_q('Aktiv')} THEN 1 ELSE 0 END)", "Aktiv"),
    ("min Datum", f"min({_q('Datum')})", "Datum"),
    ("max Zeitstempel", f"max({_q('Zeitstempel')})", "Zeitstempel"),
    ("min Bezirksnummer", f"min({_q('Bezirksnummer')})", None),
    ("distinct Bezirksnummer", f"count(DISTINCT {_q('Bezirksnummer')})", None),
]


def _normal(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, float) or isinstance(got, float):
        return isinstance(got, int | float) and math.isclose(float(got), float(want), rel_tol=1e-9, abs_tol=1e-6)
    return bool(got == want)


def run_checks(
    query: Callable[[str], tuple[Any, ...]], expected: dict[str, Any], field_types: dict[str, str]
) -> dict[str, Any]:
    """Aggregates over the loaded table against the generator's. Checks on columns left as text are skipped."""
    wanted = [(name, sql) for name, sql, col in CHECKS if col is None or field_types.get(col) == EXPECTED_TYPES[col]]
    skipped = [name for name, _, _ in CHECKS if name not in dict(wanted)]
    row = query("SELECT " + ", ".join(sql for _, sql in wanted))
    results = {}
    failed = []
    for (name, _), value in zip(wanted, row, strict=True):
        got = _normal(value)
        ok = _same(got, expected[name])
        results[name] = {"got": got, "expected": expected[name], "ok": ok}
        if not ok:
            failed.append(name)
    return {"passed": len(wanted) - len(failed), "total": len(wanted), "failed": failed, "skipped": skipped,
            "values": results}


# --- phase timing of our ingest (wrappers only; urbandata code is not changed) -------------------


class Phases:
    """Wall time per phase of `service.ingest_file`, by wrapping module functions it calls.

    Only functions that exist are wrapped, so the breakdown degrades gracefully when internals change.
    Nested phases (transcode and dialect inside the CSV reader, the reader inside stage) are kept
    apart by reporting "self" times where it matters (see `summary`).
    """

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self._undo: list[Callable[[], None]] = []
        self.sql: list[tuple[str, float]] = []

    def _wrap(self, owner: Any, attr: str, label: str) -> None:
        original = getattr(owner, attr, None)
        if original is None or not callable(original):
            return

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.times[label] = self.times.get(label, 0.0) + time.perf_counter() - t0

        setattr(owner, attr, timed)
        self._undo.append(lambda: setattr(owner, attr, original))

    def install(self, stores: Stores, sql: bool = False) -> None:
        from urbandata.ingest import csv_source, pipeline

        self._wrap(service, "stage_file", "stage_file")
        self._wrap(pipeline, "fingerprint", "fingerprint")
        self._wrap(pipeline, "read_csv_source", "csv reader")
        self._wrap(csv_source, "_transcode", "transcode")
        self._wrap(csv_source, "detect_dialect", "dialect")
        self._wrap(pipeline, "_schema_for", "inference")
        self._wrap(pipeline, "_load", "typed load")
        self._wrap(service, "keep_original", "keep original")
        self._wrap(stores.datastore, "install", "install")
        self._wrap(stores.datastore, "publish", "publish")
        self._wrap(service, "_reindex", "reindex")
        if sql:
            self._trace_sql(pipeline)

    def _trace_sql(self, pipeline: Any) -> None:
        """Time each SQL statement of the staging connection (by its first words)."""
        phases = self
        real = pipeline.duckdb

        class Con:
            def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
                self._con = con

            def execute(self, sql: str, *args: Any) -> Any:
                t0 = time.perf_counter()
                try:
                    return self._con.execute(sql, *args)
                finally:
                    phases.sql.append((" ".join(sql.split()), time.perf_counter() - t0))

            def __getattr__(self, name: str) -> Any:
                return getattr(self._con, name)

        class Module:
            def __getattr__(self, name: str) -> Any:
                return getattr(real, name)

            @staticmethod
            def connect(*args: Any, **kwargs: Any) -> Any:
                return Con(real.connect(*args, **kwargs))

        pipeline.duckdb = Module()
        self._undo.append(lambda: setattr(pipeline, "duckdb", real))

    def uninstall(self) -> None:
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()

    def summary(self, total: float) -> dict[str, float]:
        t = self.times
        out: dict[str, float] = {}
        if "fingerprint" in t:
            out["fingerprint (sha256, encoding)"] = t["fingerprint"]
        if "transcode" in t:
            out["transcode to UTF-8"] = t["transcode"]
        if "dialect" in t:
            out["dialect detection"] = t["dialect"]
        if "csv reader" in t:
            out["csv reader, rest"] = t["csv reader"] - t.get("transcode", 0.0) - t.get("dialect", 0.0)
        if "inference" in t:
            out["type inference (sample)"] = t["inference"]
        if "typed load" in t:
            out["typed load (read_csv + convert + flag counts)"] = t["typed load"]
        if "stage_file" in t:
            inner = sum(t.get(k, 0.0) for k in ("fingerprint", "csv reader", "inference", "typed load"))
            out["stage, rest (rejects, cleanup, checkpoint)"] = t["stage_file"] - inner
        for key, label in (("keep original", "keep original file"), ("install", "install version"),
                           ("publish", "publish"), ("reindex", "search reindex")):
            if key in t:
                out[label] = t[key]
        known = t.get("stage_file", 0.0) + sum(t.get(k, 0.0) for k in ("keep original", "install", "publish",
                                                                           "reindex"))
        out["metadata commits and the rest"] = total - known
        return {k: round(v, 4) for k, v in out.items()}


# --- the measured runs --------------------------------------------------------------------------


@dataclass
class Run:
    """One kind of measured run: repeated timings and what the last repetition found."""

    key: str
    label: str
    encoding: str
    rows: int
    size: int
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # CPU seconds of this process (all threads), in-process runs
    typed: dict[str, str] = field(default_factory=dict)  # column -> Table Schema type (or engine type mapped)
    engine_types: dict[str, str] = field(default_factory=dict)
    checks: dict[str, Any] = field(default_factory=dict)
    phases: list[dict[str, float]] = field(default_factory=list)
    sql: list[tuple[str, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None  # the first failure; the run is not repeated after it
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    def typed_ok(self) -> list[str]:
        return [c for c, t in EXPECTED_TYPES.items() if self.typed.get(c) == t]

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "label": self.label, "encoding": self.encoding, "rows": self.rows,
            "bytes": self.size, "times_s": [round(t, 4) for t in self.times],
            "best_s": round(self.best, 4), "median_s": round(self.median, 4),
            "cpu_s": [round(t, 4) for t in self.cpu], "cpu_s_best": round(min(self.cpu), 4) if self.cpu else None,
            "rows_per_s_best": round(self.rows / self.best), "rows_per_s_median": round(self.rows / self.median),
            "mb_per_s_best": round(self.size / MB / self.best, 2),
            "mb_per_s_median": round(self.size / MB / self.median, 2),
            "column_types": self.typed, "engine_types": self.engine_types,
            "columns_typed_as_expected": f"{len(self.typed_ok())}/{len(EXPECTED_TYPES)}",
            "not_typed": [c for c in EXPECTED_TYPES if c not in self.typed_ok()],
            "checks": self.checks, "phases_of_best": self.phases[self.times.index(self.best)] if self.phases else {},
            "sql_trace": self.sql, "notes": self.notes, "ingest_report": self.report,
        }


def _pg_meta_url(pg_url: str, schema: str) -> str:
    return f"{pg_url}{'&' if '?' in pg_url else '?'}options=-csearch_path%3D{schema}"


def _settings(data_dir: Path, pg: tuple[str, str, str] | None) -> Settings:
    if pg is None:
        # explicit None: URBANDATA_* variables in the environment must not move the embedded run elsewhere
        return Settings(data_dir=data_dir, metadata_url=None, datastore_url=None)
    url, meta, data = pg
    return Settings(data_dir=data_dir, metadata_url=_pg_meta_url(url, meta), datastore_url=url, datastore_schema=data)


def _prepare(settings: Settings) -> tuple[Stores, RequestContext]:
    stores = Stores.open(settings)
    ctx = RequestContext(actor=Actor.system(), settings=settings)
    service.create_org(ctx, stores, OrganizationIn(slug="umwelt", name="Referat Umweltschutz"))
    service.create_dataset(
        ctx, stores, SLUG, "umwelt", {"title": "Messwerte (generierte Benchmarkdaten)", "access_level": "public"}
    )
    return stores, ctx


def ours_once(
    path: Path, work_root: Path, expected: dict[str, Any], pg_url: str | None, run: Run, *, sql_trace: bool
) -> None:
    """One end-to-end load in a fresh data dir (and fresh PostgreSQL schemas); only ingest_file is timed."""
    data_dir = Path(tempfile.mkdtemp(prefix="ours-", dir=work_root))
    tag = uuid.uuid4().hex[:10]
    pg = (pg_url, f"bench_meta_{tag}", f"bench_data_{tag}") if pg_url else None
    if pg:
        with psycopg.connect(pg[0], autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {_q(pg[1])}")
    stores: Stores | None = None
    phases = Phases()
    try:
        settings = _settings(data_dir, pg)
        stores, ctx = _prepare(settings)
        phases.install(stores, sql=sql_trace)
        c0, t0 = time.process_time(), time.perf_counter()
        version = service.ingest_file(ctx, stores, SLUG, path, resource=RESOURCE)
        elapsed = time.perf_counter() - t0
        cpu = time.process_time() - c0
        phases.uninstall()
        run.times.append(elapsed)
        if not pg:
            run.cpu.append(cpu)
        run.phases.append(phases.summary(elapsed))
        if sql_trace:
            run.sql = [(s, round(t, 4)) for s, t in phases.sql]
        handle = service.open_table(ctx, stores, SLUG, RESOURCE)
        run.typed = {f.name: f.type for f in handle.schema.fields}
        run.engine_types = {
            f.name: f.type + "".join(
                f" {k}={v!r}" for k, v in (("format", f.format), ("decimalChar", f.decimal_char),
                                           ("groupChar", f.group_char)) if v
            )
            for f in handle.schema.fields
        }
        report = version.report or {}
        run.report = {k: report.get(k) for k in ("encoding", "delimiter", "rows_loaded", "rows_rejected", "notes",
                                                 "duration_s")}
        if isinstance(stores.datastore, DuckDBDatastore):
            con = duckdb.connect(str(stores.datastore.path(handle.table_ref)), read_only=True)
            try:
                run.checks = run_checks(lambda sql: con.execute(sql + " FROM data").fetchone() or (), expected,
                                        run.typed)
            finally:
                con.close()
        elif pg:
            with psycopg.connect(pg[0]) as conn:
                run.checks = run_checks(
                    lambda sql: conn.execute(
                        sql + f" FROM {_q(pg[2])}.{_q(handle.sql_table)}"
                    ).fetchone() or (),
                    expected, run.typed,
                )
    finally:
        phases.uninstall()
        if stores is not None:
            stores.close()
        shutil.rmtree(data_dir, ignore_errors=True)
        if pg:
            with psycopg.connect(pg[0], autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {_q(pg[1])} CASCADE")
                conn.execute(f"DROP SCHEMA IF EXISTS {_q(pg[2])} CASCADE")


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def raw_duckdb_sql(path: Path) -> str:
    """The hand-tuned baseline: every option given, so DuckDB does only what it can do natively."""
    return (
        f"CREATE TABLE t AS SELECT * FROM read_csv({_lit(str(path))}, delim=';', quote='\"', header=true, "
        "decimal_separator=',', dateformat='%d.%m.%Y', timestampformat='%d.%m.%Y %H:%M', nullstr=['', 'k.A.'], "
        "types={'Bezirksnummer': 'VARCHAR', 'Betrag (€)': 'VARCHAR'})"
    )


def raw_duckdb_once(path: Path, work_root: Path, expected: dict[str, Any], run: Run) -> None:
    """read_csv into a table of a fresh DuckDB file, closed (checkpointed) inside the timing."""
    db = work_root / f"raw-{uuid.uuid4().hex}.duckdb"
    try:
        c0, t0 = time.process_time(), time.perf_counter()
        con = duckdb.connect(str(db))
        con.execute(raw_duckdb_sql(path))
        con.close()
        run.times.append(time.perf_counter() - t0)
        run.cpu.append(time.process_time() - c0)
        con = duckdb.connect(str(db), read_only=True)
        try:
            described = con.execute("DESCRIBE t").fetchall()
            run.engine_types = {str(r[0]): str(r[1]) for r in described}
            run.typed = {name: duckdb_to_field_type(t) for name, t in run.engine_types.items()}
            run.checks = run_checks(lambda sql: con.execute(sql + " FROM t").fetchone() or (), expected, run.typed)
        finally:
            con.close()
    finally:
        db.unlink(missing_ok=True)
        Path(str(db) + ".wal").unlink(missing_ok=True)


def pg_copy_once(path: Path, pg_url: str, expected: dict[str, Any], run: Run) -> None:
    """Plain COPY ... FROM STDIN into an all-text table, streamed in 1 MB chunks, committed inside the timing."""
    schema = f"bench_copy_{uuid.uuid4().hex[:10]}"
    cols = ", ".join(f"{_q(c)} text" for c in HEADER)
    try:
        with psycopg.connect(pg_url) as conn:
            conn.execute("SET client_encoding TO 'UTF8'")
            conn.commit()
            t0 = time.perf_counter()
            conn.execute(f"CREATE SCHEMA {_q(schema)}")
            conn.execute(f"CREATE TABLE {_q(schema)}.t ({cols})")
            with (
                conn.cursor().copy(
                    f"COPY {_q(schema)}.t FROM STDIN (FORMAT csv, DELIMITER ';', HEADER true)"
                ) as copy,
                path.open("rb") as fh,
            ):
                while chunk := fh.read(1 << 20):
                    copy.write(chunk)
            conn.commit()
            run.times.append(time.perf_counter() - t0)
            run.typed = dict.fromkeys(HEADER, "string")
            run.engine_types = dict.fromkeys(HEADER, "text")
            # all text: NULL only for empty unquoted fields, so 'k.A.' counts as a value here
            row = conn.execute(f"SELECT count(*) FROM {_q(schema)}.t").fetchone()
            n = int(row[0]) if row else -1
            run.checks = {"passed": int(n == expected["rows"]), "total": 1, "failed": [] if n == expected["rows"]
                          else ["rows"], "skipped": [name for name, _, _ in CHECKS[1:]],
                          "values": {"rows": {"got": n, "expected": expected["rows"], "ok": n == expected["rows"]}}}
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {_q(schema)} CASCADE")


# --- peak memory in a child process -------------------------------------------------------------


def _vm_hwm_bytes() -> int | None:
    """This process's peak RSS since its exec (VmHWM), or None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def child_main(kind: str, path: Path, work: Path, result: Path) -> None:
    """Hidden `--child` mode: one load (ours or raw DuckDB) in this fresh process; timing to `result`."""
    work.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"kind": kind}
    if kind == "ours":
        settings = _settings(work / "data", None)
        stores, ctx = _prepare(settings)
        out["before_load_bytes"] = _vm_hwm_bytes()
        try:
            t0 = time.perf_counter()
            version = service.ingest_file(ctx, stores, SLUG, path, resource=RESOURCE)
            out["seconds"] = time.perf_counter() - t0
            out["rows"] = version.row_count
        finally:
            stores.close()
    else:
        out["before_load_bytes"] = _vm_hwm_bytes()
        db = work / "raw.duckdb"
        t0 = time.perf_counter()
        con = duckdb.connect(str(db))
        con.execute(raw_duckdb_sql(path))
        con.close()
        out["seconds"] = time.perf_counter() - t0
        con = duckdb.connect(str(db), read_only=True)
        row = con.execute("SELECT count(*) FROM t").fetchone()
        con.close()
        out["rows"] = int(row[0]) if row else None
    out["vm_hwm_bytes"] = _vm_hwm_bytes()
    result.write_text(json.dumps(out), encoding="utf-8")


# A child's ru_maxrss on Linux starts from the RSS of the process that forked it (the kernel carries the
# old address space's high-water mark over the exec), and this benchmark process is large by the time it
# measures. So a tiny launcher starts the measured child and reads getrusage(RUSAGE_CHILDREN) itself.
_LAUNCHER = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.exit(rc)\n"
)


def measure_peak(kind: str, path: Path, work_root: Path) -> dict[str, Any]:
    """Run one load in a grandchild process; its peak RSS comes from the kernel (RUSAGE_CHILDREN) when it ends."""
    work = Path(tempfile.mkdtemp(prefix=f"child-{kind}-", dir=work_root))
    result = work / "result.json"
    try:
        child = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--child-file", str(path),
                 "--child-work", str(work), "--child-result", str(result)]
        proc = subprocess.run([sys.executable, "-S", "-c", _LAUNCHER, *child], capture_output=True, text=True)
        if proc.returncode != 0 or not result.exists():
            tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
            return {"kind": kind, "file": path.name, "error": f"child exited with {proc.returncode}: {tail}"}
        out: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
        out.update(file=path.name, bytes=path.stat().st_size,
                   peak_rss_bytes=int(proc.stdout.split()[-1]) * 1024)
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --- reporting ----------------------------------------------------------------------------------


def _fmt_int(n: float) -> str:
    return f"{n:,.0f}"


def _mb(n: int | None) -> str:
    return "" if n is None else f"{n / MB:.0f}"


def _pg_reachable(url: str) -> tuple[bool, str]:
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return True, str(row[0]) if row else "?"
    except psycopg.Error as exc:
        return False, str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _ratio(num: Run | None, den: Run | None) -> dict[str, float] | None:
    """Throughput of `num` relative to `den` (= den's time / num's time), by best and by median."""
    if num is None or den is None or not num.times or not den.times:
        return None
    return {"best": round(den.best / num.best, 3), "median": round(den.median / num.median, 3)}


def print_report(console: Console, runs: list[Run], results: dict[str, Any]) -> None:
    table = Table(title=f"Ingest benchmark: {results['rows']:,} rows, best / median of {results['repeat']}",
                  title_justify="left")
    texts = ("Run", "File", "typed as expected", "value checks")
    for col in ("Run", "File", "MB", "best s", "median s", "CPU s (best)", "rows/s (best)", "MB/s (best)",
                *texts[2:]):
        table.add_column(col, justify="left" if col in texts else "right")
    for r in runs:
        if r.error and len(r.times) == 0:
            table.add_row(r.label, r.encoding, f"{r.size / MB:.1f}", *[""] * 5, f"[red]failed: {r.error}[/red]", "")
            continue
        if not r.times:
            continue
        ok = r.typed_ok()
        missing = [c for c in EXPECTED_TYPES if c not in ok]
        typed = f"{len(ok)}/{len(EXPECTED_TYPES)}" + (f" (text: {', '.join(missing)})" if missing and
                                                      len(missing) <= 3 else " (all text)" if missing else "")
        checks = f"{r.checks.get('passed', 0)}/{r.checks.get('total', 0)}" + (
            f" FAILED: {', '.join(r.checks['failed'])}" if r.checks.get("failed") else "")
        table.add_row(r.label, r.encoding, f"{r.size / MB:.1f}", f"{r.best:.2f}", f"{r.median:.2f}",
                      f"{min(r.cpu):.2f}" if r.cpu else "",
                      _fmt_int(r.rows / r.best), f"{r.size / MB / r.best:.1f}", typed, checks)
    console.print(table)

    ratios = results["ratios"]
    console.print("[bold]Ratios[/bold] (throughput = the baseline's time / ours; best | median)")
    for key, label, target in (
        ("ours_utf8_vs_raw_duckdb", "ours (embedded, UTF-8) / raw DuckDB read_csv", RATIO_TARGET),
        ("ours_cp1252_vs_raw_duckdb", "ours (embedded, cp1252) / raw DuckDB read_csv (UTF-8)", None),
        ("ours_pg_vs_pg_copy", "ours on PostgreSQL / plain PostgreSQL COPY", None),
    ):
        r = ratios.get(key)
        if r is None:
            console.print(f"  {label}: not measured")
            continue
        verdict = ""
        if target is not None:
            met = [k for k in ("best", "median") if r[k] >= target]
            verdict = (f"  [green]meets target >= {target}[/green]" if len(met) == 2
                       else f"  [yellow]meets target >= {target} by {met[0]} only[/yellow]" if met
                       else f"  [red]below target >= {target}[/red]")
        console.print(f"  {label}: {r['best']:.2f} | {r['median']:.2f}{verdict}")
    cpu = ratios.get("ours_utf8_vs_raw_duckdb_cpu")
    if cpu is not None:
        console.print(f"  by CPU time (less sensitive to other load; DuckDB's threads included): ours (embedded, "
                      f"UTF-8) / raw DuckDB: {cpu:.2f}")

    mem = results.get("peak_memory", [])
    if mem:
        mt = Table(title="Peak memory: max RSS of a child process (getrusage RUSAGE_CHILDREN); MB = 10^6 bytes",
                   title_justify="left")
        for col in ("Run", "File", "File MB", "Rows", "Seconds", "Peak RSS MB", "VmHWM MB", "before load MB",
                    "Target"):
            mt.add_column(col, justify="left" if col in ("Run", "File", "Target") else "right")
        for m in mem:
            if "error" in m:
                mt.add_row(m["kind"], m.get("file", ""), "", "", "", m["error"], "", "", "")
                continue
            verdict = ""
            if m["kind"] == "ours" and m["bytes"] >= 0.9 * BIG_TARGET_BYTES:
                met = m["peak_rss_bytes"] < MEMORY_TARGET_BYTES
                verdict = "[green]< 1 GB: met[/green]" if met else "[red]< 1 GB: missed[/red]"
            mt.add_row("ours (embedded)" if m["kind"] == "ours" else "raw DuckDB read_csv", m["file"],
                       f"{m['bytes'] / MB:.0f}", _fmt_int(m["rows"] or 0), f"{m['seconds']:.2f}",
                       f"{m['peak_rss_bytes'] / MB:.0f}", _mb(m.get("vm_hwm_bytes")), _mb(m.get("before_load_bytes")),
                       verdict)
        console.print(mt)

    ours = [r for r in runs if r.phases]
    if ours:
        pt = Table(title="Where our time goes (best repetition of each; s and share)", title_justify="left")
        pt.add_column("Phase of service.ingest_file")
        for r in ours:
            pt.add_column(f"{r.key} ({r.best:.2f} s)", justify="right")
        best = [r.phases[r.times.index(r.best)] for r in ours]
        for phase in dict.fromkeys(k for b in best for k in b):
            cells = []
            for r, b in zip(ours, best, strict=True):
                v = b.get(phase)
                cells.append("" if v is None or abs(v) < 0.0005 else f"{v:.3f}  {100 * v / r.best:3.0f} %")
            if any(cells):
                pt.add_row(phase, *cells)
        console.print(pt)
    for r in runs:
        if r.sql:
            st = Table(title=f"SQL statements of the staging connection ({r.key}, first repetition, >= 5 ms)",
                       title_justify="left")
            st.add_column("Statement (start)")
            st.add_column("s", justify="right")
            for statement, seconds in r.sql:
                if seconds >= 0.005:
                    st.add_row(statement[:100], f"{seconds:.3f}")
            console.print(st)

    typed_runs = [r for r in runs if r.engine_types and r.key != "pg_copy"]
    if typed_runs:
        tt = Table(title="Column types (ours: Table Schema field with parsing hints; raw DuckDB: engine type)",
                   title_justify="left")
        tt.add_column("Column")
        tt.add_column("expected")
        for run in typed_runs:
            tt.add_column(run.key)
        for c, want in EXPECTED_TYPES.items():
            cells = []
            for run in typed_runs:
                got = run.engine_types.get(c, "(missing)")
                cells.append(got if run.typed.get(c) == want else f"[red]{got} (not {want})[/red]")
            tt.add_row(c, want, *cells)
        console.print(tt)

    for note in results["notes"]:
        console.print(f"[dim]- {note}[/dim]")


# --- main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--rows", type=int, default=1_000_000, help="rows of the generated file (default 1,000,000)")
    p.add_argument("--seed", type=int, default=20240611, help="seed of the generator")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output dir for files and results (gitignored)")
    p.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL URL (default: URBANDATA_TEST_PG_URL or local)")
    p.add_argument("--no-pg", action="store_true", help="skip the PostgreSQL runs")
    p.add_argument("--repeat", type=int, default=3, help="repetitions of each timed run (default 3)")
    p.add_argument("--big", action="store_true", help="also generate a ~1 GB file and measure peak memory on it")
    p.add_argument("--big-rows", type=int, default=None, help="rows of the big file (default: enough for ~1 GB)")
    p.add_argument("--regenerate", action="store_true", help="write the files again even if cached ones match")
    p.add_argument("--profile", action="store_true", help="also time each SQL statement of our staging connection")
    p.add_argument("--child", choices=["ours", "duckdb"], help=argparse.SUPPRESS)
    p.add_argument("--child-file", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--child-work", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--child-result", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.rows < 1 or args.repeat < 1:
        p.error("--rows and --repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        child_main(args.child, args.child_file, args.child_work, args.child_result)
        return 0
    console = Console(width=None if sys.stdout.isatty() else 170)
    import urbandata

    code_dir = str(Path(urbandata.__file__).resolve().parent)
    load_before = os.getloadavg()
    console.print(f"urbandata from {code_dir}; DuckDB {duckdb.__version__}; {os.cpu_count()} CPUs; "
                  f"load average {load_before[0]:.2f}")
    out: Path = args.out.resolve()
    work_root = out / "ingest-work"
    work_root.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []

    console.print(f"Generating {args.rows:,} rows (seed {args.seed}) in UTF-8 and cp1252 under {out} ...")
    gen = generate(out, args.rows, args.seed, ENCODINGS, args.regenerate)
    console.print(
        "  " + ("reused cached files" if gen.reused else f"written in {gen.seconds:.1f} s") + ": "
        + ", ".join(f"{Path(gen.files[e]).name} ({gen.sizes[e] / MB:.1f} MB)" for e in ENCODINGS)
    )
    utf8, cp1252 = gen.path("utf-8"), gen.path("cp1252")

    pg_url: str | None = None if args.no_pg else args.pg_url
    pg_version = None
    if pg_url:
        ok, info = _pg_reachable(pg_url)
        if ok:
            pg_version = info
        else:
            console.print(f"[yellow]PostgreSQL not reachable at {pg_url} ({info}): "
                          "skipping the PostgreSQL runs.[/yellow]")
            notes.append(f"PostgreSQL runs skipped: not reachable at {pg_url} ({info})")
            pg_url = None
    elif args.no_pg:
        notes.append("PostgreSQL runs skipped (--no-pg)")

    runs = {
        "ours_utf8": Run("ours_utf8", "ours, embedded", "UTF-8", gen.rows, gen.sizes["utf-8"]),
        "ours_cp1252": Run("ours_cp1252", "ours, embedded", "cp1252", gen.rows, gen.sizes["cp1252"]),
        "raw_duckdb": Run("raw_duckdb", "raw DuckDB read_csv", "UTF-8", gen.rows, gen.sizes["utf-8"]),
    }
    if pg_url:
        runs["ours_pg"] = Run("ours_pg", "ours on PostgreSQL", "UTF-8", gen.rows, gen.sizes["utf-8"])
        runs["pg_copy"] = Run("pg_copy", "PostgreSQL COPY (text)", "UTF-8", gen.rows, gen.sizes["utf-8"])

    # Interleave the repetitions so that a slow phase of the machine does not hit one contender only.
    def attempt(run: Run, measure: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        """One repetition of `run`; a failure is reported with the figures instead of ending the benchmark."""
        if run.error is not None:
            return
        try:
            measure(*args, run=run, **kwargs)
        except Exception as exc:  # noqa: BLE001 - any failure of a contender is a result to report
            run.error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ''}"
            console.print(f"[red]{run.key} failed: {run.error}[/red]")

    for i in range(args.repeat):
        console.print(f"Repetition {i + 1}/{args.repeat} ...")
        attempt(runs["raw_duckdb"], raw_duckdb_once, utf8, work_root, gen.expected)
        attempt(runs["ours_utf8"], ours_once, utf8, work_root, gen.expected, None, sql_trace=args.profile and i == 0)
        attempt(runs["ours_cp1252"], ours_once, cp1252, work_root, gen.expected, None, sql_trace=False)
        if pg_url:
            attempt(runs["pg_copy"], pg_copy_once, utf8, pg_url, gen.expected)
            attempt(runs["ours_pg"], ours_once, utf8, work_root, gen.expected, pg_url, sql_trace=False)
        line = "  " + " | ".join(f"{r.key} {r.times[-1]:.2f} s" for r in runs.values() if r.times and not r.error)
        console.print(line)

    console.print("Measuring peak memory in child processes ...")
    peak = [measure_peak("ours", utf8, work_root), measure_peak("duckdb", utf8, work_root)]
    big: Generated | None = None
    if args.big:
        big_rows = args.big_rows or max(1, round(BIG_TARGET_BYTES * gen.rows / gen.sizes["utf-8"]))
        console.print(f"Generating the big file: {big_rows:,} rows (UTF-8) ...")
        big = generate(out, big_rows, args.seed, ("utf-8",), args.regenerate)
        console.print(f"  {'reused' if big.reused else f'written in {big.seconds:.1f} s'}: "
                      f"{big.path('utf-8').name} ({big.sizes['utf-8'] / MB:.0f} MB)")
        peak.append(measure_peak("ours", big.path("utf-8"), work_root))
        peak.append(measure_peak("duckdb", big.path("utf-8"), work_root))

    notes += [
        "Ours is timed end to end around service.ingest_file: fingerprint (SHA-256, encoding), dialect detection, "
        "type inference on a sample, typed load with a failure check of every value, keeping the original file, "
        "installing the version and switching the current version in the metadata DB. Setup (data dir, "
        "migrations, organisation and dataset) is not timed; each repetition uses a fresh data dir.",
        "Raw DuckDB gets every option by hand (delimiter, decimal comma, date and timestamp formats, null "
        "markers, leading-zero code as VARCHAR) and writes into a fresh DuckDB file (closed inside the timing). "
        "It cannot type 'Betrag (€)' (thousands dots with decimal comma: forced VARCHAR) nor 'Aktiv' (ja/nein "
        "booleans): both stay text there. It runs with DuckDB's default settings (memory limit 80% of RAM); ours "
        f"stages with ingest_memory_limit={Settings(data_dir=work_root).ingest_memory_limit}.",
        "Raw DuckDB reads the UTF-8 file only: its built-in 'latin-1' refuses the cp1252 file ('File is not "
        "latin-1 encoded': the euro sign is byte 0x80) and windows-1252 needs the 'encodings' extension, which has "
        "to be downloaded. Ours converts cp1252 itself in one streaming pass (the 'transcode' phase).",
        "PostgreSQL COPY cannot parse decimal commas, thousands dots, dd.mm.yyyy dates or ja/nein, so it "
        "loads every column as text (and 'k.A.' stays a value); ours on PostgreSQL stages and types in DuckDB, "
        "then streams the typed rows with COPY into a table with a primary key and runs ANALYZE.",
        "Peak memory: the load runs in a fresh process started by a tiny launcher, which reads "
        "getrusage(RUSAGE_CHILDREN).ru_maxrss when it ends (a child forked from this large benchmark process would "
        "inherit its high-water mark). VmHWM is the child's own figure from /proc/self/status as a cross-check. "
        "Both include the Python interpreter, imports and (ours) the metadata setup: see 'before load'.",
    ]
    results: dict[str, Any] = {
        "benchmark": "ingest",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rows": gen.rows,
        "seed": gen.seed,
        "repeat": args.repeat,
        "files": {e: {"path": gen.files[e], "bytes": gen.sizes[e]} for e in ENCODINGS},
        "big_file": {"path": big.files["utf-8"], "bytes": big.sizes["utf-8"], "rows": big.rows} if big else None,
        "machine": {
            "platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version(),
            "duckdb": duckdb.__version__, "postgresql": pg_version, "urbandata_code": code_dir,
            "load_average_1min_before": round(load_before[0], 2),
            "load_average_1min_after": round(os.getloadavg()[0], 2),
        },
        "runs": [r.as_dict() for r in runs.values() if r.times],
        "failed_runs": {r.key: r.error for r in runs.values() if r.error},
        "ratios": {
            "ours_utf8_vs_raw_duckdb": _ratio(runs["ours_utf8"], runs["raw_duckdb"]),
            "ours_cp1252_vs_raw_duckdb": _ratio(runs["ours_cp1252"], runs["raw_duckdb"]),
            "ours_pg_vs_pg_copy": _ratio(runs.get("ours_pg"), runs.get("pg_copy")),
            "ours_utf8_vs_raw_duckdb_cpu": round(min(runs["raw_duckdb"].cpu) / min(runs["ours_utf8"].cpu), 3)
            if runs["raw_duckdb"].cpu and runs["ours_utf8"].cpu else None,
            "target_ours_vs_raw_duckdb": RATIO_TARGET,
        },
        "peak_memory": peak,
        "memory_target_bytes": MEMORY_TARGET_BYTES,
        "notes": notes,
    }
    print_report(console, list(runs.values()), results)
    load_after = results["machine"]["load_average_1min_after"]
    if max(load_before[0], load_after) > 0.5 * (os.cpu_count() or 1):
        console.print(f"[yellow]The machine was busy (1-min load average {load_before[0]:.2f} before, "
                      f"{load_after:.2f} after, {os.cpu_count()} CPUs): figures are noisy; compare the ratios of "
                      "interleaved runs rather than absolute times, or repeat on a quiet machine.[/yellow]")
    result_path = out / f"ingest-{gen.rows}-s{gen.seed}{'-big' if big else ''}.json"
    result_path.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    console.print(f"Results written to {result_path}")
    shutil.rmtree(work_root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
