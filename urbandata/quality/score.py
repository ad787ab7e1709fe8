"""The quality score (0–100) of a resource, a dataset and an organisation.

Six components, each between 0 and 1, weighted (weights sum to 100):

- **conformance** (25): `loaded / (loaded + rejected)` rows of the version's ingest, times the share of
  validation rules the version passes (1 without rules);
- **completeness** (20): mean over the columns of the share of rows with a value;
- **freshness** (20): fresh 1, due 0.5, overdue 0 (see `quality.freshness`);
- **metadata** (15): DCAT-AP.de properties filled, `0.6 * mandatory share + 0.4 * recommended share`
  (`MANDATORY`, `RECOMMENDED` below, named by their fields in catalog/profile.yaml);
- **openness** (10): `0.5 * format + 0.5 * licence`; format: CSV, JSON, NDJSON, GeoJSON, Parquet 1,
  Excel 0.5, other 0; licence: 1 when profile.yaml marks it `open`;
- **documentation** (10): share of columns with a description in the Table Schema.

`score = round(sum(weight * component))`. A resource without a loaded version scores 0 for
conformance, completeness and documentation. A dataset's components are the means of its resources'
(metadata and licence are the dataset's own; freshness is its stalest resource's); a dataset without
resources has only its metadata and licence. An organisation's score is the mean of its datasets'.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

WEIGHTS: dict[str, int] = {
    "conformance": 25,
    "completeness": 20,
    "freshness": 20,
    "metadata": 15,
    "openness": 10,
    "documentation": 10,
}

# DCAT-AP.de 3 properties of a dcat:Dataset as fields of the metadata profile (catalog/profile.yaml)
MANDATORY = ("title", "description", "publisher", "license", "access_level")
RECOMMENDED = (
    "keywords",
    "themes",
    "frequency",
    "contact_email",
    "spatial",
    "political_geocoding",
    "temporal_start",
    "issued",
    "language",
    "landing_page",
)
OPEN_FORMATS = {"CSV": 1.0, "JSON": 1.0, "NDJSON": 1.0, "GEOJSON": 1.0, "PARQUET": 1.0, "XLSX": 0.5, "XLS": 0.5}


@dataclass(frozen=True)
class ResourceFacts:
    """What the score of one resource is computed from."""

    loaded: bool
    rows_loaded: int
    rows_rejected: int
    rules_total: int
    rules_passed: int
    completeness: Mapping[str, float]
    described_columns: int
    columns: int
    format: str | None
    freshness: float


def _filled(value: Any) -> bool:
    return value not in (None, "", [], {})


def metadata_component(meta: Mapping[str, Any]) -> tuple[float, list[str]]:
    """(share, missing property names) of the DCAT-AP.de properties filled in `meta`."""
    missing = [f for f in (*MANDATORY, *RECOMMENDED) if not _filled(meta.get(f))]
    mandatory = sum(1 for f in MANDATORY if f not in missing) / len(MANDATORY)
    recommended = sum(1 for f in RECOMMENDED if f not in missing) / len(RECOMMENDED)
    return 0.6 * mandatory + 0.4 * recommended, missing


def format_openness(fmt: str | None) -> float:
    return OPEN_FORMATS.get((fmt or "").upper(), 0.0)


def resource_components(facts: ResourceFacts, metadata: float, open_licence: bool) -> dict[str, float]:
    licence = 1.0 if open_licence else 0.0
    if not facts.loaded:
        return {
            "conformance": 0.0,
            "completeness": 0.0,
            "freshness": facts.freshness,
            "metadata": metadata,
            "openness": 0.5 * licence,
            "documentation": 0.0,
        }
    total = facts.rows_loaded + facts.rows_rejected
    ingest = facts.rows_loaded / total if total else 1.0
    rules = facts.rules_passed / facts.rules_total if facts.rules_total else 1.0
    values = list(facts.completeness.values())
    return {
        "conformance": ingest * rules,
        "completeness": sum(values) / len(values) if values else 1.0,
        "freshness": facts.freshness,
        "metadata": metadata,
        "openness": 0.5 * format_openness(facts.format) + 0.5 * licence,
        "documentation": facts.described_columns / facts.columns if facts.columns else 0.0,
    }


def combine(components: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Mean of several components dicts (a dataset from its resources)."""
    if not components:
        return {}
    return {k: sum(c[k] for c in components) / len(components) for k in WEIGHTS}


def dataset_components(
    resources: Sequence[Mapping[str, float]], metadata: float, open_licence: bool, freshness: float
) -> dict[str, float]:
    if not resources:
        return {
            "conformance": 0.0,
            "completeness": 0.0,
            "freshness": freshness,
            "metadata": metadata,
            "openness": 0.5 if open_licence else 0.0,
            "documentation": 0.0,
        }
    return {**combine(resources), "metadata": metadata, "freshness": freshness}


def score(components: Mapping[str, float]) -> int:
    """The weighted score 0–100 of a components dict."""
    return round(sum(WEIGHTS[k] * max(0.0, min(1.0, components.get(k, 0.0))) for k in WEIGHTS))


def mean_score(scores: Sequence[int]) -> int:
    return round(sum(scores) / len(scores)) if scores else 0
