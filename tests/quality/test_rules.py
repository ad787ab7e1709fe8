"""Rule shapes and the checks made when rules are saved (no storage needed)."""

from __future__ import annotations

import pytest

from urbandata.errors import InvalidInput
from urbandata.quality.rules import check_rules, dump_rules, parse_rules

TYPES = {"Id": "integer", "Name": "string", "Wert": "number", "Tag": "date", "Code": "string"}


def no_target(dataset: str, resource: str) -> dict[str, str] | None:
    return {"Code": "string"} if (dataset, resource) == ("bezirke", "liste") else None


def check(rules: object) -> list[dict[str, object]]:
    return dump_rules(check_rules(parse_rules(rules), TYPES, no_target))


def test_valid_rules_round_trip() -> None:
    rules = [
        {"type": "required", "columns": ["Id", "Name"]},
        {"type": "unique", "columns": ["Id", "Tag"]},
        {"type": "range", "column": "Wert", "min": 0},
        {"type": "enum", "column": "Id", "values": ["1", 2]},
        {"type": "pattern", "column": "Code", "pattern": "[0-9]{2}"},
        {"type": "date", "column": "Tag", "max": "2030-12-31", "not_future": True},
        {"type": "foreign_key", "column": "Code", "dataset": "bezirke", "resource": "liste", "target_column": "Code"},
        {"type": "row_count_change", "max_percent": 20},
    ]
    out = check(rules)
    assert out[3]["values"] == [1, 2]  # coerced to the column's type
    assert out[5]["max"] == "2030-12-31"


@pytest.mark.parametrize(
    "rules, fragment",
    [
        ([{"type": "range", "column": "Wert"}], "give min, max or both"),
        ([{"type": "range", "column": "Wert", "min": 3, "max": 2}], "min 3 is greater than max 2"),
        ([{"type": "required", "columns": ["Id", "Id"]}], "named twice"),
        ([{"type": "enum", "column": "Tag", "values": ["x"]}], "do not fit"),
        ([{"type": "date", "column": "Name", "min": "2020-01-01"}], "needs a date"),
        ([{"type": "date", "column": "Tag"}], "give min, max or not_future"),
        (
            [{"type": "enum", "column": "Name", "values": ["a"]}, {"type": "enum", "column": "Name", "values": ["b"]}],
            "no value in common",
        ),
        (
            [
                {"type": "date", "column": "Tag", "min": "2021-01-01"},
                {"type": "date", "column": "Tag", "max": "2020-01-01"},
            ],
            "exclude each other",
        ),
        (
            [
                {
                    "type": "foreign_key",
                    "column": "Id",
                    "dataset": "bezirke",
                    "resource": "liste",
                    "target_column": "Code",
                }
            ],
            "cannot refer to",
        ),
        ([{"type": "range", "column": "Wert", "min": 1, "extra": 2}], "Extra inputs"),
    ],
)
def test_bad_rules_name_the_problem(rules: object, fragment: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        check(rules)
    assert exc.value.status == 400
    assert fragment in exc.value.message


def test_every_problem_is_listed() -> None:
    with pytest.raises(InvalidInput) as exc:
        check([{"type": "range", "column": "X", "min": 1}, {"type": "pattern", "column": "Wert", "pattern": "a"}])
    assert len(exc.value.details["problems"]) == 2
