"""The CLI through its real entry point (the names other tools rely on)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.helpers import BTW, write_csv
from urbandata.cli import app

runner = CliRunner()


def run(data: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--data-dir", str(data), *args])
    return result.exit_code, result.stdout, result.stderr


def test_the_documented_workflow(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(data, "init")[0] == 0
    assert run(data, "org", "add", "wahlamt", "--name", "Wahlamt")[0] == 0
    code, _, _ = run(
        data,
        "dataset",
        "create",
        "btw2013",
        "--org",
        "wahlamt",
        "--title",
        "Bundestagswahl 2013",
        "--access",
        "public",
        "--frequency",
        "NEVER",
        "--keyword",
        "Wahlen",
        "--theme",
        "GOVE",
    )
    assert code == 0
    code, out, err = run(data, "ingest", str(BTW), "--dataset", "btw2013", "--resource", "ergebnis")
    assert code == 0, err
    assert "Loaded 86 rows" in out
    code, out, _ = run(data, "query", "btw2013", "--resource", "ergebnis", "--limit", "1000", "--format", "json")
    doc = json.loads(out)
    assert len(doc["rows"]) == 86 and "fields" in doc["schema"]
    assert doc["rows"][0]["Wahlbeteiligung"] == 76.7
    code, out, _ = run(data, "query", "btw2013", "--where", "Name=Hahnwald", "--format", "json")
    assert [r["Name"] for r in json.loads(out)["rows"]] == ["Hahnwald"]
    code, out, _ = run(
        data, "query", "btw2013", "--where", "Wahlbeteiligung>=85", "--columns", "Name", "--format", "csv"
    )
    assert out.splitlines() == ["Name", "Hahnwald"]
    assert run(data, "query", "btw2013", "--format", "table", "--limit", "2")[0] == 0
    code, out, _ = run(data, "versions", "btw2013")
    assert code == 0 and "✔" in out
    code, out, _ = run(data, "dataset", "search", "Wahlen")
    assert code == 0 and "btw2013" in out
    code, out, _ = run(data, "dataset", "show", "btw2013")
    assert code == 0 and json.loads(out)["resources"][0]["sql_table"] == "btw2013__ergebnis"
    assert run(data, "org", "list")[0] == 0 and run(data, "dataset", "list")[0] == 0
    assert run(data, "config", "check")[0] == 0


def test_schema_override_round_trip(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run(data, "org", "add", "st", "--name", "Statistik")
    run(data, "dataset", "create", "bez", "--org", "st", "--title", "Bezirke")
    csv = write_csv(tmp_path / "bez.csv", "Bezirk;Einwohner\n01;1.234\n02;2.345\n")
    assert run(data, "ingest", str(csv), "--dataset", "bez")[0] == 0
    code, out, _ = run(data, "schema", "bez")
    schema = json.loads(out)
    assert [f["type"] for f in schema["fields"]] == ["string", "integer"]
    schema["fields"][1] = {"name": "Einwohner", "type": "string"}
    schema_file = tmp_path / "schema.json"
    schema_file.write_text(json.dumps(schema))
    assert run(data, "ingest", str(csv), "--dataset", "bez", "--schema", str(schema_file))[0] == 0
    _, out, _ = run(data, "query", "bez", "--format", "json")
    assert json.loads(out)["rows"][0] == {"Bezirk": "01", "Einwohner": "1.234"}


def test_errors_are_clear_and_change_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run(data, "org", "add", "st", "--name", "Statistik")
    code, _, err = run(data, "dataset", "create", "x", "--org", "st", "--title", "X", "--license", "nonsense")
    assert code == 2 and "license" in err
    run(data, "dataset", "create", "x", "--org", "st", "--title", "X")
    code, _, err = run(data, "dataset", "create", "x", "--org", "st", "--title", "X")
    assert code == 2 and "exists" in err
    empty = write_csv(tmp_path / "leer.csv", "")
    code, _, err = run(data, "ingest", str(empty), "--dataset", "x")
    assert code == 2 and "leer.csv" in err and "empty" in err
    code, _, err = run(data, "query", "x", "--format", "json")
    assert code == 2 and "resource" in err
    code, _, err = run(data, "query", "nope", "--format", "xml")
    assert code == 2


def test_accounts_and_audit_commands(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run(data, "org", "add", "wahlamt", "--name", "Wahlamt")
    result = runner.invoke(
        app, ["--data-dir", str(data), "user", "add", "anna", "--password-stdin"], input="ein-langes-passwort\n"
    )
    assert result.exit_code == 0, result.stderr
    assert run(data, "user", "add", "chef", "--admin")[0] == 0
    assert run(data, "org", "member", "add", "wahlamt", "anna", "--role", "editor")[0] == 0
    code, _, err = run(data, "org", "member", "add", "wahlamt", "anna", "--role", "king")
    assert code == 2 and "role" in err
    code, out, _ = run(data, "token", "create", "--user", "anna", "--scope", "write", "--expires", "30")
    assert code == 0
    token = out.strip().splitlines()[-1]
    assert token.startswith("ud_") and len(token) > 30
    code, out, _ = run(data, "user", "list")
    assert code == 0 and "anna" in out and "editor" in out
    code, out, _ = run(data, "token", "list", "--user", "anna")
    assert code == 0 and token not in out
    assert run(data, "token", "revoke", token[:10], "--user", "anna")[0] == 0
    assert run(data, "user", "disable", "anna")[0] == 0
    code, out, _ = run(data, "audit", "--json")
    actions = [e["action"] for e in json.loads(out)]
    assert {"user.create", "org.member.set", "token.create", "token.revoke", "user.disable"} <= set(actions)
