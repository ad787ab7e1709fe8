"""Members of an organisation, for its stewards and admins."""

from __future__ import annotations

from urbandata.accounts import repository as repo
from urbandata.auth.actor import RequestContext
from urbandata.auth.guard import guarded
from urbandata.auth.policy import require_permission
from urbandata.errors import NotFound
from urbandata.stores import Stores


@guarded("org.manage")
def list_members(ctx: RequestContext, stores: Stores, org: str) -> list[tuple[str, str]]:
    """(user name, role) of every member of `org`, by user name."""
    require_permission(ctx.actor, "org.manage", org)
    with stores.engine.connect() as conn:
        org_id = repo.org_id(conn, org)
        if org_id is None:
            raise NotFound(f"No organization {org!r}", code="org_not_found", parameter="org")
        return repo.members_of(conn, org_id)
