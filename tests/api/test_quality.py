"""The quality API: /datasets/{slug}/quality (fields other tools rely on), rules, diff, restore, lineage."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi.testclient import TestClient

from tests.helpers import make_dataset, make_org, write_csv
from urbandata.accounts import service as accounts
from urbandata.auth.actor import RequestContext
from urbandata.catalog import service
from urbandata.stores import Stores

CSV = "Id;Wert\n1;10\n2;20\n"


def _load(admin: RequestContext, stores: Stores, tmp_path: Path) -> dt.datetime:
    make_org(admin, stores)
    make_dataset(admin, stores, "luft", frequency="DAILY")
    make_dataset(admin, stores, "geheim", access_level="internal", frequency="DAILY")
    v = service.ingest_file(admin, stores, "luft", write_csv(tmp_path / "werte.csv", CSV))
    service.ingest_file(admin, stores, "geheim", write_csv(tmp_path / "werte.csv", CSV))
    return v.created_at if v.created_at.tzinfo else v.created_at.replace(tzinfo=dt.UTC)


def test_dataset_quality_at_a_date(client: TestClient, admin: RequestContext, stores: Stores, tmp_path: Path) -> None:
    loaded = _load(admin, stores, tmp_path)
    r = client.get("/api/v1/datasets/luft/quality")
    assert r.status_code == 200, r.text
    body = r.json()
    assert 0 <= body["score"] <= 100 and body["freshness"] == "fresh"
    assert set(body["components"]) == {
        "conformance",
        "completeness",
        "freshness",
        "metadata",
        "openness",
        "documentation",
    }
    assert dt.datetime.fromisoformat(body["due_at"]) == loaded + dt.timedelta(days=1)
    later = (loaded + dt.timedelta(days=3)).isoformat()
    late = client.get("/api/v1/datasets/luft/quality", params={"at": later}).json()
    assert late["freshness"] == "overdue" and late["score"] < body["score"]
    assert late["due_at"] == body["due_at"]
    overdue = client.get("/api/v1/organizations/statistik/overdue", params={"at": later}).json()
    assert [e["dataset"] for e in overdue] == ["luft"]  # the internal dataset is not shown to anonymous callers
    org = client.get("/api/v1/organizations/statistik/quality").json()
    assert [d["dataset"] for d in org["datasets"]] == ["luft"]


def test_bad_input_and_hidden_data(client: TestClient, admin: RequestContext, stores: Stores, tmp_path: Path) -> None:
    _load(admin, stores, tmp_path)
    assert client.get("/api/v1/datasets/luft/quality", params={"at": "gestern"}).status_code in (400, 422)
    assert client.get("/api/v1/datasets/geheim/quality").status_code == 404
    assert client.get("/api/v1/datasets/nope/quality").status_code == 404
    assert client.get("/api/v1/datasets/geheim/resources/werte/lineage").status_code == 404
    r = client.put("/api/v1/datasets/luft/resources/werte/rules", json={"rules": []})
    assert r.status_code in (401, 403)
    assert client.post("/api/v1/datasets/luft/resources/werte/versions/1/restore").status_code in (401, 403)


def test_rules_diff_restore_lineage(client: TestClient, admin: RequestContext, stores: Stores, tmp_path: Path) -> None:
    _load(admin, stores, tmp_path)
    accounts.add_user(admin, stores, "eva")
    accounts.set_member(admin, stores, "statistik", "eva", "editor")
    token = accounts.create_token(admin, stores, "eva", name="t", scope="write").token
    auth = {"Authorization": f"Bearer {token}"}
    url = "/api/v1/datasets/luft/resources/werte"
    bad = client.put(
        f"{url}/rules", json={"rules": [{"type": "range", "column": "Wert", "min": 5, "max": 1}]}, headers=auth
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_rules"
    assert "min 5 is greater than max 1" in bad.json()["error"]["message"]
    ok = client.put(
        f"{url}/rules",
        json={"rules": [{"type": "range", "column": "Wert", "max": 15}], "on_failure": "warn"},
        headers=auth,
    )
    assert ok.status_code == 200 and ok.json()["on_failure"] == "warn"
    assert client.get(f"{url}/rules").json()["rules"] == [{"type": "range", "column": "Wert", "max": 15.0}]
    up = client.post(f"{url}/upload", files={"file": ("werte.csv", b"Id;Wert\n1;10\n3;30\n")}, headers=auth)
    assert up.status_code == 201 and up.json()["report"]["validation"]["outcome"] == "warnings"
    reports = client.get(f"{url}/validation").json()
    assert reports[0]["report"]["violations"][0] == {
        "row": 2,
        "column": "Wert",
        "value": 30,
        "rule": 1,
        "message": "outside the range ..15",
    }
    d = client.get(f"{url}/diff", params={"from": 1, "to": 2, "key": "Id"}).json()
    assert d["rows"] == {"added": 1, "removed": 1, "changed": 0}
    assert client.get(f"{url}/diff", params={"from": 1, "to": 2, "key": "Nope"}).status_code == 400
    restored = client.post(f"{url}/versions/1/restore", headers=auth)
    assert restored.status_code == 201 and restored.json()["version"] == 3
    lineage = client.get(f"{url}/lineage").json()
    assert lineage[0]["source"]["kind"] == "restore" and lineage[0]["created_by"] == "eva"
