"""The scheduler inside the platform process: due imports and periodic maintenance hooks.

Each tick claims due imports one at a time (a lease taken by one conditional UPDATE, so several
platform processes sharing one database never run the same import twice) and runs them; then it
runs each registered periodic hook whose period has passed (also claimed in the database, so one
process per period runs it). Time is injected: `tick(now)`.

Register maintenance work (e.g. freshness notifications, retention pruning) from the app layer:

    from urbandata.imports.scheduler import register_periodic
    register_periodic("freshness", notify_freshness, every=dt.timedelta(minutes=15))

where the hook is `fn(ctx: RequestContext, stores: Stores, now: datetime) -> None`, run as the system actor.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from urbandata.auth.actor import Actor, RequestContext
from urbandata.config import Settings
from urbandata.imports import repository as repo
from urbandata.imports.clock import Clock, SystemClock, utc
from urbandata.imports.runner import run_import
from urbandata.stores import Stores

log = logging.getLogger("urbandata.scheduler")

PeriodicFn = Callable[[RequestContext, Stores, dt.datetime], None]


@dataclass(frozen=True)
class Periodic:
    name: str
    fn: PeriodicFn
    every: dt.timedelta


_REGISTRY: dict[str, Periodic] = {}
_REGISTRY_LOCK = threading.Lock()


def register_periodic(name: str, fn: PeriodicFn, every: dt.timedelta) -> None:
    """Have every scheduler run `fn` once per `every` (across all platform processes); re-registering replaces."""
    if every <= dt.timedelta(0) or not name or len(name) > 100:
        raise ValueError("a periodic job needs a name (1-100 characters) and a positive period")
    with _REGISTRY_LOCK:
        _REGISTRY[name] = Periodic(name, fn, every)


def registered_periodic() -> list[Periodic]:
    with _REGISTRY_LOCK:
        return list(_REGISTRY.values())


class Scheduler:
    """Runs due imports and periodic hooks; `start()` ticks in a background thread until `stop()`."""

    def __init__(
        self,
        stores: Stores,
        settings: Settings,
        *,
        clock: Clock | None = None,
        owner: str | None = None,
        periodic: list[Periodic] | None = None,
    ) -> None:
        self.stores = stores
        self.settings = settings
        self.clock = clock or SystemClock()
        self.owner = owner or f"scheduler-{uuid.uuid4().hex[:12]}"
        self._periodic = periodic
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self, now: dt.datetime | None = None) -> list[int]:
        """Run what is due at `now`; the ids of the import runs this scheduler made."""
        now = utc(now or self.clock.now())
        runs: list[int] = []
        with self.stores.engine.connect() as conn:
            due = repo.due_ids(conn, now)
        for import_id in due:
            if self._stop.is_set():
                break
            try:
                run_id = run_import(
                    self.stores,
                    self.settings,
                    import_id,
                    trigger="schedule",
                    now=now,
                    clock=self.clock,
                    owner=self.owner,
                )
            except Exception:
                log.exception("scheduled import %s could not run", import_id)
                continue
            if run_id is not None:
                runs.append(run_id)
        self._run_periodic(now)
        return runs

    def _run_periodic(self, now: dt.datetime) -> None:
        ctx = RequestContext(actor=Actor(kind="system", username="scheduler", is_admin=True), settings=self.settings)
        for job in self._periodic if self._periodic is not None else registered_periodic():
            if self._stop.is_set():
                return
            try:
                with self.stores.engine.begin() as conn:
                    mine = repo.claim_periodic(conn, job.name, now, job.every)
                if mine:
                    job.fn(ctx, self.stores, now)
            except Exception:
                log.exception("periodic job %s failed", job.name)

    def _loop(self) -> None:
        while not self._stop.wait(self.settings.scheduler_tick_seconds):
            try:
                self.tick()
            except Exception:
                log.exception("scheduler tick failed")

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="urbandata-scheduler", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop ticking; a run going on is left to end within its own timeout (its lease then expires)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
