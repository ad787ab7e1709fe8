"""Test data for the SensorThings extensions: observations written through the one write path."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from urbandata.sensors import observations as obs
from urbandata.stores import Stores

UTC = dt.UTC


def add_observations(stores: Stores, stream_id: int, values: list[tuple[dt.datetime, Any]]) -> list[int]:
    """Insert (phenomenonTime, result) pairs into a Datastream (rollups and latest value maintained)."""
    items = [obs.NewObservation(phenomenon_time=when, phenomenon_time_end=None, result=value) for when, value in values]
    with stores.engine.begin() as conn:
        stream = obs.load_stream(conn, stream_id)
        out = obs.insert_observations(conn, stream, items)
    assert all(isinstance(x, int) for x in out), out
    return [int(x) for x in out]  # type: ignore[arg-type]


def random_series(seed: int, start: dt.datetime, end: dt.datetime, n: int) -> list[tuple[dt.datetime, float]]:
    """n observations at distinct random instants (millisecond precision) between start and end."""
    rng = random.Random(seed)
    span_ms = int((end - start).total_seconds() * 1000)
    offsets = sorted(rng.sample(range(span_ms), n))
    return [(start + dt.timedelta(milliseconds=ms), round(rng.uniform(-20, 120), 3)) for ms in offsets]
