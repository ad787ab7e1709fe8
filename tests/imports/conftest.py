"""Fixtures of the import tests: the flaky source, an injected clock, a dataset to import into."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import make_settings
from tests.helpers import make_dataset, make_org
from tests.imports.flaky_server import FlakyServer, flaky_server
from urbandata.auth.actor import RequestContext
from urbandata.config import Settings
from urbandata.stores import Stores

CSV_V1 = b"Stadtteil;Einwohner\nAltstadt;1200\nInnenstadt;3400\n"
CSV_V2 = b"Stadtteil;Einwohner\nAltstadt;1250\nInnenstadt;3380\nBetzenberg;2100\n"
CSV_OTHER_COLUMNS = "Bezirk;Fläche\nAltstadt;1,5\nInnenstadt;2,7\n".encode()


class FakeClock:
    """Injected time: `now` moves only when the test says; sleeping records the wait and returns at once."""

    def __init__(self, start: dt.datetime) -> None:
        self.current = start
        self.slept: list[float] = []
        self.lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self.lock:
            return self.current

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    def set(self, value: dt.datetime) -> None:
        with self.lock:
            self.current = value


@pytest.fixture
def source() -> Iterator[FlakyServer]:
    with flaky_server() as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2025, 3, 3, 5, 0, tzinfo=dt.UTC))  # 06:00 in Kaiserslautern


@pytest.fixture
def dataset(admin: RequestContext, stores: Stores) -> str:
    make_org(admin, stores, "statistik", "Referat Statistik")
    make_dataset(admin, stores, "einwohner", org="statistik", title="Einwohner nach Stadtteil")
    return "einwohner"


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Small upload limit (the huge-body test) and no background scheduler (tests tick by hand)."""
    return make_settings(backend, tmp_path, request, max_upload_bytes=1_000_000, scheduler=False)
