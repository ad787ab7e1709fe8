"""SQL of notifications and of the freshness notices already sent. Only the notify services import it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from urbandata.db.tables import freshness_notices, notifications, users

Row = sa.engine.Row[Any]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def user_id(conn: sa.Connection, username: str) -> int | None:
    return conn.execute(sa.select(users.c.id).where(users.c.username == username)).scalar()


def insert(conn: sa.Connection, values: dict[str, Any]) -> int:
    res = conn.execute(notifications.insert().values(**values, created_at=now()))
    return int(res.inserted_primary_key[0])  # type: ignore[index]


def set_email_status(conn: sa.Connection, ids: Sequence[int], status: str) -> None:
    if ids:
        conn.execute(notifications.update().where(notifications.c.id.in_(list(ids))).values(email_status=status))


def list_for(conn: sa.Connection, uid: int, *, unread_only: bool, limit: int) -> Sequence[Row]:
    q = sa.select(notifications).where(notifications.c.user_id == uid)
    if unread_only:
        q = q.where(notifications.c.read_at.is_(None))
    return conn.execute(q.order_by(notifications.c.id.desc()).limit(limit)).all()


def unread_count(conn: sa.Connection, uid: int) -> int:
    q = sa.select(sa.func.count()).where(notifications.c.user_id == uid, notifications.c.read_at.is_(None))
    return int(conn.execute(q).scalar() or 0)


def get(conn: sa.Connection, notification_id: int) -> Row | None:
    return conn.execute(sa.select(notifications).where(notifications.c.id == notification_id)).first()


def mark_read(conn: sa.Connection, notification_id: int) -> None:
    conn.execute(
        notifications.update()
        .where(notifications.c.id == notification_id, notifications.c.read_at.is_(None))
        .values(read_at=now())
    )


def claim_notice(engine: sa.Engine, dataset: str, resource: str, version: int, state: str) -> bool:
    """Record that `state` of this dataset/resource/version is being notified; False if it was already.

    The primary key makes this safe across processes: of two concurrent checks only one inserts."""
    key = {"dataset": dataset, "resource": resource, "version": version, "state": state}
    try:
        with engine.begin() as conn:
            if conn.execute(sa.select(freshness_notices.c.sent_at).filter_by(**key)).first() is not None:
                return False
            conn.execute(freshness_notices.insert().values(**key, sent_at=now()))
    except sa.exc.IntegrityError:
        return False
    return True


def release_notice(engine: sa.Engine, dataset: str, resource: str, version: int, state: str) -> None:
    """Forget a claim whose notification could not be stored, so the next check tries again."""
    key = {"dataset": dataset, "resource": resource, "version": version, "state": state}
    with engine.begin() as conn:
        conn.execute(freshness_notices.delete().filter_by(**key))
