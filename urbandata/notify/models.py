"""Typed shapes of workspace notifications."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel


class Notification(BaseModel):
    id: int
    kind: str
    subject: str
    body: str
    organization: str | None = None
    dataset: str | None = None
    email: Literal["none", "sent", "failed"]  # whether an e-mail went out for it
    created_at: dt.datetime
    read_at: dt.datetime | None = None

    @property
    def read(self) -> bool:
        return self.read_at is not None


class Inbox(BaseModel):
    """The signed-in user's own notifications, newest first, and how many are unread."""

    unread: int
    notifications: list[Notification]
