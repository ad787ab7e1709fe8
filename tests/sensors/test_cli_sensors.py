"""`urbandata sensors …` through the real CLI entry point, on both backends: list, CSV import with
German quirks and bad lines reported by line number, simulate, and one car park connector run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import DEMO_DATA
from urbandata.auth.actor import RequestContext
from urbandata.cli import app
from urbandata.config import Settings
from urbandata.sensors import service as sta
from urbandata.sensors import simulate
from urbandata.stores import Stores

runner = CliRunner()
BASE = "http://test/sta/v1.1"
Run = Callable[..., tuple[int, str, str]]


def _env(settings: Settings) -> dict[str, str]:
    env = {"URBANDATA_DATA_DIR": str(settings.data_dir)}
    if settings.metadata_url:
        env["URBANDATA_METADATA_URL"] = settings.metadata_url
    if settings.datastore_url:
        env["URBANDATA_DATASTORE_URL"] = settings.datastore_url
        env["URBANDATA_DATASTORE_SCHEMA"] = settings.datastore_schema or ""
    return env


@pytest.fixture
def cli(settings: Settings, stores: Stores) -> Run:
    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, list(args), env=_env(settings))
        return result.exit_code, result.stdout, result.stderr

    return run


@pytest.fixture
def stream(admin: RequestContext, stores: Stores) -> int:
    """The Datastream of NO2 at the simulated Hauptbahnhof station (an OM_Measurement, no history)."""
    return simulate.ensure_sensors(admin, stores)[("hauptbahnhof", "no2")]


def _values(admin: RequestContext, stores: Stores, stream: int) -> list[tuple[str, object]]:
    page = sta.get(admin, stores, f"Datastreams({stream})/Observations", {"$orderby": "phenomenonTime"}, base_url=BASE)
    return [(o["phenomenonTime"], o["result"]) for o in page["value"]]


def test_import_german_csv_reports_bad_lines(
    cli: Run, admin: RequestContext, stores: Stores, stream: int, tmp_path: Path
) -> None:
    csv_file = tmp_path / "no2.csv"
    csv_file.write_bytes(
        "phenomenonTime;result;resultTime\n"
        "01.11.2025 08:00;41,5;01.11.2025 08:05\n"
        "01.11.2025 09:00;1.234,5;\n"
        "\n"
        "01.11.2025 10:00;k.A.;\n"  # line 5: not a number
        "31.11.2025 11:00;12;\n"  # line 6: no such date
        "01.11.2025 12:00;13;x;y\n"  # line 7: ragged
        "01.11.2025 08:00;40;\n"  # line 8: the same time as line 2
        "2025-11-01T13:00:00Z;7\n".encode("cp1252")  # line 9: ragged (2 fields)
    )
    code, stdout, _ = cli("sensors", "import", str(csv_file), "--datastream", str(stream))
    assert code == 0, stdout
    assert "2 of 7 observations stored, 5 rejected" in stdout
    for line, reason in [(5, "not a number"), (6, "invalid date"), (7, "4 fields"), (8, "already"), (9, "2 fields")]:
        assert any(f"line {line}:" in out and reason in out for out in stdout.splitlines()), (line, stdout)
    assert _values(admin, stores, stream) == [("2025-11-01T07:00:00Z", 41.5), ("2025-11-01T08:00:00Z", 1234.5)]
    # re-running adds nothing: every time is stored already
    code, stdout, _ = cli("sensors", "import", str(csv_file), "--datastream", str(stream))
    assert "0 of 7 observations stored, 7 rejected" in stdout and code == 2


def test_strict_import_stores_nothing_when_a_line_is_bad(
    cli: Run, admin: RequestContext, stores: Stores, stream: int, tmp_path: Path
) -> None:
    csv_file = tmp_path / "no2.csv"
    csv_file.write_text("phenomenonTime,result\n2025-11-01T08:00:00Z,12.5\n2025-11-01T09:00:00Z,zwölf\n")
    code, _, stderr = cli("sensors", "import", str(csv_file), "--datastream", str(stream), "--strict")
    assert code == 2 and "nothing stored" in stderr and "line 3" in stderr
    assert _values(admin, stores, stream) == []
    code, stdout, _ = cli("sensors", "import", str(csv_file), "--datastream", str(stream))
    assert code == 0 and "1 of 2 observations stored" in stdout  # ',' delimiter: 12.5 is a decimal point


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"\x00\x01\x02binary\x00", "not a text file"),
        (b"Zeit;Wert\n01.11.2025 08:00;1\n", "missing column(s) phenomenonTime, result"),
        (b"phenomenonTime;result;Station\n01.11.2025 08:00;1;A\n", "unknown column(s) Station"),
        (b"phenomenonTime;result\n", "no observations"),
        (b"", "empty"),
    ],
)
def test_bad_file_is_a_clear_error_and_stores_nothing(
    cli: Run, admin: RequestContext, stores: Stores, stream: int, tmp_path: Path, content: bytes, fragment: str
) -> None:
    csv_file = tmp_path / "bad.csv"
    csv_file.write_bytes(content)
    code, _, stderr = cli("sensors", "import", str(csv_file), "--datastream", str(stream))
    assert code == 2 and fragment in stderr, stderr
    assert _values(admin, stores, stream) == []


def test_import_into_a_missing_datastream(cli: Run, stream: int, tmp_path: Path) -> None:
    csv_file = tmp_path / "ok.csv"
    csv_file.write_text("phenomenonTime;result\n01.11.2025 08:00;1\n")
    code, _, stderr = cli("sensors", "import", str(csv_file), "--datastream", "999999")
    assert code == 2 and "999999" in stderr


def test_parking_simulate_and_list(cli: Run, tmp_path: Path) -> None:
    code, stdout, _ = cli("sensors", "parking", "--file", str(DEMO_DATA / "kaiserslautern_pls_2021-07-13.xml"))
    assert code == 0 and "11 car parks, 11 Things and 33 Datastreams created, 33 observations added" in stdout
    code, stdout, _ = cli("sensors", "parking", "--file", str(DEMO_DATA / "kaiserslautern_pls_2021-07-13.xml"))
    assert code == 0 and "0 observations added, 33 already stored" in stdout
    bad = tmp_path / "pls.xml"
    bad.write_text("<html><body>Wartung</body></html>")
    code, _, stderr = cli("sensors", "parking", "--file", str(bad))
    assert code == 2 and "root element is <html>" in stderr

    code, stdout, _ = cli("sensors", "simulate", "--days", "1")
    assert code == 0 and "4 Things created, 384 observations added" in stdout
    code, stdout, _ = cli("sensors", "simulate", "--days", "0", "--live", "--rounds", "1", "--interval", "0")
    assert code == 0 and "live: 13 values written" in stdout

    code, stdout, _ = cli("sensors", "list", "--format", "json")
    assert code == 0
    things = json.loads(stdout)
    assert len(things) == 15
    stift = next(t for t in things if t["name"] == "PH Stiftsplatz")
    assert stift["dataset"] == "parkhausbelegung-kaiserslautern"
    latest = {d["name"].split(" – ")[0]: d["latest"] for d in stift["datastreams"]}
    assert latest["Freie Stellplätze"] == {"phenomenonTime": "2021-07-13T12:46:00Z", "result": 46}
    assert latest["Parkhausstatus"]["result"] == "Offen"
    counter = next(t for t in things if t["name"].startswith("Verkehrszählstelle"))
    assert counter["datastreams"][0]["unit"] == "Kfz/15 min" and counter["datastreams"][0]["latest"] is not None

    code, stdout, _ = cli("sensors", "list")
    assert code == 0 and "PH Stiftsplatz" in stdout and "Stellplätze" in stdout
