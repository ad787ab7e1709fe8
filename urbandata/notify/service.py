"""Notifications to an organisation's stewards and editors: stored in each one's workspace, and sent
by e-mail when an SMTP server is configured (URBANDATA_SMTP_HOST).

The workspace copy is stored first; e-mail is best effort. A failing SMTP server never fails the
caller: it is logged and the notification's `email` field says `failed`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from urbandata.accounts.service import org_recipients
from urbandata.auth.actor import RequestContext
from urbandata.auth.guard import guarded
from urbandata.auth.policy import has_permission, require_permission
from urbandata.errors import InvalidInput, NotFound, Unauthorized
from urbandata.notify import repository as repo
from urbandata.notify.mail import Mail, mail_enabled, send_all
from urbandata.notify.models import Inbox, Notification
from urbandata.stores import Stores

MAX_SUBJECT = 300
MAX_LIST = 200


def _aware(t: dt.datetime) -> dt.datetime:
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t


def _notification(row: Any) -> Notification:
    return Notification(
        id=row.id,
        kind=row.kind,
        subject=row.subject,
        body=row.body,
        organization=row.org_slug,
        dataset=row.dataset_slug,
        email=row.email_status,
        created_at=_aware(row.created_at),
        read_at=_aware(row.read_at) if row.read_at is not None else None,
    )


@guarded("dataset.update")
def notify_org(
    ctx: RequestContext,
    stores: Stores,
    org_slug: str,
    *,
    kind: str,
    subject: str,
    body: str,
    dataset_slug: str | None = None,
) -> int:
    """Notify every steward and editor of the organisation; return how many users were notified.

    The caller must be allowed to change the organisation's datasets (stewards, editors, admins, the
    platform itself)."""
    require_permission(ctx.actor, "dataset.update", org_slug, dataset_slug)
    kind, subject = kind.strip(), " ".join(subject.split())
    if not kind or len(kind) > 40:
        raise InvalidInput("kind must be 1-40 characters", parameter="kind")
    if not subject:
        raise InvalidInput("subject must not be empty", parameter="subject")
    subject = subject[:MAX_SUBJECT]
    recipients = org_recipients(ctx, stores, org_slug)
    if not recipients:
        return 0
    mailed = [r for r in recipients if r.email] if mail_enabled(ctx.settings) else []
    ids: dict[str, int] = {}
    with stores.engine.begin() as conn:
        for r in recipients:
            ids[r.username] = repo.insert(
                conn,
                {
                    "user_id": r.user_id,
                    "org_slug": org_slug,
                    "dataset_slug": dataset_slug,
                    "kind": kind,
                    "subject": subject,
                    "body": body,
                    "email_status": "none",
                },
            )
    if mailed:
        results = send_all(ctx.settings, [Mail(str(r.email), subject, body) for r in mailed])
        with stores.engine.begin() as conn:
            repo.set_email_status(conn, [ids[r.username] for r, ok in zip(mailed, results, strict=True) if ok], "sent")
            repo.set_email_status(
                conn, [ids[r.username] for r, ok in zip(mailed, results, strict=True) if not ok], "failed"
            )
    return len(recipients)


def _own_user_id(ctx: RequestContext, stores: Stores) -> int:
    if not has_permission(ctx.actor, "notification.read") or ctx.actor.username is None:
        raise Unauthorized("Sign in to see your notifications.", code="not_signed_in")
    with stores.engine.connect() as conn:
        uid = repo.user_id(conn, ctx.actor.username)
    if uid is None:
        raise Unauthorized("Sign in to see your notifications.", code="not_signed_in")
    return uid


@guarded("notification.read")
def inbox(ctx: RequestContext, stores: Stores, *, unread_only: bool = False, limit: int = 50) -> Inbox:
    """The signed-in user's own notifications, newest first, with the number of unread ones."""
    if not 1 <= limit <= MAX_LIST:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIST}", parameter="limit")
    uid = _own_user_id(ctx, stores)
    with stores.engine.connect() as conn:
        rows = repo.list_for(conn, uid, unread_only=unread_only, limit=limit)
        unread = repo.unread_count(conn, uid)
    return Inbox(unread=unread, notifications=[_notification(r) for r in rows])


@guarded("notification.read")
def mark_read(ctx: RequestContext, stores: Stores, notification_id: int) -> Notification:
    """Mark one of the user's own notifications as read (idempotent). Someone else's is a 404."""
    uid = _own_user_id(ctx, stores)
    with stores.engine.begin() as conn:
        row = repo.get(conn, notification_id)
        if row is None or row.user_id != uid:
            raise NotFound(f"No notification {notification_id}", code="notification_not_found")
        repo.mark_read(conn, notification_id)
        return _notification(repo.get(conn, notification_id))
