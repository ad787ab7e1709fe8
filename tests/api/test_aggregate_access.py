"""DESIGN rule 1 on the aggregation path: the same actors and datasets as test_access.py, nothing leaks."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.test_access import EXPECT, SECRET, world  # noqa: F401 - the shared world of actors and datasets
from urbandata.audit.service import query_log
from urbandata.auth.actor import RequestContext
from urbandata.catalog import service
from urbandata.stores import Stores


def _headers(tokens: dict[str, str], who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[who]}"} if who in tokens else {}


@pytest.mark.parametrize("who", ["anonymous", "foreign", "member"])
def test_aggregations_show_exactly_what_the_actor_may_see(
    client: TestClient, world: dict[str, str], who: str  # noqa: F811
) -> None:
    for slug in ("offen", "intern", "geheim"):
        for params in (
            {},
            {"group_by": "Name", "metrics": "count,sum:CDU", "limit": 3},
            {"metrics": "max:Name", "Name__prefix": "A"},
            {"group_by": "nope"},
        ):
            url = f"/api/v1/datasets/{slug}/resources/daten/aggregate"
            r = client.get(url, params=params, headers=_headers(world, who))
            if slug in EXPECT[who]:
                assert r.status_code == (400 if "nope" in params.values() else 200), (who, slug, params, r.text)
            else:
                assert r.status_code == 404 and r.json()["error"]["code"] == "dataset_not_found", (who, slug, r.text)
                assert SECRET.get(slug, "§") not in r.text


def test_masked_column_cannot_be_aggregated_outside_the_organisation(
    client: TestClient, world: dict[str, str], admin: RequestContext, stores: Stores  # noqa: F811
) -> None:
    service.set_masked_columns(admin, stores, "intern", "daten", ["Name"])
    url = "/api/v1/datasets/intern/resources/daten/aggregate"
    for params in (
        {"group_by": "Name"},
        {"metrics": "count_distinct:Name"},
        {"metrics": "min:Name"},
        {"Name": "Altstadt/Nord"},
        {"sort": "Name", "group_by": "Name"},
    ):
        hidden = client.get(url, params=params, headers=_headers(world, "foreign"))
        assert hidden.status_code == 400 and hidden.json()["error"]["code"] == "unknown_column", (params, hidden.text)
        assert "Altstadt" not in hidden.text
        assert client.get(url, params=params, headers=_headers(world, "member")).status_code == 200, params
    ok = client.get(url, params={"metrics": "sum:CDU"}, headers=_headers(world, "foreign"))
    assert ok.status_code == 200 and ok.json()["rows"][0]["sum_CDU"] > 0


def test_non_public_aggregations_are_audited(
    client: TestClient, world: dict[str, str], admin: RequestContext, stores: Stores  # noqa: F811
) -> None:
    headers = _headers(world, "member")
    assert client.get("/api/v1/datasets/geheim/resources/daten/aggregate", headers=headers).status_code == 200
    assert client.get("/api/v1/datasets/offen/resources/daten/aggregate", headers=headers).status_code == 200
    actions = {(e["action"], e["target"]) for e in query_log(admin, stores, actor="anna")}
    assert ("data.aggregate", "geheim/daten") in actions
    assert not any(t == "offen/daten" for _, t in actions)
