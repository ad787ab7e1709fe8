"""The dataset page's table, filtered and paged with the keyset cursor, on both backends."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.helpers import BTW, make_dataset, make_org
from urbandata.auth.actor import RequestContext
from urbandata.catalog import service
from urbandata.stores import Stores


def test_filtered_sorted_table_pages_through_every_matching_row_once(
    client: TestClient, admin: RequestContext, stores: Stores
) -> None:
    make_org(admin, stores, "wahlamt", "Wahlamt")
    make_dataset(admin, stores, "btw2013", org="wahlamt", title="Bundestagswahl 2013")
    service.ingest_file(admin, stores, "btw2013", BTW, resource="ergebnis")
    url: str | None = "/datasets/btw2013?column=Name&value=e&sort=-Name"
    names: list[str] = []
    while url:
        page = client.get(url)
        assert page.status_code == 200, page.text[:300]
        names += re.findall(r"<tr><td[^>]*>[^<]*</td><td>([^<]+)</td>", page.text)
        link = re.search(r'href="([^"]+)" rel="next">Nächste Zeilen', page.text)
        url = link.group(1).replace("&amp;", "&") if link else None
    api = client.get("/api/v1/datasets/btw2013/resources/ergebnis/rows?Name__contains=e&count=true&limit=1").json()
    assert len(names) == len(set(names)) == api["total"] > 25
    assert all("e" in n.lower() for n in names) and names == sorted(names, reverse=True)
