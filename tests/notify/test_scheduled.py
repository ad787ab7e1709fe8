"""The scheduler runs the freshness notifications and the retention pruning as periodic hooks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.helpers import make_dataset, make_org, write_csv
from urbandata.accounts import service as accounts
from urbandata.app import register_maintenance
from urbandata.auth.actor import Actor, RequestContext
from urbandata.catalog import history, service
from urbandata.config import Settings
from urbandata.imports.scheduler import Scheduler, registered_periodic
from urbandata.notify import service as notify
from urbandata.stores import Stores


def test_scheduler_notifies_and_prunes(
    admin: RequestContext, settings: Settings, stores: Stores, tmp_path: Path
) -> None:
    register_maintenance()
    assert {"freshness-notify", "retention-prune"} <= {p.name for p in registered_periodic()}
    make_org(admin, stores, "umwelt", "Referat Umweltschutz")
    accounts.add_user(admin, stores, "anna")
    accounts.set_member(admin, stores, "umwelt", "anna", "steward")
    make_dataset(admin, stores, "luft", org="umwelt", frequency="DAILY")
    csv = tmp_path / "werte.csv"
    for i in range(3):
        service.ingest_file(admin, stores, "luft", write_csv(csv, f"Id;Wert\n1;{i}\n"))
    history.set_retention(admin, stores, "luft", "werte", history.Retention(keep_last=1))

    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    jobs = [p for p in registered_periodic() if p.name in ("freshness-notify", "retention-prune")]
    Scheduler(stores, settings, periodic=jobs).tick(later)

    steward = Actor(kind="user", username="anna", org_roles=(("umwelt", "steward"),))
    anna = RequestContext(actor=steward, settings=settings)
    assert [n.kind for n in notify.inbox(anna, stores).notifications] == ["freshness.overdue"]
    lineage = history.lineage(admin, stores, "luft", "werte")
    assert {v["version"]: v["data_pruned"] for v in lineage} == {3: False, 2: True, 1: True}
    # the next tick within the period runs neither hook again, and nothing is notified twice
    Scheduler(stores, settings, periodic=jobs).tick(later + dt.timedelta(minutes=1))
    assert len(notify.inbox(anna, stores).notifications) == 1
    assert history.prune_all(admin, stores) == {}
