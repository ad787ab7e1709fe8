"""Simulated Kaiserslautern sensors in the platform: the Things and Datastreams (found again by
their simulator key), a history of values, and live values written directly or published over MQTT
to `v1.1/Datastreams(ID)/Observations` as any field device would (the platform's MQTT bridge then
stores them). The numbers come from simulate_model and are labelled as generated everywhere."""

from __future__ import annotations

import datetime as dt
import json
import ssl
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from urbandata.auth.actor import RequestContext
from urbandata.config import Settings
from urbandata.errors import ConfigError, UrbanDataError
from urbandata.sensors import provision, service
from urbandata.sensors.simulate_model import DEFAULT_SEED, QUANTITIES, STATIONS, Station, history, value
from urbandata.stores import Stores

NOTE = "Generierte Beispieldaten – keine amtlichen Messwerte"
SENSOR_NAME = "Simulator (generierte Beispieldaten)"

# dataset slug -> (organisation slug, organisation name, metadata)
DATASETS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "luftqualitaet-kaiserslautern": (
        "umwelt",
        "Referat Umweltschutz",
        {
            "title": "Luftqualität Kaiserslautern (simuliert)",
            "description": f"**{NOTE}.** Simulierte Luftmessstationen am Stiftsplatz, am Pfaffplatz und am "
            "Hauptbahnhof mit Stickstoffdioxid (NO2), Feinstaub (PM10, PM2,5) und Lufttemperatur als "
            "Stundenwerte, mit plausiblen Tages- und Wochengängen (Berufsverkehr, Nacht, Wochenende). "
            "Zeitreihen über die SensorThings API.",
            "keywords": ["Luftqualität", "Feinstaub", "Stickstoffdioxid", "Sensoren", "Beispieldaten"],
            "themes": ["ENVI"],
            "license": "dl-de/zero-2-0",
            "frequency": "CONT",
            "access_level": "public",
        },
    ),
    "verkehrszaehlung-kaiserslautern": (
        "mobilitaet",
        "Referat Mobilität",
        {
            "title": "Verkehrszählung Kaiserslautern (simuliert)",
            "description": f"**{NOTE}.** Eine simulierte Dauerzählstelle an der Pariser Straße: Kraftfahrzeuge "
            "je 15 Minuten mit Berufsverkehr an Werktagen, wenig Verkehr nachts und am Wochenende. "
            "Zeitreihen über die SensorThings API.",
            "keywords": ["Verkehr", "Verkehrszählung", "Sensoren", "Beispieldaten"],
            "themes": ["TRAN"],
            "license": "dl-de/zero-2-0",
            "frequency": "CONT",
            "access_level": "public",
        },
    ),
}


def _dataset_of(station: Station) -> str:
    return "luftqualitaet-kaiserslautern" if station.kind == "air" else "verkehrszaehlung-kaiserslautern"


StreamKey = tuple[str, str]  # (station key, quantity key)


@dataclass
class SimReport:
    things_created: int = 0
    observations_added: int = 0
    duplicates: int = 0
    rejected: int = 0

    def add(self, results: list[str | UrbanDataError]) -> None:
        for r in results:
            if isinstance(r, str):
                self.observations_added += 1
            elif r.code == "duplicate_observation":
                self.duplicates += 1
            else:
                self.rejected += 1


def _thing_body(station: Station, sensor: int, props: dict[str, int]) -> dict[str, Any]:
    return {
        "name": station.name,
        "description": f"{station.description}. {NOTE}.",
        "properties": {"dataset": _dataset_of(station), "simulatorKey": station.key, "simulated": True},
        "Locations": [
            {
                "name": station.name,
                "description": station.description,
                "encodingType": "application/geo+json",
                "location": {"type": "Point", "coordinates": [station.lon, station.lat]},
            }
        ],
        "Datastreams": [_stream_body(station, q, sensor, props[q]) for q in station.quantities],
    }


def _stream_body(station: Station, quantity: str, sensor: int, prop: int) -> dict[str, Any]:
    q = QUANTITIES[quantity]
    return provision.datastream_body(
        f"{q.name} – {station.name}",
        f"{q.description} ({NOTE})",
        observation_type="OM_CountObservation" if q.count else "OM_Measurement",
        unit=q.unit,
        sensor_id=sensor,
        property_id=prop,
        properties={"simKey": quantity, "simulated": True},
    )


