"""Organisation members and the user's own API tokens. Twins: /api/v1/organizations/{org}/members,
/api/v1/tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from urbandata.accounts import members as members_service
from urbandata.accounts import service as accounts
from urbandata.accounts.models import NewToken
from urbandata.auth.actor import ROLES, RequestContext
from urbandata.catalog import service as catalog
from urbandata.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from urbandata.portal.forms import PostedDep, to_login
from urbandata.portal.i18n import N_
from urbandata.portal.rendering import choose_language, render, translate
from urbandata.stores import Stores
from urbandata.webdeps import ContextDep, StoresDep

router = APIRouter(include_in_schema=False)
ROLE_LABELS = {"steward": N_("Datenverantwortliche Person"), "editor": N_("Redaktion"), "member": N_("Mitglied")}


def _members_page(
    request: Request, ctx: RequestContext, stores: Stores, org: str, error: str | None = None, status: int = 200
) -> HTMLResponse:
    members = members_service.list_members(ctx, stores, org)
    lang, _ = choose_language(request)
    return render(
        request,
        "workspace/members.html",
        status=status,
        title=translate(lang, N_("Mitglieder")),
        org=catalog.get_org(ctx, stores, org),
        members=members,
        roles=[(r, translate(lang, ROLE_LABELS[r])) for r in ROLES],
        role_labels={r: translate(lang, ROLE_LABELS[r]) for r in ROLES},
        error=error,
    )


@router.get("/workspace/organizations/{org}/members", response_class=HTMLResponse)
def members(org: str, request: Request, ctx: ContextDep, stores: StoresDep) -> Response:
    if not ctx.actor.is_staff:
        return to_login(request)
    return _members_page(request, ctx, stores, org)


@router.post("/workspace/organizations/{org}/members", response_class=HTMLResponse)
def set_member(org: str, request: Request, form: PostedDep, stores: StoresDep) -> Response:
    try:
        accounts.set_member(form.ctx, stores, org, form.text("username"), form.text("role"))
    except (InvalidInput, NotFound) as exc:
        if exc.code == "org_not_found":
            raise
        return _members_page(request, form.ctx, stores, org, exc.message, 400)
    return RedirectResponse(f"/workspace/organizations/{org}/members", status_code=303)


@router.post("/workspace/organizations/{org}/members/{username}/remove")
def remove_member(org: str, username: str, form: PostedDep, stores: StoresDep) -> RedirectResponse:
    accounts.remove_member(form.ctx, stores, org, username)
    return RedirectResponse(f"/workspace/organizations/{org}/members", status_code=303)


def _me(ctx: RequestContext) -> str:
    if ctx.actor.kind != "user" or not ctx.actor.username:
        raise Unauthorized("Sign in to manage your tokens.", code="unauthenticated")
    return ctx.actor.username


def _tokens_page(
    request: Request, ctx: RequestContext, stores: Stores, new: NewToken | None = None, error: str | None = None
) -> HTMLResponse:
    tokens = [t for t in accounts.list_tokens(ctx, stores, _me(ctx)) if t.name != "session"]
    response = render(
        request,
        "workspace/tokens.html",
        status=400 if error else 200,
        title=translate(choose_language(request)[0], N_("API-Schlüssel")),
        tokens=tokens,
        new=new,
        error=error,
    )
    response.headers["Cache-Control"] = "no-store"  # the new secret is shown once
    return response


@router.get("/workspace/tokens", response_class=HTMLResponse)
def tokens(request: Request, ctx: ContextDep, stores: StoresDep) -> Response:
    if ctx.actor.kind != "user":
        return to_login(request)
    return _tokens_page(request, ctx, stores)


@router.post("/workspace/tokens", response_class=HTMLResponse)
def create_token(request: Request, form: PostedDep, stores: StoresDep) -> Response:
    ctx = form.ctx
    days = form.text("expires_days", "90")
    try:
        new = accounts.create_token(
            ctx,
            stores,
            _me(ctx),
            name=form.text("name") or "api",
            scope=form.text("scope") or "read",
            expires_days=int(days) if days.isdigit() else -1,
        )
    except (InvalidInput, Forbidden, Conflict) as exc:
        return _tokens_page(request, ctx, stores, error=exc.message)
    return _tokens_page(request, ctx, stores, new=new)


@router.post("/workspace/tokens/{token_id}/revoke")
def revoke_token(token_id: str, form: PostedDep, stores: StoresDep) -> RedirectResponse:
    accounts.revoke_token(form.ctx, stores, _me(form.ctx), token_id)
    return RedirectResponse("/workspace/tokens", status_code=303)
