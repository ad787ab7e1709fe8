"""Jinja2 environment and the HTML error page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markdown_it import MarkdownIt

TEMPLATES = Path(__file__).parent / "templates"
_md = MarkdownIt("commonmark", {"html": False})

env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
env.filters["markdown"] = lambda text: _md.render(text or "")
env.filters["de_int"] = lambda n: f"{int(n):,}".replace(",", ".") if n is not None else "–"
env.filters["de_date"] = lambda d: d.strftime("%d.%m.%Y") if d else "–"


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = env.get_template(template).render(request=request, city=request.app.state.settings.city_name, **context)
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    titles = {404: "Seite nicht gefunden", 403: "Kein Zugriff", 400: "Ungültige Anfrage"}
    return render(request, "error.html", status=status, title=titles.get(status, "Fehler"), message=message)