def ensure_sensors(ctx: RequestContext, stores: Stores, report: SimReport | None = None) -> dict[StreamKey, int]:
    """Create the simulated stations (catalog datasets, Things, Datastreams) unless they exist; their stream ids."""
    base = provision.sta_base_url(ctx.settings)
    dataset_ids: dict[str, int] = {}
    for slug, (org, org_name, meta) in DATASETS.items():
        provision.ensure_org(ctx, stores, org, org_name)
        dataset_ids[slug], _ = provision.ensure_dataset(ctx, stores, slug, org, meta)
    sensor = provision.ensure_descriptor(
        ctx,
        stores,
        "Sensors",
        {
            "name": SENSOR_NAME,
            "description": f"Rechenmodell der Plattform (urbandata.sensors.simulate_model). {NOTE}.",
            "encodingType": "text/plain",
            "metadata": "urbandata.sensors.simulate_model",
        },
        base_url=base,
    )
    props = {
        key: provision.ensure_descriptor(
            ctx,
            stores,
            "ObservedProperties",
            {"name": q.name, "definition": q.definition, "description": q.description},
            base_url=base,
        )
        for key, q in QUANTITIES.items()
    }
    streams: dict[StreamKey, int] = {}
    for station in STATIONS:
        things = provision.things_by_key(stores, dataset_ids[_dataset_of(station)], "simulatorKey")
        thing_id = things.get(station.key)
        if thing_id is None:
            thing_id = service.post(ctx, stores, "Things", _thing_body(station, sensor, props), base_url=base).id
            if report is not None:
                report.things_created += 1
        found = provision.streams_by_key(stores, thing_id, "simKey")
        for quantity in station.quantities:
            if quantity not in found:
                body = _stream_body(station, quantity, sensor, props[quantity])
                found[quantity] = service.post(ctx, stores, f"Things({thing_id})/Datastreams", body, base_url=base).id
            streams[(station.key, quantity)] = found[quantity]
    return streams


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def load_history(
    ctx: RequestContext, stores: Stores, *, days: float = 7, now: dt.datetime | None = None, seed: int = DEFAULT_SEED
) -> SimReport:
    """The simulated sensors with `days` of history before `now` (hourly air quality, 15-minute traffic).
    Values already stored are duplicates and skipped, so re-running only fills what is missing."""
    now = now or dt.datetime.now(dt.UTC)
    report = SimReport()
    streams = ensure_sensors(ctx, stores, report)
    base = provision.sta_base_url(ctx.settings)
    for station in STATIONS:
        for quantity in station.quantities:
            bodies = [{"phenomenonTime": _iso(t), "result": v} for t, v in history(station, quantity, now, days, seed)]
            if bodies:
                report.add(
                    service.create_observations(ctx, stores, streams[(station.key, quantity)], bodies, base_url=base)
                )
    return report


def live_bodies(streams: dict[StreamKey, int], now: dt.datetime, seed: int = DEFAULT_SEED) -> dict[int, dict[str, Any]]:
    """One current value per simulated Datastream, keyed by Datastream id."""
    at = now.astimezone(dt.UTC).replace(microsecond=0)
    by_key = {s.key: s for s in STATIONS}
    return {
        stream_id: {"phenomenonTime": _iso(at), "result": value(by_key[skey], q, at, seed)}
        for (skey, q), stream_id in streams.items()
    }


class MqttPublisher:
    """Publishes observations like a field device: JSON to `<prefix>Datastreams(ID)/Observations`, QoS 1."""

    def __init__(self, settings: Settings, *, timeout: float = 10.0) -> None:
        if not settings.mqtt_url:
            raise ConfigError("URBANDATA_MQTT_URL is not set", code="mqtt_not_configured")
        url = urlsplit(settings.mqtt_url)
        if url.scheme not in ("mqtt", "mqtts") or not url.hostname:
            raise ConfigError(
                f"URBANDATA_MQTT_URL must be mqtt://host:port or mqtts://host:port, not {settings.mqtt_url!r}"
            )
        self.prefix = settings.mqtt_topic_prefix
        self.timeout = timeout
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"urbandata-sim-{uuid.uuid4().hex[:8]}")
        if settings.mqtt_username:
            password = settings.mqtt_password.get_secret_value() if settings.mqtt_password else None
            self.client.username_pw_set(settings.mqtt_username, password)
        if url.scheme == "mqtts":
            self.client.tls_set(
                ca_certs=str(settings.mqtt_ca_file) if settings.mqtt_ca_file else None, cert_reqs=ssl.CERT_REQUIRED
            )
        connected = threading.Event()
        self.client.on_connect = lambda *args: connected.set()
        try:
            self.client.connect(url.hostname, url.port or (8883 if url.scheme == "mqtts" else 1883))
        except OSError as exc:
            raise ConfigError(
                f"MQTT broker {settings.mqtt_url} not reachable: {exc}", code="mqtt_unreachable"
            ) from None
        self.client.loop_start()
        if not connected.wait(timeout):
            self.close()
            raise ConfigError(f"MQTT broker {settings.mqtt_url} did not accept the connection", code="mqtt_unreachable")

    def publish(self, stream_id: int, body: dict[str, Any]) -> None:
        info = self.client.publish(f"{self.prefix}Datastreams({stream_id})/Observations", json.dumps(body), qos=1)
        info.wait_for_publish(self.timeout)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def live_round(
    ctx: RequestContext,
    stores: Stores,
    streams: dict[StreamKey, int],
    now: dt.datetime,
    *,
    seed: int = DEFAULT_SEED,
    publisher: MqttPublisher | None = None,
) -> SimReport:
    """Current values of all simulated Datastreams: published over MQTT, or written directly."""
    report = SimReport()
    bodies = live_bodies(streams, now, seed)
    if publisher is not None:
        for stream_id, body in bodies.items():
            publisher.publish(stream_id, body)
        report.observations_added = len(bodies)  # sent; the platform's MQTT bridge stores them
        return report
    base = provision.sta_base_url(ctx.settings)
    for stream_id, body in bodies.items():
        report.add(service.create_observations(ctx, stores, stream_id, [body], base_url=base))
    return report


def run_live(
    ctx: RequestContext,
    stores: Stores,
    *,
    interval: float,
    rounds: int | None = None,
    seed: int = DEFAULT_SEED,
    use_mqtt: bool = True,
    stop: threading.Event | None = None,
    on_round: Callable[[SimReport, bool], None] | None = None,
) -> None:
    """Feed live values every `interval` seconds (`rounds` times, or until `stop` is set)."""
    stop = stop or threading.Event()
    streams = ensure_sensors(ctx, stores)
    publisher = MqttPublisher(ctx.settings) if use_mqtt and ctx.settings.mqtt_url else None
    try:
        n = 0
        while rounds is None or n < rounds:
            report = live_round(ctx, stores, streams, dt.datetime.now(dt.UTC), seed=seed, publisher=publisher)
            if on_round is not None:
                on_round(report, publisher is not None)
            n += 1
            if (rounds is not None and n >= rounds) or stop.wait(interval):
                break
    finally:
        if publisher is not None:
            publisher.close()
