"""Cron schedules (croniter), read in the city's time zone and stored as UTC instants."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from croniter import croniter

from urbandata.errors import InvalidInput


def check_cron(expr: str) -> str:
    """The normalised expression, or a 400 naming the problem."""
    clean = " ".join(expr.split())
    fields = clean.split(" ")
    if not clean or (not clean.startswith("@") and len(fields) != 5) or not croniter.is_valid(clean):
        raise InvalidInput(
            f"Invalid schedule {expr!r}: give a cron expression with five fields "
            "(minute hour day-of-month month day-of-week), e.g. '0 6 * * *' for 06:00 every day",
            code="invalid_schedule",
            parameter="schedule",
        )
    return clean


def next_fire(expr: str, after: dt.datetime, timezone: str) -> dt.datetime:
    """The first time strictly after `after` at which the schedule fires (UTC)."""
    local = after.astimezone(ZoneInfo(timezone))
    nxt: dt.datetime = croniter(expr, local).get_next(dt.datetime)
    return nxt.astimezone(dt.UTC)
