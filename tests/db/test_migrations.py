"""Migrations create the schema on both metadata databases and are idempotent."""

from __future__ import annotations

import sqlalchemy as sa

from urbandata.db.engine import is_current, migrate
from urbandata.stores import Stores


def test_migrations_are_current_and_idempotent(stores: Stores) -> None:
    assert is_current(stores.engine)
    migrate(stores.engine)
    names = set(sa.inspect(stores.engine).get_table_names())
    assert {"organizations", "datasets", "resources", "resource_versions"} <= names
