"""The scheduler with injected time: due runs, the next run after failures, no double runs, stuck runs,
alerts on repeated failure, periodic maintenance hooks."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
import sqlalchemy as sa

from tests.imports.conftest import CSV_V1, CSV_V2, FakeClock
from tests.imports.flaky_server import FlakyServer, Route
from urbandata.accounts import service as accounts
from urbandata.audit.service import query_log
from urbandata.auth.actor import RequestContext
from urbandata.catalog import service as catalog
from urbandata.db import tables
from urbandata.imports import runner, service
from urbandata.imports.scheduler import Periodic, Scheduler
from urbandata.stores import Stores

T0 = dt.datetime(2025, 3, 3, 5, 0, tzinfo=dt.UTC)  # Monday 06:00 in Kaiserslautern (CET)


def _daily(admin: RequestContext, stores: Stores, dataset: str, url: str, clock: FakeClock, **extra: object) -> int:
    spec = {"source_type": "url", "url": url, "schedule": "30 6 * * *", "retries": 0, "timeout_seconds": 10, **extra}
    return service.create_import(admin, stores, dataset, "einwohner", spec, clock=clock).id


def _current(admin: RequestContext, stores: Stores, dataset: str) -> int | None:
    res = catalog.get_dataset(admin, stores, dataset).resources
    return res[0].current_version if res else None


def test_runs_when_due_in_local_time_and_schedules_the_next_run(
    admin: RequestContext, stores: Stores, dataset: str, source: FlakyServer, clock: FakeClock
) -> None:
    source.routes["/e.csv"] = Route(body=CSV_V1)
    import_id = _daily(admin, stores, dataset, source.url("/e.csv"), clock)
    imp = service.get_import(admin, stores, import_id)
    assert imp.next_run_at == dt.datetime(2025, 3, 3, 5, 30, tzinfo=dt.UTC)  # 06:30 CET

    scheduler = Scheduler(stores, admin.settings, clock=clock)
    assert scheduler.tick(T0 + dt.timedelta(minutes=29)) == []  # not yet due
    assert source.count("/e.csv") == 0
    [run_id] = scheduler.tick(T0 + dt.timedelta(minutes=31))
    assert _current(admin, stores, dataset) == 1
    [run] = service.list_runs(admin, stores, import_id)
    assert (run.id, run.trigger, run.outcome) == (run_id, "schedule", "success")
    assert service.get_import(admin, stores, import_id).next_run_at == dt.datetime(2025, 3, 4, 5, 30, tzinfo=dt.UTC)
    assert scheduler.tick(T0 + dt.timedelta(hours=5)) == []  # ran today already

    # after the switch to summer time 06:30 local is 04:30 UTC
    later = dt.datetime(2025, 4, 1, 3, 0, tzinfo=dt.UTC)
    source.routes["/e.csv"] = Route(body=CSV_V2)
    assert len(scheduler.tick(later)) == 1
    assert service.get_import(admin, stores, import_id).next_run_at == dt.datetime(2025, 4, 1, 4, 30, tzinfo=dt.UTC)


def test_failed_runs_keep_the_schedule_and_alert_after_repeated_failures(
    admin: RequestContext, stores: Stores, dataset: str, source: FlakyServer, clock: FakeClock
) -> None:
    accounts.add_user(admin, stores, "stefanie", email="stefanie@example.org")
    accounts.set_member(admin, stores, "statistik", "stefanie", "steward")
    source.routes["/e.csv"] = Route(body=CSV_V1)
    import_id = _daily(admin, stores, dataset, source.url("/e.csv"), clock, alert_after=3)
    scheduler = Scheduler(stores, admin.settings, clock=clock)
    day = T0 + dt.timedelta(hours=1)
    assert len(scheduler.tick(day)) == 1
    source.routes["/e.csv"] = Route(status=500)
    for n in range(1, 5):
        day += dt.timedelta(days=1)
        assert len(scheduler.tick(day)) == 1, "the next scheduled run still happens"
        imp = service.get_import(admin, stores, import_id)
        assert imp.consecutive_failures == n
        assert imp.next_run_at == dt.datetime.combine(day.date() + dt.timedelta(days=1), dt.time(5, 30), dt.UTC)
    assert _current(admin, stores, dataset) == 1
    alerts = query_log(admin, stores, action="import.alert")
    assert len(alerts) == 1  # once per streak, at the third failure
    assert alerts[0]["details"]["consecutive_failures"] == 3
    assert "HTTP 500" in alerts[0]["details"]["error"]
    with stores.engine.connect() as conn:
        notes = conn.execute(sa.select(tables.notifications)).all()
    assert [(n.kind, n.dataset_slug) for n in notes] == [("import_failed", dataset)]
    assert "einwohner/einwohner" in notes[0].subject and "HTTP 500" in notes[0].body

    source.routes["/e.csv"] = Route(body=CSV_V2)
    day += dt.timedelta(days=1)
    scheduler.tick(day)
    assert service.get_import(admin, stores, import_id).consecutive_failures == 0
    assert _current(admin, stores, dataset) == 2


def test_two_schedulers_never_run_the_same_import_twice(
    admin: RequestContext, stores: Stores, dataset: str, source: FlakyServer, clock: FakeClock
) -> None:
    source.routes["/slow.csv"] = Route(body=CSV_V1, delay=0.5)
    import_id = _daily(admin, stores, dataset, source.url("/slow.csv"), clock)
    due = T0 + dt.timedelta(hours=1)
    schedulers = [Scheduler(stores, admin.settings, clock=clock) for _ in range(4)]
    results: list[list[int]] = []
    barrier = threading.Barrier(len(schedulers))

    def tick(s: Scheduler) -> None:
        barrier.wait()
        results.append(s.tick(due))

    threads = [threading.Thread(target=tick, args=(s,)) for s in schedulers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(len(r) for r in results) == [0, 0, 0, 1]
    assert source.count("/slow.csv") == 1
    assert len(service.list_runs(admin, stores, import_id)) == 1


def test_run_now_while_a_run_holds_the_import_is_a_conflict(
    admin: RequestContext, stores: Stores, dataset: str, source: FlakyServer, clock: FakeClock
) -> None:
    source.routes["/slow.csv"] = Route(body=CSV_V1, delay=1.0)
    import_id = _daily(admin, stores, dataset, source.url("/slow.csv"), clock)
    first = threading.Thread(target=service.run_now, args=(admin, stores, import_id), kwargs={"clock": clock})
    first.start()
    deadline = time.monotonic() + 5
    while not service.get_import(admin, stores, import_id).running and time.monotonic() < deadline:
        time.sleep(0.02)
    with pytest.raises(Exception) as caught:
        service.run_now(admin, stores, import_id, clock=clock)
    assert getattr(caught.value, "code", None) == "import_running"
    first.join(10)
    assert [r.outcome for r in service.list_runs(admin, stores, import_id)] == ["success"]


class StuckClock(FakeClock):
    """A worker that hangs (here: in its backoff wait) until released."""

    def __init__(self, start: dt.datetime) -> None:
        super().__init__(start)
        self.release = threading.Event()

    def sleep(self, seconds: float) -> None:
        self.release.wait(20)


def test_a_stuck_run_is_ended_at_its_timeout_and_the_next_run_still_happens(
    admin: RequestContext, stores: Stores, dataset: str, source: FlakyServer
) -> None:
    clock = StuckClock(T0)
    source.routes["/e.csv"] = Route(status=503)
    import_id = _daily(
        admin, stores, dataset, source.url("/e.csv"), clock, retries=1, backoff_seconds=0.1, timeout_seconds=1
    )
    scheduler = Scheduler(stores, admin.settings, clock=clock)
    started = time.monotonic()
    try:
        [run_id] = scheduler.tick(T0 + dt.timedelta(hours=1))
        assert time.monotonic() - started < 5
        [run] = service.list_runs(admin, stores, import_id)
        assert (run.id, run.outcome) == (run_id, "failed")
        assert run.error and "timed out after 1 s" in run.error
        imp = service.get_import(admin, stores, import_id)
        assert not imp.running and imp.consecutive_failures == 1
    finally:
        clock.release.set()
    source.routes["/e.csv"] = Route(body=CSV_V1)
    clock.release.clear()
    assert len(scheduler.tick(T0 + dt.timedelta(days=1, hours=1))) == 1
    assert _current(admin, stores, dataset) == 1


def test_a_load_finishing_after_the_timeout_cannot_publish(
    admin: RequestContext, stores: Stores, dataset: str, source: FlakyServer, clock: FakeClock, tmp_path: object
) -> None:
    source.routes["/e.csv"] = Route(body=CSV_V1)
    import_id = _daily(admin, stores, dataset, source.url("/e.csv"), clock)
    assert service.run_now(admin, stores, import_id, clock=clock).version == 1
    claimed = runner.claim_run(stores, import_id, trigger="manual", now=T0, owner="late")
    assert claimed is not None
    imp, run_id = claimed
    assert runner.end_stuck(stores, run_id, T0, 1.0)  # the waiter gave up on the run
    late_file = stores.tmp_dir / "late.csv"
    late_file.write_bytes(CSV_V2)
    ctx = RequestContext(actor=runner.import_actor(import_id), settings=admin.settings)
    with pytest.raises(runner.RunAbandoned):
        runner._load(ctx, stores, imp, run_id, late_file, "late.csv", None, {"source_type": "url"})
    assert _current(admin, stores, dataset) == 1
    assert [v.version for v in catalog.list_versions(admin, stores, dataset, "einwohner")] == [1]
    runs = {r.id: r for r in service.list_runs(admin, stores, import_id)}
    assert runs[run_id].outcome == "failed"


def test_periodic_hooks_run_once_per_period_across_schedulers(
    admin: RequestContext, stores: Stores, dataset: str, clock: FakeClock
) -> None:
    calls: list[dt.datetime] = []
    job = Periodic("test-freshness", lambda ctx, s, now: calls.append(now), dt.timedelta(minutes=15))
    a = Scheduler(stores, admin.settings, clock=clock, periodic=[job])
    b = Scheduler(stores, admin.settings, clock=clock, periodic=[job])
    a.tick(T0)
    b.tick(T0)
    b.tick(T0 + dt.timedelta(minutes=10))
    a.tick(T0 + dt.timedelta(minutes=16))
    b.tick(T0 + dt.timedelta(minutes=17))
    assert calls == [T0, T0 + dt.timedelta(minutes=16)]


def test_background_thread_ticks_and_stops(
    admin: RequestContext, stores: Stores, dataset: str, source: FlakyServer
) -> None:
    source.routes["/e.csv"] = Route(body=CSV_V1)
    spec = {"source_type": "url", "url": source.url("/e.csv"), "schedule": "* * * * *", "retries": 0}
    import_id = service.create_import(admin, stores, dataset, "einwohner", spec).id
    settings = admin.settings.model_copy(update={"scheduler_tick_seconds": 0.1})

    class Soon(FakeClock):  # real scheduler loop, clock a minute ahead so the import is due at once
        def now(self) -> dt.datetime:
            return dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)

    scheduler = Scheduler(stores, settings, clock=Soon(T0))
    scheduler.start()
    try:
        deadline = time.monotonic() + 10
        while not service.list_runs(admin, stores, import_id) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.stop()
    assert scheduler._thread is None
    assert service.list_runs(admin, stores, import_id)[-1].outcome == "success"
