"""Scheduled imports of a resource in the steward workspace: list with schedule, source and last outcome,
define a new one (inline errors from the service), run now, run history. Twins:
/api/v1/datasets/{slug}/resources/{resource}/imports (+ /{id}/run, /{id}/runs)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from urbandata.auth.actor import RequestContext
from urbandata.catalog import workspace
from urbandata.errors import Conflict, InvalidInput
from urbandata.imports import service
from urbandata.imports.models import SOURCE_TYPES
from urbandata.portal.forms import PostedDep, to_login
from urbandata.portal.i18n import N_
from urbandata.portal.rendering import choose_language, render, translate
from urbandata.stores import Stores
from urbandata.webdeps import ContextDep, StoresDep

router = APIRouter(include_in_schema=False)
BASE = "/workspace/datasets/{slug}/resources/{resource}/imports"
HISTORY = 10  # runs shown per import
SOURCE_FIELDS = {"url": ("url",), "folder": ("folder",), "ckan": ("ckan_url", "ckan_dataset", "ckan_resource")}
SETTINGS = ("schedule", "timeout_seconds", "retries")
SOURCE_NAMES = {
    "url": N_("Webadresse (HTTP/HTTPS)"),
    "folder": N_("Überwachter Ordner"),
    "ckan": N_("Anderer Katalog (CKAN)"),
}
OUTCOME_NAMES = {
    "success": N_("erfolgreich"),
    "unchanged": N_("unverändert"),
    "failed": N_("fehlgeschlagen"),
    None: N_("läuft"),
}
TRIGGER_NAMES = {"manual": N_("von Hand"), "schedule": N_("nach Zeitplan")}
# the service's checks (English) as inline messages, by parameter or error code
FIELD_MESSAGES = {
    "invalid_schedule": N_(
        "Bitte einen Zeitplan mit fünf Feldern angeben (Minute Stunde Tag Monat Wochentag), "
        "zum Beispiel „0 6 * * *“ für jeden Tag um 6 Uhr."
    ),
    "invalid_source_type": N_("Bitte eine Quelle aus der Liste wählen."),
    "url": N_("Bitte eine Webadresse angeben, die mit http:// oder https:// beginnt."),
    "ckan_url": N_("Bitte eine Webadresse angeben, die mit http:// oder https:// beginnt."),
    "ckan_dataset": N_("Bitte ausfüllen: Pflichtfeld."),
    "ckan_resource": N_("Bitte ausfüllen: Pflichtfeld."),
    "folder": N_("Bitte einen Ordner innerhalb des Import-Verzeichnisses angeben."),
    "timeout_seconds": N_("Bitte eine Zahl von Sekunden zwischen 1 und 86400 angeben."),
    "retries": N_("Bitte eine ganze Zahl von 0 bis 10 angeben."),
}


def _t(request: Request, text: str) -> str:
    return translate(choose_language(request)[0], text)


def _field_errors(request: Request, exc: InvalidInput) -> dict[str, str]:
    param = str(exc.details.get("parameter") or "")
    if exc.code == "invalid_source_type":
        param = "source_type"
    text = FIELD_MESSAGES.get(exc.code) or FIELD_MESSAGES.get(param)
    if param not in (*SETTINGS, "source_type", *(f for fs in SOURCE_FIELDS.values() for f in fs)):
        param = "form"
    return {param: _t(request, text) if text else exc.message}


def _page(
    request: Request,
    ctx: RequestContext,
    stores: Stores,
    slug: str,
    resource: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    ds = workspace.editable_dataset(ctx, stores, slug)
    imports = service.list_imports(ctx, stores, slug, resource)
    runs = {i.id: service.list_runs(ctx, stores, i.id, slug, resource, limit=HISTORY) for i in imports}
    lang, _ = choose_language(request)
    return render(
        request,
        "workspace/imports.html",
        status=status,
        title=translate(lang, N_("Geplante Importe")),
        ds=ds,
        resource=resource,
        imports=imports,
        runs=runs,
        values=values or {"source_type": "url", "timeout_seconds": "300", "retries": "2"},
        errors=errors or {},
        notice=notice,
        sources=[(s, translate(lang, SOURCE_NAMES[s])) for s in SOURCE_TYPES],
        source_names={s: translate(lang, SOURCE_NAMES[s]) for s in SOURCE_TYPES},
        outcome_names={k: translate(lang, v) for k, v in OUTCOME_NAMES.items()},
        trigger_names={k: translate(lang, v) for k, v in TRIGGER_NAMES.items()},
        base=BASE.format(slug=slug, resource=resource),
    )


@router.get(BASE, response_class=HTMLResponse)
def imports_page(
    slug: str,
    resource: str,
    request: Request,
    ctx: ContextDep,
    stores: StoresDep,
    created: int | None = None,
    ran: int | None = None,
) -> Response:
    if not ctx.actor.is_staff:
        return to_login(request)
    notice = None
    if created:
        notice = _t(request, N_("Der Import wurde angelegt."))
    elif ran:
        notice = _t(request, N_("Der Import wurde ausgeführt; das Ergebnis steht im Verlauf."))
    return _page(request, ctx, stores, slug, resource, notice=notice)


@router.post(BASE, response_class=HTMLResponse)
def create(slug: str, resource: str, request: Request, form: PostedDep, stores: StoresDep) -> Response:
    kind = form.text("source_type")
    values = {name: form.text(name) for fs in SOURCE_FIELDS.values() for name in fs}
    values.update({name: form.text(name) for name in SETTINGS}, source_type=kind)
    spec: dict[str, Any] = {"source_type": kind}
    for name in SOURCE_FIELDS.get(kind, ()):
        spec[name] = values[name] or None
    for name in SETTINGS:
        if values[name]:
            spec[name] = values[name]  # the service's model checks and converts numbers
    try:
        created = service.create_import(form.ctx, stores, slug, resource, spec)
    except InvalidInput as exc:
        errors = _field_errors(request, exc)
        return _page(request, form.ctx, stores, slug, resource, values=values, errors=errors, status=400)
    return RedirectResponse(BASE.format(slug=slug, resource=resource) + f"?created={created.id}", status_code=303)


@router.post(BASE + "/{import_id}/run", response_class=HTMLResponse)
def run_now(slug: str, resource: str, import_id: int, request: Request, form: PostedDep, stores: StoresDep) -> Response:
    try:
        service.run_now(form.ctx, stores, import_id, slug, resource)
    except Conflict:
        notice = _t(request, N_("Dieser Import läuft gerade; bitte versuchen Sie es später noch einmal."))
        return _page(request, form.ctx, stores, slug, resource, notice=notice, status=409)
    return RedirectResponse(BASE.format(slug=slug, resource=resource) + f"?ran={import_id}#import-{import_id}", 303)


@router.get("/workspace/datasets/{slug}/imports")
def imports_for(slug: str, resource: str = "") -> RedirectResponse:
    """The workspace dataset page's form for a table that does not exist yet: go to its imports page."""
    name = resource.strip()
    if not name:
        return RedirectResponse(f"/workspace/datasets/{slug}", status_code=303)
    return RedirectResponse(BASE.format(slug=slug, resource=quote(name, safe="")), status_code=303)
