"""DCAT-AP.de 3 metadata of the catalog as RDF (rdflib), with provenance of every distribution.

One `dcat:Catalog` holds every dataset the actor may read (the visibility comes from the catalog
services, which ask `auth.policy`; an internal dataset never appears for an anonymous visitor). Each
`dcat:Dataset` carries the DCAT-AP.de properties of the metadata profile (profile.yaml, `dcat:` keys);
each loaded resource gives one `dcat:Distribution` per export format. Provenance of a distribution is
the lineage of the resource's current version in PROV-O: `prov:wasGeneratedBy` a load activity
(when, by whom, transformations applied), which `prov:used` the source (file name, SHA-256, import
URL), plus a human-readable `dct:provenance` statement.

Output formats: Turtle, JSON-LD and RDF/XML (`serialize`). Valid under the official DCAT-AP.de 3 SHACL
shapes for a well-filled dataset (tests/catalog/test_dcat.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from rdflib import BNode, Graph, Namespace, URIRef
from rdflib import Literal as Lit
from rdflib.namespace import DCAT, DCTERMS, FOAF, PROV, RDF, RDFS, SKOS, XSD

from urbandata.auth.actor import RequestContext
from urbandata.auth.guard import guarded
from urbandata.catalog import service
from urbandata.catalog.exports import FORMATS, LAT_NAMES, LON_NAMES
from urbandata.catalog.models import DataService, Dataset, Resource, Version
from urbandata.catalog.profile import load_profile
from urbandata.errors import InvalidInput
from urbandata.stores import Stores

DCATDE = Namespace("http://dcat-ap.de/def/dcatde/")
DCATAP = Namespace("http://data.europa.eu/r5r/")
LOCN = Namespace("http://www.w3.org/ns/locn#")
GSP = Namespace("http://www.opengis.net/ont/geosparql#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
EU = "http://publications.europa.eu/resource/authority/"
PUBLISHER_TYPE = URIRef("http://purl.org/adms/publishertype/LocalAuthority")
LEVEL_MUNICIPALITY = URIRef("http://dcat-ap.de/def/politicalGeocoding/Level/municipality")
PREFIXES = {
    "dcat": DCAT,
    "dct": DCTERMS,
    "dcatde": DCATDE,
    "dcatap": DCATAP,
    "foaf": FOAF,
    "vcard": VCARD,
    "prov": PROV,
    "locn": LOCN,
    "spdx": SPDX,
    "skos": SKOS,
    "rdfs": RDFS,
    "xsd": XSD,
}
# EU file-type codes of our export formats; NDJSON has none (it is described by its media type only)
FILE_TYPES = {"csv": "CSV", "json": "JSON", "geojson": "GEOJSON", "parquet": "PARQUET", "xlsx": "XLSX"}

RdfFormat = Literal["ttl", "jsonld", "xml"]
MEDIA_TYPES: dict[RdfFormat, str] = {
    "ttl": "text/turtle",
    "jsonld": "application/ld+json",
    "xml": "application/rdf+xml",
}
_RDFLIB_FORMATS: dict[RdfFormat, str] = {"ttl": "turtle", "jsonld": "json-ld", "xml": "pretty-xml"}
PAGE = 100


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def _datetime(t: dt.datetime) -> Lit:
    return Lit(_aware(t).isoformat(timespec="seconds"), datatype=XSD.dateTime)


def _de(text: str) -> Lit:
    return Lit(text, lang="de")


def export_formats(res: Resource) -> list[str]:
    """Export formats of a resource; GeoJSON only where there is a geometry or latitude/longitude."""
    fields = (res.schema_ or {}).get("fields", [])
    names = {str(f.get("name", "")).lower() for f in fields}
    geo = any(f.get("type") == "geojson" for f in fields) or bool(names & LAT_NAMES and names & LON_NAMES)
    return [f for f in FORMATS if f != "geojson" or geo]


class _Builder:
    """Adds datasets to one graph; organisations (publishers) are added once."""

    def __init__(self, ctx: RequestContext, stores: Stores, base: str) -> None:
        self.ctx, self.stores, self.base = ctx, stores, base.rstrip("/")
        self.graph = Graph()
        for prefix, ns in PREFIXES.items():
            self.graph.bind(prefix, ns)
        self.profile = load_profile()
        self._publishers: set[str] = set()

    def uri(self, path: str) -> URIRef:
        return URIRef(f"{self.base}{path}")

    def vocab_uri(self, vocabulary: str, code: str | None) -> URIRef | None:
        entry = self.profile.vocabulary(vocabulary).get(code or "")
        return URIRef(entry["uri"]) if entry and entry.get("uri") else None

    def publisher(self, slug: str, name: str) -> URIRef:
        node = self.uri(f"/organizations/{slug}")
        if slug not in self._publishers:
            self._publishers.add(slug)
            g = self.graph
            g.add((node, RDF.type, FOAF.Organization))
            g.add((node, FOAF.name, _de(name)))
            g.add((node, DCTERMS.type, PUBLISHER_TYPE))
        return node

    def catalog(self, datasets: list[URIRef], modified: dt.datetime | None) -> URIRef:
        g, settings = self.graph, self.ctx.settings
        node = self.uri("/api/v1/dcat/catalog")
        city = self.uri("/#stadt")
        g.add((city, RDF.type, FOAF.Organization))
        g.add((city, FOAF.name, _de(f"Stadt {settings.city_name}")))
        g.add((city, DCTERMS.type, PUBLISHER_TYPE))
        g.add((node, RDF.type, DCAT.Catalog))
        g.add((node, DCTERMS.title, _de(f"Daten der Stadt {settings.city_name}")))
        g.add((node, DCTERMS.description, _de(f"Offene und verwaltungsinterne Daten der Stadt {settings.city_name}.")))
        g.add((node, DCTERMS.publisher, city))
        g.add((node, DCTERMS.language, URIRef(f"{EU}language/DEU")))
        g.add((node, FOAF.homepage, self.uri("/")))
        if modified is not None:
            g.add((node, DCTERMS.modified, _datetime(modified)))
        for d in datasets:
            g.add((node, DCAT.dataset, d))
        return node

    def dataset(self, ds: Dataset) -> URIRef:
        g, meta = self.graph, ds.meta
        node = self.uri(f"/datasets/{ds.slug}")
        g.add((node, RDF.type, DCAT.Dataset))
        g.add((node, DCTERMS.identifier, Lit(str(node))))
        g.add((node, DCTERMS.title, _de(ds.title)))
        if ds.description.strip():
            g.add((node, DCTERMS.description, _de(ds.description)))
        g.add((node, DCTERMS.publisher, self.publisher(ds.organization, meta.get("publisher") or ds.organization_name)))
        self._contact(node, meta)
        for k in ds.keywords:
            g.add((node, DCAT.keyword, _de(k)))
        for t in ds.themes:
            g.add((node, DCAT.theme, URIRef(f"{EU}data-theme/{t}")))
        if ds.frequency:
            g.add((node, DCTERMS.accrualPeriodicity, URIRef(f"{EU}frequency/{ds.frequency}")))
        access = self.vocab_uri("access_levels", ds.access_level)
        if access is not None:
            g.add((node, DCTERMS.accessRights, access))
        language = self.vocab_uri("languages", meta.get("language") or "DEU")
        if language is not None:
            g.add((node, DCTERMS.language, language))
        self._spatial(node, meta)
        self._temporal(node, meta)
        issued = ds.issued or ds.created_at
        g.add((node, DCTERMS.issued, _datetime(issued)))
        if ds.modified is not None:
            g.add((node, DCTERMS.modified, _datetime(ds.modified)))
        landing = URIRef(meta.get("landing_page") or str(node))
        g.add((node, DCAT.landingPage, landing))
        g.add((landing, RDF.type, FOAF.Document))
        if meta.get("conforms_to"):
            standard = URIRef(meta["conforms_to"])
            g.add((node, DCTERMS.conformsTo, standard))
            g.add((standard, RDF.type, DCTERMS.Standard))
        for res in ds.resources:
            if res.current_version is None:
                continue
            versions = service.list_versions(self.ctx, self.stores, ds.slug, res.name)
            current = next((v for v in versions if v.current), None)
            activity = self._provenance(ds, res, current) if current is not None else None
            for fmt in export_formats(res):
                g.add((node, DCAT.distribution, self._distribution(ds, res, fmt, current, activity)))
        for svc in ds.services:
            g.add((node, DCAT.distribution, self._service_distribution(ds, svc)))
        return node

    def _service_distribution(self, ds: Dataset, svc: DataService) -> URIRef:
        """A live access point (e.g. the SensorThings API) as a distribution with its data service."""
        g = self.graph
        node = self.uri(f"/datasets/{ds.slug}#{svc.kind}")
        url = URIRef(svc.url) if svc.url.startswith(("http://", "https://")) else self.uri(svc.url.replace(" ", "%20"))
        g.add((node, RDF.type, DCAT.Distribution))
        g.add((node, DCTERMS.title, _de(svc.title)))
        g.add((node, DCAT.accessURL, url))
        g.add((node, DCAT.mediaType, URIRef(f"https://www.iana.org/assignments/media-types/{svc.media_type}")))
        lic = self.vocab_uri("licenses", ds.license)
        if lic is not None:
            g.add((node, DCTERMS.license, lic))
        if svc.conforms_to:
            standard = URIRef(svc.conforms_to)
            g.add((node, DCTERMS.conformsTo, standard))
            g.add((standard, RDF.type, DCTERMS.Standard))
            api = BNode()
            g.add((node, DCAT.accessService, api))
            g.add((api, RDF.type, DCAT.DataService))
            g.add((api, DCTERMS.title, _de(svc.title)))
            g.add((api, DCAT.endpointURL, url))
            g.add((api, DCTERMS.conformsTo, standard))
            g.add(
                (
                    api,
                    DCTERMS.publisher,
                    self.publisher(ds.organization, ds.meta.get("publisher") or ds.organization_name),
                )
            )
            lic = self.vocab_uri("licenses", ds.license)
            if lic is not None:
                g.add((api, DCTERMS.license, lic))
        else:
            g.add((node, DCAT.downloadURL, url))
        return node

    def _contact(self, node: URIRef, meta: dict[str, Any]) -> None:
        if not (meta.get("contact_name") or meta.get("contact_email") or meta.get("contact_url")):
            return
        g = self.graph
        contact = URIRef(f"{node}#kontakt")
        g.add((node, DCAT.contactPoint, contact))
        g.add((contact, RDF.type, VCARD.Organization))
        g.add((contact, VCARD.fn, Lit(meta.get("contact_name") or meta.get("contact_email") or meta["contact_url"])))
        if meta.get("contact_email"):
            g.add((contact, VCARD.hasEmail, URIRef(f"mailto:{meta['contact_email']}")))
        if meta.get("contact_url"):
            g.add((contact, VCARD.hasURL, URIRef(meta["contact_url"])))

    def _spatial(self, node: URIRef, meta: dict[str, Any]) -> None:
        g = self.graph
        if meta.get("spatial") or meta.get("spatial_bbox"):
            place = BNode()
            g.add((node, DCTERMS.spatial, place))
            g.add((place, RDF.type, DCTERMS.Location))
            if meta.get("spatial"):
                g.add((place, SKOS.prefLabel, _de(meta["spatial"])))
            bbox = meta.get("spatial_bbox")
            if bbox:
                w, s, e, n = (float(x) for x in bbox)
                wkt = f"POLYGON(({w} {s}, {e} {s}, {e} {n}, {w} {n}, {w} {s}))"
                g.add((place, DCAT.bbox, Lit(wkt, datatype=GSP.wktLiteral)))
        if meta.get("political_geocoding"):  # DCAT-AP.de 3: the geocoding IRI is a dct:spatial location
            geocoding = URIRef(meta["political_geocoding"])
            g.add((node, DCTERMS.spatial, geocoding))
            g.add((geocoding, RDF.type, DCTERMS.Location))
            g.add((node, DCATDE.politicalGeocodingLevelURI, LEVEL_MUNICIPALITY))

    def _temporal(self, node: URIRef, meta: dict[str, Any]) -> None:
        if not (meta.get("temporal_start") or meta.get("temporal_end")):
            return
        g = self.graph
        period = BNode()
        g.add((node, DCTERMS.temporal, period))
        g.add((period, RDF.type, DCTERMS.PeriodOfTime))
        if meta.get("temporal_start"):
            g.add((period, DCAT.startDate, Lit(str(meta["temporal_start"])[:10], datatype=XSD.date)))
        if meta.get("temporal_end"):
            g.add((period, DCAT.endDate, Lit(str(meta["temporal_end"])[:10], datatype=XSD.date)))

    def _provenance(self, ds: Dataset, res: Resource, v: Version) -> URIRef:
        """The load of the current version as a prov:Activity that used the source."""
        g, report = self.graph, v.report
        kind = str(report.get("source") or "upload")
        activity = self.uri(f"/datasets/{ds.slug}/resources/{res.name}/versions/{v.version}#laden")
        g.add((activity, RDF.type, PROV.Activity))
        g.add((activity, RDFS.label, _de(f"Laden von Version {v.version} ({kind})")))
        g.add((activity, PROV.endedAtTime, _datetime(v.created_at)))
        if v.created_by:
            agent = BNode()
            g.add((activity, PROV.wasAssociatedWith, agent))
            g.add((agent, RDF.type, PROV.Agent))
            g.add((agent, FOAF.name, Lit(v.created_by)))
        source = BNode()
        g.add((activity, PROV.used, source))
        g.add((source, RDF.type, PROV.Entity))
        g.add((source, DCTERMS.title, Lit(v.source_name)))
        g.add((source, DCAT.byteSize, Lit(v.source_size, datatype=XSD.nonNegativeInteger)))
        checksum = BNode()
        g.add((source, SPDX.checksum, checksum))
        g.add((checksum, RDF.type, SPDX.Checksum))
        g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
        g.add((SPDX.checksumAlgorithm_sha256, RDF.type, SPDX.ChecksumAlgorithm))  # as the SPDX ontology says
        g.add((checksum, SPDX.checksumValue, Lit(v.source_sha256, datatype=XSD.hexBinary)))
        origin = report.get("import") or {}
        if origin.get("url"):  # imports from URLs and other catalogs; folder paths stay internal
            g.add((source, PROV.atLocation, URIRef(str(origin["url"]))))
        if report.get("restored_from"):
            earlier = self.uri(f"/datasets/{ds.slug}/resources/{res.name}/versions/{report['restored_from']}")
            g.add((source, PROV.wasDerivedFrom, earlier))
        for note in report.get("notes", []):
            g.add((activity, RDFS.comment, _de(str(note))))
        return activity

    def _statement(self, res: Resource, v: Version) -> BNode:
        report = v.report
        kind = {"upload": "Hochgeladen", "import": "Automatisch importiert", "restore": "Wiederhergestellt"}.get(
            str(report.get("source") or "upload"), str(report.get("source"))
        )
        parts = [
            f"Version {v.version} von {res.title or res.name}: {kind} am {_aware(v.created_at):%d.%m.%Y %H:%M} UTC"
            + (f" von {v.created_by}" if v.created_by else ""),
            f"Quelle: {v.source_name} (SHA-256 {v.source_sha256})",
        ]
        url = (report.get("import") or {}).get("url")
        if url:
            parts.append(f"Abgerufen von {url}")
        if report.get("restored_from"):
            parts.append(f"Kopie von Version {report['restored_from']}")
        notes = [str(n) for n in report.get("notes", [])]
        if notes:
            parts.append("Umwandlungen: " + "; ".join(notes))
        node = BNode()
        self.graph.add((node, RDF.type, DCTERMS.ProvenanceStatement))
        self.graph.add((node, RDFS.label, _de(". ".join(parts) + ".")))
        return node

    def _distribution(
        self, ds: Dataset, res: Resource, fmt: str, current: Version | None, activity: URIRef | None
    ) -> URIRef:
        g = self.graph
        api = f"/api/v1/datasets/{ds.slug}/resources/{res.name}/export?format={fmt}"
        node = self.uri(f"/datasets/{ds.slug}#{res.name}-{fmt}")
        url = self.uri(api)
        g.add((node, RDF.type, DCAT.Distribution))
        g.add((node, DCTERMS.title, _de(f"{res.title or res.name} ({fmt.upper()})")))
        if res.description:
            g.add((node, DCTERMS.description, _de(res.description)))
        g.add((node, DCAT.accessURL, url))
        g.add((node, DCAT.downloadURL, url))
        if fmt in FILE_TYPES:
            g.add((node, DCTERMS.format, URIRef(f"{EU}file-type/{FILE_TYPES[fmt]}")))
        media = FORMATS[fmt][0].split(";")[0]
        g.add((node, DCAT.mediaType, URIRef(f"https://www.iana.org/assignments/media-types/{media}")))
        lic = self.vocab_uri("licenses", ds.license)
        if lic is not None:
            g.add((node, DCTERMS.license, lic))
        if ds.attribution:
            g.add((node, DCATDE.licenseAttributionByText, Lit(ds.attribution)))
        if res.updated_at is not None:
            g.add((node, DCTERMS.modified, _datetime(res.updated_at)))
        if current is not None and activity is not None:
            g.add((node, PROV.wasGeneratedBy, activity))
            g.add((node, DCTERMS.provenance, self._statement(res, current)))
        return node


def _visible_slugs(ctx: RequestContext, stores: Stores) -> list[str]:
    slugs: list[str] = []
    page = 1
    while True:
        result = service.search_datasets(ctx, stores, "", {}, sort="title", page=page, page_size=PAGE)
        slugs += [d.slug for d in result.results]
        if page * PAGE >= result.count or not result.results:
            return slugs
        page += 1


@guarded("dataset.read")
def catalog_graph(ctx: RequestContext, stores: Stores, base_url: str) -> Graph:
    """The whole catalog as the actor sees it: every readable dataset with its distributions."""
    builder = _Builder(ctx, stores, base_url)
    nodes, modified = [], []
    for slug in _visible_slugs(ctx, stores):
        ds = service.get_dataset(ctx, stores, slug)
        nodes.append(builder.dataset(ds))
        modified.append(_aware(ds.modified or ds.created_at))
    builder.catalog(nodes, max(modified) if modified else None)
    return builder.graph


@guarded("dataset.read")
def dataset_graph(ctx: RequestContext, stores: Stores, slug: str, base_url: str) -> Graph:
    """One dataset (a 404 if the actor may not read it) with its distributions and their provenance."""
    builder = _Builder(ctx, stores, base_url)
    builder.dataset(service.get_dataset(ctx, stores, slug))
    return builder.graph


def parse_format(value: str | None, accept: str | None = None) -> RdfFormat:
    """The output format: `?format=` wins, else the Accept header (q-values respected), else Turtle."""
    if value:
        aliases: dict[str, RdfFormat] = {"ttl": "ttl", "turtle": "ttl", "jsonld": "jsonld", "json-ld": "jsonld"}
        aliases |= {"xml": "xml", "rdf": "xml", "rdfxml": "xml"}
        if value.lower() not in aliases:
            raise InvalidInput(f"Unknown format {value!r}; use ttl, jsonld or xml", parameter="format")
        return aliases[value.lower()]
    by_type = {m: f for f, m in MEDIA_TYPES.items()}
    by_type |= {"application/json": "jsonld", "application/xml": "xml", "text/xml": "xml"}
    offers: list[tuple[float, int, RdfFormat]] = []
    for i, part in enumerate((accept or "").split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        if media.lower() in by_type and q > 0:
            offers.append((-q, i, by_type[media.lower()]))
    return sorted(offers)[0][2] if offers else "ttl"


def serialize(graph: Graph, fmt: RdfFormat) -> bytes:
    if fmt == "jsonld":
        context = {prefix: str(ns) for prefix, ns in PREFIXES.items()}
        return graph.serialize(format="json-ld", context=context, auto_compact=True).encode("utf-8")
    return graph.serialize(format=_RDFLIB_FORMATS[fmt]).encode("utf-8")
