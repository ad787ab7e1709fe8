"""An overview of the Things an actor may see, with their Datastreams and latest values (`urbandata
sensors list`), read through the SensorThings service so that visibility is the API's."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from typing import Any

from urbandata.auth.actor import RequestContext
from urbandata.sensors import service
from urbandata.sensors.provision import sta_base_url
from urbandata.stores import Stores


def _pages(ctx: RequestContext, stores: Stores, path: str, params: dict[str, str], base: str) -> Iterator[Any]:
    """Every entity of a collection, following @iot.nextLink."""
    while True:
        page = service.get(ctx, stores, path, params, base_url=base)
        yield from page.get("value", [])
        link = page.get("@iot.nextLink")
        if not link:
            return
        parts = urllib.parse.urlsplit(link)
        path = parts.path.split("/sta/v1.1/", 1)[-1]
        params = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))


def list_things(ctx: RequestContext, stores: Stores) -> list[dict[str, Any]]:
    """Things with their Datastreams (unit, observation type) and each Datastream's latest observation."""
    base = sta_base_url(ctx.settings)
    out: list[dict[str, Any]] = []
    things = _pages(ctx, stores, "Things", {"$orderby": "id", "$expand": "Datastreams($orderby=id)"}, base)
    for thing in things:
        streams: list[dict[str, Any]] = []
        for ds in thing.get("Datastreams", []):
            latest_page = service.get(
                ctx,
                stores,
                f"Datastreams({ds['@iot.id']})/Observations",
                {"$orderby": "phenomenonTime desc", "$top": "1", "$select": "phenomenonTime,result"},
                base_url=base,
            )
            latest = (latest_page.get("value") or [None])[0]
            unit = ds.get("unitOfMeasurement") or {}
            streams.append(
                {
                    "id": ds["@iot.id"],
                    "name": ds.get("name"),
                    "observationType": str(ds.get("observationType", "")).rsplit("/", 1)[-1],
                    "unit": unit.get("symbol"),
                    "latest": None
                    if latest is None
                    else {"phenomenonTime": latest.get("phenomenonTime"), "result": latest.get("result")},
                }
            )
        props = thing.get("properties") or {}
        out.append(
            {
                "id": thing["@iot.id"],
                "name": thing.get("name"),
                "dataset": props.get("dataset") if isinstance(props, dict) else None,
                "datastreams": streams,
            }
        )
    return out
