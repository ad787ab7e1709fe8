"""URL imports against a flaky local source: loads, conditional requests, and every kind of bad input."""

from __future__ import annotations

import time

import pytest

from tests.imports.conftest import CSV_OTHER_COLUMNS, CSV_V1, CSV_V2, FakeClock
from tests.imports.flaky_server import FlakyServer, Route, http_date
from urbandata.auth.actor import RequestContext
from urbandata.catalog import history
from urbandata.catalog import service as catalog
from urbandata.imports import service
from urbandata.stores import Stores


def _url_import(admin: RequestContext, stores: Stores, dataset: str, url: str, **extra: object) -> int:
    spec = {"source_type": "url", "url": url, "retries": 0, "timeout_seconds": 10, **extra}
    return service.create_import(admin, stores, dataset, "einwohner", spec).id


def _current(admin: RequestContext, stores: Stores, dataset: str) -> int | None:
    res = catalog.get_dataset(admin, stores, dataset).resources
    return res[0].current_version if res else None


def test_load_then_unchanged_by_etag_then_by_hash_then_new_version(
    admin: RequestContext, stores: Stores, dataset: str, source: FlakyServer, clock: FakeClock
) -> None:
    source.routes["/einwohner.csv"] = Route(body=CSV_V1, etag='"v1"')
    import_id = _url_import(admin, stores, dataset, source.url("/einwohner.csv"))

    first = service.run_now(admin, stores, import_id, clock=clock)
    assert (first.outcome, first.version, first.rows, first.error) == ("success", 1, 2, None)
    assert first.duration_seconds is not None and first.finished_at is not None

    second = service.run_now(admin, stores, import_id, clock=clock)
    assert second.outcome == "unchanged" and second.version is None
    assert source.hits[-1][1].get("if-none-match") == '"v1"'  # a conditional request, answered 304

    source.routes["/einwohner.csv"] = Route(body=CSV_V1)  # no ETag any more: the content hash decides
    third = service.run_now(admin, stores, import_id, clock=clock)
    assert third.outcome == "unchanged" and "SHA-256" in third.details["reason"]  # type: ignore[index]

    source.routes["/einwohner.csv"] = Route(body=CSV_V2, etag='"v2"')
    fourth = service.run_now(admin, stores, import_id, clock=clock)
    assert (fourth.outcome, fourth.version, fourth.rows) == ("success", 2, 3)
    assert _current(admin, stores, dataset) == 2

    versions = catalog.list_versions(admin, stores, dataset, "einwohner")
    assert [v.version for v in versions] == [2, 1]
    lineage = history.lineage(admin, stores, dataset, "einwohner")
    newest = lineage[0]
    assert newest["source"]["kind"] == "import"
    assert newest["source"]["import"] == {
        "import_id": import_id,
        "run_id": fourth.id,
        "source_type": "url",
        "url": source.url("/einwohner.csv"),
    }
    assert newest["created_by"] == f"import:{import_id}"
    runs = service.list_runs(admin, stores, import_id)
    assert [r.outcome for r in runs] == ["success", "unchanged", "unchanged", "success"]


def test_last_modified_makes_a_conditional_request(
    admin: RequestContext, stores: Stores, dataset: str, source: FlakyServer, clock: FakeClock
) -> None:
    stamp = http_date(time.time() - 3600)
    source.routes["/lm.csv"] = Route(body=CSV_V1, last_modified=stamp)
    import_id = _url_import(admin, stores, dataset, source.url("/lm.csv"))
    assert service.run_now(admin, stores, import_id, clock=clock).outcome == "success"
    again = service.run_now(admin, stores, import_id, clock=clock)
    assert again.outcome == "unchanged"
    assert source.hits[-1][1].get("if-modified-since") == stamp
    assert again.details and again.details["reason"] == "not modified (HTTP 304)"


def _fails_and_keeps_version(
    admin: RequestContext,
    stores: Stores,
    dataset: str,
    source: FlakyServer,
    clock: FakeClock,
    bad: Route,
    expect: str,
    **extra: object,
) -> str:
    source.routes["/data.csv"] = Route(body=CSV_V1)
    import_id = _url_import(admin, stores, dataset, source.url("/data.csv"), **extra)
    assert service.run_now(admin, stores, import_id, clock=clock).outcome == "success"
    source.routes["/data.csv"] = bad
    run = service.run_now(admin, stores, import_id, clock=clock)
    assert run.outcome == "failed", run
    assert run.error and expect in run.error, run.error
    assert run.version is None
    assert _current(admin, stores, dataset) == 1  # the current version stays
    rows = catalog.list_versions(admin, stores, dataset, "einwohner")
    assert len(rows) == 1
    imp = service.get_import(admin, stores, import_id)
    assert imp.consecutive_failures == 1 and not imp.running
    return run.error


