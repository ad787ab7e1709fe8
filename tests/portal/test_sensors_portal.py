"""The sensor section of the dataset page and the sensor figures of the start page, on both backends:
latest values, the seven-day chart with its table, downloads, and nothing of an internal dataset's
sensors for anonymous visitors (404 page, chart image 404, figures without them)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_settings
from tests.portal.test_workspace import PASSWORD, sign_in
from tests.sensors.conftest import station
from urbandata.accounts import service as accounts
from urbandata.app import create_app
from urbandata.auth.actor import Actor, RequestContext
from urbandata.catalog import service as catalog
from urbandata.catalog.models import OrganizationIn
from urbandata.sensors import service as sta
from urbandata.sensors.overview import sensor_figures
from urbandata.stores import Stores

BASE = "http://testserver/sta/v1.1"


def add_station(ctx: RequestContext, stores: Stores, name: str, dataset: str, values: list[float]) -> tuple[int, int]:
    """A Thing with one NO2 Datastream (deep insert through the SensorThings service) and hourly values
    ending in the current hour; (thing id, datastream id)."""
    thing = sta.post(ctx, stores, "Things", station(name=name, dataset=dataset), base_url=BASE)
    streams = sta.get(ctx, stores, f"Things({thing.id})/Datastreams", {}, base_url=BASE)["value"]
    stream_id = int(streams[0]["@iot.id"])
    hour = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    bodies: list[Any] = [
        {"phenomenonTime": (hour - dt.timedelta(hours=len(values) - 1 - i)).isoformat(), "result": v}
        for i, v in enumerate(values)
    ]
    results = sta.create_observations(ctx, stores, stream_id, bodies, base_url=BASE)
    assert all(isinstance(r, str) for r in results), results
    return thing.id, stream_id


@pytest.fixture
def sensor_site(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[TestClient, Stores, dict[str, int]]]:
    settings = make_settings(backend, tmp_path, request, secure_cookies=False, anonymous_rate_limit=0)
    stores = Stores.open(settings)
    system = RequestContext(actor=Actor.system(), settings=settings)
    catalog.create_org(system, stores, OrganizationIn(slug="umwelt", name="Referat Umweltschutz"))
    catalog.create_dataset(system, stores, "luft", "umwelt", {"title": "Luftqualität", "access_level": "public"})
    catalog.create_dataset(
        system, stores, "luft-intern", "umwelt", {"title": "Interne Messstellen", "access_level": "internal"}
    )
    accounts.add_user(system, stores, "stewardin", password=PASSWORD)
    accounts.set_member(system, stores, "umwelt", "stewardin", "steward")
    ids: dict[str, int] = {}
    ids["thing"], ids["stream"] = add_station(system, stores, "Messstation Stiftsplatz", "luft", [20.0, 30.0, 42.5])
    ids["thing2"], ids["stream2"] = add_station(system, stores, "Messstation Pfaffplatz", "luft", [11.0])
    ids["internal_thing"], ids["internal_stream"] = add_station(
        system, stores, "Geheime Messstelle Uni", "luft-intern", [99.0, 98.0]
    )
    with TestClient(create_app(settings, stores)) as client:
        yield client, stores, ids
    stores.close()


def test_dataset_page_lists_things_with_latest_values_chart_table_and_downloads(
    sensor_site: tuple[TestClient, Stores, dict[str, int]],
) -> None:
    client, _, ids = sensor_site
    page = client.get("/datasets/luft")
    assert page.status_code == 200
    html = page.text
    assert "Sensoren und Messwerte" in html
    table = html[html.index('id="sensor-table"') : html.index("</table>", html.index('id="sensor-table"'))]
    assert "Messstation Stiftsplatz" in table and "Messstation Pfaffplatz" in table
    assert "Geheime Messstelle" not in html  # another dataset's (internal) Thing
    assert "Standort Messstation Stiftsplatz" in table and "49,4447" in table  # location name and coordinates
    assert "µg/m³" in table
    assert re.search(r'class="num">42,5</td>', table), "latest value of the first station"
    assert re.search(r'class="num">11</td>', table), "latest value of the second station"
    assert f'href="http://testserver/sta/v1.1/Things({ids["thing"]})"' in table
    assert 'href="/api/v1/datasets/luft/observations?format=csv"' in html
    assert 'href="/api/v1/datasets/luft/observations?format=parquet"' in html
    # the first Datastream is charted by default: three hourly averages, also as a table
    assert f'src="/datasets/luft/sensors/{ids["stream"]}/chart.svg?lang=de"' in html
    values = html[html.index('id="sensor-values"') :]
    assert values.count('<th scope="row">') == 3 and "42,5" in values and "Mittelwert (µg/m³)" in values
    assert "höchster Wert 42,5" in html  # the chart's text alternative
    # the download links work and return the observations
    csv = client.get("/api/v1/datasets/luft/observations?format=csv")
    assert csv.status_code == 200 and "42.5" in csv.text

    other = client.get(f"/datasets/luft?datastream={ids['stream2']}")
    assert other.status_code == 200
    assert f'src="/datasets/luft/sensors/{ids["stream2"]}/chart.svg?lang=de"' in other.text
    assert other.text[other.text.index('id="sensor-values"') :].count('<th scope="row">') == 1

    svg = client.get(f"/datasets/luft/sensors/{ids['stream']}/chart.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert "Stundenmittel der letzten 7 Tage" in svg.text
    png = client.get(f"/datasets/luft/sensors/{ids['stream']}/chart.png?download=1")
    assert png.content.startswith(b"\x89PNG") and "attachment" in png.headers["content-disposition"]

    english = client.get("/datasets/luft?lang=en")
    assert "Sensors and measurements" in english.text and "hourly averages of the last 7 days" in english.text
    client.cookies.delete("ud_lang")


def test_bad_datastream_choice_is_400_with_a_notice_and_never_shows_another_datasets_stream(
    sensor_site: tuple[TestClient, Stores, dict[str, int]],
) -> None:
    client, _, ids = sensor_site
    for bad in (str(ids["internal_stream"]), "abc", "999999"):
        page = client.get(f"/datasets/luft?datastream={bad}")
        assert page.status_code == 400, bad
        assert "Diese Messreihe gehört nicht zu diesem Datensatz" in page.text
        assert "Geheime Messstelle" not in page.text
        assert f"/sensors/{ids['stream']}/chart.svg" in page.text  # falls back to the first one
    # an image of a Datastream through another dataset's address: 404
    assert client.get(f"/datasets/luft/sensors/{ids['internal_stream']}/chart.svg").status_code == 404


def test_internal_sensors_are_invisible_to_anonymous_visitors_and_visible_to_staff(
    sensor_site: tuple[TestClient, Stores, dict[str, int]],
) -> None:
    client, stores, ids = sensor_site
    page = client.get("/datasets/luft-intern")
    assert page.status_code == 404 and "Geheime Messstelle" not in page.text
    assert client.get(f"/datasets/luft-intern/sensors/{ids['internal_stream']}/chart.svg").status_code == 404
    start = client.get("/")
    assert re.search(r'id="figure-things">2<', start.text)
    assert re.search(r'id="figure-datastreams">2<', start.text)
    assert re.search(r'id="figure-observations">4<', start.text)  # 3 + 1, not the internal 2
    twin = client.get("/api/v1/figures/sensors").json()  # the JSON twin answers the same
    assert twin == {"things": 2, "datastreams": 2, "observations": 4}

    sign_in(client, "stewardin")
    staff = client.get("/datasets/luft-intern")
    assert staff.status_code == 200 and "Geheime Messstelle Uni" in staff.text and "98" in staff.text
    start = client.get("/")
    assert re.search(r'id="figure-things">3<', start.text)
    assert re.search(r'id="figure-observations">6<', start.text)


def test_a_dataset_without_sensors_has_no_sensor_section_and_figures_count_zero(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = make_settings(backend, tmp_path, request, anonymous_rate_limit=0)
    stores = Stores.open(settings)
    try:
        system = RequestContext(actor=Actor.system(), settings=settings)
        catalog.create_org(system, stores, OrganizationIn(slug="umwelt", name="Referat Umweltschutz"))
        catalog.create_dataset(system, stores, "baeume", "umwelt", {"title": "Bäume", "access_level": "public"})
        anon = RequestContext(actor=Actor.anonymous(), settings=settings)
        assert sensor_figures(anon, stores).things == 0
        with TestClient(create_app(settings, stores)) as client:
            page = client.get("/datasets/baeume")
            assert page.status_code == 200 and "Sensoren und Messwerte" not in page.text
            assert "noch keine Daten geladen" in page.text
            assert client.get("/datasets/baeume?datastream=1").status_code == 200  # ignored without sensors
            assert re.search(r'id="figure-things">0<', client.get("/").text)
    finally:
        stores.close()
