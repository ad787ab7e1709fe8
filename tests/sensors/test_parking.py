"""The Kaiserslautern car park connector: the real feed snapshot with its quirks, location matching,
idempotent runs, polling a local HTTP server (never the internet), and broken feeds storing nothing."""

from __future__ import annotations

import datetime as dt
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import DEMO_DATA
from urbandata.auth.actor import RequestContext
from urbandata.catalog import service as catalog
from urbandata.db import tables as t
from urbandata.errors import IngestError
from urbandata.sensors import parking
from urbandata.sensors import service as sta
from urbandata.sensors.parking_feed import (
    CarPark,
    german_local_time,
    match_locations,
    normalise_name,
    parse_feed,
    parse_locations,
)
from urbandata.stores import Stores

SNAPSHOT = DEMO_DATA / "kaiserslautern_pls_2021-07-13.xml"
LOCATIONS = DEMO_DATA / "kaiserslautern_parkhaeuser.geojson"
BASE = "http://test/sta/v1.1"


def feed(stamp: str, *parks: tuple[str, str, int, int, str]) -> bytes:
    body = "".join(
        f"<Parkhaus><ID>{i}</ID><Name>{n}</Name><Gesamt>{g}</Gesamt><Aktuell>{a}</Aktuell>"
        f"<Trend>0</Trend><Status>{s}</Status></Parkhaus>"
        for i, n, g, a, s in parks
    )
    return f"<Daten><Zeitstempel>{stamp}</Zeitstempel>{body}</Daten>".encode()


# --- parsing (pure) ----------------------------------------------------------------------------


def test_real_snapshot_parses_with_entities_local_time_and_statuses() -> None:
    snap = parse_feed(SNAPSHOT.read_bytes())
    assert snap.time == dt.datetime(2021, 7, 13, 12, 46, tzinfo=dt.UTC)  # 14:46 CEST
    assert len(snap.car_parks) == 11 and snap.problems == []
    by_id = {p.feed_id: p for p in snap.car_parks}
    assert by_id["2"].name == "PH Lutrinastraße"  # &#223;
    assert (by_id["2"].capacity, by_id["2"].occupied, by_id["2"].free) == (127, 104, 23)
    assert by_id["10"].status == "Stoerung" and by_id["5"].status == "Geschlossen"
    assert {p.status for p in snap.car_parks} == {"Offen", "Geschlossen", "Stoerung"}


def test_winter_time_named_html_entities_and_latin1() -> None:
    raw = '<?xml version="1.0" encoding="ISO-8859-1"?><Daten><Zeitstempel>05.01.2022 08:05</Zeitstempel>'
    raw += "<Parkhaus><ID>1</ID><Name>PH Gr&uuml;nstra&szlig;e</Name><Gesamt>10</Gesamt><Aktuell>12</Aktuell>"
    raw += "<Status>Offen</Status></Parkhaus><Parkhaus><ID>2</ID><Name>PH Bäckerei</Name><Gesamt>viele</Gesamt>"
    raw += "<Aktuell>1</Aktuell></Parkhaus></Daten>"
    snap = parse_feed(raw.encode("latin-1"))
    assert snap.time == dt.datetime(2022, 1, 5, 7, 5, tzinfo=dt.UTC)  # CET = UTC+1
    assert [p.name for p in snap.car_parks] == ["PH Grünstraße"]
    assert snap.car_parks[0].free == 0  # more cars than spaces: no negative free count
    assert len(snap.problems) == 1 and "ID 2" in snap.problems[0] and "Gesamt" in snap.problems[0]


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"<html><body><h1>Wartungsarbeiten</h1></body></html>", "root element is <html>"),
        (b"\x89PNG\r\n\x1a\n\x00\x00garbage", "not well-formed"),
        (b"", "empty"),
        (b"<Daten><Zeitstempel>gestern</Zeitstempel></Daten>", "Zeitstempel"),
        (b"<Daten><Zeitstempel>13.07.2021 14:46:00</Zeitstempel></Daten>", "no usable"),
        (
            b'<!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><Daten>&b;</Daten>',
            "forbidden XML",
        ),
    ],
)
def test_garbage_is_a_clear_error(raw: bytes, fragment: str) -> None:
    with pytest.raises(IngestError) as info:
        parse_feed(raw, source="pls.xml")
    assert fragment in info.value.message
    assert info.value.details["file"] == "pls.xml"


def test_german_time_is_local_berlin_time() -> None:
    assert german_local_time("13.07.2021 14:46:00") == dt.datetime(2021, 7, 13, 12, 46, tzinfo=dt.UTC)
    assert german_local_time("01.12.2021 00:30") == dt.datetime(2021, 11, 30, 23, 30, tzinfo=dt.UTC)
    with pytest.raises(ValueError):
        german_local_time("2021-07-13 14:46")


