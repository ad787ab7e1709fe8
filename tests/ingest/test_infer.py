"""Type inference for text columns of German municipal exports."""

from __future__ import annotations

import pytest

from urbandata.ingest.infer import infer_field


def kind(values: list[str | None], locale: str = "de", name: str = "spalte") -> tuple[str, str | None]:
    f = infer_field(name, values, locale)  # type: ignore[arg-type]
    return f.type, f.format


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "-35", "0", "12345"], "integer"),
        (["9.577.207", "510.285", "-35", "0"], "integer"),
        (["1.234,56", "12", "-0,5"], "number"),
        (["76,70", "75,27"], "number"),
        (["97.48", "92.81", "100"], "number"),
        (["1e5", "2.5E-3"], "number"),
    ],
)
def test_numbers(values: list[str | None], expected: str) -> None:
    assert kind(values)[0] == expected


def test_german_grouping_and_decimal_hints() -> None:
    f = infer_field("x", ["1.234,56", "7,5"], "de")
    assert (f.decimal_char, f.group_char) == (",", ".")
    f = infer_field("x", ["510.285", "1.000"], "de")
    assert (f.type, f.group_char) == ("integer", ".")


def test_three_decimals_in_a_comma_file_are_decimals() -> None:
    # "510.285" in a ';' file is a thousands dot; in a ',' file it is a decimal point
    assert infer_field("x", ["510.285", "1.000"], "en").type == "number"
    assert infer_field("x", ["1.234.567", "1.000"], "en").type == "integer"  # two dots: grouping


def test_english_grouping_in_comma_files() -> None:
    f = infer_field("x", ["1,234", "12,345,678"], "en")
    assert (f.type, f.group_char) == ("integer", ",")


@pytest.mark.parametrize(
    "values",
    [["07312000", "07111000"], ["04", "12"], ["01067", "67655"], ["0049", "1"], ["12345678901234567890123"]],
)
def test_codes_stay_text(values: list[str | None]) -> None:
    assert kind(values)[0] == "string"


@pytest.mark.parametrize("name", ["PLZ", "Postleitzahl", "AGS", "Gemeindeschlüssel", "ARS", "plz_wohnort"])
def test_code_columns_by_name(name: str) -> None:
    assert kind(["67655", "50667"], name=name)[0] == "string"


def test_numbers_in_a_column_that_only_sounds_like_a_code() -> None:
    assert kind(["12", "13"], name="Tagesanzahl")[0] == "integer"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["31.12.2012", "1.2.2013"], ("date", "%d.%m.%Y")),
        (["2012-12-31", "2013-02-01"], ("date", "%Y-%m-%d")),
        (["31.12.2012 10:15", "01.01.2013 08:00"], ("datetime", "%d.%m.%Y %H:%M")),
        (["31.12.2012 10:15", "01.01.2013"], ("datetime", "%d.%m.%Y %H:%M|%d.%m.%Y")),
        (["2012-12-31T10:15:00", "2013-01-01 08:00"], ("datetime", "iso")),
        (["2012-12-31T10:15:00Z", "2013-01-01T08:00:00+01:00"], ("datetime", "iso-tz")),
        (["2020-06", "2021-12"], ("yearmonth", None)),
        (["10:15", "23:59:59"], ("time", None)),
    ],
)
def test_dates_and_times(values: list[str | None], expected: tuple[str, str | None]) -> None:
    assert kind(values) == expected


@pytest.mark.parametrize("values", [["31.13.2012"], ["2012-13-01"], ["32.01.2020", "01.01.2020"], ["25:00"]])
def test_implausible_dates_stay_text(values: list[str | None]) -> None:
    assert kind(values)[0] == "string"


@pytest.mark.parametrize(
    "values",
    [["ja", "nein"], ["j", "n", "J"], ["true", "False"], ["wahr", "falsch"], ["x", "X"], ["x", "n"], ["ja"]],
)
def test_booleans(values: list[str | None]) -> None:
    assert kind([*values, None, ""])[0] == "boolean"


def test_boolean_words_are_kept_for_the_load() -> None:
    f = infer_field("b", ["Ja", "nein", "ja"], "de")
    assert f.true_values == ["Ja", "ja"]
    assert f.false_values == ["nein"]


@pytest.mark.parametrize("values", [["n", "s", "o", "w"], ["N"], ["x", "y", "z"], ["w", "m", "x"]])
def test_letters_that_are_not_booleans(values: list[str | None]) -> None:
    assert kind(values)[0] == "string"


def test_missing_values_are_ignored() -> None:
    assert kind([None, None, "12", None]) == ("integer", None)
    assert kind([None, "", "  "]) == ("string", None)


def test_mixed_values_are_text() -> None:
    assert kind(["12", "zwölf"])[0] == "string"
    assert kind(["31.12.2012", "2012-12-31"])[0] == "string"
    assert kind(["1.234,5", "1,234.5"])[0] == "string"


def test_inferred_fields_are_marked() -> None:
    assert infer_field("x", ["1"], "de").inferred
