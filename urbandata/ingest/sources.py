"""What every format reader hands to the load: a raw relation in the staging engine, plus how to
point at a row in the original file."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from urbandata.ingest.infer import Locale


@dataclass(frozen=True)
class RawColumn:
    name: str  # unique, cleaned column name used in the table
    source_name: str  # the header as written in the file
    raw_type: str = "VARCHAR"  # engine type of the raw column


@dataclass
class Reject:
    """A row that was not loaded: where it is in the file and why."""

    line: int | None
    column: str | None
    reason: str
    value: str | None = None
    location: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"line": self.line, "column": self.column, "reason": self.reason}
        if self.value is not None:
            out["value"] = self.value[:200]
        out.update(self.location)
        return out


@dataclass
class RawSource:
    format: str
    relation: str  # a FROM item in the staging connection whose columns are named as `columns`
    columns: list[RawColumn]
    locale: Locale = "de"
    locate: Callable[[int], dict[str, Any]] = lambda i: {"row": i + 1}
    structural_rejects: list[Reject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    missing_values: list[str] | None = None
    raw_missing_applied: bool = False  # the reader already turned missing markers into NULL
    extra: dict[str, Any] = field(default_factory=dict)


def clean_names(headers: list[str | None]) -> list[str]:
    """Unique, non-empty column names; keeps umlauts and spaces, trims, numbers duplicates."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for i, h in enumerate(headers, start=1):
        base = re.sub(r"\s+", " ", (h or "").replace("\ufeff", "")).strip() or f"column_{i}"
        base = base[:120]
        name = base
        while name.lower() in seen:
            seen[base.lower()] = seen.get(base.lower(), 1) + 1
            name = f"{base}_{seen[base.lower()]}"
        seen[name.lower()] = 1
        names.append(name)
    return names
