"""The HTTP API over both backends: catalog JSON, rows with next links, one error shape."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.helpers import BTW, make_dataset, make_org
from urbandata.auth.actor import RequestContext
from urbandata.catalog import service
from urbandata.stores import Stores


@pytest.fixture
def loaded(admin: RequestContext, stores: Stores) -> None:
    make_org(admin, stores, "wahlamt", "Wahlamt")
    make_dataset(admin, stores, "btw2013", org="wahlamt", title="Bundestagswahl 2013", keywords=["Wahlen"])
    service.ingest_file(admin, stores, "btw2013", BTW, resource="ergebnis")
    make_dataset(admin, stores, "intern", org="wahlamt", title="Interne Wahlhelferliste", access_level="internal")
    service.ingest_file(admin, stores, "intern", BTW, resource="liste")


def assert_error(resp: object, status: int, code: str | None = None) -> dict[str, object]:
    r = resp  # type: ignore[assignment]
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    body = r.json()["error"]  # type: ignore[attr-defined]
    assert set(body) == {"code", "message", "details"} and body["message"]
    if code:
        assert body["code"] == code
    return body  # type: ignore[no-any-return]


def test_health(client: TestClient) -> None:
    r = client.get("/api/v1/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


@pytest.mark.usefixtures("loaded")
def test_dataset_detail_lists_resources_with_schema_and_sql_table(client: TestClient) -> None:
    ds = client.get("/api/v1/datasets/btw2013").json()
    res = ds["resources"][0]
    assert res["name"] == "ergebnis" and res["sql_table"] == "btw2013__ergebnis" and res["row_count"] == 86
    types = {f["name"]: f["type"] for f in res["schema"]["fields"]}
    assert types["Wahlbeteiligung"] == "number" and types["GRÜNE_Proz"] == "number" and types["Name"] == "string"
    assert ds["attribution"] and ds["license"] == "dl-de/by-2-0"


@pytest.mark.usefixtures("loaded")
def test_rows_paging_with_next_links(client: TestClient) -> None:
    doc = client.get("/api/v1/datasets/btw2013/resources/ergebnis/rows?limit=50&count=true").json()
    assert len(doc["rows"]) == 50 and doc["total"] == 86 and doc["next"].startswith("http")
    nxt = client.get(doc["next"]).json()
    assert len(nxt["rows"]) == 36 and nxt["next"] is None and "total" in nxt
    names = [r["Name"] for r in doc["rows"] + nxt["rows"]]
    assert len(set(names)) == 86
    filtered = client.get(
        "/api/v1/datasets/btw2013/resources/ergebnis/rows",
        params={"Wahlbeteiligung__gte": "83.5", "sort": "-Wahlbeteiligung", "columns": "Name,Wahlbeteiligung"},
    ).json()
    assert filtered["rows"][0] == {"Name": "Hahnwald", "Wahlbeteiligung": 88.71}


@pytest.mark.usefixtures("loaded")
def test_search_endpoint_hides_internal(client: TestClient) -> None:
    doc = client.get("/api/v1/datasets", params={"q": "Wahl"}).json()
    assert [d["slug"] for d in doc["results"]] == ["btw2013"]
    assert doc["count"] == 1 and {f["value"] for f in doc["facets"]["access_level"]} == {"public"}
    assert_error(client.get("/api/v1/datasets/intern"), 404, "dataset_not_found")
    assert_error(client.get("/api/v1/datasets/intern/resources/liste/rows"), 404, "dataset_not_found")
    orgs = client.get("/api/v1/organizations").json()
    assert orgs == [
        {"slug": "wahlamt", "name": "Wahlamt", "description": "", "email": None, "url": None, "dataset_count": 1}
    ]


@pytest.mark.usefixtures("loaded")
def test_one_error_shape(client: TestClient) -> None:
    base = "/api/v1/datasets/btw2013/resources/ergebnis"
    assert_error(client.get(f"{base}/rows?nope=1"), 400, "unknown_column")
    assert_error(client.get(f"{base}/rows?CDU__gt=abc"), 400, "invalid_filter_value")
    assert_error(client.get(f"{base}/rows?limit=0"), 400, "invalid_input")
    assert_error(client.get(f"{base}/rows?limit=999999"), 400, "invalid_limit")
    assert_error(client.get(f"{base}/rows?cursor=%%%"), 400, "invalid_cursor")
    assert_error(client.get(f"{base}/rows?version=abc"), 400, "invalid_input")
    assert_error(client.get("/api/v1/datasets/btw2013/resources/nope/rows"), 404, "resource_not_found")
    assert_error(client.get("/api/v1/nothing-here"), 404, "not_found")
    assert_error(client.get("/api/v1/datasets?sort=random"), 400)


@pytest.mark.usefixtures("loaded")
def test_portal_dataset_page(client: TestClient) -> None:
    r = client.get("/datasets/btw2013")
    assert r.status_code == 200 and "Bundestagswahl 2013" in r.text and 'lang="de"' in r.text
    assert "Altstadt/Nord" in r.text
    assert client.get("/datasets/intern").status_code == 404
    assert "Interne" not in client.get("/datasets?q=Wahl").text
    assert client.get("/").status_code == 200
