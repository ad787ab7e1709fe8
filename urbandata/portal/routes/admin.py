"""Admin pages: users (list, create, disable) and organisations (list, create).
Twins: /api/v1/users, PATCH /api/v1/users/{username}, /api/v1/organizations."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from urbandata.accounts import service as accounts
from urbandata.auth.actor import RequestContext
from urbandata.auth.policy import require_permission
from urbandata.catalog import service as catalog
from urbandata.catalog.models import OrganizationIn
from urbandata.errors import Conflict, InvalidInput
from urbandata.portal.forms import PostedDep, to_login
from urbandata.portal.i18n import N_
from urbandata.portal.rendering import choose_language, render, translate
from urbandata.stores import Stores
from urbandata.webdeps import ContextDep, StoresDep

router = APIRouter(include_in_schema=False)


def _admin_page(
    request: Request, template: str, title: str, values: dict[str, Any] | None, error: str | None, **data: Any
) -> HTMLResponse:
    """An admin list page with its create form (the posted values and the error kept on failure)."""
    return render(
        request,
        template,
        status=400 if error else 200,
        title=translate(choose_language(request)[0], title),
        values=values or {},
        error=error,
        **data,
    )


def _users_page(
    request: Request,
    ctx: RequestContext,
    stores: Stores,
    values: dict[str, Any] | None = None,
    error: str | None = None,
) -> HTMLResponse:
    users = accounts.list_users(ctx, stores)
    return _admin_page(request, "admin/users.html", N_("Benutzerkonten"), values, error, users=users)


@router.get("/admin/users", response_class=HTMLResponse)
def users(request: Request, ctx: ContextDep, stores: StoresDep) -> Response:
    if not ctx.actor.is_staff:
        return to_login(request)
    return _users_page(request, ctx, stores)


@router.post("/admin/users", response_class=HTMLResponse)
def add_user(request: Request, form: PostedDep, stores: StoresDep) -> Response:
    values = {k: form.text(k) for k in ("username", "display_name", "email")}
    password = str(form.form.get("password") or "")
    try:
        accounts.add_user(
            form.ctx,
            stores,
            values["username"],
            password=password or None,
            is_admin=form.text("is_admin") == "on",
            display_name=values["display_name"] or None,
            email=values["email"] or None,
        )
    except (InvalidInput, Conflict) as exc:
        return _users_page(request, form.ctx, stores, values, exc.message)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{username}/disable")
def disable_user(username: str, form: PostedDep, stores: StoresDep) -> RedirectResponse:
    accounts.set_disabled(form.ctx, stores, username, form.text("disabled", "true") != "false")
    return RedirectResponse("/admin/users", status_code=303)


def _orgs_page(
    request: Request,
    ctx: RequestContext,
    stores: Stores,
    values: dict[str, Any] | None = None,
    error: str | None = None,
) -> HTMLResponse:
    orgs = catalog.list_orgs(ctx, stores)
    return _admin_page(request, "admin/organizations.html", N_("Organisationen verwalten"), values, error, orgs=orgs)


@router.get("/admin/organizations", response_class=HTMLResponse)
def organizations(request: Request, ctx: ContextDep, stores: StoresDep) -> Response:
    if not ctx.actor.is_staff:
        return to_login(request)
    require_permission(ctx.actor, "org.create")  # admins only
    return _orgs_page(request, ctx, stores)


@router.post("/admin/organizations", response_class=HTMLResponse)
def add_org(request: Request, form: PostedDep, stores: StoresDep) -> Response:
    values = {k: form.text(k) for k in ("slug", "name", "description", "email", "url")}
    try:
        data = OrganizationIn(
            slug=values["slug"],
            name=values["name"],
            description=values["description"],
            email=values["email"] or None,
            url=values["url"] or None,
        )
    except ValidationError as exc:
        return _orgs_page(request, form.ctx, stores, values, _first(exc))
    except InvalidInput as exc:
        return _orgs_page(request, form.ctx, stores, values, exc.message)
    try:
        catalog.create_org(form.ctx, stores, data)
    except (InvalidInput, Conflict) as exc:
        return _orgs_page(request, form.ctx, stores, values, exc.message)
    return RedirectResponse("/admin/organizations", status_code=303)


def _first(exc: ValidationError) -> str:
    err = exc.errors()[0]
    return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
