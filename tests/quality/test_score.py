"""The documented score formula."""

from __future__ import annotations

from urbandata.catalog.profile import load_profile
from urbandata.quality.score import (
    MANDATORY,
    RECOMMENDED,
    WEIGHTS,
    ResourceFacts,
    dataset_components,
    mean_score,
    metadata_component,
    resource_components,
    score,
)


def facts(**kw: object) -> ResourceFacts:
    base: dict[str, object] = {
        "loaded": True,
        "rows_loaded": 90,
        "rows_rejected": 10,
        "rules_total": 4,
        "rules_passed": 3,
        "completeness": {"a": 1.0, "b": 0.5},
        "described_columns": 1,
        "columns": 2,
        "format": "CSV",
        "freshness": 0.5,
    }
    return ResourceFacts(**{**base, **kw})  # type: ignore[arg-type]


def test_weights_sum_to_100_and_properties_are_profile_fields() -> None:
    assert sum(WEIGHTS.values()) == 100
    assert set(MANDATORY) | set(RECOMMENDED) <= set(load_profile().fields) | {"publisher"}


def test_resource_components_and_score() -> None:
    c = resource_components(facts(), metadata=0.8, open_licence=True)
    assert c == {
        "conformance": 0.9 * 0.75,
        "completeness": 0.75,
        "freshness": 0.5,
        "metadata": 0.8,
        "openness": 1.0,
        "documentation": 0.5,
    }
    # 25*0.675 + 20*0.75 + 20*0.5 + 15*0.8 + 10*1 + 10*0.5 = 16.875 + 15 + 10 + 12 + 10 + 5 = 68.875
    assert score(c) == 69
    xlsx = resource_components(facts(format="XLSX"), metadata=0.8, open_licence=False)
    assert xlsx["openness"] == 0.25
    empty = resource_components(facts(loaded=False), metadata=1.0, open_licence=True)
    assert score(empty) == round(20 * 0.5 + 15 + 5)


def test_metadata_and_dataset_aggregation() -> None:
    full = dict.fromkeys((*MANDATORY, *RECOMMENDED), "x")
    assert metadata_component(full) == (1.0, [])
    share, missing = metadata_component({"title": "T", "license": "cc-zero", "keywords": []})
    assert missing[:3] == ["description", "publisher", "access_level"] and "keywords" in missing
    assert share == 0.6 * 2 / 5
    a = resource_components(facts(), 0.5, True)
    b = resource_components(facts(completeness={"a": 0.0}), 0.5, True)
    d = dataset_components([a, b], metadata=0.5, open_licence=True, freshness=0.0)
    assert d["completeness"] == (0.75 + 0.0) / 2 and d["freshness"] == 0.0
    assert dataset_components([], 1.0, False, 1.0)["openness"] == 0.0
    assert mean_score([50, 71]) == 60 and mean_score([]) == 0
