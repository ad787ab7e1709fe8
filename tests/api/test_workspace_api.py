"""The workspace's JSON twins: staged uploads (review, then load with corrected types), members, users."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import REAL
from urbandata.accounts import service as accounts
from urbandata.auth.actor import RequestContext
from urbandata.catalog import service as catalog
from urbandata.catalog.models import OrganizationIn
from urbandata.stores import Stores

BEZIRKE = REAL / "koeln_bezirke_einzeldarstellung.csv"


def _token(admin: RequestContext, stores: Stores, user: str, org: str | None, role: str = "steward") -> dict[str, str]:
    accounts.add_user(admin, stores, user)
    if org:
        accounts.set_member(admin, stores, org, user, role)
    secret = accounts.create_token(admin, stores, user, scope="write").token
    return {"Authorization": f"Bearer {secret}"}


def test_stage_review_and_load_with_corrected_types(client: TestClient, admin: RequestContext, stores: Stores) -> None:
    catalog.create_org(admin, stores, OrganizationIn(slug="finanzen", name="Kämmerei"))
    catalog.create_org(admin, stores, OrganizationIn(slug="verkehr", name="Verkehr"))
    catalog.create_dataset(admin, stores, "haushalt", "finanzen", {"title": "Haushalt", "access_level": "internal"})
    own = _token(admin, stores, "kaemmerin", "finanzen")
    foreign = _token(admin, stores, "fremd", "verkehr")

    with BEZIRKE.open("rb") as fh:
        denied = client.post("/api/v1/datasets/haushalt/uploads", files={"file": (BEZIRKE.name, fh)}, headers=foreign)
    assert denied.status_code == 403  # internal data are visible to all staff, but not theirs to change
    with BEZIRKE.open("rb") as fh:
        r = client.post(
            "/api/v1/datasets/haushalt/uploads?resource=bezirke", files={"file": (BEZIRKE.name, fh)}, headers=own
        )
    assert r.status_code == 201, r.text
    preview = r.json()
    types = {f["name"]: f["type"] for f in preview["schema"]["fields"]}
    assert types["Bezirk"] == "integer" and preview["sample"][0]["Bezeichnung"] == "Innenstadt"
    assert preview["rows_loaded"] == 252 and catalog.get_dataset(admin, stores, "haushalt").resources == []
    url = f"/api/v1/datasets/haushalt/uploads/{preview['id']}"
    assert client.get(url, headers=foreign).status_code == 403
    colleague = _token(admin, stores, "kollegin", "finanzen", "editor")
    assert client.get(url, headers=colleague).status_code == 404  # someone else's staged upload
    assert client.post(url + "/load", json={}, headers=colleague).status_code == 404
    bad = client.post(url + "/load", json={"types": {"Bezirk": "zahl"}}, headers=own)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_schema"
    loaded = client.post(url + "/load", json={"types": {"Bezirk": "string"}}, headers=own)
    assert loaded.status_code == 201 and loaded.json()["version"] == 1
    fields = {f["name"]: f["type"] for f in loaded.json()["schema"]["fields"]}
    assert fields["Bezirk"] == "string"
    assert client.get(url, headers=own).status_code == 404  # gone once loaded

    mine = client.get("/api/v1/workspace/datasets", headers=own).json()
    assert [d["slug"] for d in mine["results"]] == ["haushalt"]
    assert client.get("/api/v1/workspace/datasets", headers=foreign).json()["count"] == 0
    assert client.get("/api/v1/workspace/datasets").status_code == 401


def test_members_and_user_status(client: TestClient, admin: RequestContext, stores: Stores) -> None:
    catalog.create_org(admin, stores, OrganizationIn(slug="umwelt", name="Umwelt"))
    steward = _token(admin, stores, "stewardin", "umwelt")
    accounts.add_user(admin, stores, "kollege")
    accounts.set_member(admin, stores, "umwelt", "kollege", "editor")
    listed = client.get("/api/v1/organizations/umwelt/members", headers=steward).json()
    assert listed == [{"username": "kollege", "role": "editor"}, {"username": "stewardin", "role": "steward"}]
    assert client.get("/api/v1/organizations/umwelt/members").status_code == 403
    assert client.delete("/api/v1/organizations/umwelt/members/kollege", headers=steward).status_code == 204
    assert client.delete("/api/v1/organizations/umwelt/members/kollege", headers=steward).status_code == 404
    assert client.patch("/api/v1/users/kollege", json={"disabled": True}, headers=steward).status_code == 403
    accounts.add_user(admin, stores, "chef2", is_admin=True)
    boss = {"Authorization": "Bearer " + accounts.create_token(admin, stores, "chef2", scope="write").token}
    r = client.patch("/api/v1/users/kollege", json={"disabled": True}, headers=boss)
    assert r.status_code == 200 and r.json()["disabled"] is True
