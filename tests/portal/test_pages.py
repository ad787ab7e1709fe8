"""The portal pages on the demo catalog: what a visitor sees and can follow, without JavaScript."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from urbandata.accounts import service as accounts
from urbandata.auth.actor import Actor, RequestContext
from urbandata.config import Settings
from urbandata.stores import Stores

BTW = "/datasets/bundestagswahl-2013-koeln"


def test_start_page_shows_search_figures_themes_organisations_and_datasets(web: TestClient) -> None:
    web.cookies.clear()
    page = web.get("/").text
    assert 'role="search"' in page and 'action="/datasets"' in page
    figures = dict(re.findall(r"<dt>(\w+)</dt><dd>([\d.]+)</dd>", page))
    api = web.get("/api/v1/figures").json()
    assert figures["Datensätze"] == str(api["datasets"]) and api["datasets"] == 7
    assert int(figures["Zeilen"].replace(".", "")) == api["rows"] > 500
    assert "Neue Datensätze" in page and "Zuletzt aktualisiert" in page and page.count('class="card"') == 10
    assert 'href="/datasets?theme=TRAN"' in page and 'href="/organizations/mobilitaet"' in page
    assert "Wartezeiten" not in page and 'id="stale"' not in page  # internal data and the empty stale slot


def test_search_with_facets_counts_sort_and_shareable_paging(web: TestClient) -> None:
    page = web.get("/datasets", params={"q": "Parkhäuser"}).text
    assert "Parkhäuser in Kaiserslautern" in page and "Wartezeiten" not in page
    everything = web.get("/datasets", params={"sort": "title"}).text
    titles = re.findall(r'<h3><a href="/datasets/[^"]+">([^<]+)</a>', everything)
    assert titles == sorted(titles, key=str.lower) and len(titles) == 7
    # the facet links carry the whole search and show counts
    assert re.search(r'href="/datasets\?sort=title&amp;organization=mobilitaet">Referat Mobilität <span class="count">'
                     r"\(\d\)</span>", everything)
    filtered = web.get("/datasets?sort=title&organization=mobilitaet").text
    assert "Parkhäuser in Kaiserslautern" in filtered and "Bundestagswahl" not in filtered
    assert 'aria-current="true"' in filtered  # the chosen facet is marked
    assert 'href="/datasets?sort=title">Organisation: Referat Mobilität' in filtered  # remove the filter
    assert "Keine Datensätze gefunden" in web.get("/datasets?q=Quantenschaum").text


def test_internal_dataset_is_404_and_absent_for_anonymous_visitors(web: TestClient) -> None:
    r = web.get("/datasets/wartezeiten-buergerbuero")
    assert r.status_code == 404 and "Seite nicht gefunden" in r.text and "Wartezeiten" not in r.text
    assert "Wartezeiten" not in web.get("/datasets?q=Wartezeit").text
    assert "Wartezeiten" not in web.get("/organizations/buergerdienste").text


def test_dataset_page_metadata_downloads_versions_api_examples_and_citation(web: TestClient) -> None:
    web.cookies.clear()
    page = web.get(BTW).text
    for text in ("Lizenz", "Creative Commons Namensnennung 3.0 Deutschland", "Aktualisierung", "Verantwortlich",
                 "Letzte Aktualisierung", "Namensnennung", "Zitiervorschlag", "Stadt Köln"):
        assert text in page, text
    base = "/api/v1/datasets/bundestagswahl-2013-koeln/resources/ergebnis/export?format="
    for fmt in ("csv", "json", "ndjson", "parquet", "xlsx"):
        assert f'href="{base}{fmt}"' in page
        assert web.get(base + fmt).status_code == 200
    assert f'href="{base}geojson"' not in page  # no geometry in the election table
    assert "<caption>Versionen von ergebnis</caption>" in page
    rows_url = "http://testserver/api/v1/datasets/bundestagswahl-2013-koeln/resources/ergebnis/rows"
    assert f'curl "{rows_url}?limit=100"' in page
    assert "import requests" in page and "library(jsonlite)" in page
    parking = web.get("/datasets/parkhaeuser-kaiserslautern").text
    assert 'export?format=geojson"' in parking


def test_dataset_table_pages_through_rows_with_the_cursor_and_sorts(web: TestClient) -> None:
    web.cookies.clear()
    page = web.get(BTW).text
    assert re.search(r"<caption[^>]*>ergebnis: Zeilen 1 bis 25 von 86</caption>", page)
    assert '<th scope="col"' in page
    link = re.search(r'href="([^"]+)" rel="next">Nächste Zeilen', page)
    assert link is not None
    second = web.get(link.group(1).replace("&amp;", "&")).text
    assert re.search(r"ergebnis: Zeilen 26 bis 50 von 86", second) and "Zum Anfang" in second
    first_names = set(re.findall(r"<tr><td[^>]*>[^<]*</td><td[^>]*>([^<]+)</td>", page))
    second_names = set(re.findall(r"<tr><td[^>]*>[^<]*</td><td[^>]*>([^<]+)</td>", second))
    assert len(first_names) == 25 and first_names.isdisjoint(second_names)
    by_turnout = web.get(BTW, params={"sort": "-Wahlbeteiligung"}).text
    assert 'aria-sort="descending"' in by_turnout
    assert re.search(r"<tr><td[^>]*>[^<]*</td><td>Hahnwald</td>", by_turnout)
    assert web.get(BTW, params={"cursor": "kaputt"}).status_code == 400


def test_organisation_pages(web: TestClient) -> None:
    listing = web.get("/organizations").text
    assert 'href="/organizations/mobilitaet"' in listing
    page = web.get("/organizations/mobilitaet").text
    assert "<h1>Referat Mobilität</h1>" in page and "Parkhäuser in Kaiserslautern" in page
    assert web.get("/organizations/gibt-es-nicht").status_code == 404


def test_about_accessibility_imprint_privacy_use_the_settings(web: TestClient) -> None:
    web.cookies.clear()
    assert "Über das Portal" in web.get("/about").text
    statement = web.get("/accessibility").text
    assert "Erklärung zur Barrierefreiheit" in statement and 'href="mailto:barrierefrei@example.org"' in statement
    assert "<strong>Stadtverwaltung Musterstadt</strong>" in web.get("/imprint").text
    assert "ud_lang" in web.get("/privacy").text


def test_pages_load_only_the_platforms_own_assets(web: TestClient) -> None:
    for url in ("/", "/datasets", BTW, "/organizations/mobilitaet", "/about"):
        page = web.get(url).text
        external = re.findall(r'<(?:link|script|img)[^>]+(?:href|src)="(https?:)?//', page)
        assert external == [], url
    css = web.get("/static/portal.css")
    assert css.status_code == 200 and "focus-visible" in css.text and "http" not in css.text.replace("https://", "")


def test_search_page_and_its_json_twin_agree(web: TestClient) -> None:
    web.cookies.clear()
    for params in ({}, {"q": "Köln"}, {"theme": "GOVE"}, {"organization": "extern", "sort": "modified"}):
        api = web.get("/api/v1/datasets", params=params).json()
        page = web.get("/datasets", params=params).text
        assert re.search(rf"<p role=\"status\">\s*{api['count']} (Treffer|Datens)", page), params
        slugs = re.findall(r'<h3><a href="/datasets/([^"]+)">', page)
        assert slugs == [d["slug"] for d in api["results"]], params


def test_signed_in_staff_see_the_internal_dataset_marked_as_not_public(
    web: TestClient, demo: tuple[Settings, Stores]
) -> None:
    settings, stores = demo
    admin = RequestContext(actor=Actor.system(), settings=settings)
    accounts.add_user(admin, stores, "petra")
    token = accounts.create_token(admin, stores, "petra").token
    headers = {"Authorization": f"Bearer {token}"}
    web.cookies.clear()
    page = web.get("/datasets/wartezeiten-buergerbuero", headers=headers)
    assert page.status_code == 200 and "Dieser Datensatz ist nicht öffentlich: Verwaltungsintern." in page.text
    assert "Wartezeiten im Bürgerbüro" in web.get("/datasets?q=Wartezeit", headers=headers).text
    assert web.get("/datasets/wartezeiten-buergerbuero").status_code == 404  # still hidden without the token


def test_dataset_table_filters_without_javascript_and_keeps_the_filter_while_paging(web: TestClient) -> None:
    web.cookies.clear()
    page = web.get(BTW, params={"resource": "ergebnis", "column": "Name", "value": "Alt"}).text
    assert re.search(r"ergebnis: Zeilen 1 bis 2 von 2</caption>", page)
    assert "Altstadt/Nord" in page and "Altstadt/Süd" in page and "Bayenthal" not in page
    assert "Filter aufheben" in page
    high = web.get(BTW, params={"column": "Wahlbeteiligung", "value": "88.71"}).text
    assert re.search(r"Zeilen 1 bis 1 von 1</caption>", high) and "Hahnwald" in high
    wrong = web.get(BTW, params={"column": "Wahlbeteiligung", "value": "viel"})
    assert wrong.status_code == 200 and 'role="alert"' in wrong.text and "von 86</caption>" in wrong.text
    assert 'value="viel"' in wrong.text and '<option value="Wahlbeteiligung" selected>' in wrong.text
    none = web.get(BTW, params={"column": "Name", "value": "Atlantis"}).text
    assert "ergebnis: keine passenden Zeilen" in none
    sorted_filtered = web.get(BTW, params={"column": "Name", "value": "e", "sort": "-Name"}).text
    link = re.search(r'href="([^"]+)" rel="next">Nächste Zeilen', sorted_filtered)
    assert link is not None and "column=Name" in link.group(1) and "value=e" in link.group(1)
    nxt = web.get(link.group(1).replace("&amp;", "&")).text
    assert re.search(r"Zeilen 26 bis \d+ von \d+</caption>", nxt)
