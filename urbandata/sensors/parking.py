"""Connector for Kaiserslautern's car park guidance feed: one Thing per car park (with its Location
from the ParkAPI GeoJSON), Datastreams for free spaces, occupied spaces and status, and one
observation per Datastream and feed timestamp. Re-running finds everything again by the feed id
(Thing `properties.feedId`, Datastream `properties.feedKey`); a snapshot already stored is a
duplicate and skipped quietly. The feed is parsed completely before anything is written, so a
broken feed (garbage, an HTML error page, HTTP 500) stores nothing."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from urbandata.auth.actor import RequestContext
from urbandata.errors import IngestError, UrbanDataError
from urbandata.sensors import provision, service
from urbandata.sensors.parking_feed import (
    CarPark,
    CarParkLocation,
    FeedSnapshot,
    city_point,
    match_locations,
    parse_feed,
    parse_locations,
)
from urbandata.stores import Stores

log = logging.getLogger("urbandata.sensors.parking")

DEMO_DATA = Path(__file__).parents[1] / "demo" / "data"
LOCATIONS_FILE = DEMO_DATA / "kaiserslautern_parkhaeuser.geojson"
SNAPSHOT_FILE = DEMO_DATA / "kaiserslautern_pls_2021-07-13.xml"
DATASET = "parkhausbelegung-kaiserslautern"
SOURCE = "kaiserslautern-pls"
CITY_CENTRE = (7.7689, 49.4447)
FETCH_TIMEOUT = 20.0

DATASET_META: dict[str, Any] = {
    "title": "Parkhausbelegung Kaiserslautern (Parkleitsystem, live)",
    "description": "Freie und belegte Stellplätze sowie der Status der Parkhäuser in Kaiserslautern aus dem "
    "Parkleitsystem der Stadt (https://www.kaiserslautern.de/live_tools/pls/pls.xml), als Zeitreihen über "
    "die SensorThings API. Standorte: ParkAPI-Mitwirkende (MIT-Lizenz).",
    "keywords": ["Parken", "Parkhaus", "Parkleitsystem", "Mobilität", "Echtzeitdaten"],
    "themes": ["TRAN"],
    "license": "cc-zero",
    "attribution": "Stadt Kaiserslautern",
    "publisher": "Stadt Kaiserslautern",
    "frequency": "CONT",
    "access_level": "public",
}

SPACES = {"name": "Stellplätze", "symbol": "Stellplätze", "definition": "http://qudt.org/vocab/unit/NUM"}
NO_UNIT: dict[str, Any] = {"name": None, "symbol": None, "definition": None}
# feedKey -> (observed property name, definition, description, observation type, unit)
STREAMS: dict[str, tuple[str, str, str, str, dict[str, Any]]] = {
    "free": (
        "Freie Stellplätze",
        "urn:x-urbandata:def:parking:free-spaces",
        "Anzahl der freien Stellplätze",
        "OM_CountObservation",
        SPACES,
    ),
    "occupied": (
        "Belegte Stellplätze",
        "urn:x-urbandata:def:parking:occupied-spaces",
        "Anzahl der belegten Stellplätze",
        "OM_CountObservation",
        SPACES,
    ),
    "status": (
        "Parkhausstatus",
        "urn:x-urbandata:def:parking:status",
        "Status laut Parkleitsystem (Offen, Geschlossen, Stoerung, …)",
        "OM_CategoryObservation",
        NO_UNIT,
    ),
}


@dataclass
class ParkingReport:
    feed_time: dt.datetime
    car_parks: int = 0
    things_created: int = 0
    datastreams_created: int = 0
    observations_added: int = 0
    duplicates: int = 0
    dataset_created: bool = False
    unmatched: list[str] = field(default_factory=list)  # car parks without a known location
    problems: list[str] = field(default_factory=list)  # skipped feed entries, rejected observations

    def lines(self) -> list[str]:
        out = [
            f"car park feed of {self.feed_time.isoformat()}: {self.car_parks} car parks, "
            f"{self.things_created} Things and {self.datastreams_created} Datastreams created, "
            f"{self.observations_added} observations added, {self.duplicates} already stored"
        ]
        out += [f"no location known for {name} (Thing created without Location)" for name in self.unmatched]
        out += self.problems
        return out


def fetch_feed(url: str, *, timeout: float = FETCH_TIMEOUT) -> bytes:
    """GET the feed; an unreachable server or a non-200 answer is an IngestError naming the URL."""
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True) as client:
            resp = client.get(url, headers={"Accept": "application/xml, text/xml"})
    except httpx.HTTPError as exc:
        raise IngestError(f"The car park feed {url} could not be fetched: {exc}", code="feed_unreachable") from None
    if resp.status_code != 200:
        raise IngestError(
            f"The car park feed {url} answered HTTP {resp.status_code}",
            code="feed_unreachable",
            status=resp.status_code,
        )
    return resp.content


def _descriptors(ctx: RequestContext, stores: Stores, base: str, feed_url: str) -> tuple[int, dict[str, int]]:
    sensor = provision.ensure_descriptor(
        ctx,
        stores,
        "Sensors",
        {
            "name": "Parkleitsystem Kaiserslautern",
            "description": "Zählsystem des Parkleitsystems der Stadt Kaiserslautern",
            "encodingType": "text/html",
            "metadata": feed_url,
        },
        base_url=base,
    )
    props = {
        key: provision.ensure_descriptor(
            ctx,
            stores,
            "ObservedProperties",
            {"name": name, "definition": definition, "description": desc},
            base_url=base,
        )
        for key, (name, definition, desc, _, _) in STREAMS.items()
    }
    return sensor, props


def _thing_body(
    park: CarPark, loc: CarParkLocation | None, sensor: int, props: dict[str, int], feed_url: str
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "dataset": DATASET,
        "source": SOURCE,
        "feedId": park.feed_id,
        "feedUrl": feed_url,
        "capacity": park.capacity,
    }
    if loc is not None:
        properties["address"] = loc.address
        properties["type"] = loc.kind
    body: dict[str, Any] = {
        "name": park.name,
        "description": f"{park.name}, Kaiserslautern ({park.capacity} Stellplätze)",
        "properties": properties,
        "Datastreams": [_stream_body(key, park, sensor, props) for key in STREAMS],
    }
    if loc is not None:
        body["Locations"] = [
            {
                "name": park.name,
                "description": loc.address or park.name,
                "encodingType": "application/geo+json",
                "location": {"type": "Point", "coordinates": [loc.lon, loc.lat]},
            }
        ]
    return body


def _stream_body(key: str, park: CarPark, sensor: int, props: dict[str, int]) -> dict[str, Any]:
    name, _, desc, obs_type, unit = STREAMS[key]
    return provision.datastream_body(
        f"{name} – {park.name}",
        f"{desc} im {park.name}",
        observation_type=obs_type,
        unit=unit,
        sensor_id=sensor,
        property_id=props[key],
        properties={"feedKey": key, "feedId": park.feed_id},
    )


def _unknown_place_feature(
    ctx: RequestContext, stores: Stores, park: CarPark, base: str, city: tuple[float, float]
) -> int:
    """The FeatureOfInterest for a car park whose location is unknown: the city, named after the car park."""
    name = f"{park.name} (Kaiserslautern, Lage unbekannt)"
    found = provision.feature_by_key(stores, name, "feedId", park.feed_id)
    if found is not None:
        return found
    body = {
        "name": name,
        "description": "Standort nicht bekannt; Punkt der Stadt Kaiserslautern",
        "encodingType": "application/geo+json",
        "feature": {"type": "Point", "coordinates": list(city)},
        "properties": {"feedId": park.feed_id, "source": SOURCE, "locationKnown": False},
    }
    return service.post(ctx, stores, "FeaturesOfInterest", body, base_url=base).id


def store_snapshot(
    ctx: RequestContext,
    stores: Stores,
    snapshot: FeedSnapshot,
    *,
    locations_raw: bytes | None = None,
    feed_url: str | None = None,
) -> ParkingReport:
    """Write one parsed snapshot: create what is missing, add the observations."""
    feed_url = feed_url or ctx.settings.parking_feed_url
    base = provision.sta_base_url(ctx.settings)
    raw_locations = locations_raw if locations_raw is not None else LOCATIONS_FILE.read_bytes()
    locations = parse_locations(raw_locations)
    city = city_point(raw_locations) or CITY_CENTRE
    report = ParkingReport(snapshot.time, car_parks=len(snapshot.car_parks), problems=list(snapshot.problems))
    org = ctx.settings.parking_org
    provision.ensure_org(ctx, stores, org, "Referat Mobilität", "Verkehr, Parken und Mobilität.")
    dataset_id, report.dataset_created = provision.ensure_dataset(ctx, stores, DATASET, org, DATASET_META)
    sensor, props = _descriptors(ctx, stores, base, feed_url)
    matches = match_locations(snapshot.car_parks, locations)
    things = provision.things_by_key(stores, dataset_id, "feedId")
    stamp = snapshot.time.isoformat().replace("+00:00", "Z")
    for park in snapshot.car_parks:
        loc = matches.get(park.feed_id)
        if loc is None:
            report.unmatched.append(park.name)
        thing_id = things.get(park.feed_id)
        if thing_id is None:
            created = service.post(
                ctx, stores, "Things", _thing_body(park, loc, sensor, props, feed_url), base_url=base
            )
            thing_id = created.id
            report.things_created += 1
            report.datastreams_created += len(STREAMS)
        else:
            current = provision.thing_properties(stores, thing_id)
            if current.get("capacity") != park.capacity:
                service.patch(
                    ctx,
                    stores,
                    f"Things({thing_id})",
                    {"properties": {**current, "capacity": park.capacity}},
                    base_url=base,
                )
        streams = provision.streams_by_key(stores, thing_id, "feedKey")
        for key in STREAMS:
            if key not in streams:
                made = service.post(
                    ctx,
                    stores,
                    f"Things({thing_id})/Datastreams",
                    _stream_body(key, park, sensor, props),
                    base_url=base,
                )
                streams[key] = made.id
                report.datastreams_created += 1
        body_extra: dict[str, Any] = {}
        if loc is None:
            body_extra["FeatureOfInterest"] = {"@iot.id": _unknown_place_feature(ctx, stores, park, base, city)}
        values: dict[str, Any] = {"free": park.free, "occupied": park.occupied, "status": park.status}
        for key, value in values.items():
            body = {"phenomenonTime": stamp, "resultTime": stamp, "result": value, **body_extra}
            result = service.create_observations(ctx, stores, streams[key], [body], base_url=base)[0]
            if isinstance(result, str):
                report.observations_added += 1
            elif result.code == "duplicate_observation":
                report.duplicates += 1
            else:
                report.problems.append(f"{park.name} ({key}): {result.message}")
    return report


def run_connector(
    ctx: RequestContext,
    stores: Stores,
    *,
    file: Path | None = None,
    url: str | None = None,
    locations_raw: bytes | None = None,
) -> ParkingReport:
    """One connector run: read the feed from `file` or fetch it from `url` (default: the setting), then store it."""
    if file is not None:
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise IngestError(f"Cannot read {file}: {exc.strerror}", code="file_unreadable", file=str(file)) from None
        source = str(file)
    else:
        source = url or ctx.settings.parking_feed_url
        raw = fetch_feed(source)
    snapshot = parse_feed(raw, source=source)
    return store_snapshot(ctx, stores, snapshot, locations_raw=locations_raw, feed_url=url)


def poll_feed(ctx: RequestContext, stores: Stores, now: dt.datetime) -> None:
    """The scheduler's periodic hook (registered when URBANDATA_PARKING_POLL_MINUTES > 0)."""
    if ctx.settings.parking_poll_minutes <= 0:
        return
    try:
        report = run_connector(ctx, stores)
    except UrbanDataError as exc:
        log.warning("car park feed not loaded: %s", exc)
        return
    for line in report.lines():
        log.info(line)
