"""Portal forms: the CSRF check (double-submit token as a form field), sign-in redirects, and the
German/English wording of the metadata profile's validation messages."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from urbandata.auth.actor import RequestContext
from urbandata.config import Settings
from urbandata.errors import Forbidden
from urbandata.portal.i18n import N_
from urbandata.portal.rendering import choose_language, translate
from urbandata.webdeps import CSRF_COOKIE, SESSION_COOKIE, context_for

CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class Posted:
    """A submitted portal form whose CSRF token was checked, and the request context it acts in."""

    ctx: RequestContext
    form: FormData

    def text(self, name: str, default: str = "") -> str:
        value = self.form.get(name)
        return value.strip() if isinstance(value, str) else default

    def texts(self, name: str) -> list[str]:
        return [v.strip() for v in self.form.getlist(name) if isinstance(v, str) and v.strip()]


async def posted(request: Request) -> Posted:
    """Parse the form and check its CSRF field against the CSRF cookie (missing or wrong: 403)."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    cookie = request.cookies.get(CSRF_COOKIE)
    if not isinstance(sent, str) or not sent or not cookie or not secrets.compare_digest(sent, cookie):
        raise Forbidden("Missing or wrong CSRF token.", code="csrf_failed")
    return Posted(ctx=context_for(request, csrf_checked=True), form=form)


PostedDep = Annotated[Posted, Depends(posted)]


def safe_next(target: str | None, default: str = "/workspace") -> str:
    """Only local paths are followed after signing in (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def to_login(request: Request) -> RedirectResponse:
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={_quote(path)}", status_code=303)


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="/")


def set_session_cookies(response: Response, settings: Settings, token: str) -> str:
    """The session cookie (HttpOnly) and a fresh CSRF cookie for the double-submit check."""
    csrf = secrets.token_urlsafe(24)
    secure, max_age = settings.secure_cookies, settings.session_hours * 3600
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, secure=secure, samesite="lax", path="/")
    response.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, httponly=False, secure=secure, samesite="strict", path="/")
    return csrf


def ensure_csrf_cookie(request: Request, response: Response, settings: Settings, token: str) -> None:
    if request.cookies.get(CSRF_COOKIE) != token:
        response.set_cookie(
            CSRF_COOKIE,
            token,
            max_age=3600,
            httponly=False,
            secure=settings.secure_cookies,
            samesite="strict",
            path="/",
        )


# the profile's validation messages (English, from catalog/profile.py) in the page's language
_MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^is required$"), N_("Bitte ausfüllen: Pflichtfeld.")),
    (re.compile(r"^must be a date YYYY-MM-DD$"), N_("Bitte ein Datum im Format JJJJ-MM-TT angeben.")),
    (re.compile(r"^must be an e-mail address$"), N_("Bitte eine gültige E-Mail-Adresse angeben.")),
    (
        re.compile(r"^must be an http\(s\) URL$"),
        N_("Bitte eine Webadresse angeben, die mit http:// oder https:// beginnt."),
    ),
    (re.compile(r"^at most (?P<n>\d+) characters$"), N_("Höchstens %(n)s Zeichen.")),
    (re.compile(r"^at most (?P<n>\d+) entries$"), N_("Höchstens %(n)s Einträge.")),
    (re.compile(r"^unknown value .*"), N_("Bitte einen Wert aus der Liste wählen.")),
    (re.compile(r"^must be four numbers.*"), N_("Bitte vier Zahlen angeben: West, Süd, Ost, Nord.")),
    (re.compile(r"^must satisfy .*"), N_("Die Koordinaten liegen außerhalb des gültigen Bereichs.")),
    (re.compile(r"^must not be before temporal_start$"), N_("Das Ende darf nicht vor dem Beginn liegen.")),
    (re.compile(r"^Invalid dataset slug.*"), N_("Nur Kleinbuchstaben, Ziffern und Bindestriche (2–100 Zeichen).")),
    (re.compile(r"^Dataset .* exists already$"), N_("Diese Kennung ist schon vergeben.")),
]


def field_message(request: Request, message: str) -> str:
    lang, _ = choose_language(request)
    for pattern, text in _MESSAGES:
        m = pattern.match(message)
        if m:
            return translate(lang, text) % m.groupdict() if m.groupdict() else translate(lang, text)
    return message


def stale_session(request: Request) -> RedirectResponse:
    """A page asked with an expired or revoked session cookie: drop it and go to the sign-in page."""
    response = to_login(request) if request.method == "GET" else RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
