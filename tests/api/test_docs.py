"""Interactive API docs served by the platform itself, and the one error shape documented in OpenAPI."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.api.test_api import assert_error

ORIGIN = "http://testserver"


@pytest.fixture
def backend() -> str:
    return "embedded"  # neither the docs nor the OpenAPI document depend on the storage backend


class _Links(HTMLParser):
    """Every URL a browser would load or follow from a page: src, href, data-* URLs, inline url(...)."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []  # scripts, stylesheets, icons, images
        self.other: list[str] = []  # links, data attributes
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "script":
            self._in_script = "src" not in a
            if "src" in a:
                self.loaded.append(a["src"])
        elif tag == "link" and a.get("rel") in ("stylesheet", "icon", "shortcut icon", "preload"):
            self.loaded.append(a["href"])
        elif tag in ("img", "iframe", "source"):
            self.loaded.append(a.get("src", ""))
        for k, v in a.items():
            if k == "href" or k.startswith("data-") and "/" in v:
                self.other.append(v)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts.append(data)


def test_docs_page_and_every_asset_come_from_the_platform(client: TestClient) -> None:
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'lang="en"' in page.text
    links = _Links()
    links.feed(page.text)
    assert len(links.loaded) >= 3 and not links.inline_scripts  # CSS, bundle, start script; nothing inline
    for url in links.loaded + links.other:
        absolute = urljoin(f"{ORIGIN}/api/v1/docs", url)
        assert urlsplit(absolute).netloc == "testserver", f"{url} is not served by the platform"
    for url in links.loaded:
        r = client.get(urljoin(f"{ORIGIN}/api/v1/docs", url))
        assert r.status_code == 200 and r.content, url
        assert r.headers["cache-control"].startswith("public")
    types = {urlsplit(u).path.rsplit("/", 1)[-1]: client.get(u).headers["content-type"] for u in links.loaded}
    assert types["swagger-ui-bundle.js"].startswith("text/javascript")
    assert types["swagger-ui.css"].startswith("text/css")
    # no absolute http(s) URL to another host anywhere in the page
    for url in re.findall(r"https?://[^\s\"'<>)]+", page.text):
        assert urlsplit(url).netloc == "testserver", url


def test_docs_point_at_the_openapi_document(client: TestClient) -> None:
    page = client.get("/api/v1/docs").text
    spec_url = re.search(r'data-openapi-url="([^"]+)"', page)
    assert spec_url and spec_url[1] == "/api/v1/openapi.json"
    doc = client.get(spec_url[1]).json()
    assert doc["openapi"].startswith("3.") and doc["info"]["title"] == "urbandata API"
    script = client.get("/api/v1/docs/init.js").text
    assert "SwaggerUIBundle(" in script and "validatorUrl: null" in script  # no call to an online validator
    assert not re.search(r"https?://", script)


def test_docs_refuse_other_files(client: TestClient) -> None:
    assert_error(client.get("/api/v1/docs/assets/..%2F__init__.py"), 404)
    assert_error(client.get("/api/v1/docs/assets/redoc.standalone.js"), 404, "not_found")
    assert "/api/v1/docs" not in client.get("/api/v1/openapi.json").json()["paths"]


def _resolve(doc: dict[str, Any], ref_or_schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in ref_or_schema:
        name = ref_or_schema["$ref"].rsplit("/", 1)[-1]
        ref_or_schema = doc["components"]["schemas"][name]
    return ref_or_schema


def test_every_api_operation_documents_the_error_shape(client: TestClient) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    operations = [
        (path, method, op)
        for path, item in doc["paths"].items()
        if path.startswith("/api/v1/")
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    assert len(operations) >= 10
    for path, method, op in operations:
        for status in ("400", "404", "422"):
            response = op["responses"].get(status)
            assert response, f"{method.upper()} {path} does not document {status}"
            schema = _resolve(doc, response["content"]["application/json"]["schema"])
            assert schema["required"] == ["error"], f"{method.upper()} {path} {status}"
            error = _resolve(doc, schema["properties"]["error"])
            assert set(error["properties"]) == {"code", "message", "details"}
            assert set(error["required"]) == {"code", "message"}
    assert "HTTPValidationError" not in doc["components"]["schemas"]  # FastAPI's 422 shape is never sent


def test_error_bodies_match_the_documented_schema(client: TestClient) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    error = _resolve(doc, _resolve(doc, doc["components"]["schemas"]["ErrorResponse"])["properties"]["error"])
    for url, status in [
        ("/api/v1/datasets/nope", 404),
        ("/api/v1/datasets?page=0", 400),
        ("/api/v1/datasets/nope/resources/x/aggregate?limit=0", 400),
        ("/api/v1/sql?q=DROP%20TABLE%20x", 400),
    ]:
        body = assert_error(client.get(url), status)
        for name, prop in error["properties"].items():
            expected = {"string": str, "object": dict}[prop["type"]]
            assert isinstance(body[name], expected), (url, name)
