"""The quality badge on the dataset page and the start page's list of overdue datasets (both backends)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.helpers import make_dataset, make_org, write_csv
from urbandata.accounts import service as accounts
from urbandata.app import create_app
from urbandata.auth.actor import RequestContext
from urbandata.catalog import quality, service
from urbandata.config import Settings
from urbandata.stores import Stores


@pytest.fixture
def site(settings: Settings, stores: Stores, admin: RequestContext, tmp_path: Path) -> Iterator[TestClient]:
    """`luft` (daily, published with data as of two days ago: overdue), `pegel` (annual: fresh),
    `intern` (internal, daily, overdue: only staff may see it)."""
    make_org(admin, stores, "umwelt", "Referat Umweltschutz")
    make_dataset(admin, stores, "luft", org="umwelt", title="Luftqualität", frequency="DAILY")
    make_dataset(admin, stores, "pegel", org="umwelt", title="Pegelstände", frequency="ANNUAL")
    make_dataset(
        admin, stores, "intern", org="umwelt", title="Interne Messliste", frequency="DAILY", access_level="internal"
    )
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).isoformat()
    for slug in ("luft", "pegel", "intern"):
        csv = write_csv(tmp_path / f"{slug}.csv", "Station;Wert\nA;1\nB;\n")
        lineage = {"data_as_of": old} if slug != "pegel" else None
        service.ingest_file(admin, stores, slug, csv, resource="werte", lineage=lineage)
    with TestClient(create_app(settings.model_copy(update={"anonymous_rate_limit": 0}), stores)) as c:
        yield c


def test_dataset_page_shows_badge_with_breakdown_and_overdue_since(
    site: TestClient, admin: RequestContext, stores: Stores
) -> None:
    page = site.get("/datasets/luft").text
    report = quality.dataset_quality(admin, stores, "luft")
    assert report["freshness"] == "overdue"
    badge = page[page.index('id="qualitaet"') :]
    badge = badge[: badge.index("</section>")]
    assert f"Qualität: {report['score']} von 100 Punkten" in badge
    assert "Überfällig" in badge and "überfällig seit" in badge
    since = dt.datetime.fromisoformat(report["overdue_since"])
    assert since.strftime("%d.%m.%Y") in badge
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td class="num">([^<]+)</td><td class="num">(\d+)</td>', badge)
    assert [r[0] for r in rows] == [
        "Schema und Prüfregeln eingehalten",
        "Vollständigkeit der Werte",
        "Aktualität",
        "Beschreibung (Metadaten)",
        "Offenheit (Lizenz, Format)",
        "Spalten dokumentiert",
    ]
    assert sum(int(r[2]) for r in rows) == 100
    assert ("Aktualität", "0 %", "20") in rows  # overdue: no freshness points

    fresh = site.get("/datasets/pegel").text
    assert "Aktuell" in fresh and "nächste Aktualisierung bis" in fresh and "überfällig seit" not in fresh
    english = site.get("/datasets/luft?lang=en").text
    assert "Data quality" in english and "overdue since" in english and "Timeliness" in english


def test_start_page_lists_overdue_datasets_the_visitor_may_see(
    site: TestClient, admin: RequestContext, stores: Stores
) -> None:
    site.cookies.clear()
    page = site.get("/").text
    stale = page[page.index('id="stale"') :]
    stale = stale[: stale.index("</section>")]
    assert 'href="/datasets/luft"' in stale and "überfällig seit" in stale
    assert "pegel" not in stale and "Interne Messliste" not in page
    assert [e["dataset"] for e in site.get("/api/v1/overdue").json()] == ["luft"]

    accounts.add_user(admin, stores, "anna")
    token = accounts.create_token(admin, stores, "anna").token
    staff = site.get("/", headers={"Authorization": f"Bearer {token}"}).text
    stale = staff[staff.index('id="stale"') :]
    assert "Interne Messliste" in stale[: stale.index("</section>")]


def test_no_stale_section_when_nothing_is_overdue(
    settings: Settings, stores: Stores, admin: RequestContext, tmp_path: Path
) -> None:
    make_org(admin, stores, "umwelt", "Referat Umweltschutz")
    make_dataset(admin, stores, "pegel", org="umwelt", title="Pegelstände", frequency="ANNUAL")
    service.ingest_file(admin, stores, "pegel", write_csv(tmp_path / "p.csv", "A;B\n1;2\n"))
    with TestClient(create_app(settings, stores)) as c:
        assert 'id="stale"' not in c.get("/").text
        assert c.get("/api/v1/overdue").json() == []
        assert c.get("/api/v1/overdue?limit=0").status_code == 400
