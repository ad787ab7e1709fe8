"""Sign-in, who am I, API tokens, users, memberships and the audit log."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from urbandata.accounts import oidc
from urbandata.accounts import service as accounts
from urbandata.accounts.models import NewToken, Token, User
from urbandata.audit.service import query_log
from urbandata.catalog import service as catalog
from urbandata.errors import Forbidden, Unauthorized
from urbandata.webdeps import CSRF_COOKIE, SESSION_COOKIE, ContextDep, StoresDep

router = APIRouter(prefix="/api/v1", tags=["accounts"])


class LoginBody(BaseModel):
    username: str = Field(max_length=100)
    password: str = Field(max_length=1000)


@router.post("/auth/login", summary="Sign in; sets the session cookie (HttpOnly, SameSite) and a CSRF cookie")
def login(body: LoginBody, response: Response, ctx: ContextDep, stores: StoresDep) -> dict[str, Any]:
    session = accounts.login(ctx, stores, body.username, body.password)
    csrf = _set_session(response, ctx, session.token)
    return {"username": body.username, "csrf_token": csrf, "expires_at": session.expires_at}


def _set_session(response: Response, ctx: Any, token: str) -> str:
    csrf = secrets.token_urlsafe(24)
    secure = ctx.settings.secure_cookies
    max_age = ctx.settings.session_hours * 3600
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, secure=secure, samesite="lax", path="/")
    response.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, httponly=False, secure=secure, samesite="strict", path="/")
    return csrf


OIDC_COOKIE = "ud_oidc"


@router.get("/auth/oidc/login", summary="Sign in with the city's OpenID Connect provider (redirect)")
def oidc_login(
    request: Request, ctx: ContextDep, stores: StoresDep, next: Annotated[str, Query(max_length=500)] = "/"
) -> RedirectResponse:
    challenge = oidc.start(ctx.settings, stores, str(request.url_for("oidc_callback")))
    response = RedirectResponse(challenge.url, status_code=302)
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response.set_cookie(
        OIDC_COOKIE,
        f"{challenge.state}.{challenge.nonce}.{target}",
        max_age=600,
        httponly=True,
        secure=ctx.settings.secure_cookies,
        samesite="lax",
        path="/api/v1/auth/oidc",
    )
    return response


@router.get("/auth/oidc/callback", summary="Return from the OpenID Connect provider", name="oidc_callback")
def oidc_callback(
    request: Request,
    ctx: ContextDep,
    stores: StoresDep,
    code: Annotated[str, Query(max_length=4000)],
    state: Annotated[str, Query(max_length=200)],
) -> RedirectResponse:
    expected_state, _, rest = request.cookies.get(OIDC_COOKIE, "").partition(".")
    nonce, _, target = rest.partition(".")
    if not expected_state or not secrets.compare_digest(expected_state, state):
        raise Forbidden("The sign-in was not started here (state mismatch).", code="oidc_state")
    session = oidc.complete(ctx, stores, code, str(request.url_for("oidc_callback")), nonce)
    response = RedirectResponse(target or "/", status_code=303)
    _set_session(response, ctx, session.token)
    response.delete_cookie(OIDC_COOKIE, path="/api/v1/auth/oidc")
    return response


@router.post("/auth/logout", summary="Sign out (revokes the session)")
def logout(response: Response, ctx: ContextDep, stores: StoresDep) -> dict[str, str]:
    if ctx.actor.username and ctx.actor.kind == "user":
        for t in accounts.list_tokens(ctx, stores, ctx.actor.username):
            if t.name == "session" and not t.revoked:
                accounts.revoke_token(ctx, stores, ctx.actor.username, str(t.id))
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return {"status": "signed out"}


@router.get("/whoami", summary="Who the request acts as, and what it can see")
def whoami(ctx: ContextDep, stores: StoresDep) -> dict[str, Any]:
    a = ctx.actor
    visible = catalog.search_datasets(ctx, stores, "", page_size=100)
    return {
        "username": a.username,
        "kind": a.kind,
        "is_admin": a.is_admin,
        "organizations": [{"organization": o, "role": r} for o, r in a.org_roles],
        "token": {
            "scope": a.token_scope,
            "organization": a.limit_org,
            "datasets": [s for s, _ in a.limit_datasets] if a.limit_datasets is not None else None,
        }
        if a.token_scope
        else None,
        "can_see": {
            "datasets": visible.count,
            "by_access_level": {f.value: f.count for f in visible.facets.get("access_level", [])},
            "first_datasets": [d.slug for d in visible.results],
            "sql_tables": len(catalog.readable_sql_tables(ctx, stores)),
        },
    }


class TokenBody(BaseModel):
    name: str = Field(default="api", max_length=200)
    scope: str = Field(default="read", pattern="^(read|write)$")
    expires_days: int | None = Field(default=90, ge=1, le=3650)
    organization: str | None = None
    datasets: list[str] | None = None


def _me(ctx: Any) -> str:
    if not ctx.actor.username or ctx.actor.kind == "anonymous":
        raise Unauthorized("Sign in or send a token.", code="unauthenticated")
    return str(ctx.actor.username)


@router.get("/tokens", summary="Your API tokens (never the secret)")
def tokens(ctx: ContextDep, stores: StoresDep) -> list[Token]:
    return [t for t in accounts.list_tokens(ctx, stores, _me(ctx)) if t.name != "session"]


@router.post("/tokens", status_code=201, summary="Create an API token; the token is shown once")
def create_token(body: TokenBody, ctx: ContextDep, stores: StoresDep) -> NewToken:
    return accounts.create_token(
        ctx,
        stores,
        _me(ctx),
        name=body.name,
        scope=body.scope,
        expires_days=body.expires_days,
        limit_org=body.organization,
        limit_datasets=body.datasets,
    )


@router.delete("/tokens/{token}", summary="Revoke one of your tokens (by id or prefix)")
def revoke_token(token: str, ctx: ContextDep, stores: StoresDep) -> Token:
    return accounts.revoke_token(ctx, stores, _me(ctx), token)


class UserBody(BaseModel):
    username: str
    password: str | None = Field(default=None, max_length=1000)
    is_admin: bool = False
    display_name: str | None = None
    email: str | None = None


@router.get("/users", summary="Users (admins)")
def users(ctx: ContextDep, stores: StoresDep) -> list[User]:
    return accounts.list_users(ctx, stores)


@router.post("/users", status_code=201, summary="Create a user (admins)")
def add_user(body: UserBody, ctx: ContextDep, stores: StoresDep) -> User:
    return accounts.add_user(
        ctx,
        stores,
        body.username,
        password=body.password,
        is_admin=body.is_admin,
        display_name=body.display_name,
        email=body.email,
    )


class MemberBody(BaseModel):
    username: str
    role: str = Field(pattern="^(steward|editor|member)$")


@router.put("/organizations/{org}/members", summary="Give a user a role in an organisation (stewards, admins)")
def set_member(org: str, body: MemberBody, ctx: ContextDep, stores: StoresDep) -> User:
    return accounts.set_member(ctx, stores, org, body.username, body.role)


@router.get("/audit", summary="The audit log (admins)")
def audit(
    ctx: ContextDep,
    stores: StoresDep,
    action: Annotated[str | None, Query(max_length=60)] = None,
    actor: Annotated[str | None, Query(max_length=100)] = None,
    target: Annotated[str | None, Query(max_length=300)] = None,
    since: dt.datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 100,
) -> list[dict[str, Any]]:
    return query_log(ctx, stores, action=action, actor=actor, target=target, since=since, limit=limit)
