"""Account actions: users, memberships, grants, API tokens, sign-in. Every change is audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from urbandata.accounts import repository as repo
from urbandata.accounts.models import NewToken, Recipient, Token, User, check_username
from urbandata.audit.service import record
from urbandata.auth.actor import ROLES, RequestContext
from urbandata.auth.guard import guarded, mark_checked
from urbandata.auth.policy import require_permission
from urbandata.auth.secrets import hash_password, new_token, verify_password
from urbandata.config import Settings
from urbandata.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from urbandata.stores import Stores


def _user(conn: Any, row: Any) -> User:
    return User(
        username=row.username,
        display_name=row.display_name,
        email=row.email,
        is_admin=row.is_admin,
        disabled=row.disabled,
        organizations=repo.roles_of(conn, row.id),
        created_at=row.created_at,
        last_login_at=row.last_login_at,
    )


@guarded("user.manage")
def add_user(
    ctx: RequestContext,
    stores: Stores,
    username: str,
    *,
    password: str | None = None,
    is_admin: bool = False,
    display_name: str | None = None,
    email: str | None = None,
) -> User:
    require_permission(ctx.actor, "user.manage")
    check_username(username)
    if password is not None and len(password) < 10:
        raise InvalidInput("A password needs at least 10 characters", code="weak_password", parameter="password")
    with stores.engine.begin() as conn:
        if repo.get_user(conn, username):
            raise Conflict(f"User {username!r} exists already", code="user_exists", parameter="username")
        repo.insert_user(
            conn,
            {
                "username": username,
                "display_name": display_name,
                "email": email,
                "is_admin": is_admin,
                "password_hash": hash_password(password) if password else None,
            },
        )
        record(ctx, conn, "user.create", "user", username, details={"is_admin": is_admin})
        return _user(conn, repo.get_user(conn, username))


@guarded("user.manage")
def list_users(ctx: RequestContext, stores: Stores) -> list[User]:
    require_permission(ctx.actor, "user.manage")
    with stores.engine.connect() as conn:
        return [_user(conn, r) for r in repo.list_users(conn)]


@guarded("user.manage")
def set_disabled(ctx: RequestContext, stores: Stores, username: str, disabled: bool = True) -> User:
    require_permission(ctx.actor, "user.manage")
    with stores.engine.begin() as conn:
        row = repo.get_user(conn, username)
        if row is None:
            raise NotFound(f"No user {username!r}", code="user_not_found", parameter="username")
        repo.update_user(conn, row.id, {"disabled": disabled})
        record(ctx, conn, "user.disable" if disabled else "user.enable", "user", username)
        return _user(conn, repo.get_user(conn, username))


@guarded("org.manage")
def set_member(ctx: RequestContext, stores: Stores, org: str, username: str, role: str) -> User:
    """Give a user a role in an organisation (stewards of that organisation and admins)."""
    if role not in ROLES:
        raise InvalidInput(f"Unknown role {role!r}; use {', '.join(ROLES)}", parameter="role")
    require_permission(ctx.actor, "org.manage", org)
    with stores.engine.begin() as conn:
        org_id = repo.org_id(conn, org)
        if org_id is None:
            raise NotFound(f"No organization {org!r}", code="org_not_found", parameter="org")
        row = repo.get_user(conn, username)
        if row is None:
            raise NotFound(f"No user {username!r}", code="user_not_found", parameter="username")
        if ctx.actor.username == username and not ctx.actor.is_admin:
            raise Forbidden("You cannot change your own role.", code="self_role_change")
        before = repo.set_membership(conn, org_id, row.id, role)
        record(
            ctx,
            conn,
            "org.member.set",
            "organization",
            org,
            details={"user": username, "before": before, "after": role},
        )
        return _user(conn, repo.get_user(conn, username))


@guarded("org.manage")
def remove_member(ctx: RequestContext, stores: Stores, org: str, username: str) -> None:
    require_permission(ctx.actor, "org.manage", org)
    with stores.engine.begin() as conn:
        org_id, row = repo.org_id(conn, org), repo.get_user(conn, username)
        if org_id is None or row is None or not repo.remove_membership(conn, org_id, row.id):
            raise NotFound(f"{username!r} is not a member of {org!r}", code="member_not_found")
        record(ctx, conn, "org.member.remove", "organization", org, details={"user": username})


@guarded("org.manage")
def grant_dataset(ctx: RequestContext, stores: Stores, dataset: str, username: str) -> None:
    """Let a named user read a restricted dataset (stewards of its organisation and admins)."""
    with stores.engine.begin() as conn:
        ds = repo.dataset_ref(conn, dataset)
        if ds is None:
            raise NotFound(f"No dataset {dataset!r}", code="dataset_not_found", parameter="dataset")
        require_permission(ctx.actor, "org.manage", ds.org_slug)
        row = repo.get_user(conn, username)
        if row is None:
            raise NotFound(f"No user {username!r}", code="user_not_found", parameter="username")
        repo.add_grant(conn, ds.id, row.id)
        record(ctx, conn, "dataset.grant", "dataset", dataset, details={"user": username})


def _token(row: Any) -> Token:
    return Token(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        scope=row.scope,
        limit_org=row.limit_org,
        limit_datasets=row.limit_datasets,
        expires_at=repo.aware(row.expires_at),
        revoked=row.revoked_at is not None,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
    )


def _token_owner(ctx: RequestContext, conn: Any, username: str) -> Any:
    require_permission(ctx.actor, "token.manage")
    if username != ctx.actor.username and not ctx.actor.is_admin:
        raise Forbidden("You can only manage your own tokens.", code="not_your_token")
    row = repo.get_user(conn, username)
    if row is None:
        raise NotFound(f"No user {username!r}", code="user_not_found", parameter="username")
    return row


@guarded("token.manage")
def create_token(
    ctx: RequestContext,
    stores: Stores,
    username: str,
    *,
    name: str = "api",
    scope: str = "read",
    expires_days: int | None = 90,
    limit_org: str | None = None,
    limit_datasets: list[str] | None = None,
) -> NewToken:
    if scope not in ("read", "write"):
        raise InvalidInput("scope must be read or write", parameter="scope")
    if expires_days is not None and not 1 <= expires_days <= 3650:
        raise InvalidInput("expires must be between 1 and 3650 days", parameter="expires")
    if ctx.actor.token_scope == "read" and scope == "write":
        raise Forbidden("A read-only token cannot create a write token.", code="scope_escalation")
    with stores.engine.begin() as conn:
        owner = _token_owner(ctx, conn, username)
        if owner.disabled:
            raise Forbidden(f"User {username!r} is disabled.", code="user_disabled")
        if limit_org is not None and repo.org_id(conn, limit_org) is None:
            raise NotFound(f"No organization {limit_org!r}", code="org_not_found", parameter="org")
        for slug in limit_datasets or []:
            if repo.dataset_ref(conn, slug) is None:
                raise NotFound(f"No dataset {slug!r}", code="dataset_not_found", parameter="dataset")
        plain, digest, prefix = new_token()
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=expires_days) if expires_days else None
        token_id = repo.insert_token(
            conn,
            {
                "user_id": owner.id,
                "name": name[:200],
                "token_hash": digest,
                "prefix": prefix,
                "scope": scope,
                "limit_org": limit_org,
                "limit_datasets": limit_datasets,
                "expires_at": expires,
            },
        )
        record(
            ctx,
            conn,
            "token.create",
            "token",
            f"{username}/{prefix}",
            details={"scope": scope, "expires_days": expires_days, "org": limit_org, "datasets": limit_datasets},
        )
        return NewToken(**_token(repo.token_by_id(conn, token_id)).model_dump(), token=plain)


@guarded("token.manage")
def list_tokens(ctx: RequestContext, stores: Stores, username: str) -> list[Token]:
    with stores.engine.connect() as conn:
        owner = _token_owner(ctx, conn, username)
        return [_token(r) for r in repo.tokens_of(conn, owner.id)]


@guarded("token.manage")
def revoke_token(ctx: RequestContext, stores: Stores, username: str, token: str) -> Token:
    """Revoke one of `username`'s tokens, named by its id or its prefix."""
    with stores.engine.begin() as conn:
        owner = _token_owner(ctx, conn, username)
        match = [t for t in repo.tokens_of(conn, owner.id) if token in (str(t.id), t.prefix)]
        if len(match) != 1:
            raise NotFound(f"No token {token!r} of {username!r}", code="token_not_found", parameter="token")
        repo.revoke_token(conn, match[0].id)
        record(ctx, conn, "token.revoke", "token", f"{username}/{match[0].prefix}")
        return _token(repo.token_by_id(conn, match[0].id))


