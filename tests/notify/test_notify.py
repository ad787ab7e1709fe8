"""Notifications to stewards: workspace copies and e-mail through a local SMTP sink (both backends)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.conftest import make_settings
from tests.helpers import make_dataset, make_org, write_csv
from tests.notify.conftest import Sink, free_port
from urbandata.accounts import service as accounts
from urbandata.auth.actor import Actor, RequestContext
from urbandata.catalog import service
from urbandata.config import Settings
from urbandata.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from urbandata.notify import service as notify
from urbandata.notify.freshness import check_freshness
from urbandata.stores import Stores


def mail_settings(settings: Settings, port: int) -> Settings:
    return settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False, "smtp_timeout_seconds": 3.0}
    )


def people(admin: RequestContext, stores: Stores) -> None:
    """Organisation `umwelt`: a steward and an editor (with e-mail), a member; `verkehr` has its own steward."""
    make_org(admin, stores, "umwelt", "Referat Umweltschutz")
    make_org(admin, stores, "verkehr", "Referat Verkehr")
    for name, email in (("anna", "anna@stadt.example"), ("ben", "ben@stadt.example"), ("carl", "carl@stadt.example")):
        accounts.add_user(admin, stores, name, email=email, password="geheim-geheim")
    accounts.add_user(admin, stores, "dora", email=None)
    accounts.add_user(admin, stores, "erik", email="erik@stadt.example")
    accounts.set_member(admin, stores, "umwelt", "anna", "steward")
    accounts.set_member(admin, stores, "umwelt", "ben", "editor")
    accounts.set_member(admin, stores, "umwelt", "carl", "member")
    accounts.set_member(admin, stores, "umwelt", "dora", "steward")  # no e-mail address: workspace only
    accounts.set_member(admin, stores, "verkehr", "erik", "steward")


def user(settings: Settings, name: str, *roles: tuple[str, str]) -> RequestContext:
    return RequestContext(actor=Actor(kind="user", username=name, org_roles=tuple(roles)), settings=settings)  # type: ignore[arg-type]


def test_notify_org_stores_and_mails_stewards_and_editors(
    admin: RequestContext, stores: Stores, smtp_sink: Sink
) -> None:
    people(admin, stores)
    ctx = RequestContext(actor=admin.actor, settings=mail_settings(admin.settings, smtp_sink.port))
    n = notify.notify_org(
        ctx, stores, "umwelt", kind="import.failed", subject="Import fehlgeschlagen", body="Dreimal in Folge."
    )
    assert n == 3  # anna, ben, dora; not the member carl, not verkehr's erik
    assert sorted(r for rcpt in smtp_sink.recipients for r in rcpt) == ["anna@stadt.example", "ben@stadt.example"]
    mail = smtp_sink.to("anna@stadt.example")[0]
    assert mail["Subject"] == "Import fehlgeschlagen" and mail["From"] == ctx.settings.smtp_from
    assert mail.get_content().strip() == "Dreimal in Folge."
    assert "ben@stadt.example" not in mail["To"]  # one message per person: nobody sees the others' addresses

    anna = notify.inbox(user(admin.settings, "anna", ("umwelt", "steward")), stores)
    assert anna.unread == 1 and anna.notifications[0].subject == "Import fehlgeschlagen"
    assert anna.notifications[0].email == "sent" and anna.notifications[0].organization == "umwelt"
    dora = notify.inbox(user(admin.settings, "dora", ("umwelt", "steward")), stores)
    assert dora.unread == 1 and dora.notifications[0].email == "none"
    assert notify.inbox(user(admin.settings, "carl", ("umwelt", "member")), stores).unread == 0
    assert notify.inbox(user(admin.settings, "erik", ("verkehr", "steward")), stores).unread == 0


def test_smtp_down_keeps_the_workspace_notification(admin: RequestContext, stores: Stores) -> None:
    people(admin, stores)
    ctx = RequestContext(actor=admin.actor, settings=mail_settings(admin.settings, free_port()))  # nobody listens
    assert notify.notify_org(ctx, stores, "umwelt", kind="test", subject="Hallo", body="Text") == 3
    anna = notify.inbox(user(admin.settings, "anna", ("umwelt", "steward")), stores)
    assert anna.unread == 1 and anna.notifications[0].email == "failed"


def test_notify_org_checks_permission_and_input(admin: RequestContext, stores: Stores) -> None:
    people(admin, stores)
    foreign = user(admin.settings, "erik", ("verkehr", "steward"))
    with pytest.raises(Forbidden):
        notify.notify_org(foreign, stores, "umwelt", kind="x", subject="s", body="b")
    member = user(admin.settings, "carl", ("umwelt", "member"))
    with pytest.raises(Forbidden):
        notify.notify_org(member, stores, "umwelt", kind="x", subject="s", body="b")
    editor = user(admin.settings, "ben", ("umwelt", "editor"))
    assert notify.notify_org(editor, stores, "umwelt", kind="x", subject="s", body="b") == 3
    with pytest.raises(InvalidInput):
        notify.notify_org(admin, stores, "umwelt", kind="", subject="s", body="b")
    with pytest.raises(InvalidInput):
        notify.notify_org(admin, stores, "umwelt", kind="x", subject="  ", body="b")
    with pytest.raises(NotFound):
        notify.notify_org(admin, stores, "gibtsnicht", kind="x", subject="s", body="b")


def test_inbox_is_own_only_and_mark_read(admin: RequestContext, stores: Stores) -> None:
    people(admin, stores)
    for i in range(3):
        notify.notify_org(admin, stores, "umwelt", kind="test", subject=f"Nachricht {i}", body="")
    anna_ctx = user(admin.settings, "anna", ("umwelt", "steward"))
    inbox = notify.inbox(anna_ctx, stores)
    assert [n.subject for n in inbox.notifications] == ["Nachricht 2", "Nachricht 1", "Nachricht 0"]  # newest first
    first = inbox.notifications[-1]
    read = notify.mark_read(anna_ctx, stores, first.id)
    assert read.read_at is not None
    assert notify.mark_read(anna_ctx, stores, first.id).read_at == read.read_at  # idempotent
    after = notify.inbox(anna_ctx, stores)
    assert after.unread == 2
    assert [n.subject for n in notify.inbox(anna_ctx, stores, unread_only=True).notifications] == [
        "Nachricht 2",
        "Nachricht 1",
    ]
    ben_ctx = user(admin.settings, "ben", ("umwelt", "editor"))
    with pytest.raises(NotFound):  # someone else's notification is not there for ben
        notify.mark_read(ben_ctx, stores, first.id)
    assert notify.inbox(ben_ctx, stores).unread == 3
    with pytest.raises(Unauthorized):
        notify.inbox(RequestContext(actor=Actor.anonymous(), settings=admin.settings), stores)
    with pytest.raises(InvalidInput):
        notify.inbox(anna_ctx, stores, limit=0)


def _loaded_at(admin: RequestContext, stores: Stores, slug: str, resource: str) -> dt.datetime:
    t = service.list_versions(admin, stores, slug, resource)[0].created_at
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def test_freshness_due_then_overdue_one_mail_each(
    admin: RequestContext, stores: Stores, smtp_sink: Sink, tmp_path: Path
) -> None:
    people(admin, stores)
    ctx = RequestContext(actor=admin.actor, settings=mail_settings(admin.settings, smtp_sink.port))
    make_dataset(admin, stores, "luft", org="umwelt", title="Luftqualität", frequency="DAILY")
    make_dataset(admin, stores, "laerm", org="umwelt", title="Lärmkarte")  # no frequency: never due
    service.ingest_file(admin, stores, "luft", write_csv(tmp_path / "werte.csv", "Id;Wert\n1;10\n"))
    service.ingest_file(admin, stores, "laerm", write_csv(tmp_path / "pegel.csv", "Id;dB\n1;55\n"))
    loaded = _loaded_at(admin, stores, "luft", "werte")

    assert check_freshness(ctx, stores, loaded + dt.timedelta(hours=12)) == []  # fresh
    assert smtp_sink.messages == []
    due = check_freshness(ctx, stores, loaded + dt.timedelta(hours=22))  # within the last 10 % of the day
    assert [(s["dataset"], s["state"], s["resources"], s["notified"]) for s in due] == [("luft", "due", ["werte"], 3)]
    assert check_freshness(ctx, stores, loaded + dt.timedelta(hours=23)) == []  # still due: nothing new
    assert len(smtp_sink.to("anna@stadt.example")) == 1
    assert "fällig" in smtp_sink.to("anna@stadt.example")[0]["Subject"]

    late = check_freshness(ctx, stores, loaded + dt.timedelta(hours=30))
    assert [(s["dataset"], s["state"]) for s in late] == [("luft", "overdue")]
    assert check_freshness(ctx, stores, loaded + dt.timedelta(days=5)) == []
    anna_mails = smtp_sink.to("anna@stadt.example")
    assert len(anna_mails) == 2 and anna_mails[1]["Subject"] == "Überfällig: Luftqualität"
    body = anna_mails[1].get_content()
    assert "überfällig" in body and "werte (Version 1" in body
    assert len(smtp_sink.to("ben@stadt.example")) == 2 and smtp_sink.to("carl@stadt.example") == []
    assert smtp_sink.to("erik@stadt.example") == []

    # a new version starts afresh: due and overdue are notified again, once each
    service.ingest_file(admin, stores, "luft", write_csv(tmp_path / "werte.csv", "Id;Wert\n1;11\n"))
    again = _loaded_at(admin, stores, "luft", "werte")
    assert [s["state"] for s in check_freshness(ctx, stores, again + dt.timedelta(hours=30))] == ["overdue"]
    assert check_freshness(ctx, stores, again + dt.timedelta(hours=31)) == []
    kinds = [n.kind for n in notify.inbox(user(admin.settings, "dora", ("umwelt", "steward")), stores).notifications]
    assert kinds == ["freshness.overdue", "freshness.overdue", "freshness.due"]


def test_freshness_with_smtp_down_still_notifies_the_workspace_once(
    admin: RequestContext, stores: Stores, tmp_path: Path
) -> None:
    people(admin, stores)
    ctx = RequestContext(actor=admin.actor, settings=mail_settings(admin.settings, free_port()))
    make_dataset(admin, stores, "luft", org="umwelt", frequency="DAILY")
    service.ingest_file(admin, stores, "luft", write_csv(tmp_path / "werte.csv", "Id;Wert\n1;10\n"))
    loaded = _loaded_at(admin, stores, "luft", "werte")
    assert [s["state"] for s in check_freshness(ctx, stores, loaded + dt.timedelta(days=2))] == ["overdue"]
    assert check_freshness(ctx, stores, loaded + dt.timedelta(days=3)) == []
    inbox = notify.inbox(user(admin.settings, "anna", ("umwelt", "steward")), stores)
    assert [(n.kind, n.email, n.dataset) for n in inbox.notifications] == [("freshness.overdue", "failed", "luft")]


def test_check_freshness_only_where_the_actor_may_change(admin: RequestContext, stores: Stores, tmp_path: Path) -> None:
    people(admin, stores)
    make_dataset(admin, stores, "luft", org="umwelt", frequency="DAILY")
    make_dataset(admin, stores, "ampeln", org="verkehr", frequency="DAILY")
    service.ingest_file(admin, stores, "luft", write_csv(tmp_path / "a.csv", "Id;Wert\n1;10\n"))
    service.ingest_file(admin, stores, "ampeln", write_csv(tmp_path / "b.csv", "Id;Wert\n1;10\n"))
    later = _loaded_at(admin, stores, "ampeln", "b") + dt.timedelta(days=3)
    erik = user(admin.settings, "erik", ("verkehr", "steward"))
    assert [s["dataset"] for s in check_freshness(erik, stores, later)] == ["ampeln"]
    assert [s["dataset"] for s in check_freshness(admin, stores, later)] == ["luft"]  # ampeln was notified already


def test_settings_default_to_no_mail(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    s = make_settings("embedded", tmp_path, request)
    assert s.smtp_host is None and s.smtp_port == 587 and s.smtp_starttls is True
    secret = make_settings("embedded", tmp_path, request, smtp_password="s3cret")
    assert "s3cret" not in repr(secret) and "s3cret" not in str(secret.smtp_password)


def test_checks_and_pruning_need_someone_who_may_change_datasets(admin: RequestContext, stores: Stores) -> None:
    from urbandata.catalog.history import prune_all

    people(admin, stores)
    anon = RequestContext(actor=Actor.anonymous(), settings=admin.settings)
    member = user(admin.settings, "carl", ("umwelt", "member"))
    for ctx in (anon, member):
        with pytest.raises(Forbidden):
            check_freshness(ctx, stores)
        with pytest.raises(Forbidden):
            prune_all(ctx, stores)
    assert check_freshness(admin, stores) == [] and prune_all(admin, stores) == {}  # nothing to do, no error
