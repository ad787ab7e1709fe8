"""DESIGN rule 1 on the quality read paths: scores, freshness, rules, reports, diffs, lineage, overdue lists."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.test_access import EXPECT, SECRET, world  # noqa: F401 - the shared fixture
from tests.helpers import BTW
from urbandata.auth.actor import RequestContext
from urbandata.catalog import quality, service
from urbandata.stores import Stores


def _paths(slug: str) -> list[str]:
    res = f"/api/v1/datasets/{slug}/resources/daten"
    return [
        f"/api/v1/datasets/{slug}/quality",
        f"/api/v1/datasets/{slug}/quality?at=2030-01-01T00:00:00",
        f"{res}/rules",
        f"{res}/validation",
        f"{res}/diff?from=1&to=1",
        f"{res}/lineage",
    ]


@pytest.mark.parametrize("who", ["anonymous", "foreign", "member"])
def test_quality_paths_show_exactly_what_the_actor_may_see(
    client: TestClient,
    world: dict[str, str],  # noqa: F811
    who: str,
) -> None:
    headers = {"Authorization": f"Bearer {world[who]}"} if who in world else {}
    for slug in ("offen", "intern", "geheim"):
        visible = slug in EXPECT[who]
        for url in _paths(slug):
            r = client.get(url, headers=headers)
            if visible:
                assert r.status_code == 200, (who, url, r.text[:200])
            else:
                assert r.status_code == 404, (who, url, r.status_code)
                assert SECRET.get(slug, "§") not in r.text
    for url in ("/api/v1/organizations/amt-a/quality", "/api/v1/organizations/amt-a/overdue?at=2099-01-01T00:00:00"):
        r = client.get(url, headers=headers)
        assert r.status_code == 200, (who, url)
        for slug in ("intern", "geheim"):
            if slug not in EXPECT[who]:
                assert f'"{slug}"' not in r.text, (who, url, slug)
            elif "quality" in url:
                assert f'"{slug}"' in r.text, (who, url, slug)


def test_masked_column_values_and_rules_stay_hidden(
    client: TestClient,
    world: dict[str, str],  # noqa: F811
    admin: RequestContext,
    stores: Stores,
) -> None:
    service.set_masked_columns(admin, stores, "intern", "daten", ["Name"])
    quality.set_rules(
        admin, stores, "intern", "daten", [{"type": "pattern", "column": "Name", "pattern": "x"}], on_failure="warn"
    )
    service.ingest_file(admin, stores, "intern", BTW, resource="daten")
    res = "/api/v1/datasets/intern/resources/daten"
    for who, sees in (("foreign", False), ("member", True)):
        headers = {"Authorization": f"Bearer {world[who]}"}
        assert bool(client.get(f"{res}/rules", headers=headers).json()["rules"]) is sees
        report = client.get(f"{res}/validation", headers=headers).json()[0]["report"]
        assert bool(report["violations"]) is sees
        versions = client.get(f"{res}/versions", headers=headers).json()
        values = [v["value"] for v in versions[0]["report"]["validation"]["violations"]]
        assert values and all(v is None for v in values)  # never kept in the ingest report every reader sees
        q = client.get("/api/v1/datasets/intern/quality", headers=headers).json()
        assert ("Name" in q["resources"][0]["completeness"]) is sees
        d = client.get(f"{res}/diff?from=1&to=2&key=Nr&key=Name", headers=headers)
        assert d.status_code == (200 if sees else 400)  # the masked column is no key for outsiders
        assert "Name" not in str(client.get(f"{res}/diff?from=1&to=2", headers=headers).json()) or sees
