"""The declarative metadata profile (profile.yaml): field definitions, vocabularies, validation."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from urbandata.errors import InvalidInput

PROFILE_PATH = Path(__file__).with_name("profile.yaml")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_URL = re.compile(r"https?://[^\s]+")


@dataclass(frozen=True)
class Profile:
    fields: dict[str, dict[str, Any]]
    vocabularies: dict[str, dict[str, dict[str, Any]]]

    def vocabulary(self, name: str) -> dict[str, dict[str, Any]]:
        return self.vocabularies[name]

    def label(self, vocabulary: str, code: str, lang: str = "de") -> str:
        entry = self.vocabularies.get(vocabulary, {}).get(code)
        return str(entry.get(lang, code)) if entry else code

    def license(self, code: str) -> dict[str, Any]:
        return self.vocabularies["licenses"][code]


@lru_cache(maxsize=1)
def load_profile() -> Profile:
    doc = yaml.safe_load(PROFILE_PATH.read_text(encoding="utf-8"))
    return Profile(fields=doc["fields"], vocabularies=doc["vocabularies"])


LICENSE_ALIASES = {
    "dl-by-de/2.0": "dl-de/by-2-0",
    "dl-de-by-2.0": "dl-de/by-2-0",
    "dl-zero-de/2.0": "dl-de/zero-2-0",
    "dl-de-zero-2.0": "dl-de/zero-2-0",
    "cc-by/4.0": "cc-by-4.0",
    "cc-by": "cc-by-4.0",
    "cc0": "cc-zero",
    "cc0-1.0": "cc-zero",
    "cc-by-de/3.0": "cc-by-de-3.0",
    "cc-by-3.0-de": "cc-by-de-3.0",
}


def normalize_license(value: str) -> str:
    """Accept the three identifier schemes in circulation (dcat-ap.de, govdata, SPDX) and map them to ours."""
    v = value.strip()
    lic = load_profile().vocabularies["licenses"]
    if v in lic:
        return v
    low = v.lower().rstrip("/")
    for code, entry in lic.items():
        if low in (
            str(entry.get("uri", "")).lower(),
            str(entry.get("spdx", "")).lower(),
            str(entry.get("url", "")).lower().rstrip("/"),
        ):
            return code
    low = low.replace("https://www.dcat-ap.de/def/licenses/", "").replace("http://dcat-ap.de/def/licenses/", "")
    return LICENSE_ALIASES.get(low, v)


def _check(name: str, spec: dict[str, Any], value: Any, errors: dict[str, str]) -> Any:
    t = spec["type"]
    if t == "list":
        if isinstance(value, str):
            value = [x.strip() for x in value.split(",")]
        if not isinstance(value, list):
            errors[name] = "must be a list"
            return None
        items = []
        for item in value:
            checked = _check(name, {**spec, "type": spec.get("item", "text")}, item, errors)
            if checked not in (None, "") and checked not in items:
                items.append(checked)
        if len(items) > int(spec.get("max_items", 1000)):
            errors[name] = f"at most {spec['max_items']} entries"
        return items
    if t == "vocabulary":
        vocab = load_profile().vocabulary(spec["vocabulary"])
        code = normalize_license(str(value)) if spec["vocabulary"] == "licenses" else str(value).strip()
        if spec["vocabulary"] in ("themes", "frequencies", "languages"):
            code = code.upper()
        if code not in vocab:
            errors[name] = f"unknown value {value!r}; allowed: {', '.join(vocab)}"
            return None
        return code
    if t == "date":
        if isinstance(value, dt.date):
            return value.isoformat()
        try:
            return dt.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            errors[name] = "must be a date YYYY-MM-DD"
            return None
    if t == "bbox":
        parts = value if isinstance(value, list) else str(value).split(",")
        try:
            west, south, east, north = (float(p) for p in parts)
        except (TypeError, ValueError):
            errors[name] = "must be four numbers: west, south, east, north"
            return None
        if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
            errors[name] = "must satisfy -180 <= west <= east <= 180 and -90 <= south <= north <= 90"
            return None
        return [west, south, east, north]
    if not isinstance(value, str):
        errors[name] = "must be text"
        return None
    value = value.strip()
    if len(value) > int(spec.get("max_length", 100000)):
        errors[name] = f"at most {spec['max_length']} characters"
        return None
    if t == "email" and value and not _EMAIL.fullmatch(value):
        errors[name] = "must be an e-mail address"
        return None
    if t == "url" and value and not _URL.fullmatch(value):
        errors[name] = "must be an http(s) URL"
        return None
    if spec.get("required") and not value:
        errors[name] = "is required"
        return None
    return value


def validate_metadata(data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Check metadata against the profile; return the cleaned values (defaults filled unless partial).

    Raises InvalidInput with every offending field in `details.fields`.
    """
    profile = load_profile()
    errors: dict[str, str] = {}
    unknown = [k for k in data if k not in profile.fields]
    for k in unknown:
        errors[k] = "unknown metadata field"
    out: dict[str, Any] = {}
    for name, spec in profile.fields.items():
        if name in data and data[name] is not None:
            checked = _check(name, spec, data[name], errors)
            if name not in errors:
                out[name] = checked
        elif not partial:
            if "default" in spec:
                out[name] = spec["default"]
            elif spec.get("required"):
                errors[name] = "is required"
    start, end = out.get("temporal_start"), out.get("temporal_end")
    if start and end and start > end:
        errors["temporal_end"] = "must not be before temporal_start"
    if errors:
        first = next(iter(errors))
        raise InvalidInput(
            f"Metadata does not match the profile: {first} {errors[first]}", code="invalid_metadata", fields=errors
        )
    return out


def attribution_text(meta: dict[str, Any], publisher: str, dataset_url: str) -> str | None:
    """The licence notice (DCAT-AP.de K35): the given text, or one generated from publisher and licence."""
    if meta.get("attribution"):
        return str(meta["attribution"])
    lic = load_profile().license(meta["license"])
    if not lic.get("attribution"):
        return None
    url = f" ({lic['url']})" if lic.get("url") else ""
    return f"{publisher}, {lic['de']}{url}, {dataset_url}"
