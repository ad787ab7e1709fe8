"""The steward workspace: my datasets, create and edit a dataset with the metadata profile, publish or
make internal. Twins: /api/v1/workspace/datasets, POST /api/v1/datasets, PATCH /api/v1/datasets/{slug}."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from urbandata.auth.actor import RequestContext
from urbandata.catalog import service, workspace
from urbandata.catalog.models import check_slug
from urbandata.catalog.profile import validate_metadata
from urbandata.errors import Conflict, InvalidInput
from urbandata.portal.forms import PostedDep, field_message, to_login
from urbandata.portal.i18n import N_
from urbandata.portal.metadata_form import form_fields, submitted
from urbandata.portal.rendering import choose_language, render, translate
from urbandata.portal.routes.workspace_inbox import unread_count
from urbandata.stores import Stores
from urbandata.webdeps import ContextDep, StoresDep

router = APIRouter(include_in_schema=False)


def _t(request: Request, text: str) -> str:
    return translate(choose_language(request)[0], text)


@router.get("/workspace", response_class=HTMLResponse)
def index(
    request: Request, ctx: ContextDep, stores: StoresDep, page: Annotated[int, Query(ge=1, le=100000)] = 1
) -> Response:
    if not ctx.actor.is_staff:
        return to_login(request)
    result = workspace.my_datasets(ctx, stores, page)
    return render(
        request,
        "workspace/index.html",
        title=_t(request, N_("Arbeitsbereich")),
        unread=unread_count(ctx, stores),  # the inbox link's count (portal/routes/workspace_inbox.py)
        result=result,
        orgs=ctx.actor.org_roles,
        page=page,
        more=result.count > page * result.page_size,
    )


def _form_errors(request: Request, exc: InvalidInput | Conflict) -> dict[str, str]:
    fields: dict[str, str] = dict(exc.details.get("fields") or {})
    param = exc.details.get("parameter")
    if not fields and param in ("slug", "dataset slug"):
        fields["slug"] = exc.message
    elif not fields and param == "org":
        fields["organization"] = exc.message
    return {k: field_message(request, v) for k, v in fields.items()}


def _new_page(
    request: Request, ctx: RequestContext, stores: Stores, values: dict[str, Any], errors: dict[str, str]
) -> HTMLResponse:
    lang, _ = choose_language(request)
    return render(
        request,
        "workspace/dataset_form.html",
        status=400 if errors else 200,
        title=_t(request, N_("Neuer Datensatz")),
        orgs=workspace.writable_orgs(ctx, stores),
        fields=form_fields(lang, values, errors),
        slug=values.get("slug", ""),
        organization=values.get("organization", ""),
        errors=errors,
        new=True,
        ds=None,
    )


@router.get("/workspace/datasets/new", response_class=HTMLResponse)
def new_form(request: Request, ctx: ContextDep, stores: StoresDep) -> Response:
    if not ctx.actor.is_staff:
        return to_login(request)
    return _new_page(request, ctx, stores, {}, {})


@router.post("/workspace/datasets/new", response_class=HTMLResponse)
def create(request: Request, form: PostedDep, stores: StoresDep) -> Response:
    meta, shown = submitted(form)
    slug, org = form.text("slug"), form.text("organization")
    values = {**shown, "slug": slug, "organization": org}
    meta = {k: v for k, v in meta.items() if v is not None}
    # report the slug and every metadata field at once (the service stops at the first problem)
    errors: dict[str, str] = {}
    for check in (lambda: check_slug(slug, "dataset slug"), lambda: validate_metadata(meta)):
        try:
            check()
        except InvalidInput as exc:
            errors.update(_form_errors(request, exc))
    if errors:
        return _new_page(request, form.ctx, stores, values, errors)
    try:
        ds = service.create_dataset(form.ctx, stores, slug, org, meta)
    except (InvalidInput, Conflict) as exc:
        return _new_page(request, form.ctx, stores, values, _form_errors(request, exc))
    return RedirectResponse(f"/workspace/datasets/{ds.slug}?created=1", status_code=303)


def _edit_page(
    request: Request,
    ctx: RequestContext,
    stores: Stores,
    slug: str,
    values: dict[str, Any] | None,
    errors: dict[str, str],
) -> HTMLResponse:
    ds = workspace.editable_dataset(ctx, stores, slug)
    lang, _ = choose_language(request)
    return render(
        request,
        "workspace/dataset_form.html",
        status=400 if errors else 200,
        title=_t(request, N_("Metadaten bearbeiten")),
        fields=form_fields(lang, values if values is not None else ds.meta, errors),
        errors=errors,
        new=False,
        ds=ds,
    )


@router.get("/workspace/datasets/{slug}/edit", response_class=HTMLResponse)
def edit_form(slug: str, request: Request, ctx: ContextDep, stores: StoresDep) -> Response:
    if not ctx.actor.is_staff:
        return to_login(request)
    return _edit_page(request, ctx, stores, slug, None, {})


@router.post("/workspace/datasets/{slug}/edit", response_class=HTMLResponse)
def update(slug: str, request: Request, form: PostedDep, stores: StoresDep) -> Response:
    meta, shown = submitted(form)
    try:
        service.update_dataset(form.ctx, stores, slug, meta)
    except InvalidInput as exc:
        return _edit_page(request, form.ctx, stores, slug, shown, _form_errors(request, exc))
    return RedirectResponse(f"/workspace/datasets/{slug}?saved=1", status_code=303)


@router.post("/workspace/datasets/{slug}/access")
def set_access(slug: str, form: PostedDep, stores: StoresDep) -> RedirectResponse:
    """Publish (public) or make internal: the dataset's access level."""
    service.update_dataset(form.ctx, stores, slug, {"access_level": form.text("access_level")})
    return RedirectResponse(f"/workspace/datasets/{slug}?saved=1", status_code=303)


@router.get("/workspace/datasets/{slug}", response_class=HTMLResponse)
def dataset(
    slug: str,
    request: Request,
    ctx: ContextDep,
    stores: StoresDep,
    created: bool = False,
    saved: bool = False,
    restored: int | None = None,
) -> Response:
    if not ctx.actor.is_staff:
        return to_login(request)
    ds = workspace.editable_dataset(ctx, stores, slug)
    versions = {r.name: service.list_versions(ctx, stores, slug, r.name) for r in ds.resources}
    return render(
        request,
        "workspace/dataset.html",
        title=ds.title,
        ds=ds,
        versions=versions,
        created=created,
        saved=saved,
        restored=restored,
        max_upload=ctx.settings.max_upload_bytes,
    )
