"""The sensor part of `urbandata demo`: offline replay of the car park snapshot and the simulated
sensors with a week of history, idempotent, on both backends; live values over MQTT when configured."""

from __future__ import annotations

import datetime as dt

from tests.sensors.mqtt_support import MQTT_URL, Recorder, require_broker, unique_prefix, wait_until
from urbandata.auth.actor import RequestContext
from urbandata.catalog import service as catalog
from urbandata.demo.sensors import load_sensor_demo
from urbandata.stores import Stores

NOW = dt.datetime(2025, 11, 6, 10, 0, tzinfo=dt.UTC)


def test_sensor_demo_loads_once(admin: RequestContext, anon: RequestContext, stores: Stores) -> None:
    lines = list(load_sensor_demo(admin, stores, now=NOW))
    text = "\n".join(lines)
    assert "11 Things and 33 Datastreams created, 33 observations added" in text
    week = 7 * (3 * 4 * 24 + 96)
    assert f"4 Things created, {week:,} observations of 7 days added" in text
    assert "13 live values written" in text
    again = "\n".join(load_sensor_demo(admin, stores, now=NOW))
    assert "0 observations added, 33 already stored" in again and f"{week:,} already stored" in again
    slugs = {d.slug for d in catalog.search_datasets(anon, stores, "", page_size=100).results}
    assert {
        "parkhausbelegung-kaiserslautern",
        "luftqualitaet-kaiserslautern",
        "verkehrszaehlung-kaiserslautern",
    } <= slugs


def test_sensor_demo_sends_live_values_over_mqtt_when_configured(admin: RequestContext, stores: Stores) -> None:
    require_broker()
    prefix = unique_prefix()
    settings = admin.settings.model_copy(update={"mqtt_url": MQTT_URL, "mqtt_topic_prefix": prefix})
    recorder = Recorder(f"{prefix}#")
    try:
        lines = list(load_sensor_demo(RequestContext(actor=admin.actor, settings=settings), stores, now=NOW))
        assert any(f"13 live values published over MQTT to {MQTT_URL}" in line for line in lines)
        assert wait_until(lambda: len(recorder.messages) >= 13)
        assert all(body["phenomenonTime"] == "2025-11-06T10:00:00Z" for _, body in recorder.messages)
    finally:
        recorder.close()
