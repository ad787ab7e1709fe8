"""DCAT-AP.de export: parses in every format, is valid under the official DCAT-AP.de 3.0 SHACL shapes,
carries the provenance of each distribution, and never describes what the actor may not read."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pyshacl
import pytest
from fastapi.testclient import TestClient
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, PROV, RDF, RDFS, SH

from tests.helpers import make_dataset, make_org, write_csv
from urbandata.auth.actor import Actor, RequestContext
from urbandata.catalog import dcat, history, service
from urbandata.errors import InvalidInput, NotFound
from urbandata.stores import Stores

REF = Path(__file__).parents[1] / "data" / "dcat-ap-de"
SPDX = Namespace("http://spdx.org/rdf/terms#")
BASE = "https://daten.kaiserslautern.example"
SHAPES = [
    "dcat-ap-SHACL.jsonld",
    "dcat-ap-SHACL-DE.ttl",
    "dcat-ap-de-deprecated.ttl",
    "dcat-ap-spec-german-additions.ttl",
    "dcat-ap-de-controlledvocabularies.ttl",
]


def _fmt(path: Path) -> str:
    return {".jsonld": "json-ld", ".rdf": "xml"}.get(path.suffix, "turtle")


@lru_cache(maxsize=1)
def _shapes_and_vocab() -> tuple[Graph, Graph, Graph]:
    shapes, ont, vocab = Graph(), Graph(), Graph()
    for name in SHAPES:
        shapes.parse(REF / "shapes" / name, format=_fmt(REF / "shapes" / name))
    for p in sorted((REF / "ontologies").iterdir()):
        ont.parse(p, format=_fmt(p))
    for p in sorted((REF / "vocab").rglob("*.*")):
        vocab.parse(p, format=_fmt(p))
    return shapes, ont, vocab


def shacl_results(graph: Graph) -> list[tuple[str, str, str, str]]:
    """Top-level results (severity, focus node, path, message), as the reference README describes."""
    shapes, ont, vocab = _shapes_and_vocab()
    data = Graph()
    for triple in graph:
        data.add(triple)
    for triple in vocab:
        data.add(triple)
    _, report, _ = pyshacl.validate(data, shacl_graph=shapes, ont_graph=ont, inference="none", allow_warnings=True)
    out = []
    for r in report.objects(None, SH.result):
        sev = str(report.value(r, SH.resultSeverity)).rsplit("#", 1)[-1]
        out.append(
            (
                sev,
                str(report.value(r, SH.focusNode)),
                str(report.value(r, SH.resultPath)),
                str(report.value(r, SH.resultMessage)),
            )
        )
    return out


FULL = {
    "title": "Luftqualität Messstationen",
    "description": "Stündliche Messwerte der Luftmessstationen im Stadtgebiet (Feinstaub PM10, Stickstoffdioxid).",
    "publisher": "Referat Umweltschutz",
    "contact_name": "Umweltreferat",
    "contact_email": "umwelt@kaiserslautern.example",
    "keywords": ["Feinstaub", "Luft"],
    "themes": ["ENVI", "HEAL"],
    "license": "dl-de/by-2-0",
    "frequency": "DAILY",
    "spatial": "Kaiserslautern",
    "spatial_bbox": [7.68, 49.39, 7.85, 49.48],
    "temporal_start": "2024-01-01",
    "temporal_end": "2024-12-31",
    "issued": "2024-02-01",
    "landing_page": "https://www.kaiserslautern.de/umwelt",
}


@pytest.fixture
def catalog(admin: RequestContext, stores: Stores, tmp_path: Path) -> None:
    make_org(admin, stores, "umwelt", "Referat Umweltschutz")
    make_dataset(admin, stores, "luft", org="umwelt", **FULL)
    make_dataset(
        admin,
        stores,
        "intern",
        org="umwelt",
        title="Dienstinterne Messliste",
        description="Nur für den Dienstgebrauch.",
        access_level="internal",
    )
    csv = write_csv(tmp_path / "messwerte.csv", "Station;Datum;PM10\nInnenstadt;01.03.2024;12,5\nNord;01.03.2024;9,1\n")
    service.ingest_file(admin, stores, "luft", csv)
    write_csv(csv, "Station;Datum;PM10\nInnenstadt;02.03.2024;14,0\n")
    service.ingest_file(admin, stores, "luft", csv)
    service.ingest_file(admin, stores, "intern", write_csv(tmp_path / "liste.csv", "A;B\n1;2\n"))


def test_dataset_is_valid_dcat_ap_de_with_provenance(admin: RequestContext, stores: Stores, catalog: None) -> None:
    graph = dcat.catalog_graph(admin, stores, BASE)
    results = shacl_results(graph)
    assert [r for r in results if r[0] == "Violation"] == []
    assert results == []  # not even a warning (deprecated properties, vocabularies)
    # a dataset without a description is reported, not hidden: the export never invents metadata
    make_dataset(admin, stores, "karg", org="umwelt", title="Karg")
    sparse = shacl_results(dcat.dataset_graph(admin, stores, "karg", BASE))
    assert [(r[0], r[2]) for r in sparse if r[0] == "Violation"] == [("Violation", str(DCTERMS.description))]

    ds = URIRef(f"{BASE}/datasets/luft")
    assert (ds, RDF.type, DCAT.Dataset) in graph
    assert str(graph.value(ds, DCTERMS.title)) == FULL["title"]
    themes = set(graph.objects(ds, DCAT.theme))
    eu = "http://publications.europa.eu/resource/authority/"
    assert themes == {URIRef(f"{eu}data-theme/{t}") for t in FULL["themes"]}
    freq = URIRef("http://publications.europa.eu/resource/authority/frequency/DAILY")
    assert graph.value(ds, DCTERMS.accrualPeriodicity) == freq
    dists = set(graph.objects(ds, DCAT.distribution))
    formats = {str(graph.value(d, DCTERMS.format)).rsplit("/", 1)[-1] for d in dists}
    assert {"CSV", "JSON", "PARQUET", "XLSX"} <= formats and "GEOJSON" not in formats  # no coordinates

    csv = URIRef(f"{BASE}/datasets/luft#messwerte-csv")
    assert csv in dists
    download = str(graph.value(csv, DCAT.downloadURL))
    assert download == f"{BASE}/api/v1/datasets/luft/resources/messwerte/export?format=csv"
    assert graph.value(csv, DCTERMS.license) == URIRef("http://dcat-ap.de/def/licenses/dl-by-de/2.0")
    # provenance: the load of the current version (2), by whom, from which file with which SHA-256
    activity = graph.value(csv, PROV.wasGeneratedBy)
    assert activity == URIRef(f"{BASE}/datasets/luft/resources/messwerte/versions/2#laden")
    assert (activity, RDF.type, PROV.Activity) in graph
    assert graph.value(activity, PROV.endedAtTime) is not None
    agent = graph.value(activity, PROV.wasAssociatedWith)
    assert str(graph.value(agent, URIRef("http://xmlns.com/foaf/0.1/name"))) == "system"
    source = graph.value(activity, PROV.used)
    assert str(graph.value(source, DCTERMS.title)) == "messwerte.csv"
    version = service.list_versions(admin, stores, "luft", "messwerte")[0]
    checksum = graph.value(source, SPDX.checksum)
    assert str(graph.value(checksum, SPDX.checksumValue)) == version.source_sha256
    statement = graph.value(csv, DCTERMS.provenance)
    text = str(graph.value(statement, RDFS.label))
    assert "Version 2" in text and version.source_sha256 in text and "messwerte.csv" in text


def test_restore_and_import_show_in_provenance(admin: RequestContext, stores: Stores, catalog: None) -> None:
    history.restore(admin, stores, "luft", "messwerte", 1)
    graph = dcat.dataset_graph(admin, stores, "luft", BASE)
    activity = graph.value(URIRef(f"{BASE}/datasets/luft#messwerte-json"), PROV.wasGeneratedBy)
    assert str(activity).endswith("/versions/3#laden")
    source = graph.value(activity, PROV.used)
    assert graph.value(source, PROV.wasDerivedFrom) == URIRef(f"{BASE}/datasets/luft/resources/messwerte/versions/1")
    statement = graph.value(URIRef(f"{BASE}/datasets/luft#messwerte-json"), DCTERMS.provenance)
    assert "Kopie von Version 1" in str(graph.value(statement, RDFS.label))


def test_internal_dataset_only_for_staff(admin: RequestContext, stores: Stores, catalog: None) -> None:
    anon = RequestContext(actor=Actor.anonymous(), settings=admin.settings)
    public = dcat.catalog_graph(anon, stores, BASE)
    described = set(public.subjects(RDF.type, DCAT.Dataset))
    assert described == {URIRef(f"{BASE}/datasets/luft")}
    assert "Dienstinterne" not in public.serialize(format="turtle")
    with pytest.raises(NotFound):
        dcat.dataset_graph(anon, stores, "intern", BASE)
    staff = RequestContext(actor=Actor(kind="user", username="x"), settings=admin.settings)
    described = set(dcat.catalog_graph(staff, stores, BASE).subjects(RDF.type, DCAT.Dataset))
    assert URIRef(f"{BASE}/datasets/intern") in described


def test_format_negotiation() -> None:
    assert dcat.parse_format(None, None) == "ttl"
    assert dcat.parse_format("jsonld", "text/turtle") == "jsonld"
    assert dcat.parse_format(None, "application/ld+json") == "jsonld"
    assert dcat.parse_format(None, "text/html, application/rdf+xml;q=0.9, text/turtle;q=0.5") == "xml"
    assert dcat.parse_format(None, "text/turtle;q=0.2, application/ld+json;q=0.8") == "jsonld"
    assert dcat.parse_format(None, "text/html") == "ttl"
    with pytest.raises(InvalidInput):
        dcat.parse_format("pdf", None)


def test_dcat_endpoints(client: TestClient, catalog: None) -> None:
    r = client.get("/api/v1/dcat/catalog")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    g = Graph().parse(data=r.text, format="turtle")
    assert {str(s).rsplit("/", 1)[-1] for s in g.subjects(RDF.type, DCAT.Dataset)} == {"luft"}
    assert len(set(g.subjects(RDF.type, DCAT.Catalog))) == 1

    r = client.get("/api/v1/dcat/datasets/luft", headers={"Accept": "application/ld+json"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/ld+json")
    g = Graph().parse(data=r.text, format="json-ld")
    assert any(g.objects(None, PROV.wasGeneratedBy))
    r = client.get("/api/v1/dcat/datasets/luft?format=xml", headers={"Accept": "text/turtle"})
    assert r.headers["content-type"].startswith("application/rdf+xml")
    assert len(Graph().parse(data=r.text, format="xml")) == len(g)

    assert client.get("/api/v1/dcat/datasets/intern").status_code == 404
    assert client.get("/api/v1/dcat/datasets/gibtsnicht").status_code == 404
    r = client.get("/api/v1/dcat/catalog?format=pdf")
    assert r.status_code == 400 and r.json()["error"]["details"]["parameter"] == "format"


def test_sensor_dataset_services_are_valid_dcat(admin: RequestContext, stores: Stores, catalog: None) -> None:
    from tests.sensors.conftest import station
    from urbandata.sensors import service as sta

    sta.post(admin, stores, "Things", station(dataset="luft"), base_url=BASE + "/sta/v1.1")
    graph = dcat.dataset_graph(admin, stores, "luft", BASE)
    assert shacl_results(graph) == []
    services = list(graph.subjects(RDF.type, DCAT.DataService))
    assert len(services) == 1
    assert (services[0], DCTERMS.conformsTo, URIRef("http://www.opengis.net/doc/is/sensorthings/1.1")) in graph
