"""Freshness notifications: tell an organisation's stewards and editors when a dataset's next update
becomes due (the warning window before the due date) and when it becomes overdue.

Each state is notified once per dataset, resource and version (remembered in `freshness_notices`), so
running the check every few minutes sends nothing new until the state changes; a new version starts
afresh. Time is passed in (`now`), so the check can be tested and replayed for any date.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from urbandata.auth.actor import RequestContext
from urbandata.auth.guard import guarded
from urbandata.auth.policy import has_permission
from urbandata.catalog import quality, service
from urbandata.errors import Forbidden
from urbandata.notify import repository as repo
from urbandata.notify.service import notify_org
from urbandata.stores import Stores

STATES = ("due", "overdue")


def _when(value: str | None) -> str:
    if not value:
        return "–"
    return dt.datetime.fromisoformat(value).astimezone(dt.UTC).strftime("%d.%m.%Y, %H:%M UTC")


def _message(ctx: RequestContext, ds: Any, state: str, items: list[dict[str, Any]]) -> tuple[str, str]:
    """German subject and body (the platform's staff language)."""
    first = items[0]
    if state == "due":
        subject = f"Aktualisierung fällig: {ds.title}"
        lead = f"Der Datensatz „{ds.title}“ soll bis {_when(first['due_at'])} aktualisiert werden."
    else:
        subject = f"Überfällig: {ds.title}"
        lead = f"Der Datensatz „{ds.title}“ ist seit {_when(first['overdue_since'] or first['due_at'])} überfällig."
    lines = [lead, "", f"Aktualisierungsintervall: {ds.frequency_label or ds.frequency or '–'}"]
    tables = [i for i in items if i["name"]]
    if tables:
        lines.append("Betroffene Tabellen:")
        lines += [
            f"- {i['name']} (Version {i['version'] or '–'}, zuletzt aktualisiert {_when(i['last_update'])})"
            for i in tables
        ]
    if ctx.settings.public_url:
        lines += ["", f"{ctx.settings.public_url.rstrip('/')}/datasets/{ds.slug}"]
    lines += ["", "Diese Nachricht wurde automatisch vom Datenportal erzeugt."]
    return subject, "\n".join(lines)


def _stale_items(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Resources that are due or overdue; a dataset without tables counts as one item without a name."""
    if report["resources"]:
        return [r for r in report["resources"] if r["freshness"] in STATES]
    if report["freshness"] in STATES:
        keys = ("freshness", "due_at", "overdue_since", "last_update")
        return [{"name": None, "version": None, **{k: report[k] for k in keys}}]
    return []


@guarded("dataset.update")
def check_freshness(ctx: RequestContext, stores: Stores, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Notify stewards of datasets that became due or overdue at `now` (default: the current time).

    Looks at every dataset the actor may change (run it as the platform itself to cover all). Returns
    one entry per notification sent: dataset, state, resources, and how many users were notified."""
    if not has_permission(ctx.actor, "dataset.update") and not any(
        has_permission(ctx.actor, "dataset.update", org) for org, _ in ctx.actor.org_roles
    ):
        raise Forbidden("Not allowed: dataset.update.", permission="dataset.update")
    at = now or dt.datetime.now(dt.UTC)
    sent: list[dict[str, Any]] = []
    for org in service.list_orgs(ctx, stores):
        if not has_permission(ctx.actor, "dataset.update", org.slug):
            continue
        summary = quality.org_quality(ctx, stores, org.slug, at)
        for entry in summary["datasets"]:
            if entry["freshness"] not in STATES:
                continue
            report = quality.dataset_quality(ctx, stores, entry["dataset"], at)
            sent += _notify_dataset(ctx, stores, org.slug, report)
    return sent


def _notify_dataset(ctx: RequestContext, stores: Stores, org: str, report: dict[str, Any]) -> list[dict[str, Any]]:
    slug = report["dataset"]
    out: list[dict[str, Any]] = []
    for state in STATES:
        items = [i for i in _stale_items(report) if i["freshness"] == state]
        keys = [(i["name"] or "", int(i["version"] or 0)) for i in items]
        claimed = [
            (i, k) for i, k in zip(items, keys, strict=True) if repo.claim_notice(stores.engine, slug, *k, state)
        ]
        if not claimed:
            continue
        ds = service.get_dataset(ctx, stores, slug)
        subject, body = _message(ctx, ds, state, [i for i, _ in claimed])
        try:
            count = notify_org(
                ctx, stores, org, kind=f"freshness.{state}", subject=subject, body=body, dataset_slug=slug
            )
        except Exception:
            for _, k in claimed:  # nothing was stored: let the next check try again
                repo.release_notice(stores.engine, slug, *k, state)
            raise
        out.append(
            {
                "dataset": slug,
                "organization": org,
                "state": state,
                "resources": [i["name"] for i, _ in claimed if i["name"]],
                "notified": count,
            }
        )
    return out