def test_http_500_is_retried_with_exponential_backoff_then_fails(
    admin: RequestContext, stores: Stores, dataset: str, source: FlakyServer, clock: FakeClock
) -> None:
    error = _fails_and_keeps_version(
        admin, stores, dataset, source, clock, Route(status=500), "HTTP 500", retries=3, backoff_seconds=2
    )
    assert "Internal Server Error" in error
    assert source.count("/data.csv") == 1 + 4  # the first good run, then 1 + 3 retries
    assert clock.slept == [2, 4, 8]


def test_a_retry_that_succeeds_loads(
    admin: RequestContext, stores: Stores, dataset: str, source: FlakyServer, clock: FakeClock
) -> None:
    source.routes["/data.csv"] = Route(status=503)
    import_id = _url_import(admin, stores, dataset, source.url("/data.csv"), retries=2, backoff_seconds=1)

    def recover(seconds: float) -> None:
        clock.slept.append(seconds)
        source.routes["/data.csv"] = Route(body=CSV_V1)

    clock.sleep = recover  # type: ignore[method-assign]
    run = service.run_now(admin, stores, import_id, clock=clock)
    assert (run.outcome, run.attempts, run.version) == ("success", 2, 1)
    assert run.details and "HTTP 503" in run.details["errors"][0]


def test_slow_server_times_out(
    admin: RequestContext, stores: Stores, dataset: str, source: FlakyServer, clock: FakeClock
) -> None:
    started = time.monotonic()
    _fails_and_keeps_version(
        admin, stores, dataset, source, clock, Route(body=CSV_V2, delay=4), "time", timeout_seconds=1
    )
    assert time.monotonic() - started < 4


def test_dripping_server_is_ended_at_the_run_timeout(
    admin: RequestContext, stores: Stores, dataset: str, source: FlakyServer, clock: FakeClock
) -> None:
    started = time.monotonic()
    _fails_and_keeps_version(
        admin, stores, dataset, source, clock, Route(body=CSV_V2 * 50, drip=0.05), "time", timeout_seconds=1
    )
    assert time.monotonic() - started < 5


def test_redirect_loop(
    admin: RequestContext, stores: Stores, dataset: str, source: FlakyServer, clock: FakeClock
) -> None:
    source.routes["/loop-a"] = Route(redirect_to="/loop-b")
    source.routes["/loop-b"] = Route(redirect_to="/loop-a")
    _fails_and_keeps_version(
        admin, stores, dataset, source, clock, Route(redirect_to="/loop-a"), "redirect loop", retries=2
    )
    assert source.count("/data.csv") == 2  # not retried: a loop stays a loop


@pytest.mark.parametrize("content_type", ["text/html", "text/csv"])
def test_html_instead_of_csv_is_caught_by_content(
    admin: RequestContext, stores: Stores, dataset: str, source: FlakyServer, clock: FakeClock, content_type: str
) -> None:
    page = b"\n  <!DOCTYPE html>\n<html><head><title>Anmeldung</title></head><body>Bitte anmelden</body></html>"
    _fails_and_keeps_version(
        admin, stores, dataset, source, clock, Route(body=page, content_type=content_type), "HTML page"
    )


def test_huge_body_stops_at_the_upload_limit(
    admin: RequestContext, stores: Stores, dataset: str, source: FlakyServer, clock: FakeClock
) -> None:
    limit = admin.settings.max_upload_bytes
    declared = Route(body=b"a;b\n" + b"1;2\n" * 300_000)
    if len(declared.body) <= limit:
        pytest.skip("the upload limit of these settings is above the test body")
    error = _fails_and_keeps_version(admin, stores, dataset, source, clock, declared, "limit")
    assert str(limit) in error
    source.routes["/data.csv"] = Route(stream_bytes=50 * limit)  # no Content-Length: reading must stop by itself
    [imp] = service.list_imports(admin, stores, dataset)
    run = service.run_now(admin, stores, imp.id, clock=clock)
    assert run.outcome == "failed" and run.error and "stopped reading" in run.error, run.error
    assert _current(admin, stores, dataset) == 1


def test_changed_columns_fail_and_the_next_run_still_loads(
    admin: RequestContext, stores: Stores, dataset: str, source: FlakyServer, clock: FakeClock
) -> None:
    error = _fails_and_keeps_version(
        admin, stores, dataset, source, clock, Route(body=CSV_OTHER_COLUMNS), "columns changed"
    )
    assert "Bezirk" in error and "Einwohner" in error
    source.routes["/data.csv"] = Route(body=CSV_V2)
    [imp] = service.list_imports(admin, stores, "einwohner")
    run = service.run_now(admin, stores, imp.id, clock=clock)
    assert (run.outcome, run.version) == ("success", 2)
    assert service.get_import(admin, stores, imp.id).consecutive_failures == 0
