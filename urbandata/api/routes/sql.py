"""Read-only SQL: GET/POST /api/v1/sql, and the list of queryable tables."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from urbandata.catalog import service
from urbandata.catalog.sql_query import run_query
from urbandata.webdeps import ContextDep, StoresDep

router = APIRouter(prefix="/api/v1", tags=["sql"])

DESCRIPTION = (
    "One read-only SELECT over the catalog's tables, by their `sql_table` names (see `/api/v1/sql/tables`). "
    "No file or network access, no writes, no settings; a time limit and a row limit apply "
    "(`truncated` tells when rows were cut). Answers `columns` and `rows` (objects keyed by column)."
)


class SqlBody(BaseModel):
    q: str = Field(max_length=20000, description="The SQL query.")
    max_rows: int | None = Field(default=None, ge=1)


def _answer(ctx: Any, stores: Any, q: str, max_rows: int | None) -> dict[str, Any]:
    a = run_query(ctx, stores, q, max_rows)
    return {"columns": a.columns, "rows": a.rows, "truncated": a.truncated, "tables": a.tables}


@router.get("/sql", summary="Run a read-only SQL query", description=DESCRIPTION)
def sql_get(
    ctx: ContextDep,
    stores: StoresDep,
    q: Annotated[str, Query(max_length=20000)],
    max_rows: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    return _answer(ctx, stores, q, max_rows)


@router.post("/sql", summary="Run a read-only SQL query (JSON body)", description=DESCRIPTION)
def sql_post(body: SqlBody, ctx: ContextDep, stores: StoresDep) -> dict[str, Any]:
    return _answer(ctx, stores, body.q, body.max_rows)


@router.get("/sql/tables", summary="Tables you can query, with their columns")
def sql_tables(ctx: ContextDep, stores: StoresDep) -> list[dict[str, Any]]:
    return [
        {
            "sql_table": t.sql_table,
            "dataset": t.dataset,
            "resource": t.resource,
            "columns": [{"name": f["name"], "type": f["type"]} for f in t.schema.get("fields", [])],
        }
        for t in service.readable_sql_tables(ctx, stores)
    ]
