"""PostgreSQL backend: each version is a table `r<resource>_v<version>` in one schema.

The stable SQL name of a resource is a view on its current version, replaced in one transaction.
Rows arrive through `COPY ... FROM STDIN`, streamed from the staged DuckDB table (bounded memory).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import psycopg
from psycopg import sql as psql
from psycopg_pool import ConnectionPool

from urbandata.datastore.aggregation import Bucket, Metric, aggregate_sql
from urbandata.datastore.base import Column, Datastore, SqlResult, StagedTable
from urbandata.datastore.sql import Condition, Order, SqlBuilder, SqlFailed, SqlTimeout, quote_ident
from urbandata.datastore.types import POSTGRES_TYPES
from urbandata.errors import ConfigError

_REF = re.compile(r"^r\d+_v\d+$")
_COPY_CHUNK = 1 << 20


def _libpq_url(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


class PostgresDatastore(Datastore):
    kind = "postgresql"
    param_marker = "\x00P"
    row_id = "_rid"

    def __init__(self, url: str, schema: str = "urbandata_data") -> None:
        self.schema = schema
        self.reader_role = f"{schema}_reader"[:63]
        self._pool = ConnectionPool(_libpq_url(url), min_size=1, max_size=8, open=True, kwargs={"autocommit": True})
        with self._pool.connection() as conn:
            conn.execute(psql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(psql.Identifier(schema)))
            self._ensure_reader(conn)

    def _ensure_reader(self, conn: psycopg.Connection[Any]) -> None:
        """The role SQL queries run as: it may read the published views and nothing else."""
        role = psql.Identifier(self.reader_role)
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (self.reader_role,)).fetchone()
        try:
            if not exists:
                conn.execute(psql.SQL("CREATE ROLE {} NOLOGIN").format(role))
            conn.execute(psql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(psql.Identifier(self.schema), role))
            conn.execute(psql.SQL("GRANT {} TO CURRENT_USER").format(role))
        except psycopg.errors.InsufficientPrivilege:
            pass  # run_sql then refuses to run: the operator has to create the role (see README)

    def _qualified(self, name: str) -> str:
        return f"{quote_ident(self.schema)}.{quote_ident(name)}"

    def _table(self, table_ref: str) -> str:
        if not _REF.match(table_ref):
            raise ValueError(f"bad table_ref {table_ref!r}")
        return self._qualified(table_ref)

    def install(self, staged: StagedTable, resource_id: int, version: int) -> str:
        ref = f"r{resource_id}_v{version}"
        cols = ", ".join(f"{quote_ident(c.name)} {POSTGRES_TYPES[c.type]}" for c in staged.columns)
        names = ", ".join(quote_ident(c.name) for c in staged.columns)
        with tempfile.TemporaryDirectory(dir=staged.path.parent) as tmp:
            csv_path = Path(tmp) / "rows.csv"
            con = duckdb.connect(str(staged.path), read_only=True)
            try:
                con.execute(
                    f"COPY (SELECT rowid AS _rid, {names} FROM data ORDER BY rowid) TO '{csv_path}' "
                    "(FORMAT csv, HEADER false, DATEFORMAT '%Y-%m-%d', TIMESTAMPFORMAT '%Y-%m-%d %H:%M:%S.%f')"
                )
            finally:
                con.close()
            with self._pool.connection() as conn, conn.transaction():
                conn.execute(f"CREATE TABLE {self._table(ref)} (_rid bigint PRIMARY KEY, {cols})")
                with (
                    conn.cursor().copy(f"COPY {self._table(ref)} (_rid, {names}) FROM STDIN (FORMAT csv)") as copy,
                    csv_path.open("rb") as fh,
                ):
                    while chunk := fh.read(_COPY_CHUNK):
                        copy.write(chunk)
                conn.execute(f"ANALYZE {self._table(ref)}")
        return ref

    def drop(self, table_ref: str) -> None:
        with self._pool.connection() as conn:
            conn.execute(f"DROP TABLE IF EXISTS {self._table(table_ref)} CASCADE")

    def exists(self, table_ref: str) -> bool:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
                (self.schema, table_ref),
            ).fetchone()
            return row is not None

    def publish(self, sql_table: str, table_ref: str, columns: Sequence[Column]) -> None:
        names = ", ".join(quote_ident(c.name) for c in columns)
        view = self._qualified(sql_table)
        with self._pool.connection() as conn, conn.transaction():
            conn.execute(f"DROP VIEW IF EXISTS {view}")
            conn.execute(f"CREATE VIEW {view} AS SELECT {names} FROM {self._table(table_ref)}")
            conn.execute(f"GRANT SELECT ON {view} TO {quote_ident(self.reader_role)}")

    def _run(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        with self._pool.connection() as conn:
            return conn.execute(sql.replace("%", "%%").replace("\x00P", "%s"), params).fetchall()

    def select(
        self,
        table_ref: str,
        columns: Sequence[str],
        where: Sequence[Condition] = (),
        order: Sequence[Order] = (),
        limit: int = 100,
        after: Sequence[Any] | None = None,
    ) -> list[tuple[Any, ...]]:
        b = SqlBuilder("\x00P")
        cols = [quote_ident(c) for c in columns] + [quote_ident(o.column) for o in order] + ["_rid"]
        # parameters are positional: the filters' come first, as their conditions precede the keyset condition
        filters = [b.condition(c) for c in where]
        keyset = [b.after(order, "_rid", after)] if after is not None else []
        sql = f"SELECT {', '.join(cols)} FROM {self._table(table_ref)}"
        sql += b.where((), [*filters, *keyset]) + b.order_by(order, "_rid") + f" LIMIT {int(limit)}"
        return self._run(sql, b.params)

    def count(self, table_ref: str, where: Sequence[Condition] = ()) -> int:
        b = SqlBuilder("\x00P")
        rows = self._run(f"SELECT count(*) FROM {self._table(table_ref)}" + b.where(where), b.params)
        return int(rows[0][0])

    def iter_batches(
        self,
        table_ref: str,
        columns: Sequence[str],
        where: Sequence[Condition] = (),
        order: Sequence[Order] = (),
        batch_size: int = 10000,
    ) -> Iterator[list[tuple[Any, ...]]]:
        b = SqlBuilder("\x00P")
        sql = f"SELECT {', '.join(quote_ident(c) for c in columns)} FROM {self._table(table_ref)}"
        sql += b.where(where) + b.order_by(order, "_rid")
        with self._pool.connection() as conn, conn.transaction(), conn.cursor(name="export") as cur:
            cur.itersize = batch_size
            cur.execute(sql.replace("%", "%%").replace("\x00P", "%s"), b.params)
            while batch := cur.fetchmany(batch_size):
                yield batch

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
        b = SqlBuilder("\x00P")
        sql = aggregate_sql(b, self._table(table_ref), groups, bucket, metrics, where, order, limit)
        return self._run(sql, b.params)

    def run_sql(
        self, sql: str, tables: dict[str, tuple[str, list[str]]], max_rows: int, timeout_s: float
    ) -> SqlResult:
        """Run as the reader role in a read-only transaction with a statement timeout.

        `tables` are current versions, which the views of the same names show. Where the caller may
        see fewer columns than a view has, the query gets a same-named CTE over the visible columns.
        """
        with self._pool.connection() as conn:
            has_role = conn.execute("SELECT pg_has_role(current_user, %s, 'MEMBER')", (self.reader_role,)).fetchone()
            if not has_role or not has_role[0]:
                raise ConfigError(
                    f"SQL is not available: the PostgreSQL role {self.reader_role} is missing.", code="sql_unavailable"
                )
            try:
                with conn.transaction():
                    conn.execute("SET TRANSACTION READ ONLY")
                    conn.execute(f"SET LOCAL statement_timeout = {max(1, int(timeout_s * 1000))}")
                    conn.execute(f"SET LOCAL ROLE {quote_ident(self.reader_role)}")
                    conn.execute(f"SET LOCAL search_path TO {quote_ident(self.schema)}")
                    cur = conn.execute(self._masked(conn, sql, tables))
                    columns = [d.name for d in cur.description or []]
                    rows = cur.fetchmany(max_rows + 1)
            except psycopg.errors.QueryCanceled:
                raise SqlTimeout(f"The query ran longer than {timeout_s:g} s and was stopped.") from None
            except psycopg.Error as exc:
                raise SqlFailed(str(exc).splitlines()[0][:300]) from None
        return SqlResult(columns=columns, rows=rows[:max_rows], truncated=len(rows) > max_rows)

    def _masked(self, conn: psycopg.Connection[Any], sql: str, tables: dict[str, tuple[str, list[str]]]) -> str:
        ctes = []
        for name, (_ref, columns) in sorted(tables.items()):
            all_cols = conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
                (self.schema, name),
            ).fetchall()
            if len(columns) < len(all_cols):
                cols = ", ".join(quote_ident(c) for c in columns)
                ctes.append(f"{quote_ident(name)} AS (SELECT {cols} FROM {self._qualified(name)})")
        if not ctes:
            return sql
        body = sql.strip()
        head = body[:15].upper()
        if head.startswith("WITH RECURSIVE"):
            return "WITH RECURSIVE " + ", ".join(ctes) + ", " + body[len("WITH RECURSIVE") :].lstrip()
        if head.startswith("WITH"):
            return "WITH " + ", ".join(ctes) + ", " + body[4:].lstrip()
        return "WITH " + ", ".join(ctes) + " " + body

    def query_versions(self, sql: str, params: Sequence[Any], tables: Mapping[str, str]) -> list[tuple[Any, ...]]:
        for name, ref in tables.items():
            sql = sql.replace("{" + name + "}", self._table(ref))
        return self._run(sql, list(params))

    def copy_version(self, table_ref: str, resource_id: int, version: int) -> str:
        ref = f"r{resource_id}_v{version}"
        with self._pool.connection() as conn, conn.transaction():
            conn.execute(f"CREATE TABLE {self._table(ref)} AS SELECT * FROM {self._table(table_ref)}")
            conn.execute(f"ALTER TABLE {self._table(ref)} ADD PRIMARY KEY (_rid)")
            conn.execute(f"ANALYZE {self._table(ref)}")
        return ref

    def close(self) -> None:
        self._pool.close()
