"""The sensor section of the dataset page, the notification inbox and the imports page in headless
Chromium (the system browser): axe-core finds no WCAG 2.1 AA violation (phone and desktop width), and
none of these pages requests anything from another origin.

Same tools as tests/portal/test_browser.py (skips locally without them, fails in CI).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.imports.flaky_server import FlakyServer, Route, flaky_server
from tests.portal.conftest import demo_stores
from tests.portal.test_browser import ARTIFACTS, _require_tools, chromium, serve_portal
from tests.portal.test_browser_workspace import PASSWORD, _axe, sign_in
from tests.portal.test_sensors_portal import add_station
from urbandata.accounts import service as accounts
from urbandata.auth.actor import Actor, RequestContext
from urbandata.catalog import service as catalog
from urbandata.catalog.models import OrganizationIn
from urbandata.imports import service as imports
from urbandata.notify import service as notify

CSV = b"Stadtteil;Einwohner\nAltstadt;1200\nInnenstadt;3400\n"
IMPORTS = "/workspace/datasets/luft-messnetz/resources/messstellen/imports"


@pytest.fixture(scope="module")
def source() -> Iterator[FlakyServer]:
    with flaky_server() as server:
        server.routes["/messstellen.csv"] = Route(body=CSV)
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, source: FlakyServer) -> Iterator[str]:
    _require_tools()
    settings, stores = demo_stores(tmp_path_factory.mktemp("browser-sensors") / "data", secure_cookies=False)
    system = RequestContext(actor=Actor.system(), settings=settings)
    catalog.create_org(system, stores, OrganizationIn(slug="umwelt", name="Referat Umweltschutz"))
    accounts.add_user(system, stores, "stewardin", password=PASSWORD)
    accounts.set_member(system, stores, "umwelt", "stewardin", "steward")
    catalog.create_dataset(
        system, stores, "luft-messnetz", "umwelt", {"title": "Luftmessnetz", "access_level": "public"}
    )
    add_station(system, stores, "Messstation Stiftsplatz", "luft-messnetz", [21.0, 25.5, 30.25, 28.0])
    add_station(system, stores, "Messstation Pfaffplatz", "luft-messnetz", [12.0])
    notify.notify_org(
        system, stores, "umwelt", kind="freshness", subject="Luftmessnetz ist überfällig", body="Bitte prüfen."
    )
    notify.notify_org(system, stores, "umwelt", kind="import", subject="Import fehlgeschlagen", body="HTTP 500")
    spec = {"source_type": "url", "url": source.url("/messstellen.csv"), "schedule": "0 6 * * *", "retries": 0}
    created = imports.create_import(system, stores, "luft-messnetz", "messstellen", spec)
    imports.run_now(system, stores, created.id)
    with serve_portal(settings, stores) as url:
        yield url
    stores.close()


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[Any]:
    yield from chromium()


def test_axe_finds_no_violation_on_sensor_inbox_and_imports_pages(browser: Any, server: str) -> None:
    for width in (390, 1280):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        checked: dict[str, list[str]] = {}
        page.goto(server + "/datasets/luft-messnetz")
        assert page.locator("#sensor-table").is_visible()
        page.click("#sensor-values summary")  # the chart's table, opened
        checked["dataset-sensors"] = _axe(page)
        page.goto(server + "/datasets/luft-messnetz?datastream=999999")  # the notice of a bad choice
        checked["dataset-sensors-bad-choice"] = _axe(page)
        page.goto(server + "/?lang=en")
        checked["start-en"] = _axe(page)
        page.goto(server + "/?lang=de")
        sign_in(page, server, "stewardin")
        for name, path in {
            "workspace": "/workspace",
            "inbox": "/workspace/notifications",
            "imports": IMPORTS,
            "workspace-dataset": "/workspace/datasets/luft-messnetz",
        }.items():
            page.goto(server + path)
            checked[name] = _axe(page)
        page.goto(server + IMPORTS)
        page.get_by_label("Zeitplan (Cron, leer: nur von Hand)").fill("jeden Morgen")
        page.get_by_role("button", name="Import anlegen").click()
        page.wait_for_selector("#err-schedule")
        checked["imports-errors"] = _axe(page)
        page.goto(server + "/workspace/notifications")
        page.get_by_role("button", name=re.compile("^Als gelesen markieren")).first.click()  # one per width
        page.wait_for_url("**/workspace/notifications?marked=*")
        checked["inbox-marked"] = _axe(page)
        context.close()
        assert {k: v for k, v in checked.items() if v} == {}, width


def test_sensor_inbox_and_imports_pages_request_nothing_from_other_origins(browser: Any, server: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    origin = urlsplit(server)
    seen: list[str] = []
    context = browser.new_context(viewport={"width": 390, "height": 900})
    page = context.new_page()
    page.on("request", lambda request: seen.append(request.url))
    page.goto(server + "/datasets/luft-messnetz", wait_until="networkidle")
    assert page.evaluate("document.querySelector('#sensoren img').naturalWidth") > 0  # the chart image loads
    page.screenshot(path=str(ARTIFACTS / "dataset-sensors-390.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the sensor section scrolls sideways on a phone by {overflow}px"
    sign_in(page, server, "stewardin")
    for name, path in {"inbox": "/workspace/notifications", "imports": IMPORTS}.items():
        page.goto(server + path, wait_until="networkidle")
        page.screenshot(path=str(ARTIFACTS / f"{name}-390.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways on a phone by {overflow}px"
    context.close()
    foreign = [u for u in seen if urlsplit(u)[:2] != origin[:2] and not u.startswith("data:")]
    assert foreign == []
    assert any("/sensors/" in u and u.split("?")[0].endswith("/chart.svg") for u in seen)
