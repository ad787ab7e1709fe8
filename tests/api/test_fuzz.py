"""Fuzz the API from its own OpenAPI document (schemathesis): no endpoint answers 5xx, whatever it is sent.

Runs on the embedded default with loaded data. Path parameters are drawn from the loaded datasets as well
as generated, and the free-form filters (`column=value`, `column__op=value`) get hostile values, so the
fuzzer reaches the code behind the 404s. Bounded: at most 30 examples per operation, no deadline.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.helpers import BTW, make_dataset, make_org
from urbandata.app import create_app
from urbandata.auth.actor import Actor, RequestContext
from urbandata.catalog import service
from urbandata.config import Settings
from urbandata.demo.generated import write_waiting_times
from urbandata.stores import Stores

LOADED = [("btw", "ergebnis"), ("wartezeiten", "wartezeiten"), ("intern", "liste")]
COLUMNS = ["Name", "CDU", "Wahlbeteiligung", "Nr", "Datum", "Uhrzeit", "Wartende", "Wartezeit (min)", "Terminbuchung"]
OPS = ["", "__ne", "__lt", "__lte", "__gt", "__gte", "__in", "__contains", "__prefix", "__isnull", "__nope"]
VALUES = st.one_of(
    st.sampled_from(["", "0", "-1", "1e309", "NaN", "2024-02-30", "2024-01-01T25:00", "ja", "true", "%", "'", '"']),
    st.text(max_size=20),
)


# The OpenAPI document, taken from the app without opening any store; requests go to `loaded_app`.
_DOC = create_app(Settings(data_dir=Path(tempfile.gettempdir()) / "urbandata-fuzz-unused")).openapi()
_DOC_APP = Starlette(routes=[Route("/api/v1/openapi.json", lambda _request: JSONResponse(_DOC))])
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", _DOC_APP).include(
    method=["GET", "POST"], path_regex="^/api/v1/"
)


@schema.hook
def flatmap_path_parameters(_context: Any, path_parameters: dict[str, Any] | None) -> Any:
    """Mostly a loaded dataset and resource (so the code behind the 404 runs), sometimes what was generated."""
    given = dict(path_parameters or {})
    if "slug" not in given:
        return st.just(path_parameters)
    real = st.sampled_from(LOADED).map(
        lambda pair: {**given, "slug": pair[0], **({"resource": pair[1]} if "resource" in given else {})}
    )
    return st.one_of(st.just(given), real, real, real)


@schema.hook
def flatmap_query(context: Any, query: dict[str, Any] | None) -> Any:
    """Add free-form filters (`column=value`, `column__op=value`), which the OpenAPI document cannot list."""
    if context.operation is None or "/resources/" not in context.operation.path:
        return st.just(query)
    filters = st.dictionaries(st.tuples(st.sampled_from(COLUMNS), st.sampled_from(OPS)), VALUES, max_size=3)
    extra = st.one_of(st.just({}), filters)
    return extra.map(lambda f: {**(query or {}), **{c + op: v for (c, op), v in f.items()}})


@pytest.fixture(scope="module")
def loaded_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """The embedded default with loaded data, behind the app the schema was taken from."""
    tmp = tmp_path_factory.mktemp("fuzz")
    settings = Settings(data_dir=tmp / "data", anonymous_rate_limit=0)  # the fuzzer is one client sending a lot
    stores = Stores.open(settings)
    admin = RequestContext(actor=Actor.system(), settings=settings)
    make_org(admin, stores)
    make_dataset(admin, stores, "btw", title="Bundestagswahl 2013")
    service.ingest_file(admin, stores, "btw", BTW, resource="ergebnis")
    make_dataset(admin, stores, "wartezeiten", title="Wartezeiten")
    service.ingest_file(admin, stores, "wartezeiten", write_waiting_times(tmp / "w.csv"), resource="wartezeiten")
    make_dataset(admin, stores, "intern", access_level="internal")
    service.ingest_file(admin, stores, "intern", BTW, resource="liste")
    yield create_app(settings, stores)
    stores.close()


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_error_anywhere(case: Any, loaded_app: FastAPI) -> None:
    case.call_and_validate(app=loaded_app, checks=[not_a_server_error])
