"""The portal in headless Chromium (the system browser, never a downloaded one): axe-core WCAG 2.1 AA checks,
no request to any other origin, keyboard use, and screenshots at phone and desktop widths.

Needs the Debian package `chromium` and `npm ci` (axe-core in ./node_modules); .ci/run installs both.
Locally the tests skip without them; in CI (CI=true) a missing tool is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn

from tests.portal.conftest import demo_stores
from urbandata.app import create_app
from urbandata.config import Settings
from urbandata.stores import Stores

ROOT = Path(__file__).parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "portal"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGES = {
    "start": "/",
    "search": "/datasets?q=Park&sort=title",
    "dataset": "/datasets/bundestagswahl-2013-koeln",
    "dataset-geo": "/datasets/parkhaeuser-kaiserslautern",
    "dataset-filter-error": "/datasets/bundestagswahl-2013-koeln?column=Wahlbeteiligung&value=viel",
    "dataset-en": "/datasets/bundestagswahl-2013-koeln?lang=en&column=Name&value=alt",
    "organization": "/organizations/mobilitaet",
    "about": "/about",
    "accessibility": "/accessibility",
    "start-en": "/?lang=en",
    "not-found": "/datasets/wartezeiten-buergerbuero",
}
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed"
    if not Path(CHROMIUM).exists():
        return "no system Chromium (apt-get install chromium chromium-driver)"
    if not AXE.exists():
        return "axe-core is not installed (npm ci)"
    return None


def _require_tools() -> None:
    problem = _missing()
    if problem is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests need their tools in CI: {problem}")
    pytest.skip(problem)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _require_tools()
    settings, stores = demo_stores(tmp_path_factory.mktemp("browser") / "data", secure_cookies=False)
    with serve_portal(settings, stores) as url:
        yield url
    stores.close()


@contextmanager
def serve_portal(settings: Settings, stores: Stores) -> Iterator[str]:
    """The platform on a free loopback port in a thread, for the browser."""
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(settings, stores), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "the portal did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def chromium() -> Iterator[Any]:
    """The system Chromium, headless, for a module-scoped `browser` fixture."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[Any]:
    yield from chromium()


def _summary(violations: list[dict[str, Any]]) -> list[str]:
    return [f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes'][:3]]}" for v in violations]


@pytest.mark.parametrize("name", list(PAGES))
def test_axe_finds_no_wcag_21_aa_violation(browser: Any, server: str, name: str) -> None:
    for width in (390, 1280):
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(server + PAGES[name])
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", WCAG_AA
        )
        page.close()
        assert _summary(result["violations"]) == [], (name, width)


def test_pages_request_nothing_from_other_origins_and_fit_a_phone(browser: Any, server: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    origin = urlsplit(server)
    foreign: list[str] = []
    for width in (390, 1280):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        seen: list[str] = []
        page.on("request", lambda request, seen=seen: seen.append(request.url))
        for name, path in PAGES.items():
            page.goto(server + path, wait_until="networkidle")
            page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
            if width == 390:
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, f"{name} scrolls sideways on a phone by {overflow}px"
        foreign += [u for u in seen if urlsplit(u)[:2] != origin[:2] and not u.startswith("data:")]
        assert any(u.endswith("/static/portal.css") for u in seen)
        context.close()
    assert foreign == []


def test_keyboard_reaches_the_skip_link_first_and_it_moves_focus_to_the_content(browser: Any, server: str) -> None:
    page = browser.new_page()
    page.goto(server + "/datasets/bundestagswahl-2013-koeln")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Zum Inhalt springen"
    assert page.evaluate("getComputedStyle(document.activeElement).left") != "-9999px"  # visible when focused
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#inhalt"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")
    page.close()


def test_search_facet_and_table_paging_work_with_keyboard_only(browser: Any, server: str) -> None:
    page = browser.new_page()
    page.goto(server + "/datasets")
    page.focus("#q")
    page.keyboard.type("Wahl")
    page.keyboard.press("Enter")
    page.wait_for_url("**/datasets?q=Wahl*")
    assert "Bundestagswahl 2013" in page.inner_text("main")
    page.get_by_role("link", name="Bundestagswahl 2013").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/datasets/bundestagswahl-2013-koeln")
    caption = page.inner_text("#tabelle-caption")
    assert "Zeilen 1 bis 25 von 86" in caption
    page.get_by_role("link", name="Nächste Zeilen").focus()
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert "Zeilen 26 bis 50 von 86" in page.inner_text("#tabelle-caption")
    page.close()
