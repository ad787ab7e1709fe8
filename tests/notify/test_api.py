"""GET /api/v1/notifications and POST /api/v1/notifications/{id}/read: own notifications only."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.helpers import make_org
from urbandata.accounts import service as accounts
from urbandata.auth.actor import RequestContext
from urbandata.notify import service as notify
from urbandata.stores import Stores


def test_notifications_api(client: TestClient, admin: RequestContext, stores: Stores) -> None:
    make_org(admin, stores, "umwelt", "Referat Umweltschutz")
    for name in ("anna", "ben"):
        accounts.add_user(admin, stores, name)
    accounts.set_member(admin, stores, "umwelt", "anna", "steward")
    anna = {"Authorization": f"Bearer {accounts.create_token(admin, stores, 'anna').token}"}
    ben = {"Authorization": f"Bearer {accounts.create_token(admin, stores, 'ben').token}"}
    notify.notify_org(admin, stores, "umwelt", kind="test", subject="Erste", body="1", dataset_slug="luft")
    notify.notify_org(admin, stores, "umwelt", kind="test", subject="Zweite", body="2")

    r = client.get("/api/v1/notifications")
    assert r.status_code == 401 and r.json()["error"]["code"] == "not_signed_in"
    assert client.post("/api/v1/notifications/1/read").status_code == 401

    body = client.get("/api/v1/notifications", headers=anna).json()
    assert body["unread"] == 2
    assert [n["subject"] for n in body["notifications"]] == ["Zweite", "Erste"]
    first = body["notifications"][1]
    assert first["dataset"] == "luft" and first["read_at"] is None and first["email"] == "none"

    assert client.get("/api/v1/notifications", headers=ben).json() == {"unread": 0, "notifications": []}
    r = client.post(f"/api/v1/notifications/{first['id']}/read", headers=ben)
    assert r.status_code == 404  # not ben's: as if it did not exist

    r = client.post(f"/api/v1/notifications/{first['id']}/read", headers=anna)
    assert r.status_code == 200 and r.json()["read_at"] is not None
    body = client.get("/api/v1/notifications?unread=true", headers=anna).json()
    assert body["unread"] == 1 and [n["subject"] for n in body["notifications"]] == ["Zweite"]
    assert client.get("/api/v1/notifications?limit=0", headers=anna).status_code == 400
    assert client.post("/api/v1/notifications/999999/read", headers=anna).status_code == 404
