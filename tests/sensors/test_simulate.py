"""Simulated Kaiserslautern sensors: plausible daily and weekly patterns, determinism, loading into
the platform on both backends (idempotent, labelled as generated), live values directly and over MQTT."""

from __future__ import annotations

import datetime as dt
import statistics

import pytest
import sqlalchemy as sa

from tests.sensors.mqtt_support import MQTT_URL, Recorder, require_broker, unique_prefix, wait_until
from urbandata.auth.actor import RequestContext
from urbandata.catalog import service as catalog
from urbandata.db import tables
from urbandata.sensors import simulate
from urbandata.sensors import simulate_model as model
from urbandata.stores import Stores

STATIONS = {s.key: s for s in model.STATIONS}
HBF = STATIONS["hauptbahnhof"]
COUNTER = STATIONS["pariser-strasse"]


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A local (Europe/Berlin) time in the week of Monday 3 November 2025."""
    return dt.datetime(2025, 11, day, hour, minute, tzinfo=model.BERLIN).astimezone(dt.UTC)


def test_traffic_has_rush_hours_night_lows_and_quiet_weekends() -> None:
    workdays = range(3, 8)  # Monday 3 to Friday 7 November 2025
    rush = [model.vehicles(local(d, 7, 45)) for d in workdays] + [model.vehicles(local(d, 17)) for d in workdays]
    night = [model.vehicles(local(d, 3)) for d in workdays]
    assert min(rush) > 4 * max(night)
    assert 200 < statistics.mean(rush) < 500 and max(night) < 60
    saturday_morning, tuesday_morning = model.vehicles(local(8, 7, 45)), model.vehicles(local(4, 7, 45))
    assert saturday_morning < tuesday_morning / 2
    sunday = sum(model.vehicles(t) for t in model.grid(local(9, 0), local(10, 0), model.QUARTER))
    tuesday = sum(model.vehicles(t) for t in model.grid(local(4, 0), local(5, 0), model.QUARTER))
    assert 8_000 < tuesday < 25_000 and sunday < 0.6 * tuesday


def test_pollution_follows_traffic_and_temperature_the_sun() -> None:
    for d in range(3, 8):
        assert model.value(HBF, "no2", local(d, 8)) > model.value(HBF, "no2", local(d, 3)) + 10
        assert model.temperature(local(d, 15)) > model.temperature(local(d, 5))
    week = [local(3, 0) + dt.timedelta(hours=h) for h in range(24 * 7)]
    hbf_no2 = statistics.mean(float(model.value(HBF, "no2", t)) for t in week)
    pfaff_no2 = statistics.mean(float(model.value(STATIONS["pfaffplatz"], "no2", t)) for t in week)
    assert hbf_no2 > pfaff_no2  # the station next to the traffic reads higher
    for t in week:
        pm10, pm25 = model.value(HBF, "pm10", t), model.value(HBF, "pm25", t)
        assert 0 < pm25 < pm10 < 80 and 0 < model.value(HBF, "no2", t) < 120
        assert -15 < model.temperature(t) < 25  # November


def test_same_seed_same_values_other_seed_other_values() -> None:
    end = local(5, 12)
    a = model.history(HBF, "no2", end, 2, seed=1)
    assert a == model.history(HBF, "no2", end, 2, seed=1) and len(a) == 48
    assert a != model.history(HBF, "no2", end, 2, seed=2)
    assert all(t.minute == 0 and t.second == 0 for t, _ in a)
    quarter = model.history(COUNTER, "vehicles", end, 1)
    assert len(quarter) == 96 and all(isinstance(v, int) for _, v in quarter)


def _observation_count(stores: Stores) -> int:
    with stores.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(tables.sta_observations)).scalar_one())


def test_history_loads_once_labelled_as_generated(admin: RequestContext, anon: RequestContext, stores: Stores) -> None:
    now = dt.datetime(2025, 11, 6, 10, 7, tzinfo=dt.UTC)
    report = simulate.load_history(admin, stores, days=1, now=now)
    expected = 3 * 4 * 24 + 96  # three stations with four hourly quantities, one 15-minute counter
    assert report.things_created == 4 and report.observations_added == expected and report.rejected == 0
    again = simulate.load_history(admin, stores, days=1, now=now)
    assert again.things_created == 0 and again.observations_added == 0 and again.duplicates == expected
    assert _observation_count(stores) == expected
    for slug in simulate.DATASETS:
        ds = catalog.get_dataset(anon, stores, slug)  # public
        assert "Generierte Beispieldaten" in ds.description and "simuliert" in ds.title
    streams = simulate.ensure_sensors(admin, stores)
    assert len(streams) == 13
    live = simulate.live_round(admin, stores, streams, now + dt.timedelta(minutes=1))
    assert live.observations_added == 13
    assert _observation_count(stores) == expected + 13


def test_live_values_are_published_over_mqtt(admin: RequestContext, stores: Stores) -> None:
    require_broker()
    prefix = unique_prefix()
    settings = admin.settings.model_copy(update={"mqtt_url": MQTT_URL, "mqtt_topic_prefix": prefix})
    ctx = RequestContext(actor=admin.actor, settings=settings)
    streams = simulate.ensure_sensors(ctx, stores)
    recorder = Recorder(f"{prefix}#")
    try:
        publisher = simulate.MqttPublisher(settings)
        try:
            now = dt.datetime(2025, 11, 4, 7, 0, tzinfo=dt.UTC)
            report = simulate.live_round(ctx, stores, streams, now, publisher=publisher)
        finally:
            publisher.close()
        assert report.observations_added == 13
        assert wait_until(lambda: len(recorder.messages) >= 13)
        stream = streams[("pariser-strasse", "vehicles")]
        [body] = recorder.on(f"{prefix}Datastreams({stream})/Observations")
        assert body == {"phenomenonTime": "2025-11-04T07:00:00Z", "result": model.vehicles(now)}
    finally:
        recorder.close()
    assert _observation_count(stores) == 0  # published, not written: the platform's MQTT bridge stores them


def test_unreachable_broker_is_a_clear_error(admin: RequestContext) -> None:
    settings = admin.settings.model_copy(update={"mqtt_url": "mqtt://127.0.0.1:9"})
    with pytest.raises(Exception, match="not reachable"):
        simulate.MqttPublisher(settings)
