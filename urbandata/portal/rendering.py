"""Jinja2 environments (one per language), the language choice and the HTML error page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import parse_pattern
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup

from urbandata.catalog.profile import load_profile
from urbandata.portal.i18n import DEFAULT_LANGUAGE, LANGUAGE_NAMES, LANGUAGES, N_, translations
from urbandata.webdeps import CSRF_COOKIE

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
LANG_COOKIE = "ud_lang"
_md = MarkdownIt("commonmark", {"html": False})


def _number(lang: str) -> Callable[[Any], str]:
    locale = Locale.parse(lang)
    patterns = {digits: parse_pattern("#,##0" + ("." + "#" * digits if digits else "")) for digits in range(7)}

    def fmt(n: Any, digits: int = 0) -> str:
        if n is None:
            return "–"
        return str(patterns[min(digits, 6)].apply(n, locale))

    return fmt


def _date(lang: str) -> Callable[[Any], str]:
    def fmt(d: Any) -> str:
        if not d:
            return "–"
        if isinstance(d, str):
            d = dt.date.fromisoformat(d[:10])
        return str(format_date(d, format="medium" if lang == "en" else "dd.MM.yyyy", locale=lang))

    return fmt


def _datetime(lang: str) -> Callable[[Any], str]:
    def fmt(d: Any) -> str:
        if not d:
            return "–"
        pattern = "dd.MM.yyyy, HH:mm" if lang == "de" else "d MMM yyyy, HH:mm"
        return str(format_datetime(d, format=pattern, tzinfo=dt.UTC, locale=lang)) + " UTC"

    return fmt


@lru_cache(maxsize=len(LANGUAGES))
def environment(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.filters["markdown"] = lambda text: _md.render(text or "")
    env.filters["num"] = _number(lang)
    env.filters["date"] = _date(lang)
    env.filters["datetime"] = _datetime(lang)
    profile = load_profile()
    env.globals["vocab"] = lambda vocabulary, code: profile.label(vocabulary, code, lang) if code else "–"
    env.globals["lang"] = lang
    # catalog contents (titles, descriptions) are German: mark them so on pages in another language (WCAG 3.1.2)
    env.globals["de_part"] = Markup("") if lang == "de" else Markup(' lang="de"')
    return env


def choose_language(request: Request) -> tuple[str, bool]:
    """(language, chosen explicitly by `?lang=`): the query, else the cookie, else German."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked, True
    cookie = request.cookies.get(LANG_COOKIE)
    return (cookie if cookie in LANGUAGES else DEFAULT_LANGUAGE), False


def page_url(request: Request, **changes: Any) -> str:
    """The current page's address with some query parameters replaced (None removes one)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    for key, value in changes.items():
        if value is None:
            continue
        params.extend((key, str(v)) for v in (value if isinstance(value, list | tuple) else [value]))
    query = urlencode(params)
    return request.url.path + (f"?{query}" if query else "")


def query_url(path: str, params: Iterable[tuple[str, Any]]) -> str:
    query = urlencode([(k, str(v)) for k, v in params if v not in (None, "")])
    return path + (f"?{query}" if query else "")


def translate(lang: str, message: str) -> str:
    return str(translations(lang).gettext(message))


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    lang, explicit = choose_language(request)
    settings = request.app.state.settings
    switch = [
        {"code": code, "name": LANGUAGE_NAMES[code], "url": page_url(request, lang=code)}
        for code in LANGUAGES
        if code != lang
    ]
    # who is signed in (set by webdeps.context_for) and the CSRF token for forms, unless the page gives them
    context.setdefault("viewer", getattr(request.state, "actor", None))
    context.setdefault("csrf_token", request.cookies.get(CSRF_COOKIE, ""))
    html = (
        environment(lang)
        .get_template(template)
        .render(request=request, city=settings.city_name, settings=settings, languages=switch, **context)
    )
    response = HTMLResponse(html, status_code=status, headers={"Content-Language": lang, "Vary": "Cookie"})
    if explicit:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite="lax")
    return response


ERROR_TITLES = {
    400: N_("Ungültige Anfrage"),
    401: N_("Anmeldung erforderlich"),
    403: N_("Kein Zugriff"),
    404: N_("Seite nicht gefunden"),
    429: N_("Zu viele Anfragen"),
}
ERROR_TEXTS = {
    400: N_("Die Anfrage enthält ungültige Angaben."),
    404: N_("Diese Seite gibt es nicht, oder sie ist nicht öffentlich."),
    500: N_("Ein interner Fehler ist aufgetreten."),
}


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """An HTML error page; `message` (from a service, in English) is shown as a technical detail."""
    lang, _ = choose_language(request)
    title = translate(lang, ERROR_TITLES.get(status, N_("Fehler")))
    text = translate(lang, ERROR_TEXTS.get(status, N_("Die Anfrage konnte nicht bearbeitet werden.")))
    detail = None if message in ERROR_TEXTS.values() or status >= 500 else message
    return render(request, "error.html", status=status, title=title, text=text, detail=detail)
