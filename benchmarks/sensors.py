#!/usr/bin/env python
"""Sensor benchmark: the SensorThings API and its extensions against the same work done directly on
the engine that stores the observations (SQLite on the embedded default, PostgreSQL with `--pg`).

In one run, on a fresh data dir (or fresh PostgreSQL schemas):

1. setup through the services: a public dataset with one long-history Datastream, three ingest
   Datastreams and 100 Things x 10 Datastreams (1,000) with a latest value each; then `--obs`
   (default 10,000,000) observations of the long-history Datastream, one every 10 s (about 3.2
   years), written by a direct bulk insert plus one `INSERT ... SELECT ... GROUP BY` for the hourly
   rollups (what the write path would have maintained);
2. `urbandata serve` in a subprocess on a free loopback port; over HTTP (httpx, one keep-alive
   connection):
   - observations/s via `POST /sta/v1.1/CreateObservations` (dataArray, `--batch` per request)
     vs a raw `executemany` INSERT of the same rows (same batches, one transaction each);
   - a month of hourly averages (`Datastreams(1)/Aggregations?interval=hour&functions=avg`) vs the
     raw GROUP BY over the observations (and vs a raw read of the rollups);
   - the latest value of 1,000 Datastreams (`LatestObservations?dataset=…`) vs the same join on the
     engine and vs a raw "max(phenomenonTime) per Datastream" query without the pointer;
   - a deep page (`Datastreams(1)/Observations?$skip=100000`) vs raw OFFSET, and the page behind its
     `@iot.nextLink` (`$skiptoken`, keyset) vs raw keyset;
3. observations/s via MQTT: the platform's bridge (in this process, on a private topic prefix, with
   its broker connection in its own process) and a separate gateway process sending QoS 1 messages
   (benchmarks/mqtt_gateway.py), measured until the last one is stored. The broker is a private
   Mosquitto started for the run with `benchmarks/mosquitto.conf` (queue limits raised: with
   Debian's defaults the broker itself drops most of a 100,000-message burst for any subscriber),
   or the one at `--mqtt-url`; skipped with a message when none answers.

Results are checked to agree with the raw queries; timings are printed and written to
`benchmarks/out/sensors-<backend>.json`; nothing is asserted about them.

    .venv/bin/python benchmarks/sensors.py                   # embedded default, 10M observations
    .venv/bin/python benchmarks/sensors.py --pg              # metadata + datastore on PostgreSQL
    .venv/bin/python benchmarks/sensors.py --obs 1000000 --requests 20   # quicker
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import math
import os
import platform
import shutil
import socket
import statistics
import subprocess
import threading
import time
import uuid
import zoneinfo
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table
from serving import server

from urbandata.accounts import service as accounts
from urbandata.auth.actor import Actor, RequestContext
from urbandata.catalog import service as catalog
from urbandata.catalog.models import OrganizationIn
from urbandata.config import Settings
from urbandata.db.engine import create_engine
from urbandata.sensors import aggregate, latest, service
from urbandata.stores import Stores

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "out"
PG_URL = os.environ.get("URBANDATA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
BASE = "http://localhost:8000/sta/v1.1"
M = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
T0 = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)  # start of the long history
STEP = dt.timedelta(seconds=10)
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
SKIP = 100_000
TARGETS = {"data_array_per_s": 50_000, "mqtt_per_s": 10_000, "aggregation_ms": 50.0, "latest_ms": 50.0}
console = Console(width=180)


# --- setup ----------------------------------------------------------------------------------------


def settings_for(args: argparse.Namespace, work: Path) -> tuple[Settings, dict[str, str], Callable[[], None]]:
    """Settings, the server's environment and a cleanup for the chosen backend."""
    data_dir = work / "data"
    shutil.rmtree(data_dir, ignore_errors=True)
    env = {"URBANDATA_DATA_DIR": str(data_dir)}
    if not args.pg:
        return Settings(data_dir=data_dir, metadata_url=None, datastore_url=None), env, lambda: None
    tag = uuid.uuid4().hex[:8]
    meta, data = f"bench_sensors_meta_{tag}", f"bench_sensors_data_{tag}"
    with psycopg.connect(args.pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{meta}"')
    metadata_url = f"{args.pg_url}?options=-csearch_path%3D{meta}"
    env |= {
        "URBANDATA_METADATA_URL": metadata_url,
        "URBANDATA_DATASTORE_URL": args.pg_url,
        "URBANDATA_DATASTORE_SCHEMA": data,
    }

    def drop() -> None:
        with psycopg.connect(args.pg_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{meta}" CASCADE')
            conn.execute(f'DROP SCHEMA IF EXISTS "{data}" CASCADE')
            role = f"{data}_reader"
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                conn.execute(f'DROP OWNED BY "{role}"')
                conn.execute(f'DROP ROLE "{role}"')

    settings = Settings(data_dir=data_dir, metadata_url=metadata_url, datastore_url=args.pg_url, datastore_schema=data)
    return settings, env, drop


def _stream(name: str, sensor: int, prop: int) -> dict[str, Any]:
    return {
        "name": name,
        "description": "Benchmark",
        "observationType": M,
        "unitOfMeasurement": {"name": "Mikrogramm pro Kubikmeter", "symbol": "µg/m³", "definition": "ucum:ug/m3"},
        "Sensor": {"@iot.id": sensor},
        "ObservedProperty": {"@iot.id": prop},
    }


def _thing(name: str, dataset: str, lon: float, streams: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": name,
        "description": "Benchmark",
        "properties": {"dataset": dataset},
        "Locations": [
            {
                "name": f"Standort {name}",
                "description": "",
                "encodingType": "application/geo+json",
                "location": {"type": "Point", "coordinates": [lon, 49.44]},
            }
        ],
        "Datastreams": streams,
    }


def setup(stores: Stores, settings: Settings) -> dict[str, Any]:
    """Org, datasets, token, Things and Datastreams through the services. Returns ids and the token."""
    admin = RequestContext(actor=Actor.system(), settings=settings)
    catalog.create_org(admin, stores, OrganizationIn(slug="umwelt", name="Referat Umweltschutz"))
    for slug in ("sensor-benchmark", "sensor-live"):
        catalog.create_dataset(admin, stores, slug, "umwelt", {"title": slug, "access_level": "public"})
    accounts.add_user(admin, stores, "bench")
    accounts.set_member(admin, stores, "umwelt", "bench", "steward")
    token = accounts.create_token(admin, stores, "bench", scope="write").token
    sensor = service.post(
        admin,
        stores,
        "Sensors",
        {"name": "NO2", "description": "", "encodingType": "text/html", "metadata": "https://example.org"},
        base_url=BASE,
    ).id
    prop = service.post(
        admin,
        stores,
        "ObservedProperties",
        {"name": "NO2", "definition": "https://example.org/no2", "description": ""},
        base_url=BASE,
    ).id
    main = service.post(
        admin,
        stores,
        "Things",
        _thing(
            "Langzeit",
            "sensor-benchmark",
            7.76,
            [_stream(n, sensor, prop) for n in ("Langzeit", "Ingest HTTP", "Ingest raw", "Ingest MQTT")],
        ),
        base_url=BASE,
    ).id
    streams = service.get(admin, stores, f"Things({main})/Datastreams", {}, base_url=BASE)["value"]
    ids = {s["name"]: s["@iot.id"] for s in streams}
    live_streams: list[int] = []
    for i in range(100):
        tid = service.post(
            admin,
            stores,
            "Things",
            _thing(
                f"Station {i}", "sensor-live", 7.7 + i / 1000, [_stream(f"S{i}-{k}", sensor, prop) for k in range(10)]
            ),
            base_url=BASE,
        ).id
        live_streams += [
            s["@iot.id"]
            for s in service.get(admin, stores, f"Things({tid})/Datastreams", {"$top": "100"}, base_url=BASE)["value"]
        ]
    now = dt.datetime(2026, 11, 26, 8, tzinfo=dt.UTC)
    body = [
        {
            "Datastream": {"@iot.id": s},
            "components": ["phenomenonTime", "result"],
            "dataArray": [[(now - dt.timedelta(minutes=m)).isoformat(), float(s % 50 + m)] for m in (30, 20, 10)],
        }
        for s in live_streams
    ]
    service.create_observations_data_array(admin, stores, body, base_url=BASE)
    # the first observation of the long stream through the write path: creates its FeatureOfInterest
    first = service.create_observations(
        admin,
        stores,
        ids["Langzeit"],
        [{"phenomenonTime": (T0 - dt.timedelta(days=1)).isoformat(), "result": 1.0}],
        base_url=BASE,
    )
    assert isinstance(first[0], str), first
    with stores.engine.connect() as conn:
        feature = conn.execute(
            sa.text("SELECT feature_id FROM sta_observations WHERE datastream_id = :d"), {"d": ids["Langzeit"]}
        ).scalar_one()
    return {"ids": ids, "live": live_streams, "token": token, "feature": int(feature)}


def middle_month(n: int) -> tuple[str, str]:
    """The calendar month (Europe/Berlin) in the middle of the long history."""
    mid = (T0 + n * STEP / 2).astimezone(BERLIN)
    first = dt.datetime(mid.year, mid.month, 1, tzinfo=BERLIN)
    nxt = dt.datetime(mid.year + mid.month // 12, mid.month % 12 + 1, 1, tzinfo=BERLIN)
    return first.isoformat(), nxt.isoformat()


def _value(i: int) -> float:
    return round(30 + 15 * math.sin(i / 360) + (i % 7) * 0.5, 3)


def _ts_sqlite(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's storage format for DateTime on SQLite


def bulk_history(engine: sa.Engine, stream: int, feature: int, n: int) -> float:
    """n observations of `stream` by a direct bulk insert, then its hourly rollups; seconds taken."""
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if engine.dialect.name == "postgresql":
            with cur.copy(  # type: ignore[attr-defined]
                "COPY sta_observations (datastream_id, feature_id, phenomenon_time, result_number) FROM STDIN"
            ) as copy:
                for start in range(0, n, 100_000):
                    buf = io.StringIO()
                    for i in range(start, min(n, start + 100_000)):
                        buf.write(f"{stream}\t{feature}\t{(T0 + i * STEP).isoformat()}\t{_value(i)}\n")
                    copy.write(buf.getvalue())
            hour = "date_trunc('hour', phenomenon_time)"
        else:
            sql = (
                "INSERT INTO sta_observations (datastream_id, feature_id, phenomenon_time, result_number) "
                "VALUES (?, ?, ?, ?)"
            )
            for start in range(0, n, 100_000):
                cur.executemany(
                    sql,
                    (
                        (stream, feature, _ts_sqlite(T0 + i * STEP), _value(i))
                        for i in range(start, min(n, start + 100_000))
                    ),
                )
            hour = "substr(phenomenon_time, 1, 13) || ':00:00.000000'"
        cur.execute(
            f"INSERT INTO sta_rollups (datastream_id, hour, n, total, minimum, maximum) "
            f"SELECT datastream_id, {hour}, count(*), sum(result_number), min(result_number), max(result_number) "
            f"FROM sta_observations WHERE datastream_id = {stream} AND phenomenon_time >= '{_ts_sqlite(T0)}' "
            f"GROUP BY datastream_id, {hour}"
        )
        last = T0 + (n - 1) * STEP
        end = last.isoformat() if engine.dialect.name == "postgresql" else _ts_sqlite(last)
        cur.execute(
            f"UPDATE sta_datastreams SET phenomenon_time_end = '{end}', "
            f"latest_observation_id = (SELECT max(id) FROM sta_observations WHERE datastream_id = {stream}) "
            f"WHERE id = {stream}"
        )
        raw.commit()
        if engine.dialect.name == "postgresql":
            cur.execute("ANALYZE sta_observations")
            cur.execute("ANALYZE sta_rollups")
            raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - started


# --- the server -------------------------------------------------------------------------------------


# --- measuring --------------------------------------------------------------------------------------


def timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    """Milliseconds of `repeat` calls (after one warm-up call) and the last result."""
    result = fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return times, result


def p50(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, math.ceil(len(values) * 0.95) - 1)]


def _ok(r: httpx.Response) -> Any:
    if r.status_code >= 400:
        raise RuntimeError(f"{r.request.url}: {r.status_code} {r.text[:300]}")
    return r.json()


def data_array(
    base: str, stream: int, token: str, total: int, batch: int, start: dt.datetime, uploaders: int = 1
) -> float:
    """Observations/s via POST CreateObservations (bodies serialised before the clock starts), from
    `uploaders` clients at once (each its own keep-alive connection, every uploader-th batch)."""
    bodies = []
    for b in range(0, total, batch):
        rows = [[(start + i * STEP).isoformat(), _value(i)] for i in range(b, min(total, b + batch))]
        bodies.append(
            json.dumps(
                [{"Datastream": {"@iot.id": stream}, "components": ["phenomenonTime", "result"], "dataArray": rows}]
            ).encode()
        )
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    created = [0] * uploaders
    ready = threading.Barrier(uploaders + 1)

    def upload(k: int) -> None:
        with httpx.Client(base_url=base) as http:
            _ok(http.get("/sta/v1.1"))  # connected before the clock starts
            ready.wait()
            for body in bodies[k::uploaders]:
                links = _ok(http.post("/sta/v1.1/CreateObservations", content=body, headers=headers, timeout=300))
                created[k] += sum(1 for x in links if x != "error")

    threads = [threading.Thread(target=upload, args=(k,)) for k in range(uploaders)]
    for th in threads:
        th.start()
    ready.wait()
    started = time.perf_counter()
    for th in threads:
        th.join()
    seconds = time.perf_counter() - started
    if sum(created) != total:
        raise RuntimeError(f"CreateObservations created {sum(created)} of {total}")
    return total / seconds


def raw_insert(engine: sa.Engine, stream: int, feature: int, total: int, batch: int, start: dt.datetime) -> float:
    """Observations/s of a raw executemany INSERT, same rows and batches, one transaction each."""
    pg = engine.dialect.name == "postgresql"
    mark = "%s" if pg else "?"
    sql = (
        "INSERT INTO sta_observations (datastream_id, feature_id, phenomenon_time, result_number) "
        f"VALUES ({mark}, {mark}, {mark}, {mark})"
    )
    batches = []
    for b in range(0, total, batch):
        batches.append(
            [
                (stream, feature, (start + i * STEP) if pg else _ts_sqlite(start + i * STEP), _value(i))
                for i in range(b, min(total, b + batch))
            ]
        )
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        started = time.perf_counter()
        for rows in batches:
            cur.executemany(sql, rows)
            raw.commit()
        seconds = time.perf_counter() - started
    finally:
        raw.close()
    return total / seconds


class RawQueries:
    """The same reads straight on the engine that holds the observations."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.pg = engine.dialect.name == "postgresql"

    def _t(self, text: str) -> Any:
        t = dt.datetime.fromisoformat(text).astimezone(dt.UTC)
        return t if self.pg else _ts_sqlite(t)

    def hourly_avg(self, stream: int, frm: str, to: str) -> list[Any]:
        hour = "date_trunc('hour', phenomenon_time)" if self.pg else "substr(phenomenon_time, 1, 13)"
        sql = (
            f"SELECT {hour} AS h, avg(result_number) FROM sta_observations WHERE datastream_id = :s "
            "AND phenomenon_time >= :a AND phenomenon_time < :b AND result_number IS NOT NULL "
            "GROUP BY h ORDER BY h"
        )
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), {"s": stream, "a": self._t(frm), "b": self._t(to)}).all()

    def rollup_avg(self, stream: int, frm: str, to: str) -> list[Any]:
        sql = (
            "SELECT hour, total / n FROM sta_rollups WHERE datastream_id = :s AND hour >= :a AND hour < :b "
            "ORDER BY hour"
        )
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), {"s": stream, "a": self._t(frm), "b": self._t(to)}).all()

    def latest_join(self, dataset: str) -> list[Any]:
        sql = (
            "SELECT th.id, th.name, d.id, d.name, d.unit_of_measurement, o.id, o.phenomenon_time, o.result_number "
            "FROM sta_datastreams d JOIN sta_things th ON th.id = d.thing_id "
            "LEFT JOIN sta_observations o ON o.id = d.latest_observation_id "
            "WHERE th.dataset_id = (SELECT id FROM datasets WHERE slug = :slug) ORDER BY th.id, d.id"
        )
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), {"slug": dataset}).all()

    def latest_by_max(self, dataset: str) -> list[Any]:
        sql = (
            "SELECT o.datastream_id, o.phenomenon_time, o.result_number FROM sta_observations o JOIN ("
            " SELECT datastream_id, max(phenomenon_time) AS m FROM sta_observations WHERE datastream_id IN ("
            "  SELECT d.id FROM sta_datastreams d JOIN sta_things th ON th.id = d.thing_id"
            "  WHERE th.dataset_id = (SELECT id FROM datasets WHERE slug = :slug)) GROUP BY datastream_id) x "
            "ON x.datastream_id = o.datastream_id AND x.m = o.phenomenon_time ORDER BY o.datastream_id"
        )
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), {"slug": dataset}).all()

    def offset_page(self, stream: int, skip: int, top: int) -> list[Any]:
        sql = (
            "SELECT * FROM sta_observations WHERE datastream_id = :s ORDER BY phenomenon_time, id "
            f"LIMIT {top} OFFSET {skip}"
        )
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), {"s": stream}).all()

    def keyset_page(self, stream: int, after_time: Any, after_id: int, top: int) -> list[Any]:
        sql = (
            "SELECT * FROM sta_observations WHERE datastream_id = :s AND (phenomenon_time, id) > (:t, :i) "
            f"ORDER BY phenomenon_time, id LIMIT {top}"
        )
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), {"s": stream, "t": after_time, "i": after_id}).all()


def row(
    results: list[dict[str, Any]], name: str, ours: list[float], raw: list[float], target: str = "", note: str = ""
) -> None:
    results.append(
        {
            "measure": name,
            "ours_p50_ms": round(p50(ours), 2),
            "ours_p95_ms": round(p95(ours), 2),
            "raw_p50_ms": round(p50(raw), 2),
            "ratio": round(p50(ours) / p50(raw), 1) if p50(raw) else None,
            "target": target,
            "note": note,
        }
    )


@contextlib.contextmanager
def broker(url: str | None, work: Path) -> Iterator[str | None]:
    """The broker URL to measure against: `url` if given (and reachable), else a private Mosquitto
    on a free loopback port with benchmarks/mosquitto.conf; None when there is neither."""
    if url is not None:
        yield url if mqtt_reachable(url) else None
        return
    binary = shutil.which("mosquitto") or next((p for p in ("/usr/sbin/mosquitto",) if os.path.exists(p)), None)
    if binary is None:
        fallback = "mqtt://127.0.0.1:1883"
        yield fallback if mqtt_reachable(fallback) else None
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conf = work / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\n" + (HERE / "mosquitto.conf").read_text())
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not mqtt_reachable(f"mqtt://127.0.0.1:{port}") and time.monotonic() < deadline:
            time.sleep(0.1)
        console.print(f"private Mosquitto on port {port} (benchmarks/mosquitto.conf)")
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def mqtt_reachable(url: str) -> bool:
    host, _, port = url.removeprefix("mqtt://").partition(":")
    try:
        with socket.create_connection((host, int(port or 1883)), timeout=2):
            return True
    except OSError:
        return False


def run_mqtt(settings: Settings, stream: int, n: int, url: str) -> dict[str, Any]:
    from mqtt_gateway import measure_ingest

    from urbandata.sensors.mqtt import MqttBridge

    prefix = f"bench-{uuid.uuid4().hex[:8]}/v1.1/"  # private topics: other clients of the broker are not mixed in
    mqtt_settings = settings.model_copy(update={"mqtt_url": url, "mqtt_topic_prefix": prefix})
    stores = Stores.open(mqtt_settings, init=False)
    bridge = MqttBridge(mqtt_settings, stores).start()
    try:
        return measure_ingest(bridge, stream, n, start_epoch=dt.datetime(2026, 6, 1, tzinfo=dt.UTC).timestamp())
    finally:
        bridge.stop()
        stores.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg", action="store_true", help="metadata and datastore on PostgreSQL")
    ap.add_argument("--pg-url", default=PG_URL)
    ap.add_argument("--obs", type=int, default=10_000_000, help="observations of the long-history Datastream")
    ap.add_argument("--http-obs", type=int, default=200_000, help="observations created via dataArray")
    ap.add_argument("--batch", type=int, default=10_000, help="observations per CreateObservations request")
    ap.add_argument("--mqtt-obs", type=int, default=100_000)
    ap.add_argument("--mqtt-url", default=None, help="an existing broker (default: a private Mosquitto)")
    ap.add_argument("--requests", type=int, default=30, help="timed requests per read measure")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    backend = "postgres" if args.pg else "embedded"
    work = args.out / f"sensors-{backend}"
    work.mkdir(parents=True, exist_ok=True)
    settings, env, cleanup = settings_for(args, work)
    report: dict[str, Any] = {
        "backend": backend,
        "observations": args.obs,
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    results: list[dict[str, Any]] = []
    try:
        stores = Stores.open(settings)
        try:
            started = time.perf_counter()
            world = setup(stores, settings)
            console.print(f"setup through the services: {time.perf_counter() - started:.1f} s")
        finally:
            stores.close()
        engine = create_engine(settings.effective_metadata_url)
        ids = world["ids"]
        long_stream = ids["Langzeit"]
        secs = bulk_history(engine, long_stream, world["feature"], args.obs)
        console.print(f"bulk insert of {args.obs:,} observations with rollups: {secs:.1f} s")
        report["bulk_seconds"] = round(secs, 1)
        raw = RawQueries(engine)

        with server(env, work / "server.log") as base, httpx.Client(base_url=base) as http:
            # 1. creating observations: one uploader, then two at once (on fresh time ranges)
            start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
            ours_rate = data_array(base, ids["Ingest HTTP"], world["token"], args.http_obs, args.batch, start)
            raw_rate = raw_insert(engine, ids["Ingest raw"], world["feature"], args.http_obs, args.batch, start)
            results.append(
                {
                    "measure": f"create via dataArray over HTTP ({args.batch:,} per request)",
                    "ours_per_s": round(ours_rate),
                    "raw_per_s": round(raw_rate),
                    "ratio": round(raw_rate / ours_rate, 1),
                    "target": f">= {TARGETS['data_array_per_s']:,}/s",
                    "note": "raw: executemany INSERT, same batches",
                }
            )
            later = start + args.http_obs * STEP
            two_rate = data_array(base, ids["Ingest HTTP"], world["token"], args.http_obs, args.batch, later, 2)
            results.append(
                {
                    "measure": "  same, two uploaders at once",
                    "ours_per_s": round(two_rate),
                    "raw_per_s": round(raw_rate),
                    "ratio": round(raw_rate / two_rate, 1),
                    "target": "",
                    "note": "raw: the single executemany above",
                }
            )
            # 2. a month of hourly averages
            month = middle_month(args.obs)
            report["month"] = month
            params = {"interval": "hour", "from": month[0], "to": month[1], "functions": "avg"}
            url = f"/sta/v1.1/Datastreams({long_stream})/Aggregations"
            ours, body = timed(lambda: _ok(http.get(url, params=params)), args.requests)
            raws, raw_rows = timed(lambda: raw.hourly_avg(long_stream, *month), max(5, args.requests // 3))
            rolls, _ = timed(lambda: raw.rollup_avg(long_stream, *month), args.requests)
            got = [b["avg"] for b in body["value"] if b["avg"] is not None]
            want = [float(r[1]) for r in raw_rows]
            assert len(got) == len(want) and all(abs(a - b) < 1e-6 for a, b in zip(got, want, strict=True)), "differ"
            row(
                results,
                f"month of hourly avg ({len(got)} buckets) over HTTP",
                ours,
                raws,
                f"< {TARGETS['aggregation_ms']:.0f} ms",
                "raw: GROUP BY hour over the observations",
            )
            row(results, "  same, raw reference: reading the rollups", ours, rolls, "", "raw: SELECT from sta_rollups")
            # 3. latest value of 1,000 Datastreams
            lurl = "/sta/v1.1/LatestObservations"
            ours, body = timed(lambda: _ok(http.get(lurl, params={"dataset": "sensor-live"})), args.requests)
            raws, raw_rows = timed(lambda: raw.latest_join("sensor-live"), args.requests)
            maxes, max_rows = timed(lambda: raw.latest_by_max("sensor-live"), max(5, args.requests // 3))
            assert body["@iot.count"] == len(raw_rows) == len(max_rows) == 1000, (body["@iot.count"], len(raw_rows))
            assert [v["result"] for v in body["value"]] == [r[7] for r in raw_rows] == [r[2] for r in max_rows]
            row(
                results,
                "latest value of 1,000 Datastreams over HTTP",
                ours,
                raws,
                f"< {TARGETS['latest_ms']:.0f} ms",
                "raw: the same pointer join",
            )
            row(results, "  same, raw reference: max(time) per Datastream", ours, maxes, "", "raw: no pointer")
            # 4. deep page
            purl = f"/sta/v1.1/Datastreams({long_stream})/Observations"
            ours, body = timed(lambda: _ok(http.get(purl, params={"$skip": str(SKIP)})), args.requests)
            raws, raw_rows = timed(lambda: raw.offset_page(long_stream, SKIP, 100), args.requests)
            assert [o["@iot.id"] for o in body["value"]] == [r.id for r in raw_rows]
            row(results, f"page at $skip={SKIP:,} over HTTP", ours, raws, "", "raw: ORDER BY ... OFFSET")
            next_link = body["@iot.nextLink"]
            next_path = next_link[next_link.index("/sta/") :]
            last = raw_rows[-1]
            ours, body = timed(lambda: _ok(http.get(next_path)), args.requests)
            raws, raw_rows = timed(
                lambda: raw.keyset_page(long_stream, last.phenomenon_time, last.id, 100), args.requests
            )
            assert [o["@iot.id"] for o in body["value"]] == [r.id for r in raw_rows]
            row(results, "the next page via @iot.nextLink ($skiptoken)", ours, raws, "", "raw: keyset WHERE")

        # in-process service calls (no HTTP), to separate the HTTP share
        stores = Stores.open(settings, init=False)
        try:
            anon = RequestContext(actor=Actor.anonymous(), settings=settings)
            svc, _ = timed(lambda: aggregate.aggregate(anon, stores, long_stream, params, base_url=BASE), args.requests)
            report["aggregation_service_p50_ms"] = round(p50(svc), 2)
            svc, _ = timed(
                lambda: latest.latest_observations(anon, stores, dataset="sensor-live", base_url=BASE), args.requests
            )
            report["latest_service_p50_ms"] = round(p50(svc), 2)
        finally:
            stores.close()

        # 5. MQTT
        with broker(args.mqtt_url, work) as mqtt_url:
            m = run_mqtt(settings, ids["Ingest MQTT"], args.mqtt_obs, mqtt_url) if mqtt_url else None
        if m is not None:
            report["mqtt"] = m
            results.append(
                {
                    "measure": f"create via MQTT (QoS {m.get('qos', 1)}: {m['published']:,} published, "
                    f"{m.get('received', 0):,} received, {m['created']:,} created)",
                    "ours_per_s": m["per_second"],
                    "raw_per_s": round(raw_rate),
                    "ratio": round(raw_rate / m["per_second"], 1) if m["per_second"] else None,
                    "target": f">= {TARGETS['mqtt_per_s']:,}/s",
                    "note": "raw: the executemany INSERT above",
                }
            )
        else:
            console.print("[yellow]No MQTT broker: MQTT not measured[/]")
        engine.dispose()
    finally:
        cleanup()
    report["results"] = results
    show(report)
    out = args.out / f"sensors-{backend}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    console.print(f"written to {out}")
    if not args.pg:
        shutil.rmtree(work / "data", ignore_errors=True)


def show(report: dict[str, Any]) -> None:
    table = Table(title=f"Sensors on {report['backend']} ({report['observations']:,} observations in the long stream)")
    for col in ("measure", "ours", "raw", "ours / raw", "target", "raw is"):
        table.add_column(col)
    for r in report["results"]:
        if "ours_per_s" in r:
            table.add_row(
                r["measure"],
                f"{r['ours_per_s']:,}/s",
                f"{r['raw_per_s']:,}/s",
                f"{r['ratio']}x slower" if r["ratio"] else "-",
                r["target"],
                r["note"],
            )
        else:
            table.add_row(
                r["measure"],
                f"p50 {r['ours_p50_ms']} ms (p95 {r['ours_p95_ms']})",
                f"p50 {r['raw_p50_ms']} ms",
                f"{r['ratio']}",
                r["target"],
                r["note"],
            )
    console.print(table)
    console.print(
        f"service calls without HTTP: aggregation p50 {report.get('aggregation_service_p50_ms')} ms, "
        f"latest value p50 {report.get('latest_service_p50_ms')} ms"
    )


if __name__ == "__main__":
    main()
