"""The one place that decides what an actor may see and do (DESIGN rule 1).

Every read path asks `can_read_dataset` (or filters with `readable_clause_params`); every write path
asks `require_permission`. Nothing else in the code base decides visibility.
"""

from __future__ import annotations

from typing import Literal

from urbandata.auth.actor import Actor
from urbandata.errors import Forbidden

AccessLevel = Literal["public", "internal", "restricted"]
ACCESS_LEVELS: tuple[AccessLevel, ...] = ("public", "internal", "restricted")

Permission = Literal["dataset.read", "dataset.create", "dataset.update", "resource.load", "org.manage", "org.create"]
PERMISSIONS: tuple[Permission, ...] = (
    "dataset.read",
    "dataset.create",
    "dataset.update",
    "resource.load",
    "org.manage",
    "org.create",
)

_WRITE_ROLES: dict[Permission, tuple[str, ...]] = {
    "dataset.create": ("steward", "editor"),
    "dataset.update": ("steward", "editor"),
    "resource.load": ("steward", "editor"),
    "org.manage": ("steward",),
}


def can_read_dataset(actor: Actor, access_level: str, org_slug: str) -> bool:
    """May `actor` see a dataset (its title, metadata, rows, counts) at all?"""
    if actor.is_admin or access_level == "public":
        return True
    if access_level == "internal":
        return actor.is_staff
    if access_level == "restricted":
        return actor.role_in(org_slug) is not None
    return False


def readable_scope(actor: Actor) -> tuple[list[str], list[str]]:
    """(access levels readable everywhere, organisations whose restricted data is readable).

    Repositories turn this into a SQL filter so that search hits, counts and facets never
    include what the actor may not see.
    """
    if actor.is_admin:
        return list(ACCESS_LEVELS), []
    levels = ["public", "internal"] if actor.is_staff else ["public"]
    return levels, [org for org, _ in actor.org_roles]


def has_permission(actor: Actor, permission: Permission, org_slug: str | None = None) -> bool:
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    if actor.is_admin:
        return True
    if permission == "dataset.read":
        return True
    if permission == "org.create":
        return False
    role = actor.role_in(org_slug) if org_slug else None
    return role is not None and role in _WRITE_ROLES.get(permission, ())


def require_permission(actor: Actor, permission: Permission, org_slug: str | None = None) -> None:
    if not has_permission(actor, permission, org_slug):
        raise Forbidden(f"Not allowed: {permission}.", code="forbidden", permission=permission, organization=org_slug)
