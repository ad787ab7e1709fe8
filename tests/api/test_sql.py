"""Read-only SQL: answers, and every forbidden or hostile query a clear 400, on both backends."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.helpers import BTW, make_dataset, make_org
from urbandata.auth.actor import RequestContext
from urbandata.catalog import service
from urbandata.stores import Stores


@pytest.fixture
def loaded(admin: RequestContext, stores: Stores) -> None:
    make_org(admin, stores)
    make_dataset(admin, stores, "btw")
    service.ingest_file(admin, stores, "btw", BTW, resource="ergebnis")
    make_dataset(admin, stores, "intern", access_level="internal")
    service.ingest_file(admin, stores, "intern", BTW, resource="liste")


def sql(client: TestClient, q: str) -> tuple[int, dict[str, object]]:
    r = client.get("/api/v1/sql", params={"q": q})
    return r.status_code, r.json()


@pytest.mark.usefixtures("loaded")
def test_queries_answer_rows_as_objects(client: TestClient) -> None:
    status, doc = sql(client, "SELECT count(*) AS n FROM btw__ergebnis")
    assert status == 200 and doc["rows"] == [{"n": 86}]
    status, doc = sql(
        client, 'SELECT "Name", "Wahlbeteiligung" FROM btw__ergebnis WHERE "CDU" > 4000 ORDER BY 2 DESC LIMIT 2'
    )
    assert status == 200 and doc["columns"] == ["Name", "Wahlbeteiligung"] and len(doc["rows"]) == 2  # type: ignore[arg-type]
    r = client.post("/api/v1/sql", json={"q": "WITH x AS (SELECT * FROM btw__ergebnis) SELECT count(*) AS n FROM x"})
    assert r.status_code == 200 and r.json()["rows"] == [{"n": 86}]
    r = client.post("/api/v1/sql", json={"q": 'SELECT "Name" FROM btw__ergebnis', "max_rows": 5})
    assert len(r.json()["rows"]) == 5 and r.json()["truncated"] is True
    tables = client.get("/api/v1/sql/tables").json()
    assert [t["sql_table"] for t in tables] == ["btw__ergebnis"]


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize(
    "query",
    [
        "DROP TABLE btw__ergebnis",
        "DELETE FROM btw__ergebnis",
        "INSERT INTO btw__ergebnis VALUES (1)",
        'UPDATE btw__ergebnis SET "CDU" = 0',
        "CREATE TABLE x AS SELECT 1",
        "ATTACH '/tmp/x.db' AS x",
        "COPY btw__ergebnis TO '/tmp/out.csv'",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM '/etc/passwd'",
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT * FROM glob('/etc/*')",
        "SET threads = 1",
        "SET enable_external_access = true",
        "INSTALL httpfs",
        "LOAD httpfs",
        "PRAGMA database_list",
        "SELECT 1; DROP TABLE btw__ergebnis",
        "SELECT * FROM information_schema.tables",
        "SELECT * FROM intern__liste",
        "SELECT query_to_xml('select * from intern__liste', true, true, '')",
        "SELECT * FROM btw__ergebnis INTO x",
        "SELEKT 1",
        "",
    ],
)
def test_forbidden_queries_are_clear_400s(client: TestClient, query: str) -> None:
    status, doc = sql(client, query)
    assert status == 400, doc
    assert doc["error"]["code"] in ("forbidden_sql", "unknown_table", "invalid_sql", "invalid_input")  # type: ignore[index]
    assert client.get("/api/v1/health").status_code == 200


@pytest.mark.usefixtures("loaded")
def test_internal_table_looks_exactly_like_a_missing_one(client: TestClient) -> None:
    _, hidden = sql(client, "SELECT * FROM intern__liste")
    _, missing = sql(client, "SELECT * FROM gibt_es_nicht")
    assert hidden["error"]["code"] == missing["error"]["code"] == "unknown_table"  # type: ignore[index]


@pytest.mark.usefixtures("loaded")
def test_runaway_query_is_stopped(client: TestClient, stores: Stores) -> None:
    client.app.state.settings = client.app.state.settings.model_copy(update={"sql_timeout_seconds": 0.5})  # type: ignore[attr-defined]
    q = "SELECT count(*) FROM btw__ergebnis a, btw__ergebnis b, btw__ergebnis c, btw__ergebnis d, btw__ergebnis e"
    status, doc = sql(client, q)
    assert status == 400 and doc["error"]["code"] == "sql_timeout"  # type: ignore[index]
    assert sql(client, "SELECT count(*) AS n FROM btw__ergebnis")[0] == 200
