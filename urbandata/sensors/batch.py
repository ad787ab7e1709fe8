"""JSON batch requests (OData 4.01 JSON batch format, as FROST-Server offers it for STA 1.1):
`{"requests": [{"id", "method", "url", "body", "atomicityGroup"}]}`. Requests of one atomicity
group run in one transaction (all or nothing); `$<id>` refers to an entity created earlier."""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from urbandata.auth.actor import RequestContext
from urbandata.errors import InvalidInput, UrbanDataError
from urbandata.sensors import service
from urbandata.sensors.events import hub_of
from urbandata.stores import Stores

MAX_REQUESTS = 1000
_REF = re.compile(r"\$([A-Za-z0-9_-]+)")


def _substitute(value: Any, created: dict[str, int]) -> Any:
    """Replace `"$s1"` ids (in `@iot.id` values) by the ids created under those request ids."""
    if isinstance(value, dict):
        return {k: _substitute(v, created) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, created) for v in value]
    if isinstance(value, str) and value.startswith("$") and value[1:] in created:
        return created[value[1:]]
    return value


def _url(raw: Any, base: str, created: dict[str, int]) -> tuple[str, dict[str, str]]:
    if not isinstance(raw, str) or not raw:
        raise InvalidInput("Each batch request needs a url", code="invalid_batch")
    text = raw[len(base) :] if raw.startswith(base) else raw
    text = _REF.sub(lambda m: str(created.get(m.group(1), m.group(0))), text.lstrip("/"))
    parts = urllib.parse.urlsplit(text)
    params = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    path = parts.path
    for name, value in created.items():
        path = path.replace(f"${name}", str(value))
    return path, params


def _one(
    ctx: RequestContext, stores: Stores, req: dict[str, Any], created: dict[str, int], base: str, tx: service.Tx | None
) -> dict[str, Any]:
    method = str(req.get("method", "")).lower()
    path, params = _url(req.get("url"), base, created)
    body = _substitute(req.get("body"), created)
    rid = req.get("id")
    if method == "get":
        result = service.get(ctx, stores, path, params, base_url=base)
        if result is None:
            return {"id": rid, "status": 204}
        if isinstance(result, service.RawValue):
            return {"id": rid, "status": 200, "body": result.text}
        return {"id": rid, "status": 200, "body": result}
    if method == "post":
        made = service.post(ctx, stores, path, body, base_url=base, tx=tx)
        if isinstance(rid, str):
            created[rid] = made.id
        return {"id": rid, "status": 201, "location": made.location, "body": made.entity}
    if method == "patch":
        return {"id": rid, "status": 200, "body": service.patch(ctx, stores, path, body, base_url=base, tx=tx)}
    if method == "delete":
        service.delete(ctx, stores, path, base_url=base, tx=tx)
        return {"id": rid, "status": 204}
    raise InvalidInput(f"Unsupported batch method {req.get('method')!r}", code="invalid_batch")


def _error(rid: Any, exc: UrbanDataError) -> dict[str, Any]:
    return {"id": rid, "status": exc.status, "body": exc.to_dict()}


def run(ctx: RequestContext, stores: Stores, body: Any, *, base_url: str) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("requests"), list):
        raise InvalidInput('A JSON batch is {"requests": [...]}', code="invalid_batch")
    requests = body["requests"]
    if len(requests) > MAX_REQUESTS:
        raise InvalidInput(f"At most {MAX_REQUESTS} requests per batch", code="invalid_batch")
    if not all(isinstance(r, dict) for r in requests):
        raise InvalidInput("Each batch request must be an object", code="invalid_batch")
    created: dict[str, int] = {}
    responses: list[dict[str, Any]] = []
    i = 0
    while i < len(requests):
        group = requests[i].get("atomicityGroup")
        if group is None:
            try:
                responses.append(_one(ctx, stores, requests[i], created, base_url, None))
            except UrbanDataError as exc:
                responses.append(_error(requests[i].get("id"), exc))
            i += 1
            continue
        members = []
        while i < len(requests) and requests[i].get("atomicityGroup") == group:
            members.append(requests[i])
            i += 1
        responses.extend(_atomic(ctx, stores, members, created, base_url))
    return {"responses": responses}


def _atomic(
    ctx: RequestContext, stores: Stores, members: list[dict[str, Any]], created: dict[str, int], base: str
) -> list[dict[str, Any]]:
    """All requests of an atomicity group in one transaction: on the first failure nothing stays."""
    out: list[dict[str, Any]] = []
    before = dict(created)
    failed: tuple[Any, UrbanDataError] | None = None
    conn = stores.engine.connect()
    try:
        trans = conn.begin()
        tx = service.Tx(conn, [])
        for req in members:
            try:
                out.append(_one(ctx, stores, req, created, base, tx))
            except UrbanDataError as exc:
                failed = (req.get("id"), exc)
                break
        if failed is None:
            trans.commit()
            hub_of(stores.caches).publish(tx.changes)
            return out
        trans.rollback()
    finally:
        conn.close()
    created.clear()
    created.update(before)
    rid, error = failed
    return [_error(rid, error) if r.get("id") == rid else {"id": r.get("id"), "status": 424} for r in members]
