"""Freshness contracts: when the next update of a resource is due, and whether it is late.

The dataset's declared update frequency (EU frequency vocabulary, `days` in profile.yaml) sets the
period. With `last` the time the current data were published (for a restored version: when the
restored data were first published):

- `due_at = last + period`;
- **fresh** while `at < due_at - lead`, where `lead` is 10 % of the period (the warning window);
- **due** from `due_at - lead` until `due_at`: the next update is expected now;
- **overdue** after `due_at`, with `overdue_since = due_at`.

Frequencies without a period (irregular, as needed, never, unknown) and datasets without a declared
frequency make no promise: the resource counts as fresh and `due_at` is null.
Everything takes the evaluation time `at` explicitly, so any past or future date can be evaluated.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

Status = Literal["fresh", "due", "overdue"]
LEAD_SHARE = 0.1
_ORDER: dict[Status, int] = {"fresh": 0, "due": 1, "overdue": 2}


@dataclass(frozen=True)
class Freshness:
    status: Status
    due_at: dt.datetime | None
    overdue_since: dt.datetime | None
    last_update: dt.datetime | None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "freshness": self.status,
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "overdue_since": self.overdue_since.isoformat() if self.overdue_since else None,
            "last_update": self.last_update.isoformat() if self.last_update else None,
        }


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def evaluate(last_update: dt.datetime | None, period_days: float | None, at: dt.datetime) -> Freshness:
    """Freshness at `at` of data last updated at `last_update` under a period of `period_days`."""
    at = _aware(at)
    last = _aware(last_update) if last_update else None
    if not period_days or period_days <= 0 or last is None:
        return Freshness("fresh", None, None, last)
    period = dt.timedelta(days=period_days)
    due_at = last + period
    if at > due_at:
        return Freshness("overdue", due_at, due_at, last)
    if at >= due_at - period * LEAD_SHARE:
        return Freshness("due", due_at, None, last)
    return Freshness("fresh", due_at, None, last)


def worst(items: list[Freshness]) -> Freshness:
    """The least fresh of several (a dataset is as fresh as its stalest resource); earliest due date on ties."""
    if not items:
        return Freshness("fresh", None, None, None)
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(items, key=lambda f: (-_ORDER[f.status], f.due_at or far))[0]


def score_of(status: Status) -> float:
    """The freshness component of the quality score."""
    return {"fresh": 1.0, "due": 0.5, "overdue": 0.0}[status]
