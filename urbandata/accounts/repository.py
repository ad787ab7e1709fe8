"""SQL of accounts. Only the accounts services import this module."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from urbandata.db.tables import api_tokens, dataset_grants, datasets, memberships, organizations, users

Row = sa.engine.Row[Any]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def aware(ts: dt.datetime | None) -> dt.datetime | None:
    """SQLite returns naive datetimes; everything is stored in UTC."""
    return ts.replace(tzinfo=dt.UTC) if ts is not None and ts.tzinfo is None else ts


def get_user(conn: sa.Connection, username: str) -> Row | None:
    return conn.execute(sa.select(users).where(users.c.username == username)).first()


def get_user_by_id(conn: sa.Connection, user_id: int) -> Row | None:
    return conn.execute(sa.select(users).where(users.c.id == user_id)).first()


def insert_user(conn: sa.Connection, values: dict[str, Any]) -> int:
    res = conn.execute(users.insert().values(**values, created_at=now()))
    return int(res.inserted_primary_key[0])  # type: ignore[index]


def update_user(conn: sa.Connection, user_id: int, values: dict[str, Any]) -> None:
    conn.execute(users.update().where(users.c.id == user_id).values(**values))


def list_users(conn: sa.Connection) -> Sequence[Row]:
    return conn.execute(sa.select(users).order_by(users.c.username)).all()


def org_id(conn: sa.Connection, slug: str) -> int | None:
    return conn.execute(sa.select(organizations.c.id).where(organizations.c.slug == slug)).scalar()


def set_membership(conn: sa.Connection, org: int, user_id: int, role: str) -> str | None:
    """Set a role; return the previous one."""
    prev = conn.execute(
        sa.select(memberships.c.role).where(memberships.c.org_id == org, memberships.c.user_id == user_id)
    ).scalar()
    if prev is None:
        conn.execute(memberships.insert().values(org_id=org, user_id=user_id, role=role))
    else:
        conn.execute(
            memberships.update().where(memberships.c.org_id == org, memberships.c.user_id == user_id).values(role=role)
        )
    return str(prev) if prev is not None else None


def remove_membership(conn: sa.Connection, org: int, user_id: int) -> bool:
    res = conn.execute(memberships.delete().where(memberships.c.org_id == org, memberships.c.user_id == user_id))
    return bool(res.rowcount)


def roles_of(conn: sa.Connection, user_id: int) -> list[tuple[str, str]]:
    q = (
        sa.select(organizations.c.slug, memberships.c.role)
        .select_from(memberships.join(organizations, organizations.c.id == memberships.c.org_id))
        .where(memberships.c.user_id == user_id)
        .order_by(organizations.c.slug)
    )
    return [(r.slug, r.role) for r in conn.execute(q)]


def members_of(conn: sa.Connection, org: int) -> list[tuple[str, str]]:
    q = (
        sa.select(users.c.username, memberships.c.role)
        .select_from(memberships.join(users, users.c.id == memberships.c.user_id))
        .where(memberships.c.org_id == org)
        .order_by(users.c.username)
    )
    return [(r.username, r.role) for r in conn.execute(q)]


def grants_of(conn: sa.Connection, user_id: int) -> list[str]:
    q = (
        sa.select(datasets.c.slug)
        .select_from(dataset_grants.join(datasets, datasets.c.id == dataset_grants.c.dataset_id))
        .where(dataset_grants.c.user_id == user_id)
    )
    return [r.slug for r in conn.execute(q)]


def dataset_ref(conn: sa.Connection, slug: str) -> Any:
    q = (
        sa.select(datasets.c.id, datasets.c.slug, organizations.c.slug.label("org_slug"))
        .select_from(datasets.join(organizations, organizations.c.id == datasets.c.org_id))
        .where(datasets.c.slug == slug)
    )
    return conn.execute(q).first()


def add_grant(conn: sa.Connection, dataset_id: int, user_id: int) -> None:
    exists = conn.execute(
        sa.select(dataset_grants).where(dataset_grants.c.dataset_id == dataset_id, dataset_grants.c.user_id == user_id)
    ).first()
    if not exists:
        conn.execute(dataset_grants.insert().values(dataset_id=dataset_id, user_id=user_id))


def insert_token(conn: sa.Connection, values: dict[str, Any]) -> int:
    res = conn.execute(api_tokens.insert().values(**values, created_at=now()))
    return int(res.inserted_primary_key[0])  # type: ignore[index]


def token_by_hash(conn: sa.Connection, token_hash: str) -> Row | None:
    return conn.execute(sa.select(api_tokens).where(api_tokens.c.token_hash == token_hash)).first()


def token_by_id(conn: sa.Connection, token_id: int) -> Row | None:
    return conn.execute(sa.select(api_tokens).where(api_tokens.c.id == token_id)).first()


def tokens_of(conn: sa.Connection, user_id: int) -> Sequence[Row]:
    return conn.execute(sa.select(api_tokens).where(api_tokens.c.user_id == user_id).order_by(api_tokens.c.id)).all()


def revoke_token(conn: sa.Connection, token_id: int) -> None:
    conn.execute(api_tokens.update().where(api_tokens.c.id == token_id).values(revoked_at=now()))


def touch_token(conn: sa.Connection, token_id: int) -> None:
    conn.execute(api_tokens.update().where(api_tokens.c.id == token_id).values(last_used_at=now()))


def get_user_by_subject(conn: sa.Connection, subject: str) -> Row | None:
    return conn.execute(sa.select(users).where(users.c.oidc_subject == subject)).first()


def recipients_of(conn: sa.Connection, org_slug: str, roles: Sequence[str]) -> Sequence[Any]:
    """Enabled users holding one of `roles` in the organisation: id, username, display name, e-mail."""
    q = (
        sa.select(users.c.id, users.c.username, users.c.display_name, users.c.email)
        .select_from(
            memberships.join(users, users.c.id == memberships.c.user_id).join(
                organizations, organizations.c.id == memberships.c.org_id
            )
        )
        .where(organizations.c.slug == org_slug, memberships.c.role.in_(list(roles)), users.c.disabled.is_(False))
        .order_by(users.c.username)
    )
    return conn.execute(q).all()
