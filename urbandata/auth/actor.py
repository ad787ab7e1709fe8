"""Who is acting: an anonymous visitor, a signed-in staff account (by session or API token), or the
local operator running the CLI on the platform's machine."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

from urbandata.config import Settings

Role = Literal["steward", "editor", "member"]
ROLES: tuple[Role, ...] = ("steward", "editor", "member")


@dataclass(frozen=True)
class Actor:
    kind: Literal["anonymous", "user", "system"]
    username: str | None = None
    is_admin: bool = False
    org_roles: tuple[tuple[str, Role], ...] = ()
    granted_datasets: tuple[str, ...] = ()
    # set when the actor comes from an API token
    token_scope: Literal["read", "write"] | None = None
    limit_org: str | None = None
    limit_datasets: tuple[tuple[str, str], ...] | None = None  # (dataset slug, its organisation)

    @classmethod
    def anonymous(cls) -> Actor:
        return cls(kind="anonymous")

    @classmethod
    def system(cls) -> Actor:
        """The local operator running the CLI on the platform's machine: full rights."""
        return cls(kind="system", username="system", is_admin=True)

    @property
    def is_staff(self) -> bool:
        return self.kind in ("user", "system")

    @property
    def limited(self) -> bool:
        return self.limit_org is not None or self.limit_datasets is not None

    def role_in(self, org_slug: str) -> Role | None:
        return next((role for org, role in self.org_roles if org == org_slug), None)

    def within_limits(self, org_slug: str | None, dataset_slug: str | None = None) -> bool:
        """Does a token limit (to an organisation or datasets) allow touching this?"""
        if not self.limited:
            return True
        if self.limit_org is not None and org_slug == self.limit_org:
            return True
        return (
            self.limit_datasets is not None
            and dataset_slug is not None
            and any(slug == dataset_slug for slug, _ in self.limit_datasets)
        )


@dataclass(frozen=True)
class RequestContext:
    """The one immutable context every service takes: who acts, with which settings, for which request."""

    actor: Actor
    settings: Settings
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    client_ip: str | None = None
