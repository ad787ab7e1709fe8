"""Sign-in and sign-out pages (twins of POST /api/v1/auth/login and /auth/logout)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from urbandata.accounts import service as accounts
from urbandata.errors import Unauthorized
from urbandata.portal.forms import PostedDep, ensure_csrf_cookie, safe_next, set_session_cookies
from urbandata.portal.i18n import N_
from urbandata.portal.rendering import choose_language, render, translate
from urbandata.webdeps import CSRF_COOKIE, SESSION_COOKIE, ContextDep, StoresDep

router = APIRouter(include_in_schema=False)


def _login_page(request: Request, next_url: str, username: str = "", error: str | None = None) -> HTMLResponse:
    settings = request.app.state.settings
    token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    oidc = bool(settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret)
    response = render(
        request,
        "workspace/login.html",
        status=401 if error else 200,
        title=translate(choose_language(request)[0], N_("Anmelden")),
        next_url=next_url,
        username=username,
        error=error,
        oidc=oidc,
        csrf_token=token,
    )
    response.headers["Cache-Control"] = "no-store"
    ensure_csrf_cookie(request, response, settings, token)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request, ctx: ContextDep, next: Annotated[str, Query(max_length=500)] = "/workspace"
) -> Response:
    if ctx.actor.kind == "user":
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, safe_next(next))


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, form: PostedDep, stores: StoresDep) -> Response:
    username, password = form.text("username"), str(form.form.get("password") or "")
    target = safe_next(form.text("next"))
    try:
        session = accounts.login(form.ctx, stores, username[:100], password[:1000])
    except Unauthorized:
        lang, _ = choose_language(request)
        return _login_page(request, target, username, translate(lang, N_("Benutzername oder Passwort ist falsch.")))
    response = RedirectResponse(target, status_code=303)
    set_session_cookies(response, form.ctx.settings, session.token)
    return response


@router.post("/logout")
def logout(form: PostedDep, stores: StoresDep) -> RedirectResponse:
    ctx = form.ctx
    if ctx.actor.username and ctx.actor.kind == "user":
        for t in accounts.list_tokens(ctx, stores, ctx.actor.username):
            if t.name == "session" and not t.revoked:
                accounts.revoke_token(ctx, stores, ctx.actor.username, str(t.id))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response
