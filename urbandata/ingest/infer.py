"""Type inference for text columns, tuned for what German municipal exports contain.

Numbers: `1.234,56` (German), `510.285` (German thousands), `97.48` (decimal point), `-35`.
Codes with leading zeros (`07312000`, `04`, postal codes) stay text. Dates `dd.mm.yyyy`, ISO dates,
`dd.mm.yyyy HH:MM[:SS]`, ISO timestamps, `YYYY-MM` months, times, and booleans (ja/nein, j/n,
true/false, wahr/falsch, x). Inference looks at a sample; the load then checks every row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from urbandata.ingest.tableschema import SchemaField

Locale = Literal["de", "en"]

_INT = re.compile(r"[+-]?(0|[1-9]\d*)")
_INT_DE_GROUPED = re.compile(r"[+-]?[1-9]\d{0,2}(\.\d{3})+")
_INT_EN_GROUPED = re.compile(r"[+-]?[1-9]\d{0,2}(,\d{3})+")
_NUM_DE = re.compile(r"[+-]?(\d{1,3}(\.\d{3})+|\d+),\d+")
_NUM_EN = re.compile(r"[+-]?(\d+\.\d+|\.\d+|\d+(\.\d+)?[eE][+-]?\d+)")
_NUM_EN_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+\.\d+")
_LEADING_ZERO = re.compile(r"[+-]?0\d+")
_LONG_DIGITS = re.compile(r"[+-]?\d{19,}")  # beyond BIGINT: an identifier, not a quantity
# column names that announce a code (postal code, official municipality/region key), kept as text
_CODE_NAME = re.compile(
    r"(?i)(^|[^a-zäöü])(plz|postleitzahl|ags|ars|gkz)([^a-zäöü]|$)|schl(ü|ue)ssel|kennziffer"
)

_DATE_FORMATS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\d{1,2}\.\d{1,2}\.\d{4}"), "%d.%m.%Y"),
    (re.compile(r"\d{4}-\d{2}-\d{2}"), "%Y-%m-%d"),
    (re.compile(r"\d{1,2}/\d{1,2}/\d{4}"), "%d/%m/%Y"),
]
_DATETIME_FORMATS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\d{1,2}\.\d{1,2}\.\d{4},? \d{1,2}:\d{2}"), "%d.%m.%Y %H:%M"),
    (re.compile(r"\d{1,2}\.\d{1,2}\.\d{4},? \d{1,2}:\d{2}:\d{2}"), "%d.%m.%Y %H:%M:%S"),
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?"), "iso"),
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})"), "iso-tz"),
]
_TIME = re.compile(r"\d{1,2}:\d{2}(:\d{2})?")
_YEARMONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")

TRUE_WORDS = {"ja", "j", "true", "wahr", "yes", "y", "x"}
FALSE_WORDS = {"nein", "n", "false", "falsch", "no"}


def _all(values: Sequence[str], pattern: re.Pattern[str]) -> bool:
    return all(pattern.fullmatch(v) for v in values)


def _plausible_date(v: str, fmt: str) -> bool:
    parts = re.split(r"[./\- T:]", v)
    try:
        if fmt.startswith("%d"):
            day, month = int(parts[0]), int(parts[1])
        elif fmt.startswith("%Y") or fmt.startswith("iso"):
            month, day = int(parts[1]), int(parts[2])
        else:
            return True
    except (ValueError, IndexError):
        return False
    return 1 <= day <= 31 and 1 <= month <= 12


def infer_field(name: str, sample: Sequence[str | None], locale: Locale) -> SchemaField:
    """Infer one column's field from its sample values (None = missing)."""
    # distinct values suffice (and are much fewer in a column of districts or dates)
    values = [v for v in dict.fromkeys(v.strip() for v in sample if v is not None) if v]
    field = SchemaField(name=name, type="string", inferred=True)
    if not values:
        return field
    lowered = {v.lower() for v in values}
    if lowered <= TRUE_WORDS | FALSE_WORDS and _bool_ok(lowered):
        trues = sorted({v for v in values if v.lower() in TRUE_WORDS})
        falses = sorted({v for v in values if v.lower() in FALSE_WORDS})
        return SchemaField(name=name, type="boolean", trueValues=trues, falseValues=falses, inferred=True)
    if any(_LEADING_ZERO.fullmatch(v) or _LONG_DIGITS.fullmatch(v) for v in values):
        return field  # codes such as AGS 07312000, postal codes, district numbers "04"
    if _CODE_NAME.search(name) and _all(values, _INT):
        return field  # a postal code or AGS column without a leading zero in the sample is still a code
    if _all(values, _INT):
        return SchemaField(name=name, type="integer", inferred=True)
    grouped_de = [v for v in values if _INT_DE_GROUPED.fullmatch(v)]
    if all(_INT.fullmatch(v) or _INT_DE_GROUPED.fullmatch(v) for v in values) and grouped_de:
        unambiguous = any(v.count(".") > 1 for v in grouped_de)
        if locale == "de" or unambiguous:
            return SchemaField(name=name, type="integer", groupChar=".", inferred=True)
        return SchemaField(name=name, type="number", inferred=True)
    if locale == "en" and all(_INT.fullmatch(v) or _INT_EN_GROUPED.fullmatch(v) for v in values):
        return SchemaField(name=name, type="integer", groupChar=",", inferred=True)
    if all(_INT.fullmatch(v) or _INT_DE_GROUPED.fullmatch(v) or _NUM_DE.fullmatch(v) for v in values):
        grouped = any("." in v for v in values)
        return SchemaField(
            name=name, type="number", decimalChar=",", groupChar="." if grouped else None, inferred=True
        )
    if all(_INT.fullmatch(v) or _NUM_EN.fullmatch(v) for v in values):
        return SchemaField(name=name, type="number", inferred=True)
    if locale == "en" and all(
        _INT.fullmatch(v) or _NUM_EN.fullmatch(v) or _NUM_EN_GROUPED.fullmatch(v) for v in values
    ):
        return SchemaField(name=name, type="number", groupChar=",", inferred=True)
    for pattern, fmt in _DATE_FORMATS:
        if _all(values, pattern) and all(_plausible_date(v, fmt) for v in values):
            return SchemaField(name=name, type="date", format=fmt, inferred=True)
    dt_formats = [fmt for pattern, fmt in _DATETIME_FORMATS if any(pattern.fullmatch(v) for v in values)]
    date_formats = [fmt for pattern, fmt in _DATE_FORMATS if any(pattern.fullmatch(v) for v in values)]
    if dt_formats and all(
        any(p.fullmatch(v) for p, _ in _DATETIME_FORMATS + _DATE_FORMATS) and _plausible_date(v, dt_formats[0])
        for v in values
    ):
        if "iso-tz" in dt_formats:
            return SchemaField(name=name, type="datetime", format="iso-tz", inferred=True)
        if "iso" in dt_formats:
            return SchemaField(name=name, type="datetime", format="iso", inferred=True)
        fmts = [f for f in dt_formats if f != "iso"] + date_formats
        return SchemaField(name=name, type="datetime", format="|".join(dict.fromkeys(fmts)), inferred=True)
    if _all(values, _YEARMONTH):
        return SchemaField(name=name, type="yearmonth", inferred=True)
    if _all(values, _TIME) and all(int(v.split(":")[0]) < 24 for v in values):
        return SchemaField(name=name, type="time", inferred=True)
    return field


def _bool_ok(lowered: set[str]) -> bool:
    """A boolean column needs a recognisable pair (ja/nein, true/false, ...) or only 'x' marks."""
    if lowered <= {"x"}:
        return True
    return bool(lowered & TRUE_WORDS) and bool(lowered & FALSE_WORDS) or lowered <= {"ja", "nein", "true", "false"}
