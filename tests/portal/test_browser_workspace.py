"""The steward workspace in headless Chromium (the system browser): sign in, create a dataset, upload a
real file with the progress bar, fix a column type, publish, find it in public search; an anonymous
visitor gets 404 on an internal dataset; axe-core finds no WCAG 2.1 AA violation on any workspace or
admin page, signed in.

Same tools as tests/portal/test_browser.py (skips locally without them, fails in CI).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import REAL
from tests.portal.conftest import demo_stores
from tests.portal.test_browser import AXE, WCAG_AA, _require_tools, _summary, chromium, serve_portal
from urbandata.accounts import service as accounts
from urbandata.auth.actor import Actor, RequestContext
from urbandata.catalog import service as catalog
from urbandata.catalog.models import OrganizationIn

PASSWORD = "richtig-langes-passwort"
BEZIRKE = REAL / "koeln_bezirke_einzeldarstellung.csv"  # Stadt Köln, CC BY 3.0 DE (tests/data/real/ATTRIBUTION.md)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _require_tools()
    settings, stores = demo_stores(tmp_path_factory.mktemp("browser-ws") / "data", secure_cookies=False)
    system = RequestContext(actor=Actor.system(), settings=settings)
    catalog.create_org(system, stores, OrganizationIn(slug="umwelt", name="Referat Umweltschutz"))
    accounts.add_user(system, stores, "stewardin", password=PASSWORD)
    accounts.set_member(system, stores, "umwelt", "stewardin", "steward")
    accounts.add_user(system, stores, "chefin", password=PASSWORD, is_admin=True)
    accounts.set_member(system, stores, "umwelt", "chefin", "steward")
    meta = {"title": "Interne Störungsliste Messnetz", "access_level": "internal"}
    catalog.create_dataset(system, stores, "stoerungsliste-messnetz", "umwelt", meta)
    with serve_portal(settings, stores) as url:
        yield url
    stores.close()


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[Any]:
    yield from chromium()


def sign_in(page: Any, server: str, username: str) -> None:
    page.goto(server + "/login")
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url("**/workspace")


def upload_and_review(page: Any, server: str, slug: str) -> list[str]:
    """Upload the real file on the dataset's workspace page; returns the kinds of the upload requests."""
    kinds: list[str] = []
    page.on("request", lambda r: kinds.append(r.resource_type) if r.url.endswith("/upload") else None)
    page.goto(f"{server}/workspace/datasets/{slug}")
    page.set_input_files("#upload-file", str(BEZIRKE))
    page.get_by_role("button", name="Hochladen und prüfen").click()
    page.wait_for_url("**/uploads/**")
    return kinds


def test_steward_creates_uploads_fixes_a_type_publishes_and_the_public_finds_it(browser: Any, server: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, server, "stewardin")
    assert page.inner_text("#signed-in-user").endswith("stewardin")
    page.get_by_role("link", name="Neuer Datensatz").click()
    page.get_by_label("Kennung (Teil der Adresse)").fill("bezirkshaushalt-koeln")
    page.get_by_label("Titel").fill("Bezirkshaushalt Köln")
    page.get_by_label("Zugriffsebene").select_option("internal")
    page.get_by_label("Wirtschaft und Finanzen").check()
    page.get_by_label("Lizenz").select_option("cc-by-de-3.0")
    page.get_by_role("button", name="Datensatz anlegen").click()
    page.wait_for_url("**/workspace/datasets/bezirkshaushalt-koeln?created=1")

    kinds = upload_and_review(page, server, "bezirkshaushalt-koeln")
    assert "xhr" in kinds  # sent by the progress-bar script, not as a plain form post
    assert page.get_by_label("Bezirk", exact=True).input_value() == "integer"
    page.get_by_label("Bezirk", exact=True).select_option("string")
    page.get_by_role("button", name="Mit diesen Typen laden").click()
    page.wait_for_url("**/resources/**/versions/1?loaded=1")
    assert "Keine Zeile wurde abgewiesen." in page.inner_text("main")
    assert page.inner_text("#rows-loaded") == "252"

    page.goto(server + "/workspace/datasets/bezirkshaushalt-koeln")
    page.get_by_role("button", name="Veröffentlichen").click()
    page.wait_for_url("**/workspace/datasets/bezirkshaushalt-koeln?saved=1")
    assert page.inner_text("#access-state") == "Öffentlich"
    context.close()

    visitor = browser.new_page()
    visitor.goto(server + "/datasets?q=Bezirkshaushalt")
    visitor.get_by_role("link", name="Bezirkshaushalt Köln").first.click()
    visitor.wait_for_url("**/datasets/bezirkshaushalt-koeln")
    schema = visitor.evaluate(
        "fetch('/api/v1/datasets/bezirkshaushalt-koeln').then(r => r.json()).then(d => d.resources[0].schema.fields)"
    )
    assert {f["name"]: f["type"] for f in schema}["Bezirk"] == "string"
    visitor.close()


def test_an_anonymous_visitor_gets_404_on_an_internal_dataset_and_does_not_find_it(browser: Any, server: str) -> None:
    page = browser.new_page()
    response = page.goto(server + "/datasets/stoerungsliste-messnetz")
    assert response.status == 404
    page.goto(server + "/datasets?q=Störungsliste")
    assert "Interne Störungsliste" not in page.inner_text("main")
    page.close()
    staff = browser.new_context()
    signed_in = staff.new_page()
    sign_in(signed_in, server, "stewardin")
    assert signed_in.goto(server + "/datasets/stoerungsliste-messnetz").status == 200
    staff.close()


def _axe(page: Any) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", WCAG_AA
    )
    return _summary(result["violations"])


def test_axe_finds_no_violation_on_workspace_and_admin_pages_signed_in(browser: Any, server: str) -> None:
    anon = browser.new_page()
    anon.goto(server + "/login")
    assert _axe(anon) == [], "login"
    anon.close()
    for width in (390, 1280):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        sign_in(page, server, "chefin")
        checked: dict[str, list[str]] = {}
        for name, path in {
            "workspace": "/workspace",
            "new-dataset": "/workspace/datasets/new",
            "dataset": "/workspace/datasets/stoerungsliste-messnetz",
            "edit": "/workspace/datasets/stoerungsliste-messnetz/edit",
            "tokens": "/workspace/tokens",
            "members": "/workspace/organizations/umwelt/members",
            "admin-users": "/admin/users",
            "admin-organizations": "/admin/organizations",
            "start-signed-in": "/",
        }.items():
            page.goto(server + path)
            checked[name] = _axe(page)
        page.goto(server + "/workspace/datasets/new")
        page.get_by_role("button", name="Datensatz anlegen").click()  # empty: inline errors
        page.wait_for_selector(".error-summary")
        checked["new-dataset-errors"] = _axe(page)
        page.goto(server + "/workspace/tokens")
        page.get_by_label("Name (wofür?)").fill(f"axe-{width}")
        page.get_by_role("button", name="Schlüssel erzeugen").click()
        page.wait_for_selector("#new-token")
        checked["token-created"] = _axe(page)
        upload_and_review(page, server, "stoerungsliste-messnetz")
        checked["review"] = _axe(page)
        page.get_by_role("button", name="Mit diesen Typen laden").click()
        page.wait_for_url("**/versions/*?loaded=1")
        checked["report"] = _axe(page)
        context.close()
        assert {k: v for k, v in checked.items() if v} == {}, width
