"""DESIGN rule 1, tested: nothing internal leaks, on any read path.

Every read path that exists is walked with an anonymous visitor, a staff member of another
organisation and a member of the owning organisation, against a public, an internal and a
restricted dataset; nothing that may not be seen shows up: not a title, not a count.

When you add a read path (SensorThings, OGC API Features, CKAN API, DCAT, MQTT, aggregations, ...),
add it to READ_PATHS below (or to a test next to this one) — this test is the guard of rule 1.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.helpers import BTW, make_dataset, make_org
from urbandata.accounts import service as accounts
from urbandata.auth.actor import RequestContext
from urbandata.catalog import service
from urbandata.imports import service as imports_service
from urbandata.stores import Stores

SECRET = {"intern": "Dienstgeheimnis Wahlhelfer", "geheim": "Vertrauliche Personalliste"}
EXPECT = {  # actor -> datasets it may see
    "anonymous": {"offen"},
    "foreign": {"offen", "intern"},
    "member": {"offen", "intern", "geheim"},
}


IMPORT_IDS: dict[str, int] = {}  # dataset slug -> id of its scheduled import (set by `world`)
STA_IDS: dict[str, dict[str, int]] = {}  # dataset slug -> ids of its sensor Thing, Datastream, Observation


def _sensor(admin: RequestContext, stores: Stores, slug: str) -> dict[str, int]:
    """A SensorThings Thing in dataset `slug`, named like the dataset's secret, with one observation."""
    from tests.sensors.conftest import station
    from urbandata.sensors import service as sta

    base = "http://testserver/sta/v1.1"
    body = station(name=SECRET.get(slug, "Offene Messstation"), dataset=slug)
    thing = sta.post(admin, stores, "Things", body, base_url=base)
    ds = sta.get(admin, stores, f"Things({thing.id})/Datastreams", {}, base_url=base)["value"][0]["@iot.id"]
    obs = sta.post(admin, stores, f"Datastreams({ds})/Observations", {"result": 4.2}, base_url=base)
    return {"thing": thing.id, "datastream": ds, "observation": obs.id}


@pytest.fixture
def world(admin: RequestContext, stores: Stores) -> dict[str, str]:
    make_org(admin, stores, "amt-a", "Amt A")
    make_org(admin, stores, "amt-b", "Amt B")
    make_dataset(admin, stores, "offen", org="amt-a", title="Offene Wahlergebnisse", keywords=["Wahl"])
    make_dataset(
        admin,
        stores,
        "intern",
        org="amt-a",
        title=SECRET["intern"],
        access_level="internal",
        keywords=["Wahl", "Intern"],
        themes=["JUST"],
    )
    make_dataset(
        admin,
        stores,
        "geheim",
        org="amt-a",
        title=SECRET["geheim"],
        access_level="restricted",
        keywords=["Wahl", "Personal"],
        themes=["SOCI"],
        license="other-closed",
    )
    for slug in ("offen", "intern", "geheim"):
        service.ingest_file(admin, stores, slug, BTW, resource="daten")
        spec = {"source_type": "url", "url": f"https://intranet.example.org/{slug}.csv"}  # scheduled imports
        IMPORT_IDS[slug] = imports_service.create_import(admin, stores, slug, "daten", spec).id
        STA_IDS[slug] = _sensor(admin, stores, slug)
    accounts.add_user(admin, stores, "anna")
    accounts.add_user(admin, stores, "bernd")
    accounts.set_member(admin, stores, "amt-a", "anna", "member")
    accounts.set_member(admin, stores, "amt-b", "bernd", "editor")
    return {
        "member": accounts.create_token(admin, stores, "anna").token,
        "foreign": accounts.create_token(admin, stores, "bernd").token,
    }


