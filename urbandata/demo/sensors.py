"""The sensor part of `urbandata demo`: the real Kaiserslautern car park snapshot replayed offline,
and the simulated air-quality stations and traffic counter with a week of history plus one round of
live values (over MQTT when URBANDATA_MQTT_URL is set, otherwise written directly)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from urbandata.auth.actor import RequestContext
from urbandata.errors import UrbanDataError
from urbandata.sensors import parking, simulate
from urbandata.stores import Stores

HISTORY_DAYS = 7


def load_sensor_demo(ctx: RequestContext, stores: Stores, *, now: dt.datetime | None = None) -> Iterator[str]:
    """Load the sensor demo (idempotent: what is stored already is skipped); yield progress lines."""
    report = parking.run_connector(ctx, stores, file=parking.SNAPSHOT_FILE)
    yield from (f"car parks: {line}" for line in report.lines())
    now = now or dt.datetime.now(dt.UTC)
    sim = simulate.load_history(ctx, stores, days=HISTORY_DAYS, now=now)
    yield (
        f"simulated sensors: {sim.things_created} Things created, {sim.observations_added:,} observations of "
        f"{HISTORY_DAYS} days added, {sim.duplicates:,} already stored"
    )
    streams = simulate.ensure_sensors(ctx, stores)
    publisher: simulate.MqttPublisher | None = None
    if ctx.settings.mqtt_url:
        try:
            publisher = simulate.MqttPublisher(ctx.settings)
        except UrbanDataError as exc:
            yield f"simulated sensors: {exc}; live values written directly instead"
    try:
        live = simulate.live_round(ctx, stores, streams, now, publisher=publisher)
    finally:
        if publisher is not None:
            publisher.close()
    how = f"published over MQTT to {ctx.settings.mqtt_url}" if publisher is not None else "written"
    yield f"simulated sensors: {live.observations_added} live values {how}"
