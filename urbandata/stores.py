"""The process-wide storage handles every service receives explicitly: metadata DB, datastore, files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from urbandata.config import Settings
from urbandata.datastore import Datastore, open_datastore
from urbandata.db.engine import create_engine, migrate


@dataclass
class Stores:
    engine: sa.Engine
    datastore: Datastore
    files_dir: Path
    tmp_dir: Path
    caches: dict[str, Any] = field(default_factory=dict)  # per-process caches of immutable facts

    @classmethod
    def open(cls, settings: Settings, *, init: bool = True) -> Stores:
        """Open (and with `init`, create or migrate) the stores named by the settings."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(settings.effective_metadata_url)
        if init:
            migrate(engine)
        datastore = open_datastore(settings.effective_datastore_url, pg_schema=settings.datastore_schema)
        settings.files_dir.mkdir(parents=True, exist_ok=True)
        settings.tmp_dir.mkdir(parents=True, exist_ok=True)
        return cls(engine=engine, datastore=datastore, files_dir=settings.files_dir, tmp_dir=settings.tmp_dir)

    def close(self) -> None:
        self.datastore.close()
        self.engine.dispose()
