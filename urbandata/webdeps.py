"""Request-scoped inputs shared by the API and the portal: the stores and the request context.

The actor comes from `Authorization: Bearer TOKEN`, from HTTP Basic auth with the user name and an
API token as password (what FROST clients and QGIS send), or from the portal's session cookie; else
the request is anonymous and subject to the anonymous rate limit.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
import uuid
from typing import Annotated

from fastapi import Depends, Request

from urbandata.accounts.identity import actor_for_token
from urbandata.auth.actor import Actor, RequestContext
from urbandata.config import Settings
from urbandata.errors import Forbidden, UrbanDataError
from urbandata.stores import Stores

SESSION_COOKIE = "ud_session"
CSRF_COOKIE = "ud_csrf"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class RateLimited(UrbanDataError):
    status = 429
    code = "rate_limited"


class _Window:
    """Fixed one-minute windows of request counts per client address."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.minute = 0
        self.counts: dict[str, int] = {}

    def hit(self, key: str, limit: int) -> int | None:
        """Count a request; return seconds to wait when over the limit."""
        now = time.time()
        minute = int(now // 60)
        with self.lock:
            if minute != self.minute:
                self.minute, self.counts = minute, {}
            n = self.counts.get(key, 0) + 1
            self.counts[key] = n
        return int(60 - now % 60) + 1 if n > limit else None


def get_stores(request: Request) -> Stores:
    stores: Stores = request.app.state.stores
    return stores


def _credentials(request: Request) -> tuple[str | None, str | None, bool]:
    """(token, user name for Basic auth, came from the session cookie)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip(), None, False
    if scheme.lower() == "basic" and value:
        try:
            user, _, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return "invalid", None, False
        return password, user, False
    cookie = request.cookies.get(SESSION_COOKIE)
    return (cookie, None, True) if cookie else (None, None, False)


def get_context(request: Request) -> RequestContext:
    return context_for(request)


def context_for(request: Request, *, csrf_checked: bool = False) -> RequestContext:
    """The request's context; `csrf_checked` when the caller already checked a form's CSRF field
    (portal forms send the double-submit token as a form field instead of the X-CSRF-Token header)."""
    settings: Settings = request.app.state.settings
    rid = (request.headers.get("x-request-id") or uuid.uuid4().hex[:16])[:64]
    ip = request.client.host if request.client else None
    base = RequestContext(actor=Actor.anonymous(), settings=settings, request_id=rid, client_ip=ip)
    token, user, from_cookie = _credentials(request)
    if token is None:
        limit = settings.anonymous_rate_limit
        if limit > 0:
            window: _Window = request.app.state.__dict__.setdefault("rate_window", _Window())
            wait = window.hit(ip or "unknown", limit)
            if wait is not None:
                raise RateLimited("Too many requests; please wait a moment.", retry_after=wait)
        return base
    if from_cookie and request.method in UNSAFE and not csrf_checked:
        sent = request.headers.get("x-csrf-token")
        if not sent or sent != request.cookies.get(CSRF_COOKIE):
            raise Forbidden("Missing or wrong CSRF token.", code="csrf_failed")
    actor = actor_for_token(base, get_stores(request), token, user)
    request.state.actor = actor  # for the portal's header (who is signed in)
    return RequestContext(actor=actor, settings=settings, request_id=rid, client_ip=ip)


StoresDep = Annotated[Stores, Depends(get_stores)]
ContextDep = Annotated[RequestContext, Depends(get_context)]