def login(ctx: RequestContext, stores: Stores, username: str, password: str) -> NewToken:
    """Check a password and open a portal session (a short-lived token kept in a cookie).

    Wrong user names and wrong passwords give the same answer in the same time; repeated failures
    lock the account for a while. Every attempt is audited.
    """
    mark_checked()  # signing in is open to anyone; the password is the check
    settings = ctx.settings
    failure = Unauthorized("Wrong user name or password.", code="login_failed")
    with stores.engine.begin() as conn:
        row = repo.get_user(conn, username)
        ok = verify_password(row.password_hash if row else None, password)
        now = dt.datetime.now(dt.UTC)
        locked = row is not None and (repo.aware(row.locked_until) or now) > now
        if row is None or not ok or row.disabled or locked:
            if row is not None and not locked:
                failures = row.failed_logins + 1
                values: dict[str, Any] = {"failed_logins": failures}
                if failures >= settings.login_max_failures:
                    values["locked_until"] = now + dt.timedelta(minutes=settings.login_lock_minutes)
                    values["failed_logins"] = 0
                repo.update_user(conn, row.id, values)
            reason = (
                "locked" if locked else "disabled" if row is not None and row.disabled and ok else "bad credentials"
            )
            record(
                ctx, conn, "auth.login", "user", username, outcome="failed", details={"reason": reason}, actor=username
            )
            failed = failure
        else:
            repo.update_user(conn, row.id, {"failed_logins": 0, "locked_until": None, "last_login_at": now})
            record(ctx, conn, "auth.login", "user", username, actor=username)
            return open_session(conn, settings, row.id)
    raise failed


