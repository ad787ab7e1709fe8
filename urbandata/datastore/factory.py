"""Choose the datastore backend by URL scheme."""

from __future__ import annotations

from pathlib import Path

from urbandata.datastore.base import Datastore
from urbandata.errors import ConfigError


def open_datastore(url: str, *, pg_schema: str = "urbandata_data") -> Datastore:
    if url.startswith("duckdb://"):
        from urbandata.datastore.duckdb import DuckDBDatastore

        return DuckDBDatastore(Path(url.removeprefix("duckdb://")))
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        from urbandata.datastore.postgres import PostgresDatastore

        return PostgresDatastore(url, schema=pg_schema)
    raise ConfigError(f"Unsupported datastore URL scheme: {url.split(':')[0]}", code="bad_datastore_url")
