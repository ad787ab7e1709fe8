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


def masked_internal_table(
    ctx: RequestContext, stores: Stores, file: Path, resource: str, masked: list[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """An internal dataset `intern` of department amt-a with `file` loaded as `resource` and
    `masked` columns; returns the auth headers of a member of amt-a and of an editor of amt-b."""
    from urbandata.accounts import service as accounts

    make_org(ctx, stores, "amt-a", "Amt A")
    make_org(ctx, stores, "amt-b", "Amt B")
    make_dataset(ctx, stores, "intern", org="amt-a", title="Intern", access_level="internal")
    service.ingest_file(ctx, stores, "intern", file, resource=resource)
    service.set_masked_columns(ctx, stores, "intern", resource, masked)
    accounts.add_user(ctx, stores, "anna")
    accounts.add_user(ctx, stores, "bernd")
    accounts.set_member(ctx, stores, "amt-a", "anna", "member")
    accounts.set_member(ctx, stores, "amt-b", "bernd", "editor")
    member = {"Authorization": f"Bearer {accounts.create_token(ctx, stores, 'anna').token}"}
    foreign = {"Authorization": f"Bearer {accounts.create_token(ctx, stores, 'bernd').token}"}
    return member, foreign
