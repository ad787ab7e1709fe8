"""The `Datastore` contract. Versions are immutable tables; which one is current lives in the metadata DB.

A load stages a complete, checked DuckDB table first (`StagedTable`); `install` copies or moves it into
the backend under a version-specific name that nothing reads yet. Only the metadata commit that follows
makes it current, so a failed or killed load changes nothing visible.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from urbandata.datastore.aggregation import Bucket, Metric
from urbandata.datastore.sql import Condition, Order


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # Table Schema field type


@dataclass(frozen=True)
class SqlResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool


@dataclass(frozen=True)
class StagedTable:
    """A fully loaded and checked table `data` in a standalone DuckDB file."""

    path: Path
    columns: tuple[Column, ...]
    row_count: int


class Datastore(ABC):
    """Stores resource versions as tables and answers reads on them.

    `table_ref` strings are opaque to callers; they come from `install` and are kept in the metadata DB.
    """

    kind: str

    @abstractmethod
    def install(self, staged: StagedTable, resource_id: int, version: int) -> str:
        """Store a staged table as a new, not yet current version; return its table_ref."""

    @abstractmethod
    def drop(self, table_ref: str) -> None:
        """Remove a version's table (used for versions that never became current, and pruning)."""

    @abstractmethod
    def exists(self, table_ref: str) -> bool: ...

    @abstractmethod
    def publish(self, sql_table: str, table_ref: str, columns: Sequence[Column]) -> None:
        """Point the stable SQL name of a resource at the version now current (after the metadata commit)."""

    @abstractmethod
    def select(
        self,
        table_ref: str,
        columns: Sequence[str],
        where: Sequence[Condition] = (),
        order: Sequence[Order] = (),
        limit: int = 100,
        after: Sequence[Any] | None = None,
    ) -> list[tuple[Any, ...]]:
        """Rows as tuples: the requested columns, then the sort keys and the row id (for cursors).

        Example: columns ["a"], order [Order("b")] -> [(a, b, rowid), ...]
        """

    @abstractmethod
    def count(self, table_ref: str, where: Sequence[Condition] = ()) -> int: ...

    @abstractmethod
    def iter_batches(
        self,
        table_ref: str,
        columns: Sequence[str],
        where: Sequence[Condition] = (),
        order: Sequence[Order] = (),
        batch_size: int = 10000,
    ) -> Iterator[list[tuple[Any, ...]]]:
        """All matching rows in batches, streamed (bounded memory)."""

    @abstractmethod
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
        """Grouped aggregates as tuples: the group columns, the bucket (if any), then the metrics.

        `order` refers to output names (group columns, the bucket's and the metrics' aliases).
        Example: groups ["Bezirk"], metrics [Metric("sum", "CDU", "sum_CDU")] -> [(bezirk, sum), ...]
        """

    def iter_arrow(
        self,
        table_ref: str,
        columns: Sequence[str],
        schema: pa.Schema,
        where: Sequence[Condition] = (),
        order: Sequence[Order] = (),
        batch_size: int = 50000,
    ) -> Iterator[pa.RecordBatch]:
        """All matching rows as Arrow record batches of `schema` (bulk exports). Engines with native
        Arrow output override this; the default builds the batches from row tuples."""
        for rows in self.iter_batches(table_ref, columns, where, order, batch_size):
            cols = list(zip(*rows, strict=True))
            arrays = [pa.array(list(col), type=schema.field(i).type) for i, col in enumerate(cols)]
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)

    @abstractmethod
    def run_sql(
        self, sql: str, tables: dict[str, tuple[str, list[str]]], max_rows: int, timeout_s: float
    ) -> SqlResult:
        """Run a checked read-only query in a sandbox that sees only `tables`.

        `tables` maps each stable name to (table_ref, the columns the caller may see).

        The sandbox has no file or network access, cannot change settings or data, and stops after
        `timeout_s`; at most `max_rows` rows come back (`truncated` tells whether there were more).
        """

    # --- internal reads for quality checks and version diffs (never user SQL) ---

    param_marker: str = "?"  # the parameter marker `query_versions` expects (see datastore.sql.SqlBuilder)
    row_id: str = "rowid"  # the column numbering a version's rows from 0 in load order

    @abstractmethod
    def query_versions(self, sql: str, params: Sequence[Any], tables: Mapping[str, str]) -> list[tuple[Any, ...]]:
        """Run an internal read-only query over version tables.

        Each `{name}` in `sql` is replaced by the table of `tables[name]` (a table_ref); parameters use
        `param_marker`. Only platform code builds these queries (quality checks, diffs), never users.
        """

    @abstractmethod
    def copy_version(self, table_ref: str, resource_id: int, version: int) -> str:
        """Store a copy of an existing version as a new, not yet current version; return its table_ref."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
