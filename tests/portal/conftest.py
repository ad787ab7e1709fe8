"""A portal on the demo catalog (embedded backend), loaded once per test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from urbandata.app import create_app
from urbandata.auth.actor import Actor, RequestContext
from urbandata.config import Settings
from urbandata.demo.loader import load_demo
from urbandata.stores import Stores


def demo_stores(data_dir: Path, **overrides: object) -> tuple[Settings, Stores]:
    settings = Settings(data_dir=data_dir, anonymous_rate_limit=0, **overrides)  # type: ignore[arg-type]
    stores = Stores.open(settings)
    for _ in load_demo(RequestContext(actor=Actor.system(), settings=settings), stores):
        pass
    return settings, stores


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Stores]]:
    settings, stores = demo_stores(
        tmp_path_factory.mktemp("portal") / "data",
        accessibility_contact="barrierefrei@example.org",
        imprint_text="**Stadtverwaltung Musterstadt**, Rathausplatz 1",
    )
    yield settings, stores
    stores.close()


@pytest.fixture(scope="module")
def web(demo: tuple[Settings, Stores]) -> Iterator[TestClient]:
    settings, stores = demo
    with TestClient(create_app(settings, stores)) as c:
        yield c
