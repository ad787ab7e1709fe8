"""Typed shapes of accounts and tokens."""

from __future__ import annotations

import datetime as dt
import re

from pydantic import BaseModel

from urbandata.errors import InvalidInput

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}[a-z0-9]$")


def check_username(value: str) -> str:
    if not USERNAME.fullmatch(value or ""):
        raise InvalidInput(
            f"Invalid user name {value!r}: 3-64 lower-case letters, digits, '.', '_' or '-'",
            code="invalid_username",
            parameter="username",
        )
    return value


class User(BaseModel):
    username: str
    display_name: str | None = None
    email: str | None = None
    is_admin: bool = False
    disabled: bool = False
    organizations: list[tuple[str, str]] = []
    created_at: dt.datetime | None = None
    last_login_at: dt.datetime | None = None


class Token(BaseModel):
    id: int
    name: str
    prefix: str
    scope: str
    limit_org: str | None = None
    limit_datasets: list[str] | None = None
    expires_at: dt.datetime | None = None
    revoked: bool = False
    created_at: dt.datetime
    last_used_at: dt.datetime | None = None


class NewToken(Token):
    token: str  # shown once, never stored


class Recipient(BaseModel):
    """A user who receives an organisation's notifications."""

    user_id: int
    username: str
    display_name: str | None = None
    email: str | None = None
