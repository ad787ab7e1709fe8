"""Who is calling: turn an API token (Bearer, or Basic with user name + token) or a session into an Actor."""

from __future__ import annotations

import datetime as dt

from urbandata.accounts import repository as repo
from urbandata.audit.service import record
from urbandata.auth.actor import Actor, RequestContext
from urbandata.auth.secrets import TOKEN_PREFIX, hash_token
from urbandata.errors import Unauthorized
from urbandata.stores import Stores


def actor_for_token(ctx: RequestContext, stores: Stores, token: str, username: str | None = None) -> Actor:
    """The actor behind a token; forged, expired, revoked tokens and disabled users give 401 (audited)."""
    problem: str | None = None
    with stores.engine.begin() as conn:
        row = repo.token_by_hash(conn, hash_token(token)) if token.startswith(TOKEN_PREFIX) else None
        user = repo.get_user_by_id(conn, row.user_id) if row is not None else None
        now = dt.datetime.now(dt.UTC)
        if row is None or user is None:
            problem = "unknown token"
        elif row.revoked_at is not None:
            problem = "revoked token"
        elif row.expires_at is not None and repo.aware(row.expires_at) <= now:  # type: ignore[operator]
            problem = "expired token"
        elif user.disabled:
            problem = "disabled user"
        elif username is not None and username != user.username:
            problem = "token of another user"
        if problem is not None:
            record(
                ctx,
                conn,
                "auth.token",
                "token",
                token[:10] if row else None,
                outcome="failed",
                details={"reason": problem},
                actor=username or (user.username if user else None),
            )
        else:
            assert row is not None and user is not None
            repo.touch_token(conn, row.id)
            limit_datasets = None
            if row.limit_datasets is not None:
                refs = [repo.dataset_ref(conn, slug) for slug in row.limit_datasets]
                limit_datasets = tuple((r.slug, r.org_slug) for r in refs if r is not None)
            return Actor(
                kind="user",
                username=user.username,
                is_admin=bool(user.is_admin),
                org_roles=tuple(repo.roles_of(conn, user.id)),  # type: ignore[arg-type]
                granted_datasets=tuple(repo.grants_of(conn, user.id)),
                token_scope=row.scope if row.name != "session" else None,
                limit_org=row.limit_org,
                limit_datasets=limit_datasets,
            )
    raise Unauthorized("Invalid, expired or revoked token.", code="invalid_token")


def actor_for_user(stores: Stores, username: str) -> Actor:
    """The actor of an account acting without a token (a configured service account, e.g. MQTT
    ingestion): its admin flag, roles and grants apply. Unknown or disabled accounts give 401."""
    with stores.engine.connect() as conn:
        user = repo.get_user(conn, username)
        if user is None or user.disabled:
            raise Unauthorized(f"No active account {username!r}.", code="unknown_account")
        return Actor(
            kind="user",
            username=user.username,
            is_admin=bool(user.is_admin),
            org_roles=tuple(repo.roles_of(conn, user.id)),  # type: ignore[arg-type]
            granted_datasets=tuple(repo.grants_of(conn, user.id)),
        )
