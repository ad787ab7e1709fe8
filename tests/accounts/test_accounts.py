"""Accounts, tokens, sign-in and privilege checks on both metadata backends; every refusal audited."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.helpers import BTW, make_dataset, make_org
from urbandata.accounts import service as accounts
from urbandata.audit.service import query_log
from urbandata.auth.actor import Actor, RequestContext
from urbandata.db.tables import api_tokens
from urbandata.errors import Conflict, Forbidden, InvalidInput
from urbandata.stores import Stores

PASSWORD = "korrekt-pferd-batterie"


@pytest.fixture
def people(admin: RequestContext, stores: Stores) -> dict[str, str]:
    make_org(admin, stores, "amt-a", "Amt A")
    make_org(admin, stores, "amt-b", "Amt B")
    make_dataset(admin, stores, "a-daten", org="amt-a")
    make_dataset(admin, stores, "b-daten", org="amt-b")
    for name in ("stella", "eddi", "mia"):
        accounts.add_user(admin, stores, name, password=PASSWORD)
    accounts.set_member(admin, stores, "amt-a", "stella", "steward")
    accounts.set_member(admin, stores, "amt-a", "eddi", "editor")
    accounts.set_member(admin, stores, "amt-a", "mia", "member")
    return {n: accounts.create_token(admin, stores, n, scope="write").token for n in ("stella", "eddi", "mia")}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_user_rules(admin: RequestContext, stores: Stores) -> None:
    accounts.add_user(admin, stores, "anna", password=PASSWORD)
    with pytest.raises(Conflict):
        accounts.add_user(admin, stores, "anna")
    with pytest.raises(InvalidInput):
        accounts.add_user(admin, stores, "../root")
    with pytest.raises(InvalidInput):
        accounts.add_user(admin, stores, "kurz", password="123")
    with stores.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT password_hash FROM users")).scalar_one()
    assert stored.startswith("$argon2") and PASSWORD not in stored


def test_tokens_are_hashed_shown_once_and_revocable(
    client: TestClient, people: dict[str, str], admin: RequestContext, stores: Stores
) -> None:
    token = people["mia"]
    with stores.engine.connect() as conn:
        hashes = [r.token_hash for r in conn.execute(sa.select(api_tokens))]
    assert token not in hashes and all(len(h) == 64 for h in hashes)
    assert client.get("/api/v1/whoami", headers=auth(token)).json()["username"] == "mia"
    listed = client.get("/api/v1/tokens", headers=auth(token)).json()
    assert all("token" not in t for t in listed)
    accounts.revoke_token(admin, stores, "mia", listed[0]["prefix"])
    r = client.get("/api/v1/whoami", headers=auth(token))
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"
    assert client.get("/api/v1/whoami", headers=auth("ud_forged")).status_code == 401
    assert client.get("/api/v1/whoami", headers=auth("nonsense")).status_code == 401
    reasons = {e["details"]["reason"] for e in query_log(admin, stores, action="auth.token")}
    assert {"revoked token", "unknown token"} <= reasons


def test_expired_token_and_disabled_user(
    client: TestClient, people: dict[str, str], admin: RequestContext, stores: Stores
) -> None:
    with stores.engine.begin() as conn:
        conn.execute(api_tokens.update().values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    assert client.get("/api/v1/whoami", headers=auth(people["eddi"])).status_code == 401
    fresh = accounts.create_token(admin, stores, "eddi").token
    assert client.get("/api/v1/whoami", headers=auth(fresh)).status_code == 200
    accounts.set_disabled(admin, stores, "eddi")
    assert client.get("/api/v1/whoami", headers=auth(fresh)).status_code == 401


def test_login_gives_no_user_enumeration_and_locks_after_failures(
    client: TestClient, people: dict[str, str], admin: RequestContext, stores: Stores
) -> None:
    unknown = client.post("/api/v1/auth/login", json={"username": "niemand", "password": "x" * 12})
    wrong = client.post("/api/v1/auth/login", json={"username": "mia", "password": "x" * 12})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json()["error"] == wrong.json()["error"]
    for _ in range(4):
        client.post("/api/v1/auth/login", json={"username": "mia", "password": "falsch-falsch"})
    locked = client.post("/api/v1/auth/login", json={"username": "mia", "password": PASSWORD})
    assert locked.status_code == 401  # locked now, even with the right password
    assert locked.json()["error"] == wrong.json()["error"]
    outcomes = [e["outcome"] for e in query_log(admin, stores, action="auth.login", actor="mia")]
    assert outcomes.count("failed") == 6


def test_session_cookie_and_csrf(client: TestClient, people: dict[str, str], stores: Stores) -> None:
    r = client.post("/api/v1/auth/login", json={"username": "stella", "password": PASSWORD})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax") and "Secure" in cookie
    csrf = r.json()["csrf_token"]
    session = client.cookies.get("ud_session")
    assert session
    client.cookies.set("ud_session", session)
    client.cookies.set("ud_csrf", csrf)
    assert client.get("/api/v1/whoami").json()["username"] == "stella"
    body = {"slug": "neu", "organization": "amt-a", "metadata": {"title": "Neu"}}
    no_csrf = client.post("/api/v1/datasets", json=body)
    assert no_csrf.status_code == 403 and no_csrf.json()["error"]["code"] == "csrf_failed"
    ok = client.post("/api/v1/datasets", json=body, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201, ok.text


def test_roles_and_privilege_escalation(
    client: TestClient, people: dict[str, str], admin: RequestContext, stores: Stores
) -> None:
    def put_member(token: str, org: str, user: str, role: str) -> int:
        r = client.put(
            f"/api/v1/organizations/{org}/members", json={"username": user, "role": role}, headers=auth(token)
        )
        return r.status_code

    assert put_member(people["eddi"], "amt-a", "eddi", "steward") == 403  # an editor cannot promote themselves
    assert put_member(people["mia"], "amt-a", "mia", "editor") == 403
    assert put_member(people["stella"], "amt-b", "stella", "steward") == 403  # not a steward of amt-b
    assert put_member(people["stella"], "amt-a", "mia", "editor") == 200  # a steward manages their organisation
    patch = {"title": "Gekapert"}
    r = client.patch("/api/v1/datasets/b-daten", json=patch, headers=auth(people["stella"]))
    assert r.status_code == 403
    assert client.patch("/api/v1/datasets/a-daten", json=patch, headers=auth(people["eddi"])).status_code == 200
    assert client.post("/api/v1/users", json={"username": "hacker"}, headers=auth(people["stella"])).status_code == 403
    assert client.get("/api/v1/audit", headers=auth(people["stella"])).status_code == 403
    assert (
        client.post(
            "/api/v1/organizations", json={"slug": "x", "name": "X"}, headers=auth(people["stella"])
        ).status_code
        == 403
    )
    with pytest.raises(Forbidden):
        accounts.create_token(RequestContext(actor=Actor.anonymous(), settings=admin.settings), stores, "mia")


def test_read_only_and_limited_tokens(
    client: TestClient, people: dict[str, str], admin: RequestContext, stores: Stores
) -> None:
    read = accounts.create_token(admin, stores, "eddi", scope="read").token
    r = client.patch("/api/v1/datasets/a-daten", json={"title": "x"}, headers=auth(read))
    assert r.status_code == 403
    only_b = accounts.create_token(admin, stores, "eddi", scope="write", limit_datasets=["b-daten"]).token
    assert client.patch("/api/v1/datasets/a-daten", json={"title": "x"}, headers=auth(only_b)).status_code == 403
    who = client.get("/api/v1/whoami", headers=auth(only_b)).json()
    assert who["token"] == {"scope": "write", "organization": None, "datasets": ["b-daten"]}


def test_upload_through_the_api(client: TestClient, people: dict[str, str]) -> None:
    with BTW.open("rb") as fh:
        r = client.post(
            "/api/v1/datasets/a-daten/resources/ergebnis/upload",
            headers=auth(people["eddi"]),
            files={"file": ("ergebnis.csv", fh, "text/csv")},
        )
    assert r.status_code == 201, r.text
    assert r.json()["row_count"] == 86 and r.json()["created_by"] == "eddi"
    with BTW.open("rb") as fh:
        r = client.post(
            "/api/v1/datasets/a-daten/resources/ergebnis/upload",
            headers=auth(people["mia"]),
            files={"file": ("ergebnis.csv", fh, "text/csv")},
        )
    assert r.status_code == 403
    with BTW.open("rb") as fh:
        r = client.post("/api/v1/datasets/a-daten/resources/ergebnis/upload", files={"file": ("e.csv", fh)})
    assert r.status_code == 403


def test_anonymous_rate_limit(client: TestClient) -> None:
    client.app.state.settings = client.app.state.settings.model_copy(update={"anonymous_rate_limit": 5})  # type: ignore[attr-defined]
    codes = [client.get("/api/v1/datasets").status_code for _ in range(7)]
    assert codes[:5] == [200] * 5 and codes[-1] == 429
    r = client.get("/api/v1/datasets")
    assert int(r.headers["retry-after"]) >= 1 and r.json()["error"]["code"] == "rate_limited"


def test_audit_retention_blanks_personal_data(admin: RequestContext, stores: Stores) -> None:
    from urbandata.audit.service import apply_retention, record

    record(admin, stores.engine, "test.entry", actor="someone")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=admin.settings.audit_retention_days + 1)
    assert apply_retention(admin, stores, now=later) >= 1
    old = query_log(admin, stores, action="test.entry")[0]
    assert old["actor"] == "(anonymised)" and old["client_ip"] is None
