"""The data-quality parts of portal pages: the quality badge of a dataset page and the start page's
list of overdue datasets. Both call the same services as their JSON twins
(`GET /api/v1/datasets/{slug}/quality`, `GET /api/v1/overdue`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from urbandata.auth.actor import RequestContext
from urbandata.catalog import quality
from urbandata.portal.i18n import N_
from urbandata.stores import Stores

STALE_SHOWN = 10
# the score's components, in the order of docs/quality.md, with their German names (translated in the template)
COMPONENTS = {
    "conformance": N_("Schema und Prüfregeln eingehalten"),
    "completeness": N_("Vollständigkeit der Werte"),
    "freshness": N_("Aktualität"),
    "metadata": N_("Beschreibung (Metadaten)"),
    "openness": N_("Offenheit (Lizenz, Format)"),
    "documentation": N_("Spalten dokumentiert"),
}


def _time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _band(score: int) -> str:
    """A coarse band for the badge's look; the number and the words always say the same."""
    return "good" if score >= 80 else "fair" if score >= 50 else "poor"


def quality_badge(ctx: RequestContext, stores: Stores, slug: str) -> dict[str, Any]:
    """Context of `_quality_badge.html`: score, band, freshness with its dates, and the breakdown."""
    report = quality.dataset_quality(ctx, stores, slug)
    return {
        "quality": {
            "score": report["score"],
            "band": _band(int(report["score"])),
            "freshness": report["freshness"],
            "due_at": _time(report["due_at"]),
            "overdue_since": _time(report["overdue_since"]),
            "last_update": _time(report["last_update"]),
            "components": [{"name": COMPONENTS.get(name, name), **c} for name, c in report["components"].items()],
            "api": f"/api/v1/datasets/{slug}/quality",
        }
    }


def stale_datasets(ctx: RequestContext, stores: Stores) -> list[dict[str, Any]]:
    """The longest overdue datasets the visitor may see (at most STALE_SHOWN) for the start page."""
    return [
        {**e, "overdue_since": _time(e["overdue_since"])}
        for e in quality.overdue_datasets(ctx, stores, limit=STALE_SHOWN)
    ]