def _paths(slug: str) -> list[str]:
    base = f"/api/v1/datasets/{slug}"
    res = f"{base}/resources/daten"
    return [
        base,
        f"{res}/rows?limit=5&count=true",
        f"{res}/versions",
        f"{res}/export?format=csv",
        f"{res}/export?format=json",
        f"{res}/export?format=xlsx",
        f"{res}/export?format=parquet",
        f"/datasets/{slug}",
        f"/datasets/{slug}?chart=bar&x=Name&agg=sum&y=CDU",  # the portal's chart builder and its image
        f"/datasets/{slug}/resources/daten/chart.svg?chart=bar&x=Name&agg=sum&y=CDU",
        f"/api/v1/dcat/datasets/{slug}",
        f"/api/v1/dcat/datasets/{slug}?format=jsonld",
        f"{res}/imports",
        f"{res}/imports/{IMPORT_IDS[slug]}",
        f"{res}/imports/{IMPORT_IDS[slug]}/runs",
        *_sta_paths(slug),
    ]


def _sta_paths(slug: str) -> list[str]:
    ids, sta = STA_IDS[slug], "/sta/v1.1"
    return [
        f"{sta}/Things({ids['thing']})",
        f"{sta}/Things({ids['thing']})/name/$value",
        f"{sta}/Things({ids['thing']})/Locations",
        f"{sta}/Things({ids['thing']})/Datastreams/$ref",
        f"{sta}/Datastreams({ids['datastream']})?$expand=Thing,Observations",
        f"{sta}/Datastreams({ids['datastream']})/Observations?$resultFormat=dataArray",
        f"{sta}/Observations({ids['observation']})/FeatureOfInterest",
        f"{sta}/Observations({ids['observation']})/Datastream/Thing",
        f"{sta}/Datastreams({ids['datastream']})/Aggregations?interval=day"
        "&from=2020-01-01T00:00:00Z&to=2030-01-01T00:00:00Z&functions=avg,count",
        f"/api/v1/datasets/{slug}/observations?format=csv",
        f"/api/v1/datasets/{slug}/observations?format=parquet&datastream={ids['datastream']}",
        f"{sta}/LatestObservations?dataset={slug}",
        f"/datasets/{slug}?datastream={ids['datastream']}",  # the dataset page's sensor section and chart
        f"/datasets/{slug}/sensors/{ids['datastream']}/chart.svg",
    ]


def _sql(slug: str) -> str:
    return f"/api/v1/sql?q=SELECT%20count(*)%20AS%20n%20FROM%20{slug}__daten"


LIST_PATHS = [
    "/api/v1/datasets?q=Wahl",
    "/api/v1/datasets",
    "/api/v1/datasets?q=Personalliste",
    "/api/v1/datasets?q=Dienstgeheimnis",
    "/api/v1/datasets?theme=SOCI",
    "/api/v1/organizations",
    "/api/v1/organizations/amt-a",
    "/api/v1/sql/tables",
    "/api/v1/whoami",
    "/api/v1/dcat/catalog",
    "/api/v1/dcat/catalog?format=jsonld",
    "/api/v1/dcat/catalog?format=xml",
    "/",
    "/datasets",
    "/datasets?q=Wahl",
    "/sta/v1.1/Things?$count=true",
    "/sta/v1.1/Things?$filter=substringof('Personal', name)",
    "/sta/v1.1/Locations?$expand=Things",
    "/sta/v1.1/Datastreams?$expand=Thing",
    "/sta/v1.1/Observations?$expand=Datastream/Thing&$count=true",
    "/sta/v1.1/HistoricalLocations?$expand=Thing",
    "/sta/v1.1/FeaturesOfInterest",
    "/sta/v1.1/LatestObservations?things=1,2,3",  # the Things of offen, intern, geheim
]


