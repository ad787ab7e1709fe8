"""Differences between two versions of a resource, computed in SQL on the datastore's engine.

Schema changes compare column names and types. Rows are matched by key columns: a row is added when
its key is only in the newer version, removed when only in the older, changed when a shared column's
value differs (a row with an empty key part matches no other row). Without key columns rows are
compared whole (as multisets over the shared columns): added and removed rows are found, changes
cannot be told from a removal plus an addition.
Only counts and the first `cap` rows of each kind come back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from urbandata.datastore.base import Datastore
from urbandata.datastore.sql import quote_ident
from urbandata.errors import InvalidInput
from urbandata.quality.validate import json_value


def schema_changes(old: Mapping[str, str], new: Mapping[str, str]) -> dict[str, Any]:
    return {
        "added": [c for c in new if c not in old],
        "removed": [c for c in old if c not in new],
        "changed": [{"column": c, "from": old[c], "to": new[c]} for c in old if c in new and old[c] != new[c]],
    }


def _count(ds: Datastore, sql: str, tables: dict[str, str]) -> int:
    return int(ds.query_versions(f"SELECT count(*) FROM ({sql}) q", [], tables)[0][0])


def _duplicate_keys(ds: Datastore, ref: str, keys: Sequence[str]) -> int:
    cols = ", ".join(quote_ident(k) for k in keys)
    return _count(ds, f"SELECT {cols} FROM {{t}} GROUP BY {cols} HAVING count(*) > 1", {"t": ref})


def diff_versions(
    ds: Datastore,
    old_ref: str,
    old_types: Mapping[str, str],
    new_ref: str,
    new_types: Mapping[str, str],
    keys: Sequence[str] = (),
    cap: int = 100,
) -> dict[str, Any]:
    """Schema changes and added / removed / changed rows from version `old_ref` to `new_ref`."""
    schema = schema_changes(old_types, new_types)
    shared = [c for c in new_types if c in old_types]
    retyped = {c["column"] for c in schema["changed"]}
    tables = {"a": old_ref, "b": new_ref}
    missing = [k for k in keys if k not in shared]
    if missing:
        raise InvalidInput(
            f"Key column {missing[0]!r} is not in both versions", code="invalid_key", parameter="key", columns=missing
        )

    def expr(alias: str, col: str) -> str:
        q = f"{alias}.{quote_ident(col)}"
        return f"CAST({q} AS VARCHAR)" if col in retyped else q

    out: dict[str, Any] = {"schema": schema, "keys": list(keys)}
    if not keys:
        cols_a = ", ".join(expr("x", c) for c in shared)
        cols_b = cols_a
        added_sql = f"SELECT {cols_b} FROM {{b}} x EXCEPT ALL SELECT {cols_a} FROM {{a}} x"
        removed_sql = f"SELECT {cols_a} FROM {{a}} x EXCEPT ALL SELECT {cols_b} FROM {{b}} x"
        added, removed = _count(ds, added_sql, tables), _count(ds, removed_sql, tables)
        out["rows"] = {"added": added, "removed": removed, "changed": None}
        out["added"] = _sample(ds, added_sql, shared, tables, cap)
        out["removed"] = _sample(ds, removed_sql, shared, tables, cap)
        out["changed"] = []
        out["truncated"] = added > len(out["added"]) or removed > len(out["removed"])
        out["note"] = "no key columns: rows compared whole, changes appear as removed plus added"
        return out
    for ref, n in ((old_ref, "old"), (new_ref, "new")):
        if _duplicate_keys(ds, ref, keys):
            raise InvalidInput(
                f"The key {' + '.join(keys)} is not unique in the {n} version; choose other key columns",
                code="invalid_key",
                parameter="key",
            )
    # plain equality keeps the joins hash joins; rows with an empty key part match nothing (added / removed)
    match = " AND ".join(f"{expr('x', k)} = {expr('y', k)}" for k in keys)
    new_cols = list(new_types)
    old_cols = list(old_types)
    added_sql = (
        f"SELECT {', '.join(expr('y', c) for c in new_cols)} FROM {{b}} y "
        f"WHERE NOT EXISTS (SELECT 1 FROM {{a}} x WHERE {match})"
    )
    removed_sql = (
        f"SELECT {', '.join(expr('x', c) for c in old_cols)} FROM {{a}} x "
        f"WHERE NOT EXISTS (SELECT 1 FROM {{b}} y WHERE {match})"
    )
    compared = [c for c in shared if c not in keys]
    differs = " OR ".join(f"{expr('x', c)} IS DISTINCT FROM {expr('y', c)}" for c in compared) or "FALSE"
    pairs = ", ".join(f"{expr('x', c)}, {expr('y', c)}" for c in compared)
    key_cols = ", ".join(expr("y", k) for k in keys)
    changed_sql = (
        f"SELECT {key_cols}{', ' + pairs if pairs else ''} FROM {{a}} x JOIN {{b}} y ON {match} WHERE {differs}"
    )
    counts = {
        "added": _count(ds, added_sql, tables),
        "removed": _count(ds, removed_sql, tables),
        "changed": _count(ds, changed_sql, tables),
    }
    out["rows"] = counts
    out["added"] = _sample(ds, added_sql, new_cols, tables, cap)
    out["removed"] = _sample(ds, removed_sql, old_cols, tables, cap)
    changed = []
    for row in ds.query_versions(f"{changed_sql} ORDER BY {_positions(len(keys))} LIMIT {int(cap)}", [], tables):
        values = row[len(keys) :]
        changes = {
            c: {"from": json_value(values[2 * i]), "to": json_value(values[2 * i + 1])}
            for i, c in enumerate(compared)
            if values[2 * i] != values[2 * i + 1]
        }
        changed.append({"key": {k: json_value(v) for k, v in zip(keys, row, strict=False)}, "changes": changes})
    out["changed"] = changed
    out["truncated"] = any(counts[k] > len(out[k]) for k in ("added", "removed", "changed"))
    return out


def _positions(n: int) -> str:
    return ", ".join(str(i + 1) for i in range(max(1, n)))


def _sample(ds: Datastore, sql: str, columns: Sequence[str], tables: dict[str, str], cap: int) -> list[dict[str, Any]]:
    rows = ds.query_versions(f"{sql} ORDER BY {_positions(len(columns))} LIMIT {int(cap)}", [], tables)
    return [{c: json_value(v) for c, v in zip(columns, r, strict=False)} for r in rows]
