"""The quality CLI: quality report, rules set/show, versions-diff, versions-restore (embedded default)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import write_csv
from tests.test_cli import run


def test_quality_commands(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(data, "org", "add", "umwelt", "--name", "Umwelt")[0] == 0
    create = ("dataset", "create", "luft", "--org", "umwelt", "--title", "Luft", "--frequency", "DAILY")
    assert run(data, *create)[0] == 0
    csv = write_csv(tmp_path / "werte.csv", "Id;Wert\n1;10\n2;20\n")
    assert run(data, "ingest", str(csv), "--dataset", "luft")[0] == 0
    write_csv(csv, "Id;Wert\n1;10\n2;25\n3;30\n")
    assert run(data, "ingest", str(csv), "--dataset", "luft")[0] == 0

    code, out, err = run(data, "quality", "report", "luft", "--at", "2099-01-01T00:00:00", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["freshness"] == "overdue" and 0 <= report["score"] <= 100
    code, out, _ = run(data, "quality", "report", "luft")
    assert code == 0 and "score" in out and "conformance" in out
    assert run(data, "quality", "report", "luft", "--at", "morgen")[0] == 2
    code, out, _ = run(data, "quality", "overdue", "umwelt", "--at", "2099-01-01T00:00:00")
    assert code == 0 and "luft" in out

    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps([{"type": "range", "column": "Wert", "min": 5, "max": 1}]))
    code, _, err = run(data, "rules", "set", "luft", str(rules))
    assert code == 2 and "min 5 is greater than max 1" in err
    rules.write_text(json.dumps([{"type": "unique", "columns": ["Id"]}]))
    code, out, _ = run(data, "rules", "set", "luft", str(rules), "--on-failure", "warn")
    assert code == 0 and "1 rule(s) saved" in out
    assert json.loads(run(data, "rules", "show", "luft")[1])["rules"] == [{"type": "unique", "columns": ["Id"]}]

    code, out, err = run(data, "versions-diff", "luft", "--from", "1", "--to", "2")
    assert code == 0, err
    diff = json.loads(out)
    assert diff["keys"] == ["Id"] and diff["rows"] == {"added": 1, "removed": 0, "changed": 1}
    code, out, _ = run(data, "versions-restore", "luft", "--version", "1")
    assert code == 0 and "restored as version 3" in out
    code, out, _ = run(data, "versions", "luft")
    assert code == 0 and "✔" in out
