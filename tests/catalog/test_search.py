"""German full-text search with facets, on SQLite FTS5 and PostgreSQL text search."""

from __future__ import annotations

import pytest

from tests.helpers import make_dataset, make_org
from urbandata.auth.actor import RequestContext
from urbandata.catalog import service
from urbandata.catalog.search_text import query_terms
from urbandata.errors import InvalidInput
from urbandata.stores import Stores


@pytest.fixture
def catalog(admin: RequestContext, stores: Stores) -> None:
    make_org(admin, stores, "mobilitaet", "Referat Mobilität")
    make_org(admin, stores, "umwelt", "Referat Umweltschutz")
    make_dataset(
        admin,
        stores,
        "parkhausbelegung",
        org="mobilitaet",
        title="Parkhausbelegung Innenstadt",
        keywords=["Parken"],
        themes=["TRAN"],
        description="Freie Plätze in den Parkhäusern.",
    )
    make_dataset(
        admin,
        stores,
        "strassenbaeume",
        org="umwelt",
        title="Straßenbäume",
        keywords=["Bäume", "Grün"],
        themes=["ENVI"],
        license="cc-zero",
    )
    make_dataset(
        admin,
        stores,
        "laermkarte",
        org="umwelt",
        title="Lärmkarte",
        keywords=["Lärm"],
        themes=["ENVI"],
        access_level="internal",
    )


def slugs(ctx: RequestContext, stores: Stores, q: str, **filters: list[str]) -> list[str]:
    return sorted(d.slug for d in service.search_datasets(ctx, stores, q, filters).results)


@pytest.mark.usefixtures("catalog")
def test_german_words_match_across_umlauts_sharp_s_and_inflection(admin: RequestContext, stores: Stores) -> None:
    assert slugs(admin, stores, "Straße") == ["strassenbaeume"]
    assert slugs(admin, stores, "strasse") == ["strassenbaeume"]
    assert slugs(admin, stores, "Baeume") == ["strassenbaeume"]
    assert slugs(admin, stores, "Parkhäuser") == ["parkhausbelegung"]
    assert slugs(admin, stores, "laerm") == ["laermkarte"]


@pytest.mark.usefixtures("catalog")
def test_prefix_finds_compound_words(admin: RequestContext, stores: Stores) -> None:
    assert slugs(admin, stores, "Park") == ["parkhausbelegung"]
    assert slugs(admin, stores, "Straßen") == ["strassenbaeume"]
    assert slugs(admin, stores, "Park Innen") == ["parkhausbelegung"]
    assert slugs(admin, stores, "Park Lärm") == []


@pytest.mark.usefixtures("catalog")
def test_search_and_facets_never_show_what_the_actor_may_not_see(
    admin: RequestContext, anon: RequestContext, stores: Stores
) -> None:
    assert slugs(anon, stores, "Lärm") == []
    res = service.search_datasets(anon, stores, "")
    assert res.count == 2
    themes = {f.value: f.count for f in res.facets["theme"]}
    assert themes == {"ENVI": 1, "TRAN": 1}
    assert {f.value: f.count for f in res.facets["access_level"]} == {"public": 2}
    admin_res = service.search_datasets(admin, stores, "")
    assert admin_res.count == 3
    assert {f.value: f.count for f in admin_res.facets["organization"]} == {"umwelt": 2, "mobilitaet": 1}


@pytest.mark.usefixtures("catalog")
def test_facet_filters_and_labels(admin: RequestContext, stores: Stores) -> None:
    assert slugs(admin, stores, "", theme=["ENVI"]) == ["laermkarte", "strassenbaeume"]
    assert slugs(admin, stores, "", license=["cc-zero"]) == ["strassenbaeume"]
    assert slugs(admin, stores, "", organization=["mobilitaet"], keyword=["Parken"]) == ["parkhausbelegung"]
    res = service.search_datasets(admin, stores, "", {"theme": ["ENVI"]})
    labels = {f.value: f.label for f in res.facets["theme"]}
    assert labels["ENVI"] == "Umwelt"


@pytest.mark.usefixtures("catalog")
def test_bad_search_input(admin: RequestContext, stores: Stores) -> None:
    with pytest.raises(InvalidInput):
        service.search_datasets(admin, stores, "", {"colour": ["red"]})
    with pytest.raises(InvalidInput):
        service.search_datasets(admin, stores, "", sort="random")
    # query syntax characters are words, never operators
    assert service.search_datasets(admin, stores, '"Park* OR 1=1 --').count >= 0
    assert slugs(admin, stores, "***") == []


def test_query_terms_are_stems() -> None:
    assert query_terms("Parkhäuser Straße") == ["parkhaus", "strass"]
