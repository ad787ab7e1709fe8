#!/usr/bin/env python
"""Quality benchmark: what validation rules, diffs and restores cost next to a load, on both backends.

It generates a seeded German municipal CSV (`;`, decimal commas, `dd.mm.yyyy`) of N rows with a
district code referring to a district table, and measures in one run on the same machine, per backend
(embedded default; PostgreSQL if reachable at URBANDATA_TEST_PG_URL):

1. a load without rules (end to end);
2. the same load with seven rules (required, unique, range, enum, pattern, date, foreign key),
   and the validation alone on the stored version;
3. a diff of two versions by key (1 % of rows changed, 0.5 % added and removed);
4. a restore of the first version (a copy of its data).

It prints seconds and the ratio "validation / load"; it asserts nothing about timings.

    .venv/bin/python benchmarks/quality.py --rows 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console
from rich.table import Table

from urbandata.auth.actor import Actor, RequestContext
from urbandata.catalog import history, quality, service
from urbandata.catalog.models import OrganizationIn
from urbandata.config import Settings
from urbandata.quality.rules import parse_rules
from urbandata.quality.validate import validate_version
from urbandata.stores import Stores

PG_URL = os.environ.get("URBANDATA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
RULES = [
    {"type": "required", "columns": ["Bezirk", "Wert"]},
    {"type": "unique", "columns": ["Id"]},
    {"type": "range", "column": "Wert", "min": 0, "max": 200000},
    {"type": "enum", "column": "Art", "values": ["Wohnen", "Gewerbe", "Grünfläche"]},
    {"type": "pattern", "column": "Bezirk", "pattern": "[0-9]{2}"},
    {"type": "date", "column": "Datum", "min": "2000-01-01", "not_future": True},
    {"type": "foreign_key", "column": "Bezirk", "dataset": "bezirke", "resource": "bezirke", "target_column": "Code"},
]


def write_data(path: Path, rows: int, seed: int, changed: float = 0.0) -> None:
    rnd = random.Random(seed)
    base = [rnd.uniform(0, 99999) for _ in range(997)]  # a row's value depends on its Id only
    kinds = ["Wohnen", "Gewerbe", "Grünfläche"]
    start = dt.date(2020, 1, 1)
    skip = int(rows * changed / 2)  # rows removed at the start, as many added at the end
    with path.open("w", encoding="utf-8") as fh:
        fh.write("Id;Bezirk;Wert;Datum;Art\n")
        for i in range(1 + skip, rows + 1 + skip):
            wert = base[i % 997] * (1.1 if changed and i % 100 == 0 else 1.0)
            day = start + dt.timedelta(days=i % 1500)
            fh.write(f"{i};{i % 18 + 1:02d};{wert:.2f}".replace(".", ",") + f";{day:%d.%m.%Y};{kinds[i % 3]}\n")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def run(settings: Settings, tmp: Path, rows: int) -> dict[str, float]:
    stores = Stores.open(settings)
    ctx = RequestContext(actor=Actor.system(), settings=settings)
    try:
        service.create_org(ctx, stores, OrganizationIn(slug="planung", name="Stadtplanung"))
        for slug in ("bezirke", "flaechen"):
            service.create_dataset(ctx, stores, slug, "planung", {"title": slug, "access_level": "public"})
        districts = tmp / "bezirke.csv"
        districts.write_text("Code;Name\n" + "".join(f"{i:02d};Bezirk {i}\n" for i in range(1, 19)), encoding="utf-8")
        service.ingest_file(ctx, stores, "bezirke", districts)
        data = tmp / "flaechen.csv"
        write_data(data, rows, seed=1)
        plain, _ = timed(lambda: service.ingest_file(ctx, stores, "flaechen", data))
        quality.set_rules(ctx, stores, "flaechen", "flaechen", RULES)
        write_data(data, rows, seed=1, changed=0.01)
        with_rules, v2 = timed(lambda: service.ingest_file(ctx, stores, "flaechen", data))
        assert v2.report["validation"]["passed"], v2.report["validation"]
        handle = service.open_table(ctx, stores, "flaechen", "flaechen")
        fk = service.open_table(ctx, stores, "bezirke", "bezirke")
        types = {f.name: f.type for f in handle.schema.fields}
        validation, _ = timed(
            lambda: validate_version(
                stores.datastore,
                handle.table_ref,
                parse_rules(RULES),
                types,
                row_count=handle.row_count,
                previous_row_count=rows,
                targets={7: fk.table_ref},
                now=dt.datetime.now(dt.UTC),
            )
        )
        diff, d = timed(lambda: history.diff(ctx, stores, "flaechen", "flaechen", 1, 2, keys=["Id"]))
        restore, _ = timed(lambda: history.restore(ctx, stores, "flaechen", "flaechen", 1))
        return {
            "load": plain,
            "load_with_rules": with_rules,
            "validation": validation,
            "diff": diff,
            "restore": restore,
            "diff_changed": d["rows"]["changed"],
            "diff_added": d["rows"]["added"],
        }
    finally:
        stores.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    console = Console(width=140)
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        results["embedded"] = run(Settings(data_dir=tmp / "emb"), tmp, args.rows)
        try:
            with psycopg.connect(PG_URL, connect_timeout=3, autocommit=True) as conn:
                tag = uuid.uuid4().hex[:8]
                meta, data = f"bq_meta_{tag}", f"bq_data_{tag}"
                conn.execute(f'CREATE SCHEMA "{meta}"')
            pg = Settings(
                data_dir=tmp / "pg",
                metadata_url=f"{PG_URL}?options=-csearch_path%3D{meta}",
                datastore_url=PG_URL,
                datastore_schema=data,
            )
            try:
                results["postgresql"] = run(pg, tmp, args.rows)
            finally:
                with psycopg.connect(PG_URL, autocommit=True) as conn:
                    for schema in (meta, data):
                        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
                    conn.execute(f'DROP OWNED BY "{data}_reader"')
                    conn.execute(f'DROP ROLE IF EXISTS "{data}_reader"')
        except psycopg.OperationalError as exc:
            console.print(f"PostgreSQL skipped: {exc}")
    table = Table(
        f"{args.rows:,} rows",
        "load s",
        "load + 7 rules s",
        "validation s",
        "validation / load",
        "diff s",
        "restore s",
        "changed / added",
    )
    for backend, r in results.items():
        table.add_row(
            backend,
            f"{r['load']:.2f}",
            f"{r['load_with_rules']:.2f}",
            f"{r['validation']:.2f}",
            f"{r['validation'] / r['load']:.2f}",
            f"{r['diff']:.2f}",
            f"{r['restore']:.2f}",
            f"{int(r['diff_changed']):,} / {int(r['diff_added']):,}",
        )
    console.print(table)


if __name__ == "__main__":
    main()
