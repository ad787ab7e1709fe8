"""`urbandata imports add / list / run / history` on the embedded default."""

from __future__ import annotations

import json
from pathlib import Path

from tests.imports.conftest import CSV_V1
from tests.imports.flaky_server import Route, flaky_server
from tests.test_cli import run


def test_imports_commands(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(data, "org", "add", "statistik", "--name", "Statistik")[0] == 0
    assert run(data, "dataset", "create", "einwohner", "--org", "statistik", "--title", "Einwohner")[0] == 0
    with flaky_server() as source:
        source.routes["/e.csv"] = Route(body=CSV_V1)
        code, out, err = run(
            data,
            "imports",
            "add",
            "einwohner",
            "--resource",
            "stadtteile",
            "--url",
            source.url("/e.csv"),
            "--schedule",
            "0 6 * * *",
            "--retries",
            "0",
        )
        assert code == 0, err
        assert "Import 1 of einwohner/stadtteile saved; next run: " in out
        code, _, err = run(
            data,
            "imports",
            "add",
            "einwohner",
            "--resource",
            "x",
            "--url",
            "https://a/b.csv",
            "--schedule",
            "jeden Tag",
        )
        assert code == 2 and "Invalid schedule" in err
        code, _, err = run(data, "imports", "add", "einwohner", "--resource", "x")
        assert code == 2 and "exactly one source" in err

        code, out, err = run(data, "imports", "run", "1")
        assert code == 0, err
        assert "Run 1 of import 1: success, version 1 (2 rows)" in out
        assert "unchanged" in run(data, "imports", "run", "1")[1]
        source.routes["/e.csv"] = Route(status=500)
        code, out, err = run(data, "imports", "run", "1")
        assert code == 1 and "failed" in out and "HTTP 500" in err

    listed = json.loads(run(data, "imports", "list", "--json")[1])
    assert [(i["id"], i["schedule"], i["consecutive_failures"]) for i in listed] == [(1, "0 6 * * *", 1)]
    code, out, _ = run(data, "imports", "list", "einwohner")
    assert code == 0 and "0 6 * * *" in out and "/e.csv" in out.replace("\n", "").replace("│", "").replace(" ", "")
    code, out, _ = run(data, "imports", "history", "1")
    assert code == 0 and out.count("manual") == 3 and "HTTP 500" in out
    code, out, _ = run(data, "imports", "--help")
    assert code == 0 and "add" in out and "list" in out and "run" in out
