"""Small builders for tests: organisations, datasets and loads created through the services."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from urbandata.auth.actor import RequestContext
from urbandata.catalog import service
from urbandata.catalog.models import OrganizationIn
from urbandata.stores import Stores

DEMO_DATA = Path(__file__).parents[1] / "urbandata" / "demo" / "data"
BTW = DEMO_DATA / "koeln_btw2013_result_stadtteil.csv"
BUDGET = DEMO_DATA / "koeln_bezirke_einzeldarstellung.csv"


def make_org(ctx: RequestContext, stores: Stores, slug: str = "statistik", name: str = "Referat Statistik") -> None:
    service.create_org(ctx, stores, OrganizationIn(slug=slug, name=name))


def make_dataset(
    ctx: RequestContext, stores: Stores, slug: str, org: str = "statistik", **meta: Any
) -> service.Dataset:
    fields: dict[str, Any] = {"title": slug.replace("-", " ").title(), "access_level": "public", **meta}
    return service.create_dataset(ctx, stores, slug, org, fields)


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path
