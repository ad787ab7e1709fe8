"""`urbandata demo`: load the demo catalog through the same services the CLI and API use."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from urbandata.auth.actor import RequestContext
from urbandata.catalog import service
from urbandata.catalog.models import OrganizationIn
from urbandata.demo.generated import NOTE, write_population, write_waiting_times
from urbandata.demo.sensors import load_sensor_demo
from urbandata.errors import NotFound
from urbandata.stores import Stores

DATA = Path(__file__).parent / "data"

ORGS = [
    ("statistik", "Referat Statistik und Wahlen", "Statistik, Wahlen und Bevölkerungsdaten der Stadt."),
    (
        "digitalisierung",
        "Referat Digitalisierung und Innovation",
        "Stabsstelle Digitalisierung: urbane Datenplattform.",
    ),
    ("buergerdienste", "Referat Bürgerdienste", "Bürgerbüros und Bürgerservice."),
    ("mobilitaet", "Referat Mobilität", "Verkehr, Parken und Mobilität."),
    ("extern", "Partnerdaten anderer Städte", "Offene Daten anderer Kommunen zur Referenz (mit Namensnennung)."),
]

# (slug, org, file, resource, metadata)
DATASETS: list[tuple[str, str, str, str, dict[str, Any]]] = [
    (
        "einwohner-stadtteile",
        "statistik",
        "generated:population",
        "einwohner",
        {
            "title": "Einwohner nach Stadtteilen (generierte Beispieldaten)",
            "description": f"**{NOTE}.** Einwohner, Fläche und Altersanteile je Stadtteil, jährlich zum 31.12.",
            "keywords": ["Bevölkerung", "Stadtteile", "Einwohner", "Beispieldaten"],
            "themes": ["SOCI", "REGI"],
            "license": "dl-de/zero-2-0",
            "frequency": "ANNUAL",
            "access_level": "public",
        },
    ),
    (
        "wartezeiten-buergerbuero",
        "buergerdienste",
        "generated:waiting",
        "wartezeiten",
        {
            "title": "Wartezeiten im Bürgerbüro (verwaltungsintern, generiert)",
            "description": f"**{NOTE}.** Wartende und Wartezeiten je Stunde; nur für Beschäftigte der Verwaltung.",
            "keywords": ["Bürgerbüro", "Wartezeit"],
            "themes": ["GOVE"],
            "license": "other-closed",
            "frequency": "DAILY",
            "access_level": "internal",
        },
    ),
    (
        "parkhaeuser-kaiserslautern",
        "mobilitaet",
        "kaiserslautern_parkhaeuser.geojson",
        "standorte",
        {
            "title": "Parkhäuser in Kaiserslautern",
            "description": "Standorte und Kapazitäten der Parkhäuser. Zusammengestellt von den ParkAPI-Mitwirkenden "
            "(MIT-Lizenz, Copyright (c) 2015 Kilian Koeltzsch und Mitwirkende).",
            "keywords": ["Parken", "Parkhaus", "Mobilität"],
            "themes": ["TRAN"],
            "license": "mit",
            "attribution": "ParkAPI-Mitwirkende, Copyright (c) 2015 Kilian Koeltzsch and contributors, MIT-Lizenz",
            "frequency": "IRREG",
            "access_level": "public",
        },
    ),
    (
        "bundestagswahl-2013-koeln",
        "extern",
        "koeln_btw2013_result_stadtteil.csv",
        "ergebnis",
        {
            "title": "Bundestagswahl 2013 – Ergebnisse nach Stadtteilen (Köln)",
            "description": "Zweitstimmenergebnisse der Bundestagswahl 2013 je Kölner Stadtteil.",
            "keywords": ["Wahlen", "Bundestagswahl"],
            "themes": ["GOVE"],
            "license": "cc-by-de-3.0",
            "attribution": "Datenquelle: Stadt Köln – Bundestagswahl 2013, Ergebnisse nach Stadtteilen, "
            "Lizenz CC BY 3.0 DE",
            "frequency": "NEVER",
            "access_level": "public",
            "publisher": "Stadt Köln",
        },
    ),
    (
        "haushalt-bezirke-koeln",
        "extern",
        "koeln_bezirke_einzeldarstellung.csv",
        "haushalt",
        {
            "title": "Haushalt der Stadtbezirke 2011–2017 (Köln)",
            "description": "Ergebnis 2011 und Planwerte 2012–2017 je Stadtbezirk und Teilplanzeile (Euro).",
            "keywords": ["Haushalt", "Finanzen"],
            "themes": ["ECON", "GOVE"],
            "license": "cc-by-de-3.0",
            "attribution": "Datenquelle: Stadt Köln – Offene Daten Köln, Haushalt: Bezirke_Einzeldarstellung, "
            "Lizenz CC BY 3.0 DE (https://creativecommons.org/licenses/by/3.0/de/)",
            "frequency": "ANNUAL",
            "access_level": "public",
            "publisher": "Stadt Köln",
        },
    ),
    (
        "flaechennutzung-koeln",
        "extern",
        "itnrw_33111-02ir_koeln_flaechennutzung.csv",
        "flaechen",
        {
            "title": "Flächennutzung Köln 1994–2012 (IT.NRW, GENESIS-Export)",
            "description": "Katasterfläche nach Art der tatsächlichen Nutzung, Stichtag 31.12. (Ar).",
            "keywords": ["Flächennutzung", "Statistik"],
            "themes": ["REGI", "ENVI"],
            "license": "other-open",
            "attribution": "Quelle: IT.NRW, Landesdatenbank NRW, Tabelle 33111-02ir (Flächenerhebung nach Art der "
            "tatsächlichen Nutzung, Köln), Stand 07.10.2013",
            "frequency": "ANNUAL",
            "access_level": "public",
            "publisher": "IT.NRW",
        },
    ),
    (
        "zugriffsstatistik-berlin",
        "extern",
        "berlin_daten_berlin_de_domain_stats.csv",
        "monate",
        {
            "title": "Zugriffsstatistik daten.berlin.de",
            "description": "Monatliche Seitenaufrufe und Besuche des Berliner Datenportals.",
            "keywords": ["Open Data", "Statistik"],
            "themes": ["GOVE", "TECH"],
            "license": "cc-by-de-3.0",
            "attribution": "BerlinOnline Stadtportal GmbH & Co. KG – Zugriffsstatistik daten.berlin.de, "
            "Lizenz CC BY 3.0 DE",
            "frequency": "MONTHLY",
            "access_level": "public",
            "publisher": "BerlinOnline Stadtportal GmbH & Co. KG",
        },
    ),
    (
        "parken-jena",
        "extern",
        "jena_parken.geojson",
        "parkplaetze",
        {
            "title": "Parkplätze in Jena",
            "description": "Parkplätze und Parkhäuser der Stadt Jena als Punkte.",
            "keywords": ["Parken", "Mobilität"],
            "themes": ["TRAN"],
            "license": "dl-de/by-2-0",
            "attribution": "Stadt Jena, Datenlizenz Deutschland – Namensnennung – Version 2.0 "
            "(https://www.govdata.de/dl-de/by-2-0), https://opendata.jena.de/dataset/parken",
            "frequency": "IRREG",
            "access_level": "public",
            "publisher": "Stadt Jena",
        },
    ),
]


def load_demo(ctx: RequestContext, stores: Stores, *, sensors: bool = False) -> Iterator[str]:
    """Create the demo organisations and datasets (skipping what exists); yield progress lines.
    `sensors`: also the sensor demo (car park snapshot, simulated sensors; `urbandata demo` does)."""
    known = {o.slug for o in service.list_orgs(ctx, stores)}
    for slug, name, description in ORGS:
        if slug not in known:
            service.create_org(ctx, stores, OrganizationIn(slug=slug, name=name, description=description))
            yield f"organisation {slug} created"
    with tempfile.TemporaryDirectory(dir=stores.tmp_dir) as tmp:
        for slug, org, file, resource, meta in DATASETS:
            try:
                service.get_dataset(ctx, stores, slug)
                yield f"dataset {slug} exists, kept"
                continue
            except NotFound:
                pass
            if file == "generated:population":
                path = write_population(Path(tmp) / "einwohner_stadtteile.csv")
            elif file == "generated:waiting":
                path = write_waiting_times(Path(tmp) / "wartezeiten.csv")
            else:
                path = DATA / file
            service.create_dataset(ctx, stores, slug, org, meta)
            version = service.ingest_file(ctx, stores, slug, path, resource=resource)
            yield f"dataset {slug}: {version.row_count:,} rows loaded from {path.name}"
    if sensors:
        yield from load_sensor_demo(ctx, stores)
    yield "demo data loaded; attribution of the real files: urbandata/demo/data/ATTRIBUTION.md"
