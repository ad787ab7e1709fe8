"""The dataset page's chart builder on both backends: the same numbers as the aggregate API, images, bad input."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.helpers import BTW, make_dataset, make_org, masked_internal_table
from urbandata.auth.actor import RequestContext
from urbandata.catalog import service
from urbandata.demo.generated import write_population
from urbandata.stores import Stores

PAGE = "/datasets/wahl"
IMAGE = "/datasets/wahl/resources/ergebnis/chart"


@pytest.fixture
def wahl(admin: RequestContext, stores: Stores, tmp_path: Path) -> None:
    make_org(admin, stores, "wahlamt", "Wahlamt")
    make_dataset(admin, stores, "wahl", org="wahlamt", title="Bundestagswahl 2013")
    service.ingest_file(admin, stores, "wahl", BTW, resource="ergebnis")
    make_dataset(admin, stores, "einwohner", org="wahlamt", title="Einwohner")
    service.ingest_file(admin, stores, "einwohner", write_population(tmp_path / "einwohner.csv"), resource="einwohner")


def _table(page: str) -> list[tuple[str, str]]:
    """(label, value) rows of the chart's data table."""
    section = page[page.index('id="diagramm-werte"') :]
    section = section[: section.index("</table>")]
    return [
        (html.unescape(a), b)
        for a, b in re.findall(r'<tr><th scope="row">([^<]*)</th><td class="num">([^<]*)</td></tr>', section)
    ]


def _de(n: float) -> str:
    return f"{n:,.2f}".rstrip("0").rstrip(".").replace(",", "X").replace(".", ",").replace("X", ".")


def test_bar_chart_of_a_sum_per_category_shows_the_api_numbers_image_links_and_table(
    client: TestClient, wahl: None
) -> None:
    page = client.get(f"{PAGE}?resource=ergebnis&chart=bar&x=Name&agg=sum&y=CDU")
    assert page.status_code == 200
    api = client.get(
        "/api/v1/datasets/wahl/resources/ergebnis/aggregate?group_by=Name&metrics=sum:CDU&sort=Name&limit=60"
    ).json()
    expected = [(r["Name"], _de(r["sum_CDU"])) for r in api["rows"]]
    assert _table(page.text) == expected and len(expected) == 60  # 86 districts, the first 60 drawn
    assert "Es werden nur die ersten 60 Gruppen gezeigt." in page.text
    text = html.unescape(page.text)
    assert f'{IMAGE}.svg?chart=bar&x=Name&agg=sum&y=CDU&lang=de"' in text
    assert 'alt="Summe: CDU je Name"' in text
    high = max(api["rows"], key=lambda r: r["sum_CDU"])
    assert f"höchster Wert {_de(high['sum_CDU'])} ({high['Name']})" in text  # the text alternative
    share = re.search(r'<a href="([^"]+)">Diagramm öffnen</a>', text)
    assert share and share.group(1) == "/datasets/wahl?resource=ergebnis&chart=bar&x=Name&agg=sum&y=CDU#diagramm"
    again = client.get(share.group(1).split("#")[0])  # the shared link rebuilds the same chart
    assert _table(again.text) == expected
    assert '<option value="sum" selected>' in again.text and '<option value="CDU" selected>' in again.text

    svg = client.get(f"{IMAGE}.svg?chart=bar&x=Name&agg=sum&y=CDU")
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert svg.text.lstrip().startswith("<?xml") and "Summe: CDU je Name" in svg.text
    assert svg.headers["cache-control"].startswith("public")
    png = client.get(f"{IMAGE}.png?chart=line&x=Name&agg=avg&y=Wahlbeteiligung&download=1")
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.headers["content-disposition"] == 'attachment; filename="wahl-ergebnis-diagramm.png"'