@pytest.mark.parametrize("who", ["anonymous", "foreign", "member"])
def test_every_read_path_shows_exactly_what_the_actor_may_see(
    client: TestClient, world: dict[str, str], who: str
) -> None:
    headers = {"Authorization": f"Bearer {world[who]}"} if who in world else {}
    get: Callable[[str], object] = lambda url: client.get(url, headers=headers)  # noqa: E731
    for slug in ("offen", "intern", "geheim"):
        visible = slug in EXPECT[who]
        for url in [*_paths(slug), _sql(slug)]:
            r = get(url)
            status = r.status_code  # type: ignore[attr-defined]
            if visible:
                assert status == 200, (who, url, r.text[:200])  # type: ignore[attr-defined]
            else:
                assert status in (400, 404), (who, url, status)
                assert SECRET.get(slug, "§") not in r.text  # type: ignore[attr-defined]
    hidden_titles = [SECRET[s] for s in SECRET if s not in EXPECT[who]]
    for url in LIST_PATHS:
        r = get(url)
        assert r.status_code == 200, (who, url)  # type: ignore[attr-defined]
        for title in hidden_titles:
            assert title not in r.text, (who, url, title)  # type: ignore[attr-defined]
            assert title.split()[-1] not in r.text or "Personalliste" not in title, (who, url)  # type: ignore[attr-defined]
    search = client.get("/api/v1/datasets", headers=headers).json()
    assert search["count"] == len(EXPECT[who])
    assert sum(f["count"] for f in search["facets"]["access_level"]) == len(EXPECT[who])
    assert {f["value"] for f in search["facets"]["theme"]} == (
        {"JUST", "SOCI"} & {"JUST" if "intern" in EXPECT[who] else "", "SOCI" if "geheim" in EXPECT[who] else ""}
    )
    orgs = {o["slug"]: o["dataset_count"] for o in client.get("/api/v1/organizations", headers=headers).json()}
    assert orgs["amt-a"] == len(EXPECT[who])
    whoami = client.get("/api/v1/whoami", headers=headers).json()
    assert whoami["can_see"]["datasets"] == len(EXPECT[who])
    assert whoami["can_see"]["sql_tables"] == len(EXPECT[who])


def test_non_public_reads_are_audited(
    client: TestClient, world: dict[str, str], admin: RequestContext, stores: Stores
) -> None:
    headers = {"Authorization": f"Bearer {world['member']}"}
    client.get("/api/v1/datasets/geheim/resources/daten/rows", headers=headers)
    client.get("/api/v1/datasets/geheim/resources/daten/export?format=csv", headers=headers)
    client.get(_sql("geheim"), headers=headers)
    client.get("/api/v1/datasets/offen/resources/daten/rows", headers=headers)
    from urbandata.audit.service import query_log

    entries = query_log(admin, stores, actor="anna")
    actions = {(e["action"], e["target"]) for e in entries}
    assert ("data.read", "geheim/daten") in actions
    assert ("data.export", "geheim/daten") in actions
    assert ("data.sql", "geheim__daten") in actions
    assert not any(t == "offen/daten" for _, t in actions)


def test_masked_column_is_invisible_outside_the_organisation(
    client: TestClient, world: dict[str, str], admin: RequestContext, stores: Stores
) -> None:
    service.set_masked_columns(admin, stores, "intern", "daten", ["Name"])
    for who, sees in (("foreign", False), ("member", True)):
        headers = {"Authorization": f"Bearer {world[who]}"}
        rows = client.get("/api/v1/datasets/intern/resources/daten/rows?limit=1", headers=headers).json()["rows"]
        assert ("Name" in rows[0]) is sees
        csv_head = client.get("/api/v1/datasets/intern/resources/daten/export", headers=headers).text.splitlines()[0]
        assert ("Name" in csv_head.split(",")) is sees
        r = client.get('/api/v1/sql?q=SELECT "Name" FROM intern__daten LIMIT 1', headers=headers)
        assert (r.status_code == 200) is sees, r.text
        r = client.get("/api/v1/sql?q=SELECT * FROM intern__daten LIMIT 1", headers=headers)
        assert ("Name" in r.json()["columns"]) is sees
        r = client.get("/api/v1/datasets/intern/resources/daten/rows?Name=Altstadt%2FNord", headers=headers)
        assert (r.status_code == 200) is sees


def test_basic_auth_with_token_as_password(client: TestClient, world: dict[str, str]) -> None:
    good = base64.b64encode(f"anna:{world['member']}".encode()).decode()
    assert client.get("/api/v1/datasets/geheim", headers={"Authorization": f"Basic {good}"}).status_code == 200
    wrong_user = base64.b64encode(f"bernd:{world['member']}".encode()).decode()
    assert client.get("/api/v1/datasets/geheim", headers={"Authorization": f"Basic {wrong_user}"}).status_code == 401
