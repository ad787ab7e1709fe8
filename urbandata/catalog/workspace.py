"""The steward's view of the catalog: the datasets of their organisations (internal ones included),
the organisations they may create datasets in, and a dataset opened for editing."""

from __future__ import annotations

from urbandata.auth.actor import RequestContext
from urbandata.auth.guard import guarded
from urbandata.auth.policy import has_permission, require_permission
from urbandata.catalog.models import Dataset, Organization, SearchResult
from urbandata.catalog.service import FACETS, get_dataset, list_orgs, search_datasets
from urbandata.errors import Unauthorized
from urbandata.stores import Stores

PAGE_SIZE = 50


def _signed_in(ctx: RequestContext) -> None:
    if not ctx.actor.is_staff:
        raise Unauthorized("Sign in to use the workspace.", code="unauthenticated")


@guarded("dataset.read")
def my_datasets(ctx: RequestContext, stores: Stores, page: int = 1) -> SearchResult:
    """Datasets of the actor's organisations (every organisation for admins), newest change first."""
    _signed_in(ctx)
    orgs = [o for o, _ in ctx.actor.org_roles]
    if not ctx.actor.is_admin and not orgs:
        search_datasets(ctx, stores, "", {}, "modified", 1, 1)  # asks the policy; nothing to list
        return SearchResult(count=0, results=[], facets={f: [] for f in FACETS}, page=page, page_size=PAGE_SIZE)
    filters = {} if ctx.actor.is_admin else {"organization": orgs}
    return search_datasets(ctx, stores, "", filters, "modified", page, PAGE_SIZE)


@guarded("dataset.create")
def writable_orgs(ctx: RequestContext, stores: Stores) -> list[Organization]:
    """Organisations in which the actor may create datasets."""
    _signed_in(ctx)
    return [o for o in list_orgs(ctx, stores) if has_permission(ctx.actor, "dataset.create", o.slug)]


@guarded("dataset.update")
def editable_dataset(ctx: RequestContext, stores: Stores, slug: str) -> Dataset:
    """A dataset the actor may change (404 if invisible, 403 if it belongs to another organisation)."""
    _signed_in(ctx)
    ds = get_dataset(ctx, stores, slug)
    require_permission(ctx.actor, "dataset.update", ds.organization, slug)
    return ds
