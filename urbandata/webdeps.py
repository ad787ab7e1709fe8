"""Request-scoped inputs shared by the API and the portal: the stores and the request context."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request

from urbandata.auth.actor import Actor, RequestContext
from urbandata.config import Settings
from urbandata.stores import Stores


def get_stores(request: Request) -> Stores:
    stores: Stores = request.app.state.stores
    return stores


def get_context(request: Request) -> RequestContext:
    settings: Settings = request.app.state.settings
    rid = request.headers.get("x-request-id") or uuid.uuid4().hex[:16]
    return RequestContext(actor=Actor.anonymous(), settings=settings, request_id=rid[:64])


StoresDep = Annotated[Stores, Depends(get_stores)]
ContextDep = Annotated[RequestContext, Depends(get_context)]
