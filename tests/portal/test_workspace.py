"""Sign-in, the steward workspace and the admin pages, on both backends: every flow through the pages
(server-rendered forms with the CSRF field), including bad input, a missing CSRF token and a foreign
organisation's steward."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import REAL, make_settings
from urbandata.accounts import service as accounts
from urbandata.app import create_app
from urbandata.auth.actor import Actor, RequestContext
from urbandata.catalog import service as catalog
from urbandata.catalog.models import OrganizationIn
from urbandata.stores import Stores
from urbandata.webdeps import CSRF_COOKIE

PASSWORD = "richtig-langes-passwort"
BEZIRKE = REAL / "koeln_bezirke_einzeldarstellung.csv"


@pytest.fixture
def site(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[TestClient, Stores]]:
    settings = make_settings(backend, tmp_path, request, secure_cookies=False, anonymous_rate_limit=0)
    stores = Stores.open(settings)
    system = RequestContext(actor=Actor.system(), settings=settings)
    for slug, name in (("umwelt", "Referat Umweltschutz"), ("verkehr", "Referat Verkehr")):
        catalog.create_org(system, stores, OrganizationIn(slug=slug, name=name))
    for user, org in (("stewardin", "umwelt"), ("fremd", "verkehr")):
        accounts.add_user(system, stores, user, password=PASSWORD)
        accounts.set_member(system, stores, org, user, "steward")
    accounts.add_user(system, stores, "chefin", password=PASSWORD, is_admin=True)
    accounts.add_user(system, stores, "kollege", password=PASSWORD)
    meta = {"title": "Luftmessstellen intern", "access_level": "internal"}
    catalog.create_dataset(system, stores, "luft-intern", "umwelt", meta)
    catalog.create_dataset(
        system, stores, "ampeln", "verkehr", {"title": "Ampelschaltungen", "access_level": "internal"}
    )
    with TestClient(create_app(settings, stores)) as client:
        yield client, stores
    stores.close()


def csrf(client: TestClient) -> str:
    return str(client.cookies.get(CSRF_COOKIE))


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> None:
    assert client.get("/login").status_code == 200
    r = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf(client)}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/workspace"


def post(client: TestClient, url: str, data: dict[str, object] | None = None, **kw: object):  # type: ignore[no-untyped-def]
    return client.post(url, data={**(data or {}), "csrf_token": csrf(client)}, follow_redirects=False, **kw)  # type: ignore[arg-type]


def test_sign_in_wrong_password_csrf_and_sign_out(site: tuple[TestClient, Stores]) -> None:
    client, _ = site
    assert client.get("/workspace", follow_redirects=False).headers["location"] == "/login?next=/workspace"
    page = client.get("/login")
    assert "<h1>Anmelden</h1>" in page.text and 'name="csrf_token"' in page.text
    assert "Single Sign-on" not in page.text  # OIDC is not configured here
    wrong = client.post("/login", data={"username": "stewardin", "password": "falsch", "csrf_token": csrf(client)})
    assert wrong.status_code == 401
    assert "Benutzername oder Passwort ist falsch." in wrong.text and 'value="stewardin"' in wrong.text
    no_csrf = client.post("/login", data={"username": "stewardin", "password": PASSWORD})
    assert no_csrf.status_code == 403 and "Kein Zugriff" in no_csrf.text
    assert client.get("/workspace", follow_redirects=False).status_code == 303  # still signed out

    sign_in(client, "stewardin")
    start = client.get("/")
    assert 'id="signed-in-user"' in start.text and "stewardin</a>" in start.text and "Abmelden" in start.text
    # an open redirect after signing in is refused
    client.cookies.clear()
    client.get("/login")
    r = post(client, "/login", {"username": "stewardin", "password": PASSWORD, "next": "//evil.example/x"})
    assert r.headers["location"] == "/workspace"

    out = post(client, "/logout")
    assert out.status_code == 303
    client.cookies.delete("ud_session")
    assert client.get("/workspace", follow_redirects=False).status_code == 303
    assert 'href="/login"' in client.get("/").text


def test_workspace_lists_the_own_organisations_datasets_with_internal_ones(site: tuple[TestClient, Stores]) -> None:
    client, _ = site
    sign_in(client, "stewardin")
    page = client.get("/workspace")
    assert page.status_code == 200
    assert "Luftmessstellen intern" in page.text and "Verwaltungsintern" in page.text
    assert "Ampelschaltungen" not in page.text  # another organisation's dataset
    assert "/workspace/organizations/umwelt/members" in page.text
    assert "/admin/users" not in page.text
    english = client.get("/workspace?lang=en")
    assert "Datasets of my organisations" in english.text and "Internal (all staff)" in english.text
    client.cookies.delete("ud_lang")


def test_create_dataset_shows_inline_errors_and_keeps_the_values(site: tuple[TestClient, Stores]) -> None:
    client, _ = site
    sign_in(client, "stewardin")
    form = client.get("/workspace/datasets/new").text
    assert 'type="checkbox" name="themes" value="ENVI"' in form  # vocabularies as pickers
    assert '<select id="f-license" name="license"' in form and '<select id="f-frequency"' in form
    bad = {
        "organization": "umwelt",
        "slug": "Luft Messung",
        "title": "",
        "contact_email": "kein-mail",
        "themes": ["ENVI", "HEAL"],
        "keywords": "Feinstaub, Stickoxid",
        "temporal_start": "2024-13-01",
        "license": "cc-by-4.0",
    }
    r = post(client, "/workspace/datasets/new", bad)
    assert r.status_code == 400
    text = r.text
    assert 'id="e-title"' in text and "Bitte ausfüllen: Pflichtfeld." in text
    assert 'id="e-contact_email"' in text and "Bitte eine gültige E-Mail-Adresse angeben." in text
    assert 'id="e-temporal_start"' in text and "JJJJ-MM-TT" in text
    assert 'aria-invalid="true"' in text
    # the values the user typed are kept
    assert 'value="kein-mail"' in text and 'value="Feinstaub, Stickoxid"' in text
    assert 'value="ENVI" checked' in text and 'value="HEAL" checked' in text
    assert '<option value="cc-by-4.0" selected>' in text

    ok = {**bad, "title": "Luftqualität", "contact_email": "umwelt@example.org", "temporal_start": "2024-01-01"}
    assert 'id="e-slug"' in post(client, "/workspace/datasets/new", ok).text  # the slug is still wrong
    r = post(client, "/workspace/datasets/new", {**ok, "slug": "luftqualitaet"})
    assert r.status_code == 303 and r.headers["location"].startswith("/workspace/datasets/luftqualitaet")
    ds = client.get("/api/v1/datasets/luftqualitaet").json()
    assert ds["themes"] == ["ENVI", "HEAL"] and ds["keywords"] == ["Feinstaub", "Stickoxid"]
    assert ds["meta"]["contact_email"] == "umwelt@example.org" and ds["license"] == "cc-by-4.0"
    dup = post(client, "/workspace/datasets/new", {**ok, "slug": "luftqualitaet"})
    assert dup.status_code == 400 and "Diese Kennung ist schon vergeben." in dup.text


def test_edit_metadata_with_errors_then_saved(site: tuple[TestClient, Stores]) -> None:
    client, _ = site
    sign_in(client, "stewardin")
    form = client.get("/workspace/datasets/luft-intern/edit")
    assert 'value="Luftmessstellen intern"' in form.text
    values = {
        "title": "Luftmessstellen",
        "access_level": "internal",
        "license": "dl-de/by-2-0",
        "temporal_start": "2024-05-01",
        "temporal_end": "2024-01-01",
    }
    bad = post(client, "/workspace/datasets/luft-intern/edit", values)
    assert bad.status_code == 400 and "Das Ende darf nicht vor dem Beginn liegen." in bad.text
    assert 'value="Luftmessstellen"' in bad.text
    assert client.get("/api/v1/datasets/luft-intern").json()["title"] == "Luftmessstellen intern"  # nothing changed
    good = post(client, "/workspace/datasets/luft-intern/edit", {**values, "temporal_end": "2024-12-31"})
    assert good.status_code == 303
    ds = client.get("/api/v1/datasets/luft-intern").json()
    assert ds["title"] == "Luftmessstellen" and ds["meta"]["temporal_end"] == "2024-12-31"


def test_missing_or_wrong_csrf_token_is_refused(site: tuple[TestClient, Stores]) -> None:
    client, _ = site
    sign_in(client, "stewardin")
    data = {"organization": "umwelt", "slug": "ohne-csrf", "title": "Ohne"}
    assert client.post("/workspace/datasets/new", data=data).status_code == 403
    assert client.post("/workspace/datasets/new", data={**data, "csrf_token": "geraten"}).status_code == 403
    assert client.post("/workspace/datasets/luft-intern/access", data={"access_level": "public"}).status_code == 403
    assert client.get("/api/v1/datasets/luft-intern").json()["access_level"] == "internal"
    assert client.get("/api/v1/datasets/ohne-csrf").status_code == 404


def test_a_foreign_steward_gets_403_and_cannot_change_anything(site: tuple[TestClient, Stores]) -> None:
    client, _ = site
    sign_in(client, "fremd")
    assert client.get("/workspace/datasets/luft-intern").status_code == 403
    page = client.get("/workspace/datasets/luft-intern/edit")
    assert page.status_code == 403 and "Kein Zugriff" in page.text
    r = post(client, "/workspace/datasets/luft-intern/edit", {"title": "Gekapert", "access_level": "public"})
    assert r.status_code == 403
    assert post(client, "/workspace/datasets/luft-intern/access", {"access_level": "public"}).status_code == 403
    with BEZIRKE.open("rb") as fh:
        up = post(client, "/workspace/datasets/luft-intern/upload", files={"file": ("b.csv", fh, "text/csv")})
    assert up.status_code == 403
    assert client.get("/workspace/organizations/umwelt/members").status_code == 403
    created = post(client, "/workspace/datasets/new", {"organization": "umwelt", "slug": "fremd-ds", "title": "X"})
    assert created.status_code == 403
    assert client.get("/api/v1/datasets/luft-intern").json()["title"] == "Luftmessstellen intern"


def test_upload_review_fix_a_column_type_load_and_report(site: tuple[TestClient, Stores]) -> None:
    client, _ = site
    sign_in(client, "stewardin")
    with BEZIRKE.open("rb") as fh:
        r = post(
            client,
            "/workspace/datasets/luft-intern/upload",
            {"resource": "haushalt"},
            files={"file": (BEZIRKE.name, fh, "text/csv")},
        )
    assert r.status_code == 303, r.text
    review_url = r.headers["location"]
    review = client.get(review_url)
    assert review.status_code == 200 and "Erkanntes Schema" in review.text
    # the district number was inferred as an integer; its sample values are shown
    m = re.search(r'<label for="type-(\d+)">Bezirk</label>', review.text)
    assert m is not None
    idx = m.group(1)
    select = review.text.split(f'name="type-{idx}"')[1].split("</select>")[0]
    assert '<option value="integer" selected>' in select
    assert "Innenstadt" in review.text  # sample rows
    assert client.get("/api/v1/datasets/luft-intern").json()["resources"] == []  # nothing loaded yet

    loaded = post(client, review_url + "/load", {f"type-{idx}": "string"})
    assert loaded.status_code == 303
    assert loaded.headers["location"] == "/workspace/datasets/luft-intern/resources/haushalt/versions/1?loaded=1"
    report = client.get(loaded.headers["location"])
    assert "Keine Zeile wurde abgewiesen." in report.text and "252" in report.text
    res = client.get("/api/v1/datasets/luft-intern").json()["resources"][0]
    types = {f["name"]: f["type"] for f in res["schema"]["fields"]}
    assert types["Bezirk"] == "string" and types["Ergebnis 2011"] == "integer"
    assert client.get(review_url).status_code == 404  # the staged upload is gone after loading


def test_rejected_rows_are_reported_with_line_column_value_and_reason(
    site: tuple[TestClient, Stores], tmp_path: Path
) -> None:
    client, _ = site
    sign_in(client, "stewardin")
    src = tmp_path / "zaehlung.csv"
    src.write_text("Station;Anzahl\nA;12\nB;zwölf\nC;7\nD;n. b.\n", encoding="utf-8")
    with src.open("rb") as fh:
        r = post(client, "/workspace/datasets/luft-intern/upload", files={"file": (src.name, fh, "text/csv")})
    review = client.get(r.headers["location"])
    idx = re.search(r'<label for="type-(\d+)">Anzahl</label>', review.text).group(1)  # type: ignore[union-attr]
    loaded = post(client, r.headers["location"] + "/load", {f"type-{idx}": "integer"})
    report = client.get(loaded.headers["location"]).text
    rows = re.findall(r"<tr><td class=\"num\">(\d+)</td><td>(\w+)</td><td><code>([^<]*)</code></td>", report)
    assert rows == [("3", "Anzahl", "zwölf"), ("5", "Anzahl", "n. b.")]
    assert "value does not fit type integer" in report
    assert 'id="rows-loaded">2<' in report and 'id="rows-rejected">2<' in report

    # every value rejected: the review page says so and nothing is loaded
    with src.open("rb") as fh:
        r = post(client, "/workspace/datasets/luft-intern/upload", files={"file": (src.name, fh, "text/csv")})
    review = client.get(r.headers["location"])
    idx = re.search(r'<label for="type-(\d+)">Station</label>', review.text).group(1)  # type: ignore[union-attr]
    failed = post(client, r.headers["location"] + "/load", {f"type-{idx}": "date"})
    assert failed.status_code == 422 and "die bisherige Version bleibt aktuell" in failed.text
    versions = client.get("/api/v1/datasets/luft-intern/resources/zaehlung/versions").json()
    assert [v["version"] for v in versions] == [1]


def test_a_broken_file_gets_a_clear_page_and_changes_nothing(site: tuple[TestClient, Stores], tmp_path: Path) -> None:
    client, _ = site
    sign_in(client, "stewardin")
    empty = tmp_path / "leer.csv"
    empty.write_bytes(b"")
    with empty.open("rb") as fh:
        r = post(client, "/workspace/datasets/luft-intern/upload", files={"file": ("leer.csv", fh, "text/csv")})
    assert r.status_code == 422 and "Die Datei konnte nicht gelesen werden" in r.text and "leer.csv" in r.text
    no_file = post(client, "/workspace/datasets/luft-intern/upload")
    assert no_file.status_code == 400
    assert client.get("/api/v1/datasets/luft-intern").json()["resources"] == []


def test_publish_make_internal_and_restore_a_version(site: tuple[TestClient, Stores], tmp_path: Path) -> None:
    client, _ = site
    sign_in(client, "stewardin")
    for content in ("Jahr;Wert\n2023;1\n", "Jahr;Wert\n2023;1\n2024;2\n"):
        src = tmp_path / "reihe.csv"
        src.write_text(content, encoding="utf-8")
        with src.open("rb") as fh:
            r = post(client, "/workspace/datasets/luft-intern/upload", files={"file": ("reihe.csv", fh, "text/csv")})
        assert post(client, r.headers["location"] + "/load").status_code == 303
    page = client.get("/workspace/datasets/luft-intern")
    assert "/resources/reihe/versions/1/restore" in page.text and "/versions/2/restore" not in page.text
    assert post(client, "/workspace/datasets/luft-intern/resources/reihe/versions/1/restore").status_code == 303
    versions = client.get("/api/v1/datasets/luft-intern/resources/reihe/versions").json()
    assert [(v["version"], v["current"], v["row_count"]) for v in versions][0] == (3, True, 1)

    anonymous = TestClient(client.app)
    assert anonymous.get("/api/v1/datasets/luft-intern").status_code == 404
    assert post(client, "/workspace/datasets/luft-intern/access", {"access_level": "public"}).status_code == 303
    assert anonymous.get("/api/v1/datasets/luft-intern").status_code == 200
    assert "Nur verwaltungsintern zeigen" in client.get("/workspace/datasets/luft-intern").text
    assert post(client, "/workspace/datasets/luft-intern/access", {"access_level": "internal"}).status_code == 303
    assert anonymous.get("/datasets/luft-intern").status_code == 404
    assert post(client, "/workspace/datasets/luft-intern/access", {"access_level": "geheim"}).status_code == 400


def test_api_tokens_are_shown_once_listed_and_revoked(site: tuple[TestClient, Stores]) -> None:
    client, _ = site
    sign_in(client, "stewardin")
    r = post(client, "/workspace/tokens", {"name": "Skript", "scope": "read", "expires_days": "30"})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    secret = re.search(r'<code class="secret">(ud_[^<]+)</code>', r.text).group(1)  # type: ignore[union-attr]
    who = TestClient(client.app).get("/api/v1/whoami", headers={"Authorization": f"Bearer {secret}"}).json()
    assert who["username"] == "stewardin"
    listing = client.get("/workspace/tokens").text
    assert "Skript" in listing and secret not in listing  # the secret is never shown again
    bad = post(client, "/workspace/tokens", {"name": "x", "scope": "read", "expires_days": "0"})
    assert bad.status_code == 400
    token_id = re.search(r"/workspace/tokens/(\d+)/revoke", listing).group(1)  # type: ignore[union-attr]
    assert post(client, f"/workspace/tokens/{token_id}/revoke").status_code == 303
    assert "widerrufen" in client.get("/workspace/tokens").text
    assert (
        TestClient(client.app).get("/api/v1/whoami", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    )


def test_stewards_manage_their_organisations_members(site: tuple[TestClient, Stores]) -> None:
    client, _ = site
    sign_in(client, "stewardin")
    page = client.get("/workspace/organizations/umwelt/members")
    assert page.status_code == 200 and "stewardin" in page.text
    assert (
        post(client, "/workspace/organizations/umwelt/members", {"username": "kollege", "role": "editor"}).status_code
        == 303
    )
    assert "kollege" in client.get("/workspace/organizations/umwelt/members").text
    unknown = post(client, "/workspace/organizations/umwelt/members", {"username": "niemand", "role": "editor"})
    assert unknown.status_code == 400 and "niemand" in unknown.text
    bad_role = post(client, "/workspace/organizations/umwelt/members", {"username": "kollege", "role": "chef"})
    assert bad_role.status_code == 400
    assert post(client, "/workspace/organizations/umwelt/members/kollege/remove").status_code == 303
    assert "kollege" not in client.get("/workspace/organizations/umwelt/members").text
    assert client.get("/workspace/organizations/verkehr/members").status_code == 403


def test_admin_pages_for_admins_only(site: tuple[TestClient, Stores]) -> None:
    client, _ = site
    sign_in(client, "stewardin")
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/organizations").status_code == 403
    assert post(client, "/admin/users", {"username": "neu", "password": PASSWORD}).status_code == 403
    client.cookies.clear()

    sign_in(client, "chefin")
    assert "/admin/users" in client.get("/workspace").text
    weak = post(client, "/admin/users", {"username": "neu.person", "password": "kurz", "display_name": "Neu"})
    assert weak.status_code == 400 and 'value="neu.person"' in weak.text and "10 characters" in weak.text
    assert post(client, "/admin/users", {"username": "neu.person", "password": PASSWORD}).status_code == 303
    assert "neu.person" in client.get("/admin/users").text
    assert post(client, "/admin/users/neu.person/disable", {"disabled": "true"}).status_code == 303
    assert "gesperrt" in client.get("/admin/users").text
    other = TestClient(client.app)
    other.get("/login")
    denied = other.post("/login", data={"username": "neu.person", "password": PASSWORD, "csrf_token": csrf(other)})
    assert denied.status_code == 401

    bad_org = post(client, "/admin/organizations", {"slug": "Bau Amt", "name": "Bauamt"})
    assert bad_org.status_code == 400 and 'value="Bauamt"' in bad_org.text
    assert post(client, "/admin/organizations", {"slug": "bauamt", "name": "Bauamt"}).status_code == 303
    assert "Bauamt" in client.get("/admin/organizations").text
    assert client.get("/api/v1/organizations/bauamt").status_code == 200


def test_pages_in_english(site: tuple[TestClient, Stores]) -> None:
    client, _ = site
    sign_in(client, "stewardin")
    page = client.get("/workspace/datasets/new?lang=en")
    assert "<h1>New dataset</h1>" in page.text and "Update frequency" in page.text
    bad = post(client, "/workspace/datasets/new", {"organization": "umwelt", "slug": "x-y", "title": ""})
    assert "Please fill in: required field." in bad.text
    client.cookies.delete("ud_lang")


def test_an_expired_or_revoked_session_leads_back_to_the_sign_in_page(site: tuple[TestClient, Stores]) -> None:
    client, _ = site
    client.cookies.set("ud_session", "ud_not-a-valid-session")
    r = client.get("/workspace", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/workspace"
    assert 'ud_session=""' in r.headers["set-cookie"]  # the stale cookie is dropped
    client.cookies.delete("ud_session")
    assert client.get(r.headers["location"]).status_code == 200
