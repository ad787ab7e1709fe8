"""The one place that decides what an actor may see and do (DESIGN rule 1).

Every read path asks `can_read_dataset` (or filters with `readable_scope`, whose SQL form the
repositories build); every write path asks `require_permission`. Nothing else decides visibility.
Each check marks the current service call as checked (see `auth.guard`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from urbandata.auth.actor import Actor
from urbandata.auth.guard import mark_checked
from urbandata.errors import Forbidden

AccessLevel = Literal["public", "internal", "restricted"]
ACCESS_LEVELS: tuple[AccessLevel, ...] = ("public", "internal", "restricted")

Permission = Literal[
    "dataset.read",
    "dataset.create",
    "dataset.update",
    "resource.load",
    "org.create",
    "org.manage",
    "user.manage",
    "token.manage",
    "audit.read",
    "notification.read",
]
PERMISSIONS: tuple[Permission, ...] = (
    "dataset.read",
    "dataset.create",
    "dataset.update",
    "resource.load",
    "org.create",
    "org.manage",
    "user.manage",
    "token.manage",
    "audit.read",
    "notification.read",
)

_ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "steward": frozenset({"dataset.create", "dataset.update", "resource.load", "org.manage"}),
    "editor": frozenset({"dataset.create", "dataset.update", "resource.load"}),
    "member": frozenset(),
}
_ADMIN_ONLY: frozenset[Permission] = frozenset({"org.create", "user.manage", "audit.read"})
_WRITES: frozenset[Permission] = frozenset(PERMISSIONS) - {"dataset.read", "audit.read", "notification.read"}


@dataclass(frozen=True)
class Scope:
    """What an actor may read: access levels everywhere, levels per organisation, levels per dataset."""

    everywhere: frozenset[str]
    per_org: dict[str, frozenset[str]] = field(default_factory=dict)
    per_dataset: dict[str, frozenset[str]] = field(default_factory=dict)

    def allows(self, access_level: str, org_slug: str, dataset_slug: str) -> bool:
        return (
            access_level in self.everywhere
            or access_level in self.per_org.get(org_slug, frozenset())
            or access_level in self.per_dataset.get(dataset_slug, frozenset())
        )


_ALL = frozenset(ACCESS_LEVELS)


def readable_scope(actor: Actor) -> Scope:
    """The actor's read scope; repositories turn it into a SQL filter so that search hits, counts
    and facets never include what the actor may not see."""
    mark_checked()
    if actor.is_admin and not actor.limited:
        return Scope(everywhere=_ALL)
    if not actor.is_staff:
        return Scope(everywhere=frozenset({"public"}))
    member_orgs = {org for org, _ in actor.org_roles}
    granted = set(actor.granted_datasets)
    restricted = frozenset({"restricted"})
    if not actor.limited:
        return Scope(
            everywhere=frozenset({"public", "internal"}),
            per_org=dict.fromkeys(member_orgs, restricted),
            per_dataset=dict.fromkeys(granted, restricted),
        )
    # a token limited to an organisation or to datasets reads public data plus non-public data inside its limits
    per_org: dict[str, frozenset[str]] = {}
    per_dataset: dict[str, frozenset[str]] = {}
    if actor.limit_org is not None:
        full = actor.is_admin or actor.limit_org in member_orgs
        per_org[actor.limit_org] = _ALL if full else frozenset({"public", "internal"})
    for slug, org in actor.limit_datasets or ():
        full = actor.is_admin or org in member_orgs or slug in granted
        per_dataset[slug] = _ALL if full else frozenset({"public", "internal"})
    return Scope(everywhere=frozenset({"public"}), per_org=per_org, per_dataset=per_dataset)


def can_read_dataset(actor: Actor, access_level: str, org_slug: str, dataset_slug: str) -> bool:
    """May `actor` see a dataset (its title, metadata, rows, counts) at all?"""
    return readable_scope(actor).allows(access_level, org_slug, dataset_slug)


def has_permission(
    actor: Actor, permission: Permission, org_slug: str | None = None, dataset_slug: str | None = None
) -> bool:
    mark_checked()
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    if permission in _WRITES and actor.token_scope == "read":
        return False
    if permission == "token.manage":
        return actor.is_staff  # each user manages their own tokens; the service checks ownership
    if permission == "notification.read":
        return actor.kind == "user"  # each signed-in user reads (and marks read) only their own notifications
    if permission == "dataset.read":
        return True
    if not actor.within_limits(org_slug, dataset_slug) and permission in _WRITES:
        return False
    if actor.is_admin:
        return True
    if permission in _ADMIN_ONLY:
        return False
    role = actor.role_in(org_slug) if org_slug else None
    return role is not None and permission in _ROLE_PERMISSIONS[role]


def require_permission(
    actor: Actor, permission: Permission, org_slug: str | None = None, dataset_slug: str | None = None
) -> None:
    if not has_permission(actor, permission, org_slug, dataset_slug):
        raise Forbidden(f"Not allowed: {permission}.", permission=permission, organization=org_slug)


def visible_columns(actor: Actor, org_slug: str, columns: list[str], masked: list[str] | None) -> list[str]:
    """Column masking: masked columns are shown only to members of the owning organisation and admins."""
    mark_checked()
    if not masked or actor.is_admin or actor.role_in(org_slug) is not None:
        return columns
    hidden = set(masked)
    return [c for c in columns if c not in hidden]
