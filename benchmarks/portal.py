#!/usr/bin/env python
"""Portal render benchmark: server time of the catalog and dataset pages on the demo data (issue 5: < 100 ms).

Loads the demo catalog into a temporary data dir (embedded default), warms the templates up, then
requests each page N times in-process through the ASGI app (no network) and prints median and p95
wall time per page, plus the JSON twin of each page for comparison. It asserts nothing.

    .venv/bin/python benchmarks/portal.py              # 50 requests per page
    .venv/bin/python benchmarks/portal.py --repeat 200
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parents[1]))

from urbandata.app import create_app  # noqa: E402
from urbandata.auth.actor import Actor, RequestContext  # noqa: E402
from urbandata.config import Settings  # noqa: E402
from urbandata.demo.loader import load_demo  # noqa: E402
from urbandata.stores import Stores  # noqa: E402

PAGES = [
    ("start", "/"),
    ("catalog", "/datasets"),
    ("catalog, query + facet + sort", "/datasets?q=Wahl&theme=GOVE&sort=title"),
    ("dataset (86 rows x 30 cols)", "/datasets/bundestagswahl-2013-koeln"),
    ("dataset, 2nd table page (cursor)", None),
    ("dataset (GeoJSON)", "/datasets/parkhaeuser-kaiserslautern"),
    ("dataset + chart (sum by district)", "/datasets/bundestagswahl-2013-koeln?chart=bar&x=Name&agg=sum&y=CDU"),
    ("dataset + time chart + default", "/datasets/einwohner-stadtteile"),
    ("dataset + chart + map (12 points)", "/datasets/parkhaeuser-kaiserslautern?chart=bar&x=type&agg=sum&y=total"),
    ("dataset + chart + map (103 points)", "/datasets/parken-jena"),
    ("chart image SVG", "/datasets/bundestagswahl-2013-koeln/resources/ergebnis/chart.svg?x=Name&agg=sum&y=CDU"),
    ("chart image PNG", "/datasets/bundestagswahl-2013-koeln/resources/ergebnis/chart.png?x=Name&agg=sum&y=CDU"),
    ("map image SVG (103 points)", "/datasets/parken-jena/resources/parkplaetze/map.svg"),
    ("organisation", "/organizations/statistik"),
    ("JSON twin: /api/v1/datasets", "/api/v1/datasets"),
    ("JSON twin: /api/v1/datasets/{slug}", "/api/v1/datasets/bundestagswahl-2013-koeln"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", anonymous_rate_limit=0)
        stores = Stores.open(settings)
        for _ in load_demo(RequestContext(actor=Actor.system(), settings=settings), stores):
            pass
        with TestClient(create_app(settings, stores)) as client:
            first = client.get("/datasets/bundestagswahl-2013-koeln").text
            marker = 'href="/datasets/bundestagswahl-2013-koeln?resource='
            start = first.index(marker, first.index("Nächste Zeilen") - 400) + len('href="')
            second = first[start : first.index('"', start)].replace("&amp;", "&")
            print(f"{'page':40} {'median ms':>10} {'p95 ms':>8}  bytes")
            for name, url in PAGES:
                url = url or second
                for _ in range(3):
                    client.get(url)
                times = []
                for _ in range(args.repeat):
                    t0 = time.perf_counter()
                    r = client.get(url)
                    times.append((time.perf_counter() - t0) * 1000)
                    assert r.status_code == 200, (url, r.status_code)
                times.sort()
                p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
                print(f"{name:40} {statistics.median(times):10.1f} {p95:8.1f}  {len(r.content)}")
        stores.close()


if __name__ == "__main__":
    main()
