"""About, accessibility statement, imprint and privacy pages; their contents come from the settings."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from urbandata.portal.rendering import render

router = APIRouter(include_in_schema=False)


@router.get("/about", response_class=HTMLResponse)
def about(request: Request) -> HTMLResponse:
    return render(request, "pages/about.html")


@router.get("/accessibility", response_class=HTMLResponse)
def accessibility(request: Request) -> HTMLResponse:
    return render(request, "pages/accessibility.html")


@router.get("/imprint", response_class=HTMLResponse)
def imprint(request: Request) -> HTMLResponse:
    return render(request, "pages/imprint.html")


@router.get("/privacy", response_class=HTMLResponse)
def privacy(request: Request) -> HTMLResponse:
    return render(request, "pages/privacy.html")
