"""The signed-in user's own workspace notifications (freshness warnings, import alerts)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from urbandata.notify import service
from urbandata.notify.models import Inbox, Notification
from urbandata.webdeps import ContextDep, StoresDep

router = APIRouter(prefix="/api/v1", tags=["notifications"])


@router.get("/notifications", summary="Your own notifications, newest first, with the unread count")
def list_notifications(
    ctx: ContextDep,
    stores: StoresDep,
    unread: Annotated[bool, Query(description="Only unread notifications.")] = False,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIST)] = 50,
) -> Inbox:
    return service.inbox(ctx, stores, unread_only=unread, limit=limit)


@router.post("/notifications/{notification_id}/read", summary="Mark one of your notifications as read")
def mark_read(notification_id: int, ctx: ContextDep, stores: StoresDep) -> Notification:
    return service.mark_read(ctx, stores, notification_id)