def open_session(conn: Any, settings: Settings, user_id: int) -> NewToken:
    """A portal session: a short-lived write token that travels in an HttpOnly cookie."""
    plain, digest, prefix = new_token()
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=settings.session_hours)
    token_id = repo.insert_token(
        conn,
        {
            "user_id": user_id,
            "name": "session",
            "token_hash": digest,
            "prefix": prefix,
            "scope": "write",
            "expires_at": expires,
        },
    )
    return NewToken(**_token(repo.token_by_id(conn, token_id)).model_dump(), token=plain)


@guarded("dataset.update")
def org_recipients(
    ctx: RequestContext, stores: Stores, org: str, roles: tuple[str, ...] = ("steward", "editor")
) -> list[Recipient]:
    """Who receives the organisation's notifications: its enabled stewards and editors (by default).

    Asked by services that act for the organisation (freshness checks, imports), so the caller must be
    allowed to change the organisation's datasets."""
    require_permission(ctx.actor, "dataset.update", org)
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise InvalidInput(f"Unknown role {unknown[0]!r}; use {', '.join(ROLES)}", parameter="roles")
    with stores.engine.connect() as conn:
        if repo.org_id(conn, org) is None:
            raise NotFound(f"No organization {org!r}", code="org_not_found", parameter="org")
        rows = repo.recipients_of(conn, org, roles)
    return [Recipient(user_id=r.id, username=r.username, display_name=r.display_name, email=r.email) for r in rows]