def test_locations_match_by_normalised_name() -> None:
    locs = parse_locations(LOCATIONS.read_bytes())
    assert len(locs) == 11 and all(loc.kind != "city" for loc in locs)
    parks = [
        CarPark("a", "Parkhaus Lutrinastr.", 127, 1, "Offen"),
        CarPark("b", "PH  STIFTSPLATZ", 100, 1, "Offen"),
        CarPark("c", "PH Meuthstrasse Besucher", 79, 1, "Offen"),
        CarPark("d", "PH Hauptbahnhof Süd", 10, 1, "Offen"),  # close to "Hauptbahnhof": a fuzzy match
        CarPark("e", "Tiefgarage Rathaus", 50, 1, "Offen"),
    ]
    found = match_locations(parks, locs)
    assert found["a"] is not None and found["a"].address == "Badstraße 3"
    assert found["b"] is not None and found["b"].name == "PH Stiftsplatz"
    assert found["c"] is not None and found["c"].name == "PH Meuthstraße Besucher"
    assert found["e"] is None
    assert normalise_name("PH Lutrinastra&#223;e") == normalise_name("Lutrinastraße") == "lutrinastrasse"


# --- the connector on both backends ----------------------------------------------------------------


def _counts(stores: Stores) -> tuple[int, int, int]:
    with stores.engine.connect() as conn:
        return (
            conn.execute(sa.select(sa.func.count()).select_from(t.sta_things)).scalar_one(),
            conn.execute(sa.select(sa.func.count()).select_from(t.sta_datastreams)).scalar_one(),
            conn.execute(sa.select(sa.func.count()).select_from(t.sta_observations)).scalar_one(),
        )


def test_snapshot_creates_things_streams_and_observations_once(
    admin: RequestContext, anon: RequestContext, stores: Stores
) -> None:
    report = parking.run_connector(admin, stores, file=SNAPSHOT)
    assert (report.things_created, report.datastreams_created, report.observations_added) == (11, 33, 33)
    assert report.dataset_created and report.unmatched == [] and report.duplicates == 0
    again = parking.run_connector(admin, stores, file=SNAPSHOT)
    assert (again.things_created, again.datastreams_created, again.observations_added) == (0, 0, 0)
    assert again.duplicates == 33 and again.problems == []
    assert _counts(stores) == (11, 33, 33)

    # public, CC0, and visible to anonymous clients through the SensorThings API
    ds = catalog.get_dataset(anon, stores, parking.DATASET)
    assert ds.license == "cc-zero"
    things = sta.get(
        anon,
        stores,
        "Things",
        {"$filter": "name eq 'PH Lutrinastraße'", "$expand": "Locations,Datastreams"},
        base_url=BASE,
    )["value"]
    assert len(things) == 1
    thing = things[0]
    assert thing["properties"]["feedId"] == "2" and thing["properties"]["capacity"] == 127
    assert thing["properties"]["dataset"] == parking.DATASET
    assert thing["Locations"][0]["location"]["coordinates"] == pytest.approx([7.7728, 49.4417], abs=1e-3)
    streams = {d["properties"]["feedKey"]: d for d in thing["Datastreams"]}
    assert streams["free"]["unitOfMeasurement"]["name"] == "Stellplätze"
    assert streams["status"]["observationType"].endswith("OM_CategoryObservation")
    free = sta.get(anon, stores, f"Datastreams({streams['free']['@iot.id']})/Observations", {}, base_url=BASE)
    assert [(o["phenomenonTime"], o["result"]) for o in free["value"]] == [("2021-07-13T12:46:00Z", 23)]
    status = sta.get(anon, stores, f"Datastreams({streams['status']['@iot.id']})/Observations", {}, base_url=BASE)
    assert status["value"][0]["result"] == "Offen"


def test_a_later_snapshot_adds_observations_and_updates_capacity(admin: RequestContext, stores: Stores) -> None:
    parking.run_connector(admin, stores, file=SNAPSHOT)
    later = feed("13.07.2021 14:51:00", ("2", "PH Lutrinastra&#223;e", 130, 100, "Offen"))
    report = parking.store_snapshot(admin, stores, parse_feed(later))
    assert (report.things_created, report.observations_added, report.duplicates) == (0, 3, 0)
    thing = sta.get(admin, stores, "Things", {"$filter": "properties/feedId eq '2'"}, base_url=BASE)["value"][0]
    assert thing["properties"]["capacity"] == 130
    free = sta.get(
        admin,
        stores,
        f"Things({thing['@iot.id']})/Datastreams",
        {"$filter": "properties/feedKey eq 'free'"},
        base_url=BASE,
    )["value"][0]
    values = sta.get(
        admin, stores, f"Datastreams({free['@iot.id']})/Observations", {"$orderby": "phenomenonTime"}, base_url=BASE
    )["value"]
    assert [v["result"] for v in values] == [23, 30]


