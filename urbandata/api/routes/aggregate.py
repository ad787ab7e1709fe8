"""Aggregations for charts and dashboards: /datasets/{slug}/resources/{resource}/aggregate."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from urbandata.catalog import aggregate as aggregate_service
from urbandata.webdeps import ContextDep, StoresDep

router = APIRouter(prefix="/api/v1", tags=["aggregate"])

RESERVED = {"group_by", "metrics", "bucket", "sort", "limit", "version", "as_of"}


def _items(values: list[str] | None) -> list[str]:
    """Comma-separated lists, also given as repeated parameters."""
    return [item for value in values or [] for item in value.split(",") if item.strip()]


@router.get(
    "/datasets/{slug}/resources/{resource}/aggregate",
    summary="Aggregate a resource (group by columns and time buckets)",
    description=(
        "Group by columns (`group_by=col1,col2`) and a time bucket (`bucket=UNIT:COLUMN`, UNIT one of hour, day, "
        "week, month, year, on a date or datetime column) and compute metrics (`metrics=count,sum:COL,avg:COL,"
        "min:COL,max:COL,count_distinct:COL`; `count:COL` counts non-null values). Output names: the group "
        "columns, `bucket`, `count`, `sum_COL`, `avg_COL`, ... `sort=-count,Stadtbezirk` sorts by output names "
        "(default: by the groups). Filters work as for rows (`col=value`, `col__op=value`). At most `limit` "
        "groups come back; `truncated` tells whether there were more."
    ),
)
def aggregate(
    slug: str,
    resource: str,
    request: Request,
    ctx: ContextDep,
    stores: StoresDep,
    group_by: Annotated[list[str] | None, Query(description="Columns to group by, comma-separated.")] = None,
    metrics: Annotated[list[str] | None, Query(description="Metrics, comma-separated; default count.")] = None,
    bucket: Annotated[str | None, Query(max_length=1000, description="Time bucket UNIT:COLUMN.")] = None,
    sort: Annotated[str | None, Query(max_length=2000)] = None,
    limit: Annotated[int | None, Query(ge=1, description="Most groups returned.")] = None,
    version: Annotated[int | None, Query(ge=1)] = None,
    as_of: Annotated[dt.datetime | None, Query()] = None,
) -> dict[str, Any]:
    filters = [(k, v) for k, v in request.query_params.multi_items() if k not in RESERVED]
    q = aggregate_service.AggregateQuery(
        group_by=_items(group_by),
        metrics=_items(metrics),
        bucket=bucket,
        filters=filters,
        sort=sort.split(",") if sort else (),
        limit=limit,
        version=version,
        as_of=as_of,
    )
    result = aggregate_service.aggregate(ctx, stores, slug, resource, q)
    return {
        "groups": result.groups,
        "metrics": result.metrics,
        "fields": result.fields,
        "rows": result.rows,
        "truncated": result.truncated,
        "version": result.table.version,
    }
