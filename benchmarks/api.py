#!/usr/bin/env python
"""API benchmark: the real server over HTTP against the same queries run directly on DuckDB.

It loads the generated German municipal CSV of `ingest.py` (1,000,000 rows by default; `;`, decimal
commas, `dd.mm.yyyy` dates, umlauts) through the catalog service on the embedded default, starts
`urbandata serve` in a subprocess on a free loopback port, and measures p50/p95 over HTTP (httpx, one
keep-alive connection) of:

1. a filtered, sorted first page (100 rows);
2. page 5,000 via cursor (the cursors are walked first; then that page's URL is fetched repeatedly);
3. the filtered count (`count=true`): the same filter again (the API caches counts per version and
   filter) and a new filter on every request;
4. a monthly aggregation per district;
5. a full CSV export (streamed, 1,000,000 rows).

Each is set against the same query run directly on the engine: DuckDB with the version's file
attached read-only (as the platform does), with the same SQL (built by the platform's own SQL
builder) and the same thread count, results fetched into Python. The export is also set against
DuckDB's native `COPY ... TO` CSV writer. API and raw runs are interleaved. Results agree (checked),
timings are reported, nothing is asserted about them.

    .venv/bin/python benchmarks/api.py                      # 1,000,000 rows, 100 requests each
    .venv/bin/python benchmarks/api.py --rows 200000 --requests 50 --page 1000
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import httpx
from ingest import SLUG, generate  # the ingest benchmark's generator: the same (cached) file
from rich.console import Console
from rich.table import Table
from serving import server

from urbandata.auth.actor import Actor, RequestContext
from urbandata.catalog import service
from urbandata.catalog.models import OrganizationIn
from urbandata.config import Settings
from urbandata.datastore.aggregation import Bucket, Metric, aggregate_sql
from urbandata.datastore.duckdb import DuckDBDatastore
from urbandata.datastore.sql import Condition, Order, SqlBuilder, quote_ident
from urbandata.errors import NotFound
from urbandata.stores import Stores

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "out"
RESOURCE = "messwerte"
DISTRICT = "Betzenberg"
THREADS = "2"  # as the platform's DuckDB datastore
TARGETS = {"page_p50_ms": 20.0, "page_ratio": 3.0, "export_ratio": 1.3}


# --- data and server ------------------------------------------------------------------------------


def load(data_dir: Path, csv: Path, rows: int) -> Path:
    """Load the file through the service on the embedded default (reused if already loaded); the version file."""
    settings = Settings(data_dir=data_dir, metadata_url=None, datastore_url=None)
    stores = Stores.open(settings)
    ctx = RequestContext(actor=Actor.system(), settings=settings)
    try:
        with contextlib.suppress(NotFound):
            table = service.open_table(ctx, stores, SLUG, RESOURCE)
            if table.row_count == rows:
                return _version_file(stores, table.table_ref)
        stores.close()
        shutil.rmtree(data_dir, ignore_errors=True)
        stores = Stores.open(settings)
        service.create_org(ctx, stores, OrganizationIn(slug="umwelt", name="Referat Umweltschutz"))
        service.create_dataset(
            ctx, stores, SLUG, "umwelt", {"title": "Messwerte (generierte Benchmarkdaten)", "access_level": "public"}
        )
        started = time.perf_counter()
        service.ingest_file(ctx, stores, SLUG, csv, resource=RESOURCE)
        print(f"loaded {rows:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
        return _version_file(stores, service.open_table(ctx, stores, SLUG, RESOURCE).table_ref)
    finally:
        stores.close()


def _version_file(stores: Stores, table_ref: str) -> Path:
    assert isinstance(stores.datastore, DuckDBDatastore), "the benchmark runs on the embedded default"
    return stores.datastore.path(table_ref)


# --- the raw engine -------------------------------------------------------------------------------


class Raw:
    """The same queries straight on DuckDB: the version file attached read-only, as the platform does."""

    def __init__(self, version_file: Path) -> None:
        self.con = duckdb.connect(":memory:", config={"threads": THREADS})
        self.con.execute(f"ATTACH '{version_file}' AS v (READ_ONLY)")
        self.table = "v.data"
        self.columns = [r[0] for r in self.con.execute("SELECT name FROM pragma_table_info('v.data')").fetchall()]

    def page(self, where: list[Condition], order: list[Order], limit: int, after: list[Any] | None) -> list[Any]:
        b = SqlBuilder("?")
        cols = [quote_ident(c) for c in self.columns] + [quote_ident(o.column) for o in order] + ["rowid"]
        extra = [b.after(order, "rowid", after)] if after is not None else []
        sql = f"SELECT {', '.join(cols)} FROM {self.table}" + b.where(where, extra)
        sql += b.order_by(order, "rowid") + f" LIMIT {limit + 1}"
        return self.con.execute(sql, b.params).fetchall()

    def count(self, where: list[Condition]) -> int:
        b = SqlBuilder("?")
        row = self.con.execute(f"SELECT count(*) FROM {self.table}" + b.where(where), b.params).fetchone()
        return int(row[0]) if row else 0

    def aggregate(self, groups: list[str], bucket: Bucket, metrics: list[Metric], limit: int) -> list[Any]:
        b = SqlBuilder("?")
        order = [Order(g) for g in groups] + [Order(bucket.alias)]
        sql = aggregate_sql(b, self.table, groups, bucket, metrics, [], order, limit + 1)
        return self.con.execute(sql, b.params).fetchall()

    def fetch_all(self) -> int:
        """All rows, in the export's order, fetched in the export's batches."""
        cur = self.con.cursor()
        cur.execute(f"SELECT {', '.join(quote_ident(c) for c in self.columns)} FROM {self.table} ORDER BY rowid ASC")
        n = 0
        while batch := cur.fetchmany(10000):
            n += len(batch)
        cur.close()
        return n

    def copy_csv(self, target: Path) -> int:
        cols = ", ".join(quote_ident(c) for c in self.columns)
        self.con.execute(f"COPY (SELECT {cols} FROM {self.table} ORDER BY rowid) TO '{target}' (HEADER, DELIMITER ',')")
        size = target.stat().st_size
        target.unlink()
        return size


# --- measuring ------------------------------------------------------------------------------------


@dataclass
class Measure:
    name: str
    api_ms: list[float] = field(default_factory=list)
    raw_ms: list[float] = field(default_factory=list)
    target: str = ""
    note: str = ""

    @staticmethod
    def _p(values: list[float], q: int) -> float | None:
        if not values:
            return None
        if len(values) == 1:
            return values[0]
        return statistics.quantiles(values, n=100, method="inclusive")[q - 1]

    def summary(self) -> dict[str, Any]:
        a50, a95 = self._p(self.api_ms, 50), self._p(self.api_ms, 95)
        r50, r95 = self._p(self.raw_ms, 50), self._p(self.raw_ms, 95)
        return {
            "name": self.name,
            "n": len(self.api_ms),
            "api_p50_ms": a50,
            "api_p95_ms": a95,
            "raw_p50_ms": r50,
            "raw_p95_ms": r95,
            "ratio_p50": a50 / r50 if a50 is not None and r50 else None,
            "target": self.target,
            "note": self.note,
        }


def _ms(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return (time.perf_counter() - started) * 1000, result


def interleaved(m: Measure, n: int, api: Callable[[int], Any], raw: Callable[[int], Any], warmup: int = 3) -> None:
    for i in range(warmup):  # negative indices: warm-up calls never repeat a timed call's input
        api(-1 - i)
        raw(-1 - i)
    for i in range(n):
        t, _ = _ms(lambda i=i: api(i))  # type: ignore[misc]
        m.api_ms.append(t)
        t, _ = _ms(lambda i=i: raw(i))  # type: ignore[misc]
        m.raw_ms.append(t)


def _decode_cursor(url: str) -> list[Any]:
    cursor = httpx.URL(url).params["cursor"]
    _version, keys = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    return [dt.datetime.fromisoformat(keys[0]) if keys[0] is not None else None, int(keys[1])]


def run(args: argparse.Namespace, console: Console) -> dict[str, Any]:
    gen = generate(args.out, args.rows, args.seed, ("utf-8",), regenerate=False)
    csv_path = gen.path("utf-8")
    data_dir = args.out / f"api-data-{args.rows}-s{args.seed}"
    version_file = load(data_dir, csv_path, args.rows)
    raw = Raw(version_file)
    base_rows = f"/api/v1/datasets/{SLUG}/resources/{RESOURCE}/rows"
    n = args.requests
    results: list[Measure] = []
    checks: dict[str, bool] = {}
    with (
        server({"URBANDATA_DATA_DIR": str(data_dir)}, args.out / "api-server.log") as base,
        httpx.Client(base_url=base, timeout=600) as http,
    ):

        def get(url: str, params: dict[str, Any] | None = None) -> Any:
            r = http.get(url, params=params)
            r.raise_for_status()
            return r.json()

        # 1. a filtered, sorted first page
        first = {"Stadtteil": DISTRICT, "sort": "-Zeitstempel", "limit": 100}
        where = [Condition("Stadtteil", "eq", DISTRICT)]
        order = [Order("Zeitstempel", descending=True)]
        m = Measure("filtered, sorted first page (100 rows)", target="p50 < 20 ms, < 3x")
        interleaved(m, n, lambda _i: get(base_rows, first), lambda _i: raw.page(where, order, 100, None))
        checks["first page"] = [r["Nr"] for r in get(base_rows, first)["rows"]] == [
            r[0] for r in raw.page(where, order, 100, None)[:100]
        ]
        results.append(m)

        # 2. page N via cursor: walk the cursors, then fetch that page's URL repeatedly
        walk = Measure(f"cursor walk, pages 1-{args.page} (each page once)", note="API only")
        url: str | None = f"{base_rows}?sort=Zeitstempel&limit=100"
        started = time.perf_counter()
        for _ in range(args.page - 1):
            assert url is not None
            t, doc = _ms(lambda url=url: get(url))  # type: ignore[misc]
            walk.api_ms.append(t)
            url = doc["next"]
        console.print(f"walked {args.page - 1:,} pages in {time.perf_counter() - started:.1f} s")
        assert url is not None
        page_url = url
        after = _decode_cursor(page_url)
        order = [Order("Zeitstempel")]
        m = Measure(f"page {args.page:,} via cursor (100 rows)", target="p50 < 20 ms, < 3x")
        interleaved(m, n, lambda _i: get(page_url), lambda _i: raw.page([], order, 100, after))
        got = [r["Nr"] for r in get(page_url)["rows"]]
        checks[f"page {args.page}"] = got == [r[0] for r in raw.page([], order, 100, after)[:100]] and len(got) == 100
        results += [m, walk]

        # 3. the filtered count: same filter (cached by the API per version and filter), and a new filter each time
        cnt = {"Stadtteil": DISTRICT, "count": "true", "limit": 1, "columns": "Nr"}
        cold_ms, doc = _ms(lambda: get(base_rows, cnt))
        checks["count"] = doc["total"] == raw.count(where)
        m = Measure("filtered count, same filter (count=true)", note=f"first, uncached request: {cold_ms:.1f} ms")
        interleaved(m, n, lambda _i: get(base_rows, cnt), lambda _i: raw.count(where))
        results.append(m)
        m = Measure("filtered count, a new filter each time", note="Anzahl__gte=<i>: never cached")
        interleaved(
            m,
            n,
            lambda i: get(base_rows, {"Anzahl__gte": i, "count": "true", "limit": 1, "columns": "Nr"}),
            lambda i: raw.count([Condition("Anzahl", "gte", i)]),
        )
        results.append(m)

        # 4. a monthly aggregation per district
        agg = {
            "group_by": "Stadtteil",
            "bucket": "month:Datum",
            "metrics": "count,avg:Temperatur (°C),sum:Anzahl",
            "limit": 10000,
        }
        bucket = Bucket("month", "Datum", "bucket", as_date=True)
        metrics = [
            Metric("count", None, "count"),
            Metric("avg", "Temperatur (°C)", "avg_Temperatur (°C)"),
            Metric("sum", "Anzahl", "sum_Anzahl"),
        ]
        url_agg = f"/api/v1/datasets/{SLUG}/resources/{RESOURCE}/aggregate"
        m = Measure("monthly aggregation per district")
        interleaved(m, n, lambda _i: get(url_agg, agg), lambda _i: raw.aggregate(["Stadtteil"], bucket, metrics, 10000))
        api_rows = get(url_agg, agg)["rows"]
        raw_rows = raw.aggregate(["Stadtteil"], bucket, metrics, 10000)
        checks["aggregation"] = len(api_rows) == len(raw_rows) and [r["sum_Anzahl"] for r in api_rows] == [
            int(r[4]) for r in raw_rows
        ]
        m.note = f"{len(api_rows)} groups"
        results.append(m)

        # 5. a full CSV export, streamed
        url_csv = f"/api/v1/datasets/{SLUG}/resources/{RESOURCE}/export"

        def export() -> int:
            lines = 0
            with http.stream("GET", url_csv, params={"format": "csv"}) as r:
                r.raise_for_status()
                for chunk in r.iter_bytes():
                    lines += chunk.count(b"\n")
            return lines

        sink = args.out / "api-raw-copy.csv"
        m = Measure(f"full CSV export ({args.rows:,} rows) vs the same query fetched", target="< 1.3x")
        m2 = Measure("full CSV export vs DuckDB COPY TO csv", note="native C++ CSV writer")
        for i in range(args.export_repeat + 1):
            t_api, lines = _ms(export)
            t_raw, fetched = _ms(raw.fetch_all)
            t_copy, _ = _ms(lambda: raw.copy_csv(sink))
            if i == 0:
                checks["export"] = lines == args.rows + 1 and fetched == args.rows
                continue  # warm-up
            m.api_ms.append(t_api)
            m.raw_ms.append(t_raw)
            m2.api_ms.append(t_api)
            m2.raw_ms.append(t_copy)
        results += [m, m2]
    raw.con.close()
    return {
        "rows": args.rows,
        "seed": args.seed,
        "requests": n,
        "file": str(csv_path),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "duckdb": duckdb.__version__},
        "checks": checks,
        "results": [r.summary() for r in results],
    }


def _f(v: float | None, digits: int = 1) -> str:
    return "-" if v is None else f"{v:,.{digits}f}"


def report(console: Console, out: dict[str, Any]) -> None:
    table = Table(title=f"API vs raw DuckDB, {out['rows']:,} rows, p50/p95 in ms ({out['requests']} requests each)")
    for col in ("measurement", "n", "API p50", "API p95", "raw p50", "raw p95", "API/raw p50", "target", "note"):
        table.add_column(col, justify="left" if col in ("measurement", "target", "note") else "right")
    for r in out["results"]:
        ratio = "-" if r["ratio_p50"] is None else f"{r['ratio_p50']:.2f}x"
        table.add_row(
            r["name"],
            str(r["n"]),
            _f(r["api_p50_ms"]),
            _f(r["api_p95_ms"]),
            _f(r["raw_p50_ms"]),
            _f(r["raw_p95_ms"]),
            ratio,
            r["target"],
            r["note"],
        )
    console.print(table)
    agree = ", ".join(f"{k} {'ok' if v else 'DIFFER'}" for k, v in out["checks"].items())
    console.print(f"results agree with the raw engine: {agree}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--rows", type=int, default=1_000_000, help="rows of the generated file (default 1,000,000)")
    p.add_argument("--seed", type=int, default=20240611, help="seed of the generator (as ingest.py)")
    p.add_argument("--requests", type=int, default=100, help="timed requests per measurement (default 100)")
    p.add_argument("--page", type=int, default=5000, help="the page reached via cursors (default 5,000)")
    p.add_argument("--export-repeat", type=int, default=5, help="timed full exports (default 5)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output dir (gitignored); the loaded data dir stays")
    args = p.parse_args(argv)
    if args.rows < 100 * args.page:
        p.error(f"--rows must be at least 100 x --page ({100 * args.page:,})")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 200)
    out = run(args, console)
    report(console, out)
    target = args.out / f"api-{args.rows}-s{args.seed}.json"
    target.write_text(json.dumps(out, indent=2), encoding="utf-8")
    console.print(f"written to {target}")
    return 0 if all(out["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
