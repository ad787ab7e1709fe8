"""The signed-in user's notification inbox (freshness warnings, import alerts). Twins:
GET /api/v1/notifications, POST /api/v1/notifications/{id}/read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from urbandata.auth.actor import RequestContext
from urbandata.notify import service
from urbandata.portal.forms import PostedDep, to_login
from urbandata.portal.i18n import N_
from urbandata.portal.rendering import choose_language, render, translate
from urbandata.stores import Stores
from urbandata.webdeps import ContextDep, StoresDep

router = APIRouter(include_in_schema=False)
PAGE_LIMIT = 100


def unread_count(ctx: RequestContext, stores: Stores) -> int | None:
    """Unread notifications of the signed-in user; None for actors without an inbox (API tokens of the system)."""
    if ctx.actor.kind != "user":
        return None
    return service.inbox(ctx, stores, unread_only=True, limit=1).unread


@router.get("/workspace/notifications", response_class=HTMLResponse)
def inbox(
    request: Request,
    ctx: ContextDep,
    stores: StoresDep,
    unread: bool = False,
    marked: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    if not ctx.actor.is_staff:
        return to_login(request)
    box = service.inbox(ctx, stores, unread_only=unread, limit=PAGE_LIMIT)
    lang, _ = choose_language(request)
    return render(
        request,
        "workspace/notifications.html",
        title=translate(lang, N_("Benachrichtigungen")),
        inbox=box,
        unread_only=unread,
        marked=marked,
    )


@router.post("/workspace/notifications/{notification_id}/read")
def mark_read(notification_id: int, form: PostedDep, stores: StoresDep) -> RedirectResponse:
    service.mark_read(form.ctx, stores, notification_id)  # someone else's notification: 404
    back = "/workspace/notifications?unread=1&" if form.text("unread") == "1" else "/workspace/notifications?"
    return RedirectResponse(f"{back}marked={notification_id}", status_code=303)