def test_unmatched_car_park_gets_a_thing_without_location_and_is_reported(
    admin: RequestContext, stores: Stores
) -> None:
    raw = feed(
        "13.07.2021 14:46:00", ("3", "PH Stiftsplatz", 100, 54, "Offen"), ("99", "PH Neubau Nord", 40, 4, "Offen")
    )
    report = parking.store_snapshot(admin, stores, parse_feed(raw))
    assert report.unmatched == ["PH Neubau Nord"] and report.observations_added == 6
    assert any("no location known for PH Neubau Nord" in line for line in report.lines())
    thing = sta.get(
        admin, stores, "Things", {"$filter": "name eq 'PH Neubau Nord'", "$expand": "Locations"}, base_url=BASE
    )["value"][0]
    assert thing["Locations"] == []
    again = parking.store_snapshot(admin, stores, parse_feed(raw))
    assert again.duplicates == 6 and again.problems == []
    with stores.engine.connect() as conn:  # one stand-in feature for the unknown place, reused
        names = conn.execute(sa.select(t.sta_features.c.name)).scalars().all()
    assert sorted(names) == ["PH Neubau Nord (Kaiserslautern, Lage unbekannt)", "PH Stiftsplatz"]


# --- polling over HTTP (a local server, never the internet) -----------------------------------------


class _Feed(http.server.BaseHTTPRequestHandler):
    answers: dict[str, tuple[int, str, bytes]] = {}

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        status, ctype, body = self.answers.get(self.path, (404, "text/plain", b"not found"))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def feed_server() -> Iterator[str]:
    _Feed.answers = {
        "/pls.xml": (200, "text/xml", SNAPSHOT.read_bytes()),
        "/wartung.xml": (200, "text/html", b"<!DOCTYPE html><html><body><p>Wartung</p></body></html>"),
        "/kaputt.xml": (500, "text/plain", b"Internal Server Error"),
        "/halb.xml": (200, "text/xml", SNAPSHOT.read_bytes()[:700]),
    }
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Feed)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_poll_hook_fetches_the_configured_url(
    admin: RequestContext, stores: Stores, feed_server: str, tmp_path: Path
) -> None:
    settings = admin.settings.model_copy(
        update={"parking_feed_url": f"{feed_server}/pls.xml", "parking_poll_minutes": 5}
    )
    ctx = RequestContext(actor=admin.actor, settings=settings)
    parking.poll_feed(ctx, stores, dt.datetime.now(dt.UTC))
    assert _counts(stores) == (11, 33, 33)
    off = RequestContext(actor=admin.actor, settings=settings.model_copy(update={"parking_poll_minutes": 0}))
    parking.poll_feed(off, stores, dt.datetime.now(dt.UTC))  # switched off: does nothing
    assert _counts(stores) == (11, 33, 33)


@pytest.mark.parametrize(
    ("path", "fragment"),
    [("/wartung.xml", "root element is <html>"), ("/kaputt.xml", "HTTP 500"), ("/halb.xml", "not well-formed")],
)
def test_broken_feed_over_http_stores_nothing(
    admin: RequestContext, stores: Stores, feed_server: str, path: str, fragment: str
) -> None:
    with pytest.raises(IngestError) as info:
        parking.run_connector(admin, stores, url=feed_server + path)
    assert fragment in info.value.message
    assert _counts(stores) == (0, 0, 0)
    with pytest.raises(Exception, match="parkhausbelegung"):
        catalog.dataset_ref(admin, stores, slug=parking.DATASET)


def test_unreachable_feed_is_a_clear_error(admin: RequestContext, stores: Stores) -> None:
    with pytest.raises(IngestError) as info:
        parking.run_connector(admin, stores, url="http://127.0.0.1:9/pls.xml")
    assert "could not be fetched" in info.value.message and info.value.code == "feed_unreachable"


def test_the_scheduler_polls_the_feed_when_enabled(admin: RequestContext, stores: Stores, feed_server: str) -> None:
    from urbandata.app import create_app
    from urbandata.imports.scheduler import Scheduler, registered_periodic

    settings = admin.settings.model_copy(
        update={"parking_feed_url": f"{feed_server}/pls.xml", "parking_poll_minutes": 5, "scheduler": False}
    )
    create_app(settings, stores)  # registers the hook
    job = next(j for j in registered_periodic() if j.name == "parking-kaiserslautern")
    assert job.every == dt.timedelta(minutes=5)
    now = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    Scheduler(stores, settings, periodic=[job]).tick(now)
    assert _counts(stores) == (11, 33, 33)
    Scheduler(stores, settings, periodic=[job]).tick(now + dt.timedelta(minutes=1))  # not due again yet
    Scheduler(stores, settings, periodic=[job]).tick(now + dt.timedelta(minutes=6))  # due: a duplicate snapshot
    assert _counts(stores) == (11, 33, 33)
