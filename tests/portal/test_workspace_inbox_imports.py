"""The workspace notification inbox and the imports page of a resource, on both backends: only one's own
notifications, marking read with the CSRF-protected form, creating imports with inline errors from the
service, running one now against a local HTTP source, the run history."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_settings
from tests.imports.flaky_server import FlakyServer, Route, flaky_server
from tests.portal.test_workspace import PASSWORD, csrf, post, sign_in
from urbandata.accounts import service as accounts
from urbandata.app import create_app
from urbandata.auth.actor import Actor, RequestContext
from urbandata.catalog import service as catalog
from urbandata.catalog.models import OrganizationIn
from urbandata.imports import service as imports
from urbandata.notify import service as notify
from urbandata.stores import Stores

CSV = b"Stadtteil;Einwohner\nAltstadt;1200\nInnenstadt;3400\nBetzenberg;2100\n"
PAGE = "/workspace/datasets/einwohner/resources/stadtteile/imports"


@pytest.fixture
def site(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[TestClient, Stores, RequestContext]]:
    settings = make_settings(backend, tmp_path, request, secure_cookies=False, anonymous_rate_limit=0, scheduler=False)
    stores = Stores.open(settings)
    system = RequestContext(actor=Actor.system(), settings=settings)
    for slug, name in (("statistik", "Referat Statistik"), ("verkehr", "Referat Verkehr")):
        catalog.create_org(system, stores, OrganizationIn(slug=slug, name=name))
    for user, org in (("stewardin", "statistik"), ("kollegin", "statistik"), ("fremd", "verkehr")):
        accounts.add_user(system, stores, user, password=PASSWORD)
        accounts.set_member(system, stores, org, user, "steward")
    catalog.create_dataset(system, stores, "einwohner", "statistik", {"title": "Einwohner nach Stadtteil"})
    with TestClient(create_app(settings, stores)) as client:
        yield client, stores, system
    stores.close()


@pytest.fixture
def source() -> Iterator[FlakyServer]:
    with flaky_server() as server:
        yield server


def test_inbox_shows_only_own_notifications_and_marks_them_read(
    site: tuple[TestClient, Stores, RequestContext],
) -> None:
    client, stores, system = site
    notify.notify_org(
        system,
        stores,
        "statistik",
        kind="freshness",
        subject="Einwohner ist überfällig",
        body="Bitte **aktualisieren**.",
        dataset_slug="einwohner",
    )
    notify.notify_org(system, stores, "statistik", kind="import", subject="Import fehlgeschlagen", body="")
    notify.notify_org(system, stores, "verkehr", kind="freshness", subject="Ampeln sind überfällig", body="x")

    assert client.get("/workspace/notifications", follow_redirects=False).status_code == 303  # sign in first
    sign_in(client, "stewardin")
    index = client.get("/workspace").text
    assert re.search(r'id="inbox-link">Benachrichtigungen <span class="badge">2 ungelesen</span>', index)
    page = client.get("/workspace/notifications")
    assert page.status_code == 200
    assert "Einwohner ist überfällig" in page.text and "Import fehlgeschlagen" in page.text
    assert "Ampeln" not in page.text  # another organisation's notification
    assert "<strong>aktualisieren</strong>" in page.text
    assert "2 ungelesene Benachrichtigungen" in page.text and page.text.count('class="message unread"') == 2
    own = _inbox(client, stores, system, "stewardin")
    first_id = next(n["id"] for n in own["notifications"] if n["subject"] == "Einwohner ist überfällig")

    assert client.post(f"/workspace/notifications/{first_id}/read", data={}).status_code == 403  # no CSRF token
    r = post(client, f"/workspace/notifications/{first_id}/read")
    assert r.status_code == 303 and r.headers["location"] == f"/workspace/notifications?marked={first_id}"
    page = client.get(r.headers["location"])
    assert "als gelesen markiert" in page.text and "1 ungelesene Benachrichtigung" in page.text
    assert page.text.count('class="message unread"') == 1 and "gelesen am" in page.text
    unread_only = client.get("/workspace/notifications?unread=1").text
    assert "Import fehlgeschlagen" in unread_only and "Einwohner ist überfällig" not in unread_only
    assert 'id="inbox-link">Benachrichtigungen <span class="badge">1 ungelesen' in client.get("/workspace").text

    # the colleague's copy is still unread; someone else's notification cannot be marked
    foreign_id = _inbox(client, stores, system, "fremd")["notifications"][0]["id"]
    assert post(client, f"/workspace/notifications/{foreign_id}/read").status_code == 404
    assert _inbox(client, stores, system, "fremd")["unread"] == 1
    client.cookies.clear()
    sign_in(client, "kollegin")
    assert "2 ungelesene Benachrichtigungen" in client.get("/workspace/notifications").text
    english = client.get("/workspace/notifications?lang=en").text
    assert "Notifications" in english and "Mark as read" in english


def _inbox(client: TestClient, stores: Stores, system: RequestContext, username: str) -> dict[str, Any]:
    """The user's inbox through the JSON twin, GET /api/v1/notifications."""
    token = accounts.create_token(system, stores, username, scope="read").token
    r = client.get("/api/v1/notifications", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_imports_page_creates_with_inline_errors_runs_now_and_shows_history(
    site: tuple[TestClient, Stores, RequestContext], source: FlakyServer
) -> None:
    client, stores, system = site
    source.routes["/einwohner.csv"] = Route(body=CSV)
    sign_in(client, "stewardin")
    ws = client.get("/workspace/datasets/einwohner").text
    assert 'action="/workspace/datasets/einwohner/imports"' in ws  # the form for a table without data yet
    r = client.get("/workspace/datasets/einwohner/imports?resource=stadtteile", follow_redirects=False)
    assert r.headers["location"] == PAGE
    page = client.get(PAGE)
    assert page.status_code == 200 and "Für diese Tabelle ist noch kein Import eingerichtet." in page.text

    good = {"source_type": "url", "url": source.url("/einwohner.csv"), "timeout_seconds": "30", "retries": "0"}
    bad_cron = post(client, PAGE, {**good, "schedule": "jeden Morgen"})
    assert bad_cron.status_code == 400
    assert 'id="err-schedule"' in bad_cron.text and "fünf Feldern" in bad_cron.text
    assert 'value="jeden Morgen"' in bad_cron.text and f'value="{source.url("/einwohner.csv")}"' in bad_cron.text
    bad_url = post(client, PAGE, {**good, "url": "file:///etc/passwd"})
    assert bad_url.status_code == 400 and 'id="err-url"' in bad_url.text and "http://" in bad_url.text
    bad_timeout = post(client, PAGE, {**good, "timeout_seconds": "lange"})
    assert bad_timeout.status_code == 400 and 'id="err-timeout_seconds"' in bad_timeout.text
    assert imports.list_imports(system, stores, "einwohner") == []  # nothing saved by bad input

    created = post(client, PAGE, {**good, "schedule": "0 6 * * 1-5"})
    assert created.status_code == 303, created.text
    page = client.get(created.headers["location"])
    assert "Der Import wurde angelegt." in page.text
    (imp,) = imports.list_imports(system, stores, "einwohner", "stadtteile")
    assert (imp.schedule, imp.timeout_seconds, imp.retries) == ("0 6 * * 1-5", 30, 0)
    table = page.text[page.text.index('id="imports-table"') :]
    assert "<code>0 6 * * 1-5</code>" in table and "noch nie gelaufen" in table
    assert source.url("/einwohner.csv") in table

    assert client.post(f"{PAGE}/{imp.id}/run", data={}).status_code == 403  # no CSRF token
    assert source.count("/einwohner.csv") == 0
    ran = post(client, f"{PAGE}/{imp.id}/run")
    assert ran.status_code == 303 and source.count("/einwohner.csv") == 1
    page = client.get(ran.headers["location"])
    history = page.text[page.text.index(f'id="runs-{imp.id}"') :]
    assert "von Hand" in history and "erfolgreich" in history
    assert re.search(r'<td class="num">3</td>\s*<td class="num">1</td>', history)  # rows, version

    source.routes["/einwohner.csv"] = Route(status=500)
    post(client, f"{PAGE}/{imp.id}/run")
    history = client.get(PAGE).text
    runs = history[history.index(f'id="runs-{imp.id}"') :]
    assert runs.index("fehlgeschlagen") < runs.index("erfolgreich")  # newest first
    assert "500" in runs  # the recorded error

    client.cookies.clear()
    sign_in(client, "fremd")
    assert client.get(PAGE).status_code == 403  # another organisation's dataset
    assert post(client, f"{PAGE}/{imp.id}/run").status_code == 403
    assert csrf(client)
