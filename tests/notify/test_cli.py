"""`urbandata quality notify [--at]` and `urbandata quality prune` (embedded default)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import write_csv
from tests.test_cli import run


def test_quality_notify_and_prune_commands(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(data, "org", "add", "umwelt", "--name", "Umwelt")[0] == 0
    assert run(data, "user", "add", "anna", "--email", "anna@stadt.example")[0] == 0
    assert run(data, "org", "member", "add", "umwelt", "anna", "--role", "steward")[0] == 0
    assert run(data, "dataset", "create", "luft", "--org", "umwelt", "--title", "Luft", "--frequency", "DAILY")[0] == 0
    csv = write_csv(tmp_path / "werte.csv", "Id;Wert\n1;10\n")
    assert run(data, "ingest", str(csv), "--dataset", "luft")[0] == 0

    code, out, err = run(data, "quality", "notify", "--at", "2099-01-01T00:00:00")
    assert code == 0, err
    assert "luft: overdue, 1 user(s) notified" in out and "1 notification(s) sent." in out
    code, out, _ = run(data, "quality", "notify", "--at", "2099-01-02T00:00:00")
    assert code == 0 and "0 notification(s) sent." in out  # the same state is never notified twice
    assert run(data, "quality", "notify", "--at", "übermorgen")[0] == 2

    code, out, err = run(data, "quality", "prune")
    assert code == 0 and "0 resource(s) pruned." in out, err
