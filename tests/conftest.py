"""Shared fixtures. Storage-touching tests run on the embedded default and on PostgreSQL.

PostgreSQL tests use the local server (URBANDATA_TEST_PG_URL, default postgresql://postgres@127.0.0.1:5432/test),
each test in its own schemas. Without a server they skip, except in CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from urbandata.app import create_app
from urbandata.auth.actor import Actor, RequestContext
from urbandata.config import Settings
from urbandata.stores import Stores

PG_URL = os.environ.get("URBANDATA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REAL = Path(__file__).parent / "data" / "real"
DEMO_DATA = Path(__file__).parents[1] / "urbandata" / "demo" / "data"
IN_CI = os.environ.get("CI", "").lower() == "true"


def _pg_available() -> str | None:
    try:
        with psycopg.connect(PG_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return None
    except psycopg.Error as exc:
        return str(exc)


_PG_PROBLEM = _pg_available()


def require_pg() -> None:
    if _PG_PROBLEM is None:
        return
    if IN_CI:
        pytest.fail(f"PostgreSQL is required in CI but not reachable at {PG_URL}: {_PG_PROBLEM}")
    pytest.skip(f"PostgreSQL not reachable: {_PG_PROBLEM}")


@pytest.fixture
def pg_schemas() -> Iterator[tuple[str, str]]:
    require_pg()
    tag = uuid.uuid4().hex[:10]
    meta, data = f"t_meta_{tag}", f"t_data_{tag}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{meta}"')
    yield meta, data
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '30s'")
        conn.execute(f'DROP SCHEMA IF EXISTS "{meta}" CASCADE')
        conn.execute(f'DROP SCHEMA IF EXISTS "{data}" CASCADE')
        role = f"{data}_reader"
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')


def make_settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest, **overrides: object) -> Settings:
    if backend == "embedded":
        return Settings(data_dir=tmp_path / "data", **overrides)  # type: ignore[arg-type]
    meta, data = request.getfixturevalue("pg_schemas")
    return Settings(
        data_dir=tmp_path / "data",
        metadata_url=f"{PG_URL}?options=-csearch_path%3D{meta}",
        datastore_url=PG_URL,
        datastore_schema=data,
        **overrides,  # type: ignore[arg-type]
    )


@pytest.fixture(params=["embedded", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    return make_settings(backend, tmp_path, request)


@pytest.fixture
def stores(settings: Settings) -> Iterator[Stores]:
    s = Stores.open(settings)
    yield s
    s.close()


@pytest.fixture
def admin(settings: Settings) -> RequestContext:
    return RequestContext(actor=Actor.system(), settings=settings)


@pytest.fixture
def anon(settings: Settings) -> RequestContext:
    return RequestContext(actor=Actor.anonymous(), settings=settings)


@pytest.fixture
def client(settings: Settings, stores: Stores) -> Iterator[TestClient]:
    with TestClient(create_app(settings, stores)) as c:
        yield c
