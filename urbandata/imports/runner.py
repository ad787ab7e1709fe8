"""One run of an import: claim it, fetch with retries and backoff, load through the catalog, record.

A run is bounded by its timeout: the run is executed by a worker thread; when the time is up the run is
recorded as failed, and a load that finishes later cannot publish (the commit that would make its
version current first moves the run from `running` to `publishing`, which fails once the run has
been ended). A claim on the import (a lease, taken with one conditional UPDATE) keeps two runs of
the same import from overlapping, across threads and platform processes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from urbandata.audit.service import record
from urbandata.auth.actor import Actor, RequestContext
from urbandata.catalog import service as catalog
from urbandata.config import Settings
from urbandata.errors import Conflict, IngestError, NotFound, UrbanDataError
from urbandata.imports import repository as repo
from urbandata.imports.clock import Clock
from urbandata.imports.fetch import (
    Fetched,
    FetchError,
    content_problem,
    fetch_url,
    move_to,
    pending_files,
    resolve_ckan,
    shown_url,
)
from urbandata.imports.schedule import next_fire
from urbandata.ingest.tableschema import TableSchema
from urbandata.notify.service import notify_org
from urbandata.stores import Stores

log = logging.getLogger("urbandata.imports")
LEASE_MARGIN = dt.timedelta(seconds=60)


class RunAbandoned(Conflict):
    code = "import_run_ended"


class ColumnsChanged(IngestError):
    code = "columns_changed"


@dataclass
class Outcome:
    status: str  # success, unchanged, failed
    attempts: int = 1
    rows: int | None = None
    version: int | None = None
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    source_state: dict[str, Any] = field(default_factory=dict)  # etag, last_modified, last_sha256 to keep


@dataclass(frozen=True)
class Current:
    sha256: str
    columns: list[str]


def import_actor(import_id: int) -> Actor:
    """Runs act as the platform itself, named after the import (shown as the versions' creator)."""
    return Actor(kind="system", username=f"import:{import_id}", is_admin=True)


def folder_root(settings: Settings) -> Path:
    return (settings.import_folder_root or settings.data_dir / "imports").resolve()


def _current(ctx: RequestContext, stores: Stores, slug: str, resource: str) -> Current | None:
    try:
        versions = catalog.list_versions(ctx, stores, slug, resource)
    except NotFound as exc:
        if exc.code == "resource_not_found":
            return None
        raise
    cur = next((v for v in versions if v.current), None)
    if cur is None:
        return None
    return Current(cur.source_sha256, [f["name"] for f in cur.schema_.get("fields", [])])


def _load(
    ctx: RequestContext,
    stores: Stores,
    imp: Any,
    run_id: int,
    path: Path,
    filename: str,
    expected: list[str] | None,
    origin: dict[str, Any],
) -> tuple[int, int]:
    """Load `path` as a new version; vetoed inside the publishing transaction if the columns changed or
    the run was ended meanwhile. Returns (version, rows)."""

    def before_commit(conn: sa.Connection, schema: TableSchema) -> None:
        names = [f.name for f in schema.fields]
        if expected is not None and set(names) != set(expected):
            added = [n for n in names if n not in expected]
            removed = [n for n in expected if n not in names]
            raise ColumnsChanged(
                "The columns changed against the current version"
                + (f"; new: {', '.join(added)}" if added else "")
                + (f"; missing: {', '.join(removed)}" if removed else "")
                + ". The current version stays; change the resource's schema deliberately by an upload.",
                file=filename,
            )
        if not repo.finish_run(conn, run_id, ["running"], {"status": "publishing"}):
            raise RunAbandoned("The run was ended at its timeout before the load finished; nothing was published.")

    lineage = {"source": "import", "import": {"import_id": imp.id, "run_id": run_id, **origin}}
    version = catalog.ingest_file(
        ctx,
        stores,
        imp.dataset_slug,
        path,
        resource=imp.resource,
        display_name=filename,
        lineage=lineage,
        before_commit=before_commit,
    )
    with stores.engine.begin() as conn:  # between files of a folder run the run may be ended again
        repo.finish_run(conn, run_id, ["publishing"], {"status": "running"})
    return version.version, version.row_count


def _fetch_with_retries(
    imp: Any, settings: Settings, work: Path, deadline: float, clock: Clock, conditional: bool
) -> tuple[Fetched | None, int, list[str]]:
    errors: list[str] = []
    attempts = 0
    for attempt in range(int(imp.retries) + 1):
        attempts += 1
        try:
            src = imp.source
            if imp.source_type == "ckan":
                url = resolve_ckan(src["ckan_url"], src["ckan_dataset"], src["ckan_resource"], deadline=deadline)
            else:
                url = src["url"]
            return (
                fetch_url(
                    url,
                    work,
                    deadline=deadline,
                    max_bytes=settings.max_upload_bytes,
                    etag=imp.etag if conditional else None,
                    last_modified=imp.last_modified if conditional else None,
                ),
                attempts,
                errors,
            )
        except FetchError as exc:
            errors.append(f"attempt {attempts}: {exc}")
            wait = float(imp.backoff_seconds) * 2**attempt
            if not exc.retryable or attempt == imp.retries or time.monotonic() + wait >= deadline:
                break
            clock.sleep(wait)
    return None, attempts, errors


def _run_http(ctx: RequestContext, stores: Stores, imp: Any, run_id: int, deadline: float, clock: Clock) -> Outcome:
    work = stores.tmp_dir / f"import-{run_id}-{uuid.uuid4().hex[:8]}"
    try:
        current = _current(ctx, stores, imp.dataset_slug, imp.resource)
        conditional = current is not None and current.sha256 == imp.last_sha256
        fetched, attempts, errors = _fetch_with_retries(imp, ctx.settings, work, deadline, clock, conditional)
        if fetched is None:
            return Outcome("failed", attempts, error=errors[-1].split(": ", 1)[1], details={"errors": errors})
        details: dict[str, Any] = {"url": shown_url(fetched.url), "errors": errors}
        if fetched.path is None:
            return Outcome("unchanged", attempts, details={**details, "reason": "not modified (HTTP 304)"})
        state = {"etag": fetched.etag, "last_modified": fetched.last_modified, "last_sha256": fetched.sha256}
        details.update(sha256=fetched.sha256, size=fetched.size, file=fetched.filename)
        if current is not None and current.sha256 == fetched.sha256:
            return Outcome(
                "unchanged", attempts, details={**details, "reason": "same content (SHA-256)"}, source_state=state
            )
        problem = content_problem(fetched.path, fetched.content_type)
        if problem:
            return Outcome("failed", attempts, error=problem, details=details)
        origin: dict[str, Any] = {"source_type": imp.source_type, "url": shown_url(fetched.url)}
        if imp.source_type == "ckan":
            origin["ckan"] = {k: imp.source[k] for k in ("ckan_url", "ckan_dataset", "ckan_resource")}
        version, rows = _load(
            ctx, stores, imp, run_id, fetched.path, fetched.filename, current.columns if current else None, origin
        )
        return Outcome("success", attempts, rows=rows, version=version, details=details, source_state=state)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _run_folder(ctx: RequestContext, stores: Stores, imp: Any, run_id: int, deadline: float, clock: Clock) -> Outcome:
    folder = folder_root(ctx.settings) / imp.source["folder"]
    if not folder.is_dir():
        return Outcome("failed", error=f"the watched folder {imp.source['folder']!r} does not exist")
    files: list[dict[str, Any]] = []
    loaded: tuple[int, int] | None = None
    stamp = clock.now().strftime("%Y%m%dT%H%M%S")
    for path in pending_files(folder):
        if time.monotonic() >= deadline:
            break  # the rest waits for the next run
        entry: dict[str, Any] = {"file": path.name}
        try:
            current = _current(ctx, stores, imp.dataset_slug, imp.resource)
            sha = _sha256(path)
            if current is not None and current.sha256 == sha:
                entry["outcome"] = "unchanged"
            else:
                origin = {"source_type": "folder", "file": path.name, "folder": imp.source["folder"]}
                loaded = _load(ctx, stores, imp, run_id, path, path.name, current.columns if current else None, origin)
                entry.update(outcome="success", version=loaded[0], rows=loaded[1])
            entry["moved_to"] = str(move_to(path, "done", stamp).relative_to(folder))
        except RunAbandoned:
            raise  # the file stays for the next run
        except Exception as exc:
            entry.update(outcome="failed", error=_message(exc))
            entry["moved_to"] = str(move_to(path, "failed", stamp).relative_to(folder))
        files.append(entry)
    failed = [f for f in files if f["outcome"] == "failed"]
    details = {"files": files}
    if failed:
        error = "; ".join(f"{f['file']}: {f['error']}" for f in failed)
        return Outcome(
            "failed",
            rows=loaded[1] if loaded else None,
            version=loaded[0] if loaded else None,
            error=error,
            details=details,
        )
    if loaded:
        return Outcome("success", rows=loaded[1], version=loaded[0], details=details)
    return Outcome("unchanged", details={**details, "reason": "no new files" if not files else "same content"})


def _message(exc: BaseException) -> str:
    if isinstance(exc, UrbanDataError | FetchError):
        return str(exc)
    return f"internal error ({type(exc).__name__}: {exc})"


def perform(ctx: RequestContext, stores: Stores, imp: Any, run_id: int, deadline: float, clock: Clock) -> Outcome:
    """Fetch and load; every failure becomes a failed outcome with its reason (nothing is raised)."""
    try:
        if imp.source_type == "folder":
            return _run_folder(ctx, stores, imp, run_id, deadline, clock)
        return _run_http(ctx, stores, imp, run_id, deadline, clock)
    except Exception as exc:
        if not isinstance(exc, UrbanDataError):
            log.exception("import %s run %s failed", imp.id, run_id)
        return Outcome("failed", error=_message(exc))


def claim_run(stores: Stores, import_id: int, *, trigger: str, now: dt.datetime, owner: str) -> tuple[Any, int] | None:
    """Take the import's lease and open a run record; None if it is not due or another run holds it."""
    with stores.engine.begin() as conn:
        imp = repo.get_import(conn, import_id)
        if imp is None:
            return None
        lease = now + dt.timedelta(seconds=float(imp.timeout_seconds)) + LEASE_MARGIN
        if not repo.claim(conn, import_id, now, lease, owner, due_only=trigger == "schedule"):
            return None
        repo.fail_stale_runs(conn, import_id, now, "interrupted: the platform process running it stopped")
        run_id = repo.insert_run(
            conn, {"import_id": import_id, "trigger": trigger, "status": "running", "started_at": now}
        )
        imp = repo.get_import(conn, import_id)
    return imp, run_id


def end_stuck(stores: Stores, run_id: int, now: dt.datetime, timeout: float) -> bool:
    """Record a run that outlived its timeout as failed, unless its load is committing right now."""
    with stores.engine.begin() as conn:
        return repo.finish_run(
            conn,
            run_id,
            ["running"],
            {
                "status": "failed",
                "finished_at": now,
                "duration_seconds": timeout,
                "error": f"timed out after {timeout:g} s; the run was ended and the current version stays",
            },
        )


def execute(
    stores: Stores,
    settings: Settings,
    imp: Any,
    run_id: int,
    *,
    trigger: str,
    now: dt.datetime,
    clock: Clock,
    owner: str,
) -> None:
    """Run a claimed import to its end (or its timeout), record the outcome, release the lease, alert."""
    ctx = RequestContext(actor=import_actor(imp.id), settings=settings)
    timeout = float(imp.timeout_seconds)
    started = time.monotonic()
    deadline = started + timeout
    box: list[Outcome] = []
    worker = threading.Thread(
        target=lambda: box.append(perform(ctx, stores, imp, run_id, deadline, clock)),
        name=f"import-{imp.id}-run-{run_id}",
        daemon=True,
    )
    worker.start()
    worker.join(timeout)
    outcome: Outcome | None = None
    while worker.is_alive():
        if end_stuck(stores, run_id, clock.now(), timeout):
            outcome = Outcome("failed", error=f"timed out after {timeout:g} s", details={"timed_out": True})
            break
        worker.join(0.2)  # its load is committing: wait for it
    if outcome is None:
        outcome = box[0] if box else Outcome("failed", error="internal error: the run ended without a result")
        with stores.engine.begin() as conn:
            repo.finish_run(
                conn,
                run_id,
                ["running", "publishing"],
                {
                    "status": outcome.status,
                    "finished_at": clock.now(),
                    "duration_seconds": round(time.monotonic() - started, 3),
                    "attempts": outcome.attempts,
                    "rows": outcome.rows,
                    "version": outcome.version,
                    "error": outcome.error,
                    "details": outcome.details,
                },
            )
    _after_run(ctx, stores, imp, run_id, outcome, trigger=trigger, now=now, clock=clock, owner=owner)


def _after_run(
    ctx: RequestContext,
    stores: Stores,
    imp: Any,
    run_id: int,
    outcome: Outcome,
    *,
    trigger: str,
    now: dt.datetime,
    clock: Clock,
    owner: str,
) -> None:
    failed = outcome.status == "failed"
    failures = int(imp.consecutive_failures) + 1 if failed else 0
    values: dict[str, Any] = {"consecutive_failures": failures}
    if not failed:
        values.update(outcome.source_state)
    if trigger == "schedule" and imp.schedule:
        values["next_run_at"] = next_fire(imp.schedule, max(now, clock.now()), ctx.settings.schedule_timezone)
    target = f"{imp.dataset_slug}/{imp.resource}"
    with stores.engine.begin() as conn:
        repo.release(conn, imp.id, owner, values)
        record(
            ctx,
            conn,
            "import.run",
            "import",
            f"{target}#{imp.id}",
            outcome="failed" if failed else "ok",
            details={"run": run_id, "status": outcome.status, "version": outcome.version, "error": outcome.error},
        )
    if failed and failures == int(imp.alert_after):
        _alert(ctx, stores, imp, run_id, failures, outcome.error or "")


def _alert(ctx: RequestContext, stores: Stores, imp: Any, run_id: int, failures: int, error: str) -> None:
    target = f"{imp.dataset_slug}/{imp.resource}"
    record(
        ctx,
        stores.engine,
        "import.alert",
        "import",
        f"{target}#{imp.id}",
        outcome="failed",
        details={"consecutive_failures": failures, "run": run_id, "error": error},
    )
    try:
        org = catalog.get_dataset(ctx, stores, imp.dataset_slug).organization
        notify_org(
            ctx,
            stores,
            org,
            kind="import_failed",
            subject=f"Import fehlgeschlagen: {target} ({failures}× in Folge)",
            body=(
                f"Der Import {imp.id} ({imp.source_type}) für {target} ist {failures}-mal in Folge fehlgeschlagen. "
                f"Die aktuelle Version bleibt bestehen.\n\nLetzter Fehler (Lauf {run_id}): {error}\n\n"
                f"Import {imp.id} for {target} failed {failures} times in a row. Last error: {error}"
            ),
            dataset_slug=imp.dataset_slug,
        )
    except Exception:
        log.exception("could not notify about failing import %s", imp.id)


def run_import(
    stores: Stores, settings: Settings, import_id: int, *, trigger: str, now: dt.datetime, clock: Clock, owner: str
) -> int | None:
    """Claim and run an import; the run's id, or None when it was not due or is running elsewhere."""
    claimed = claim_run(stores, import_id, trigger=trigger, now=now, owner=owner)
    if claimed is None:
        return None
    imp, run_id = claimed
    execute(stores, settings, imp, run_id, trigger=trigger, now=now, clock=clock, owner=owner)
    return run_id