def test_time_buckets_follow_the_date_column_in_order_and_english_labels_on_request(
    client: TestClient, wahl: None
) -> None:
    page = client.get("/datasets/einwohner?chart=area&x=Stichtag&bucket=year&agg=sum&y=Einwohner")
    assert page.status_code == 200
    api = client.get(
        "/api/v1/datasets/einwohner/resources/einwohner/aggregate?bucket=year:Stichtag&metrics=sum:Einwohner"
    ).json()
    rows = _table(page.text)
    assert rows == [(r["bucket"][:4], _de(r["sum_Einwohner"])) for r in api["rows"]]
    assert [label for label, _ in rows] == sorted(label for label, _ in rows) and len(rows) >= 5
    english = client.get("/datasets/einwohner?chart=area&x=Stichtag&bucket=year&agg=sum&y=Einwohner&lang=en")
    assert "Area chart “Sum: Einwohner by Stichtag (Year)”" in html.unescape(english.text)
    svg = client.get(
        "/datasets/einwohner/resources/einwohner/chart.svg?chart=area&x=Stichtag&bucket=year&agg=sum&y=Einwohner&lang=en"
    )
    assert "Sum: Einwohner by Stichtag (Year)" in svg.text
    month = client.get("/datasets/einwohner?chart=line&x=Stichtag&bucket=month&agg=count&lang=de")
    assert all(re.fullmatch(r"\d\d\.\d{4}", label) for label, _ in _table(month.text))


def test_the_page_without_choices_shows_a_default_chart(client: TestClient, wahl: None) -> None:
    page = client.get("/datasets/einwohner")
    assert page.status_code == 200 and 'id="diagramm"' in page.text
    assert "Liniendiagramm „Summe: Einwohner je Stichtag (Jahr)“" in page.text
    assert len(_table(page.text)) >= 5


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("chart=pie&x=Name", "Die Diagrammart „pie“ gibt es nicht"),
        ("chart=bar&x=Stadtbezirk", "Die Spalte „Stadtbezirk“ gibt es in dieser Tabelle nicht."),
        ("chart=bar&x=Name&agg=sum&y=Name", "die Spalte „Name“ enthält Text"),
        ("chart=bar&x=Name&agg=median&y=CDU", "Die Berechnung „median“ gibt es nicht"),
        ("chart=bar&x=Name&agg=avg", "Bitte wählen Sie die Spalte, deren Werte berechnet werden."),
        ("chart=line&x=Name&bucket=month", "Zeitabschnitte gehen nur bei Datumsspalten"),
        ("chart=line&x=Name&bucket=decade", "Den Zeitabschnitt „decade“ gibt es nicht"),
        ("chart=bar&x=", "Bitte wählen Sie eine Spalte für die x-Achse."),
    ],
)
def test_bad_choices_get_a_clear_400_on_the_page_and_on_the_image(
    client: TestClient, wahl: None, query: str, message: str
) -> None:
    page = client.get(f"{PAGE}?{query}")
    assert page.status_code == 400
    alert = re.search(r'<p id="chart-error" class="notice" role="alert">([^<]+)</p>', page.text)
    assert alert and message in html.unescape(alert.group(1))
    assert 'aria-describedby="chart-error"' in page.text
    assert "Daten ansehen" in page.text  # the rest of the page is still there
    image = client.get(f"{IMAGE}.svg?{query}")
    assert image.status_code == 400 and image.headers["content-type"].startswith("text/html")


def test_hour_buckets_of_a_date_column_are_refused(client: TestClient, wahl: None) -> None:
    page = client.get("/datasets/einwohner?chart=line&x=Stichtag&bucket=hour")
    assert page.status_code == 400
    assert "enthält Tage ohne Uhrzeit" in html.unescape(page.text)


def test_charts_see_what_the_api_sees_internal_data_and_masked_columns(
    client: TestClient, admin: RequestContext, stores: Stores
) -> None:
    member, foreign = masked_internal_table(admin, stores, BTW, "daten", ["Name"])
    image = "/datasets/intern/resources/daten/chart.svg?chart=bar&x=Name&agg=sum&y=CDU"

    assert client.get(image).status_code == 404  # anonymous: the dataset does not exist
    assert client.get("/datasets/intern?chart=bar&x=Name").status_code == 404
    ok = client.get(image, headers=member)
    assert ok.status_code == 200 and ok.headers["cache-control"] == "private, no-store"
    assert client.get(image, headers=foreign).status_code == 400  # staff of another department: Name is masked
    page = client.get("/datasets/intern?chart=bar&x=Name", headers=foreign)
    assert page.status_code == 400 and "Die Spalte „Name“ gibt es in dieser Tabelle nicht." in html.unescape(page.text)
    assert '<option value="Name"' not in page.text[page.text.index('id="diagramm"') :]
    assert client.get("/datasets/intern?chart=bar&x=Nr&agg=sum&y=CDU", headers=foreign).status_code == 200
