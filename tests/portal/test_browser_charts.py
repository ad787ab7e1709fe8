"""Chart builder and map in headless Chromium: build a chart with the keyboard, see the map and its list,
axe-core WCAG 2.1 AA on dataset pages with chart and map, no request to another origin, screenshots.

Uses the server and browser of test_browser.py (the demo catalog; system Chromium; axe-core via npm ci).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.portal import test_browser as base

server = base.server  # the same fixtures: a demo portal on a free port, the system Chromium
browser = base.browser

PARKS = "/datasets/parkhaeuser-kaiserslautern"
PEOPLE = "/datasets/einwohner-stadtteile"
AXE_PAGES = {
    "chart-map": PARKS + "?chart=bar&x=type&agg=sum&y=total",
    "chart-time": PEOPLE + "?chart=area&x=Stichtag&bucket=year&agg=sum&y=Einwohner",
    "chart-error": PEOPLE + "?chart=bar&x=Stadtteil&agg=sum&y=Stadtteil",
    "map-points-jena": "/datasets/parken-jena?lang=en",
}


def _open_details(page: Any) -> None:
    page.evaluate("document.querySelectorAll('#diagramm details, #karte details').forEach(d => d.open = true)")


def _wait_for_map(page: Any) -> None:
    if not (base.ROOT / "node_modules" / "leaflet" / "dist" / "leaflet.js").exists():
        pytest.fail("Leaflet is not installed: run npm ci")
    page.wait_for_selector("#karte-live.leaflet-container", timeout=10000)
    page.wait_for_selector("#karte-live .leaflet-marker-icon", timeout=10000)


def test_build_a_chart_with_the_keyboard_and_read_its_table(browser: Any, server: str) -> None:
    page = browser.new_page()
    page.goto(server + PEOPLE)
    page.select_option("#chart-kind", "bar")
    page.select_option("#chart-x", "Stadtteil")
    page.select_option("#chart-bucket", "")
    page.select_option("#chart-agg", "avg")
    page.select_option("#chart-y", "Anteil unter 18 (%)")
    page.focus("#chart-y")
    page.keyboard.press("Tab")  # to the submit button
    assert page.evaluate("document.activeElement.textContent.trim()") == "Diagramm zeigen"
    page.keyboard.press("Enter")
    page.wait_for_url("**chart=bar**")
    query = parse_qs(urlsplit(page.url).query)
    assert query["chart"] == ["bar"] and query["x"] == ["Stadtteil"] and query["agg"] == ["avg"]
    assert query["y"] == ["Anteil unter 18 (%)"]  # the address holds every choice: shareable
    image = page.locator("figure.chart img")
    image.wait_for()
    page.wait_for_function("document.querySelector('figure.chart img').complete")
    assert page.evaluate("document.querySelector('figure.chart img').naturalWidth") > 300
    assert "Mittelwert: Anteil unter 18 (%) je Stadtteil" in image.get_attribute("alt")
    assert "höchster Wert" in page.inner_text("figure.chart figcaption")
    page.focus("#diagramm-werte summary")
    page.keyboard.press("Enter")
    rows = page.locator("#diagramm-werte tbody tr")
    assert rows.count() == 18 and rows.first.is_visible()
    assert page.inner_text("#chart-caption") == "Mittelwert: Anteil unter 18 (%) je Stadtteil"
    png = page.request.get(server + page.get_attribute("a[href*='chart.png']", "href"))
    assert png.ok and png.body()[:4] == b"\x89PNG"
    page.close()


def test_the_map_shows_markers_popups_and_a_keyboard_list(browser: Any, server: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server + PARKS)
    _wait_for_map(page)
    assert page.is_hidden("#karte-bild")  # the server-drawn image gives way to the interactive map
    icons = page.locator("#karte-live .leaflet-marker-icon")
    assert icons.count() >= 2  # single markers and clusters
    assert page.locator("#karte-live .marker-cluster").count() >= 1 or icons.count() == 12
    page.focus("#karte-liste summary")
    page.keyboard.press("Enter")
    rows = page.locator("#karte-liste tbody tr")
    assert rows.count() == 12
    button = page.get_by_role("button", name="Auf der Karte zeigen PH Lutrinastraße")
    button.focus()
    page.keyboard.press("Enter")
    popup = page.locator("#karte-live .leaflet-popup-content")
    popup.wait_for(timeout=10000)
    assert "PH Lutrinastraße" in popup.inner_text() and "Badstraße 3" in popup.inner_text()
    page.close()


def test_without_javascript_the_image_and_list_remain(browser: Any, server: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server + PARKS)
    assert page.is_visible("#karte-bild img") and page.is_hidden("#karte-live")
    assert page.evaluate("document.querySelector('#karte-bild img').naturalWidth") > 300
    assert page.locator("#karte-liste tbody tr").count() == 12
    assert page.evaluate("document.querySelector('figure.chart img').naturalWidth") > 300
    context.close()


@pytest.mark.parametrize("name", list(AXE_PAGES))
def test_axe_finds_no_violation_with_chart_and_map(browser: Any, server: str, name: str) -> None:
    for width in (390, 1280):
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(server + AXE_PAGES[name])
        if name.startswith(("chart-map", "map")):
            _wait_for_map(page)
        _open_details(page)
        page.add_script_tag(path=str(base.AXE))
        result = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
            base.WCAG_AA,
        )
        page.close()
        assert base._summary(result["violations"]) == [], (name, width)


def test_chart_and_map_request_nothing_elsewhere_fit_a_phone_and_are_photographed(browser: Any, server: str) -> None:
    base.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    origin = urlsplit(server)
    foreign: list[str] = []
    for width in (390, 1280):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        seen: list[str] = []
        page.on("request", lambda request, seen=seen: seen.append(request.url))
        for name, path in AXE_PAGES.items():
            page.goto(server + path, wait_until="networkidle")
            if name.startswith(("chart-map", "map")):
                _wait_for_map(page)
            _open_details(page)
            page.screenshot(path=str(base.ARTIFACTS / f"{name}-{width}.png"), full_page=True)
            if width == 390:
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, f"{name} scrolls sideways on a phone by {overflow}px"
        foreign += [u for u in seen if urlsplit(u)[:2] != origin[:2] and not u.startswith("data:")]
        assert any("/static/vendor/leaflet/leaflet.js" in u for u in seen)
        assert any("/chart.svg?" in u for u in seen)
        context.close()
    assert foreign == []
