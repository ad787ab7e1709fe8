"""DuckDB backend: each version is an immutable DuckDB file, attached read-only for queries.

One file per version lets the CLI load a file while `urbandata serve` is reading: a writer never
touches a file that a reader has open, and a reader attaches a version only after it became current.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from urbandata.datastore.aggregation import Bucket, Metric, aggregate_sql
from urbandata.datastore.base import Column, Datastore, SqlResult, StagedTable
from urbandata.datastore.sql import Condition, Order, SqlBuilder, SqlFailed, SqlTimeout, quote_ident

_REF = re.compile(r"^r(\d+)/v(\d+)$")


class DuckDBDatastore(Datastore):
    kind = "duckdb"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._con = duckdb.connect(":memory:", config={"threads": "2"})
        self._attached: set[str] = set()
        self._lock = threading.Lock()

    def path(self, table_ref: str) -> Path:
        m = _REF.match(table_ref)
        if not m:
            raise ValueError(f"bad table_ref {table_ref!r}")
        return self.root / f"r{m[1]}" / f"v{m[2]}.duckdb"

    def install(self, staged: StagedTable, resource_id: int, version: int) -> str:
        ref = f"r{resource_id}/v{version}"
        target = self.path(ref)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            raise FileExistsError(target)
        try:
            os.replace(staged.path, target)
        except OSError:
            shutil.copyfile(staged.path, target)
        return ref

    def drop(self, table_ref: str) -> None:
        alias = self._alias(table_ref)
        with self._lock:
            if alias in self._attached:
                self._con.execute(f"DETACH {alias}")
                self._attached.discard(alias)
        self.path(table_ref).unlink(missing_ok=True)

    def exists(self, table_ref: str) -> bool:
        return self.path(table_ref).exists()

    def publish(self, sql_table: str, table_ref: str, columns: Sequence[Column]) -> None:
        """Nothing to do: the SQL sandbox maps stable names to the current version's file per query."""

    @staticmethod
    def _alias(table_ref: str) -> str:
        return "v_" + table_ref.replace("/", "_")

    def _table(self, table_ref: str) -> str:
        alias = self._alias(table_ref)
        if alias not in self._attached:
            with self._lock:
                if alias not in self._attached:
                    path = self.path(table_ref)
                    if not path.exists():
                        raise FileNotFoundError(path)
                    self._con.execute(f"ATTACH '{path}' AS {alias} (READ_ONLY)")
                    self._attached.add(alias)
        return f"{alias}.data"

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        return self._con.cursor()

    def select(
        self,
        table_ref: str,
        columns: Sequence[str],
        where: Sequence[Condition] = (),
        order: Sequence[Order] = (),
        limit: int = 100,
        after: Sequence[Any] | None = None,
    ) -> list[tuple[Any, ...]]:
        b = SqlBuilder("?")
        cols = [quote_ident(c) for c in columns] + [quote_ident(o.column) for o in order] + ["rowid"]
        # parameters are positional: the filters' come first, as their conditions precede the keyset condition
        filters = [b.condition(c) for c in where]
        keyset = [b.after(order, "rowid", after)] if after is not None else []
        sql = f"SELECT {', '.join(cols)} FROM {self._table(table_ref)}"
        sql += b.where((), [*filters, *keyset]) + b.order_by(order, "rowid") + f" LIMIT {int(limit)}"
        cur = self._cursor()
        try:
            return cur.execute(sql, b.params).fetchall()
        finally:
            cur.close()

    def count(self, table_ref: str, where: Sequence[Condition] = ()) -> int:
        b = SqlBuilder("?")
        sql = f"SELECT count(*) FROM {self._table(table_ref)}" + b.where(where)
        cur = self._cursor()
        try:
            row = cur.execute(sql, b.params).fetchone()
            return int(row[0]) if row else 0
        finally:
            cur.close()

    def iter_batches(
        self,
        table_ref: str,
        columns: Sequence[str],
        where: Sequence[Condition] = (),
        order: Sequence[Order] = (),
        batch_size: int = 10000,
    ) -> Iterator[list[tuple[Any, ...]]]:
        b = SqlBuilder("?")
        sql = f"SELECT {', '.join(quote_ident(c) for c in columns)} FROM {self._table(table_ref)}"
        sql += b.where(where) + b.order_by(order, "rowid")
        cur = self._cursor()
        try:
            cur.execute(sql, b.params)
            while batch := cur.fetchmany(batch_size):
                yield batch
        finally:
            cur.close()

    def iter_arrow(
        self,
        table_ref: str,
        columns: Sequence[str],
        schema: pa.Schema,
        where: Sequence[Condition] = (),
        order: Sequence[Order] = (),
        batch_size: int = 50000,
    ) -> Iterator[pa.RecordBatch]:
        b = SqlBuilder("?")
        sql = f"SELECT {', '.join(quote_ident(c) for c in columns)} FROM {self._table(table_ref)}"
        sql += b.where(where) + b.order_by(order, "rowid")
        cur = self._cursor()
        try:
            reader = cur.sql(sql, params=b.params).to_arrow_reader(batch_size)
            for batch in reader:
                if batch.num_rows:
                    yield pa.Table.from_batches([batch]).cast(schema).combine_chunks().to_batches()[0]
        finally:
            cur.close()

    def aggregate(
        self,
        table_ref: str,
        groups: Sequence[str],
        bucket: Bucket | None,
        metrics: Sequence[Metric],
        where: Sequence[Condition] = (),
        order: Sequence[Order] = (),
        limit: int = 1000,
    ) -> list[tuple[Any, ...]]:
        b = SqlBuilder("?")
        sql = aggregate_sql(b, self._table(table_ref), groups, bucket, metrics, where, order, limit)
        cur = self._cursor()
        try:
            return cur.execute(sql, b.params).fetchall()
        finally:
            cur.close()

    def run_sql(
        self, sql: str, tables: dict[str, tuple[str, list[str]]], max_rows: int, timeout_s: float
    ) -> SqlResult:
        con = _sandbox({name: (self.path(ref), cols) for name, (ref, cols) in tables.items()})
        timer = threading.Timer(timeout_s, con.interrupt)
        timer.start()
        try:
            cur = con.execute(sql)
            columns = [d[0] for d in cur.description or []]
            rows = cur.fetchmany(max_rows + 1)
        except duckdb.InterruptException:
            raise SqlTimeout(f"The query ran longer than {timeout_s:g} s and was stopped.") from None
        except duckdb.Error as exc:
            raise SqlFailed(str(exc).splitlines()[0][:300]) from None
        finally:
            timer.cancel()
            con.close()
        return SqlResult(columns=columns, rows=rows[:max_rows], truncated=len(rows) > max_rows)

    def query_versions(self, sql: str, params: Sequence[Any], tables: Mapping[str, str]) -> list[tuple[Any, ...]]:
        for name, ref in tables.items():
            sql = sql.replace("{" + name + "}", self._table(ref))
        cur = self._cursor()
        try:
            return cur.execute(sql, list(params)).fetchall()
        finally:
            cur.close()

    def copy_version(self, table_ref: str, resource_id: int, version: int) -> str:
        ref = f"r{resource_id}/v{version}"
        target = self.path(ref)
        if target.exists():
            raise FileExistsError(target)
        tmp = target.with_suffix(".copying")
        shutil.copyfile(self.path(table_ref), tmp)
        os.replace(tmp, target)
        return ref

    def close(self) -> None:
        self._con.close()


def _sandbox(sources: dict[str, tuple[Path, list[str]]]) -> duckdb.DuckDBPyConnection:
    """A throw-away in-memory engine that sees exactly the given version files, then is locked down."""
    con = duckdb.connect(
        ":memory:",
        config={
            "threads": "2",
            "memory_limit": "1GB",
            "autoinstall_known_extensions": "false",
            "autoload_known_extensions": "false",
            "allow_community_extensions": "false",
        },
    )
    for i, (name, (path, columns)) in enumerate(sorted(sources.items())):
        con.execute(f"ATTACH '{path}' AS src{i} (READ_ONLY)")
        cols = ", ".join(quote_ident(c) for c in columns)
        con.execute(f"CREATE VIEW {quote_ident(name)} AS SELECT {cols} FROM src{i}.data")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con
