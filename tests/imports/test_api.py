"""The imports API: manage (dataset.update), read (dataset visibility), run now, history, bad input (400)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.helpers import make_dataset
from tests.imports.conftest import CSV_V1
from tests.imports.flaky_server import FlakyServer, Route
from urbandata.accounts import service as accounts
from urbandata.auth.actor import RequestContext
from urbandata.stores import Stores

BASE = "/api/v1/datasets/einwohner/resources/einwohner/imports"


def _tokens(admin: RequestContext, stores: Stores) -> dict[str, dict[str, str]]:
    accounts.add_user(admin, stores, "eva")
    accounts.add_user(admin, stores, "max")
    accounts.set_member(admin, stores, "statistik", "eva", "editor")
    accounts.set_member(admin, stores, "statistik", "max", "member")
    return {
        who: {"Authorization": f"Bearer {accounts.create_token(admin, stores, who, scope='write').token}"}
        for who in ("eva", "max")
    }


def test_manage_run_and_read_history(
    client: TestClient, admin: RequestContext, stores: Stores, dataset: str, source: FlakyServer
) -> None:
    tokens = _tokens(admin, stores)
    source.routes["/e.csv"] = Route(body=CSV_V1)
    spec = {"source_type": "url", "url": source.url("/e.csv"), "schedule": "0 6 * * 1-5", "retries": 1}

    assert client.post(BASE, json=spec).status_code == 403  # anonymous
    assert client.post(BASE, json=spec, headers=tokens["max"]).status_code == 403  # a member may not manage
    r = client.post(BASE, json=spec, headers=tokens["eva"])
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["schedule"] == "0 6 * * 1-5" and created["next_run_at"] and created["alert_after"] == 3
    import_id = created["id"]

    r = client.post(f"{BASE}/{import_id}/run", headers=tokens["eva"])
    assert r.status_code == 200, r.text
    assert (r.json()["outcome"], r.json()["version"], r.json()["rows"]) == ("success", 1, 2)
    assert client.post(f"{BASE}/{import_id}/run", headers=tokens["max"]).status_code == 403

    runs = client.get(f"{BASE}/{import_id}/runs").json()  # a public dataset: its history is public
    assert [(x["outcome"], x["trigger"]) for x in runs] == [("success", "manual")]
    listed = client.get(BASE).json()
    assert [i["id"] for i in listed] == [import_id] and listed[0]["last_run"]["outcome"] == "success"

    r = client.patch(
        f"{BASE}/{import_id}", json={"schedule": "15 7 * * *", "timeout_seconds": 60}, headers=tokens["eva"]
    )
    assert r.status_code == 200 and r.json()["schedule"] == "15 7 * * *" and r.json()["timeout_seconds"] == 60
    assert client.delete(f"{BASE}/{import_id}", headers=tokens["max"]).status_code == 403
    assert client.delete(f"{BASE}/{import_id}", headers=tokens["eva"]).status_code == 204
    assert client.get(f"{BASE}/{import_id}/runs").status_code == 404
    assert client.get(BASE).json() == []


def test_bad_definitions_are_rejected_when_saved(
    client: TestClient, admin: RequestContext, stores: Stores, dataset: str
) -> None:
    tokens = _tokens(admin, stores)
    good = {"source_type": "url", "url": "https://opendata.example.org/e.csv"}
    cases = [
        ({**good, "schedule": "61 * * * *"}, "invalid_schedule"),
        ({**good, "schedule": "jeden Morgen"}, "invalid_schedule"),
        ({**good, "schedule": "0 6 * * * *"}, "invalid_schedule"),
        ({"source_type": "ftp", "url": "ftp://x/e.csv"}, "invalid_source_type"),
        ({"source_type": "url", "url": "file:///etc/passwd"}, "invalid_source"),
        ({"source_type": "url"}, "invalid_source"),
        ({"source_type": "ckan", "ckan_url": "https://ckan.example.org"}, "invalid_source"),
        ({**good, "timeout_seconds": 0}, "invalid_input"),
        ({**good, "retries": -1}, "invalid_input"),
    ]
    for body, code in cases:
        r = client.post(BASE, json=body, headers=tokens["eva"])
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]["code"] == code, (body, r.json())
    created = client.post(BASE, json=good, headers=tokens["eva"]).json()
    r = client.patch(f"{BASE}/{created['id']}", json={"schedule": "*/0 * * * *"}, headers=tokens["eva"])
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_schedule"
    r = client.patch(f"{BASE}/{created['id']}", json={"source_type": "gopher"}, headers=tokens["eva"])
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_source_type"
    assert client.get(f"{BASE}/{created['id']}").json()["schedule"] is None  # unchanged by the rejected patches


def test_imports_of_internal_datasets_stay_hidden(
    client: TestClient, admin: RequestContext, stores: Stores, dataset: str
) -> None:
    make_dataset(admin, stores, "intern-import", org="statistik", title="Dienstgeheimnis", access_level="internal")
    base = "/api/v1/datasets/intern-import/resources/daten/imports"
    spec = {"source_type": "url", "url": "https://intranet.example.org/geheim.csv"}
    created = client.post(base, json=spec)  # anonymous: as if the dataset did not exist
    assert created.status_code == 404
    from urbandata.imports import service

    imp = service.create_import(admin, stores, "intern-import", "daten", spec)
    for url in (base, f"{base}/{imp.id}", f"{base}/{imp.id}/runs"):
        r = client.get(url)
        assert r.status_code == 404 and "intranet" not in r.text and "Dienstgeheimnis" not in r.text
    assert client.post(f"{base}/{imp.id}/run").status_code == 404
    # an import id under another dataset's path is not found either
    assert client.get(f"{BASE}/{imp.id}").status_code == 404


def test_passwords_in_source_addresses_are_not_shown(
    client: TestClient, admin: RequestContext, stores: Stores, dataset: str, source: FlakyServer
) -> None:
    tokens = _tokens(admin, stores)
    url = source.url("/e.csv").replace("http://", "http://abruf:Geheimwort@")
    r = client.post(BASE, json={"source_type": "url", "url": url, "retries": 0}, headers=tokens["eva"])
    assert r.status_code == 201 and "Geheimwort" not in r.text
    assert r.json()["source"]["url"].startswith("http://***@127.0.0.1:")
    run = client.post(f"{BASE}/{r.json()['id']}/run", headers=tokens["eva"])  # no route: a 404 from the source
    assert run.json()["outcome"] == "failed" and "HTTP 404" in run.json()["error"]
    assert "Geheimwort" not in run.text and "Geheimwort" not in client.get(f"{BASE}/{r.json()['id']}/runs").text
