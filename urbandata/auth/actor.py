"""Who is acting: an anonymous visitor, a signed-in staff account, or the local operator (CLI)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

from urbandata.config import Settings

Role = Literal["steward", "editor", "member"]


@dataclass(frozen=True)
class Actor:
    kind: Literal["anonymous", "user", "system"]
    username: str | None = None
    is_admin: bool = False
    org_roles: tuple[tuple[str, Role], ...] = ()

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

    def role_in(self, org_slug: str) -> Role | None:
        return next((role for org, role in self.org_roles if org == org_slug), None)


@dataclass(frozen=True)
class RequestContext:
    """The one immutable context every service takes: who acts, with which settings, for which request."""

    actor: Actor
    settings: Settings
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
