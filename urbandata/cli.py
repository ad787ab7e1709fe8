"""The `urbandata` command: thin shells over the service functions."""

from __future__ import annotations

import csv
import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from urbandata.accounts import service as accounts
from urbandata.audit import service as audit_service
from urbandata.auth.actor import Actor, RequestContext
from urbandata.catalog import rows as rows_service
from urbandata.catalog import service
from urbandata.catalog.models import OrganizationIn
from urbandata.config import Settings, describe_settings
from urbandata.errors import InvalidInput, UrbanDataError
from urbandata.ingest.tableschema import load_schema_file
from urbandata.stores import Stores

app = typer.Typer(help="urbandata: the urban data platform of a city's digital office.", no_args_is_help=True)
org_app = typer.Typer(help="Organisations (departments, Referate).", no_args_is_help=True)
dataset_app = typer.Typer(help="Datasets in the catalog.", no_args_is_help=True)
config_app = typer.Typer(help="Configuration.", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(dataset_app, name="dataset")
app.add_typer(config_app, name="config")

out = Console()
err = Console(stderr=True)


@app.callback()
def main_options(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", envvar="URBANDATA_DATA_DIR", help="Data directory.")
    ] = None,
) -> None:
    ctx.obj = Settings(data_dir=data_dir) if data_dir else Settings()


def _settings(ctx: typer.Context) -> Settings:
    settings = ctx.obj if isinstance(ctx.obj, Settings) else ctx.find_root().obj
    assert isinstance(settings, Settings)
    return settings


@contextmanager
def _session(ctx: typer.Context) -> Any:
    """Open the stores as the local operator; turn platform errors into a clear message and exit code."""
    settings = _settings(ctx)
    stores: Stores | None = None
    try:
        stores = Stores.open(settings)
        yield RequestContext(actor=Actor.system(), settings=settings), stores
    except UrbanDataError as exc:
        err.print(f"[bold red]Error:[/] {exc}", highlight=False)
        for reason in exc.details.get("fields", {}).items() if isinstance(exc.details.get("fields"), dict) else []:
            err.print(f"  {reason[0]}: {reason[1]}", highlight=False)
        raise typer.Exit(2 if exc.status < 500 else 1) from None
    finally:
        if stores is not None:
            stores.close()


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the data directory and the metadata database (idempotent)."""
    with _session(ctx):
        out.print(f"Data directory ready: {_settings(ctx).data_dir}")


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
) -> None:
    """Run the web platform (API and portal)."""
    import uvicorn

    from urbandata.app import create_app

    settings = _settings(ctx)
    with _session(ctx):
        pass  # create or migrate the stores before the server starts
    out.print(f"urbandata serves {settings.data_dir} on http://{host}:{port}")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


@app.command()
def demo(
    ctx: typer.Context,
    sensors: Annotated[
        bool, typer.Option(help="Also the sensor demo: car park snapshot and simulated sensors.")
    ] = True,
) -> None:
    """Load the demo catalog: real open data (with attribution) and generated district data."""
    from urbandata.demo.loader import load_demo

    with _session(ctx) as (rctx, stores):
        for line in load_demo(rctx, stores, sensors=sensors):
            out.print(line, highlight=False)


@org_app.command("add")
def org_add(
    ctx: typer.Context,
    slug: str,
    name: Annotated[str, typer.Option(help="Display name, e.g. 'Referat Umweltschutz'.")],
    description: Annotated[str, typer.Option()] = "",
    email: Annotated[str | None, typer.Option()] = None,
    url: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Add an organisation."""
    with _session(ctx) as (rctx, stores):
        data = OrganizationIn(slug=slug, name=name, description=description, email=email, url=url)
        org = service.create_org(rctx, stores, data)
        out.print(f"Organization {org.slug} created.")


@org_app.command("list")
def org_list(ctx: typer.Context) -> None:
    """List organisations."""
    with _session(ctx) as (rctx, stores):
        table = Table("slug", "name", "datasets")
        for o in service.list_orgs(rctx, stores):
            table.add_row(o.slug, o.name, str(o.dataset_count))
        out.print(table)


@dataset_app.command("create")
def dataset_create(
    ctx: typer.Context,
    slug: str,
    org: Annotated[str, typer.Option(help="Organisation slug.")],
    title: Annotated[str, typer.Option()],
    access: Annotated[str, typer.Option(help="public, internal or restricted.")] = "public",
    license: Annotated[
        str, typer.Option(help="Licence id, e.g. dl-de/by-2-0, dl-de/zero-2-0, cc-by-4.0, cc-zero.")
    ] = "dl-de/by-2-0",
    frequency: Annotated[
        str | None, typer.Option(help="EU frequency code: DAILY, WEEKLY, MONTHLY, ANNUAL, ...")
    ] = None,
    description: Annotated[str, typer.Option(help="Markdown description.")] = "",
    keyword: Annotated[list[str] | None, typer.Option(help="Keyword (repeatable).")] = None,
    theme: Annotated[list[str] | None, typer.Option(help="EU data theme code, e.g. TRAN (repeatable).")] = None,
    meta: Annotated[Path | None, typer.Option(help="JSON file with more metadata fields of the profile.")] = None,
) -> None:
    """Create a dataset."""
    fields: dict[str, Any] = json.loads(meta.read_text(encoding="utf-8")) if meta else {}
    fields.update(title=title, access_level=access, license=license, description=description)
    if frequency:
        fields["frequency"] = frequency
    if keyword:
        fields["keywords"] = keyword
    if theme:
        fields["themes"] = theme
    with _session(ctx) as (rctx, stores):
        ds = service.create_dataset(rctx, stores, slug, org, fields)
        out.print(f"Dataset {ds.slug} created ({ds.access_level}).")


@dataset_app.command("list")
def dataset_list(ctx: typer.Context) -> None:
    """List datasets."""
    dataset_search(ctx, "")


@dataset_app.command("search")
def dataset_search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="Search words (German-aware, prefix match).")] = "",
    org: Annotated[list[str] | None, typer.Option()] = None,
    theme: Annotated[list[str] | None, typer.Option()] = None,
    keyword: Annotated[list[str] | None, typer.Option()] = None,
    format: Annotated[list[str] | None, typer.Option("--format")] = None,
    license: Annotated[list[str] | None, typer.Option()] = None,
    access: Annotated[list[str] | None, typer.Option()] = None,
) -> None:
    """Search datasets, with facet counts."""
    filters = {
        "organization": org or [],
        "theme": theme or [],
        "keyword": keyword or [],
        "format": format or [],
        "license": license or [],
        "access_level": access or [],
    }
    with _session(ctx) as (rctx, stores):
        result = service.search_datasets(rctx, stores, query, filters, page_size=100)
        table = Table("slug", "title", "organization", "access", "formats", title=f"{result.count} dataset(s)")
        for d in result.results:
            table.add_row(d.slug, d.title, d.organization, d.access_level, ", ".join(d.formats))
        out.print(table)
        for name, values in result.facets.items():
            if values:
                out.print(
                    f"[bold]{name}[/]: " + ", ".join(f"{v.label} ({v.count})" for v in values[:10]), highlight=False
                )


@dataset_app.command("show")
def dataset_show(ctx: typer.Context, slug: str) -> None:
    """Show a dataset's metadata and resources (JSON)."""
    with _session(ctx) as (rctx, stores):
        ds = service.get_dataset(rctx, stores, slug)
        out.print_json(ds.model_dump_json(by_alias=True))


@app.command()
def ingest(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV, Excel (xlsx/xls), JSON, NDJSON, GeoJSON or Parquet file.")],
    dataset: Annotated[str, typer.Option(help="Dataset slug.")],
    resource: Annotated[str | None, typer.Option(help="Resource name (default: the file's stem).")] = None,
    schema: Annotated[Path | None, typer.Option(help="Table Schema JSON overriding inferred types.")] = None,
    sheet: Annotated[str | None, typer.Option(help="Excel sheet name.")] = None,
) -> None:
    """Load a file as the new current version of a resource."""
    with _session(ctx) as (rctx, stores):
        table_schema = load_schema_file(schema) if schema else None
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err, transient=True
        ) as progress:
            task = progress.add_task(f"Loading {file.name}", total=None)
            labels = {"reading": f"Reading and checking {file.name}", "storing": "Storing the new version"}
            version = service.ingest_file(
                rctx,
                stores,
                dataset,
                file,
                resource=resource,
                schema=table_schema,
                sheet=sheet,
                on_stage=lambda s: progress.update(task, description=labels.get(s, s)),
            )
        rep = version.report
        out.print(
            f"Loaded {rep['rows_loaded']:,} rows into {dataset}/{resource or '…'} as version {version.version} "
            f"({rep['duration_s']} s); rejected: {rep['rows_rejected']:,}.",
            highlight=False,
        )
        for note in rep.get("notes", []):
            out.print(f"  note: {note}", highlight=False)
        for rej in rep.get("rejected", [])[:20]:
            where = f"line {rej.get('line')}" + (f", column {rej['column']}" if rej.get("column") else "")
            out.print(f"  rejected {where}: {rej['reason']}", highlight=False)


@app.command()
def query(
    ctx: typer.Context,
    dataset: str,
    resource: Annotated[str | None, typer.Option(help="Resource name (default: the only one).")] = None,
    where: Annotated[
        list[str] | None, typer.Option(help="Filter COLUMN=VALUE (also !=, <, <=, >, >=; repeatable).")
    ] = None,
    sort: Annotated[str | None, typer.Option(help="Sort: col1,-col2.")] = None,
    columns: Annotated[str | None, typer.Option(help="Columns: a,b.")] = None,
    limit: Annotated[int, typer.Option(help="Maximum rows.")] = 100,
    version: Annotated[int | None, typer.Option(help="Read an older version.")] = None,
    format: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """Query a resource's rows."""
    if format not in ("table", "csv", "json"):
        err.print("[bold red]Error:[/] --format must be table, csv or json")
        raise typer.Exit(2)
    with _session(ctx) as (rctx, stores):
        name = resource or _only_resource(rctx, stores, dataset)
        filters = [rows_service.parse_where(w) for w in where or []]
        rows: list[dict[str, Any]] = []
        cursor: str | None = None
        page = None
        while len(rows) < limit:
            q = rows_service.RowQuery(
                columns=columns.split(",") if columns else None,
                filters=filters,
                sort=sort.split(",") if sort else (),
                limit=min(limit - len(rows), rctx.settings.api_max_limit),
                cursor=cursor,
                version=version,
            )
            page = rows_service.query_rows(rctx, stores, dataset, name, q)
            rows.extend(page.rows)
            cursor = page.next_cursor
            if not cursor:
                break
        assert page is not None
        fields = [f.dump() for f in page.fields]
        if format == "json":
            doc = {"schema": {"fields": fields}, "rows": rows, "version": page.table.version}
            sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
        elif format == "csv":
            writer = csv.writer(sys.stdout)
            writer.writerow([f["name"] for f in fields])
            for r in rows:
                writer.writerow(
                    ["" if v is None else json.dumps(v) if isinstance(v, dict | list) else v for v in r.values()]
                )
        else:
            table = Table(*[f["name"] for f in fields], title=f"{dataset}/{name} v{page.table.version}")
            for r in rows:
                table.add_row(*["" if v is None else str(v) for v in r.values()])
            out.print(table)


def _only_resource(rctx: RequestContext, stores: Stores, dataset: str) -> str:
    ds = service.get_dataset(rctx, stores, dataset)
    if len(ds.resources) != 1:
        names = ", ".join(r.name for r in ds.resources) or "none"
        raise InvalidInput(f"Name the resource with --resource (dataset has: {names})", code="resource_required")
    return ds.resources[0].name


@app.command()
def versions(
    ctx: typer.Context,
    dataset: str,
    resource: Annotated[str | None, typer.Option()] = None,
    report: Annotated[bool, typer.Option(help="Print the ingest reports as JSON.")] = False,
) -> None:
    """List a resource's versions (the current one marked)."""
    with _session(ctx) as (rctx, stores):
        name = resource or _only_resource(rctx, stores, dataset)
        items = service.list_versions(rctx, stores, dataset, name)
        if report:
            sys.stdout.write(
                json.dumps([v.model_dump(mode="json", by_alias=True) for v in items], ensure_ascii=False, indent=2)
                + "\n"
            )
            return
        table = Table("version", "current", "created", "by", "source", "rows", "rejected", "sha256")
        for v in items:
            table.add_row(
                str(v.version),
                "✔" if v.current else "",
                v.created_at.strftime("%Y-%m-%d %H:%M"),
                v.created_by or "",
                v.source_name,
                f"{v.row_count:,}",
                str(v.report.get("rows_rejected", 0)),
                v.source_sha256[:12],
            )
        out.print(table)


@app.command("schema")
def schema_cmd(ctx: typer.Context, dataset: str, resource: Annotated[str | None, typer.Option()] = None) -> None:
    """Print the current Table Schema of a resource (edit it and pass it to `ingest --schema`)."""
    with _session(ctx) as (rctx, stores):
        name = resource or _only_resource(rctx, stores, dataset)
        table = service.open_table(rctx, stores, dataset, name)
        sys.stdout.write(json.dumps(table.schema.dump(), ensure_ascii=False, indent=2) + "\n")


@config_app.command("check")
def config_check(ctx: typer.Context) -> None:
    """Check the settings and that the stores can be opened; list every setting."""
    settings = _settings(ctx)
    table = Table("setting", "value", "description")
    for env, _default, desc in describe_settings():
        value = getattr(settings, env.removeprefix("URBANDATA_").lower())
        table.add_row(env, str(value) if value is not None else "(derived)", desc)
    out.print(table)
    with _session(ctx) as (_rctx, stores):
        out.print(f"metadata database: {stores.engine.url.render_as_string(hide_password=True)} ok")
        out.print(f"datastore: {stores.datastore.kind} ok")


def main() -> None:
    app()


user_app = typer.Typer(help="User accounts.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
member_app = typer.Typer(help="Members of an organisation.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
org_app.add_typer(member_app, name="member")


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    name: str,
    admin: Annotated[bool, typer.Option("--admin", help="Platform admin (the digital office).")] = False,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    email: Annotated[str | None, typer.Option()] = None,
    display_name: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Add a user (without a password the user signs in with tokens or OpenID Connect only)."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    with _session(ctx) as (rctx, stores):
        user = accounts.add_user(
            rctx, stores, name, password=password, is_admin=admin, email=email, display_name=display_name
        )
        out.print(f"User {user.username} created{' (admin)' if user.is_admin else ''}.")


@user_app.command("list")
def user_list(ctx: typer.Context) -> None:
    """List users with their organisations and roles."""
    with _session(ctx) as (rctx, stores):
        table = Table("user", "admin", "disabled", "organisations", "last login")
        for u in accounts.list_users(rctx, stores):
            orgs = ", ".join(f"{o} ({r})" for o, r in u.organizations)
            last = u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else ""
            table.add_row(u.username, "✔" if u.is_admin else "", "✔" if u.disabled else "", orgs, last)
        out.print(table)


@user_app.command("disable")
def user_disable(ctx: typer.Context, name: str) -> None:
    """Disable a user: sign-in and all tokens stop working."""
    with _session(ctx) as (rctx, stores):
        accounts.set_disabled(rctx, stores, name, True)
        out.print(f"User {name} disabled.")


@member_app.command("add")
def member_add(
    ctx: typer.Context,
    org: str,
    user: str,
    role: Annotated[str, typer.Option(help="steward, editor or member.")],
) -> None:
    """Give a user a role in an organisation."""
    with _session(ctx) as (rctx, stores):
        accounts.set_member(rctx, stores, org, user, role)
        out.print(f"{user} is {role} of {org}.")


@member_app.command("remove")
def member_remove(ctx: typer.Context, org: str, user: str) -> None:
    """Remove a user from an organisation."""
    with _session(ctx) as (rctx, stores):
        accounts.remove_member(rctx, stores, org, user)
        out.print(f"{user} removed from {org}.")


@dataset_app.command("grant")
def dataset_grant(ctx: typer.Context, slug: str, user: str) -> None:
    """Let a named user read a restricted dataset."""
    with _session(ctx) as (rctx, stores):
        accounts.grant_dataset(rctx, stores, slug, user)
        out.print(f"{user} may read {slug}.")


@dataset_app.command("mask")
def dataset_mask(
    ctx: typer.Context,
    slug: str,
    resource: Annotated[str, typer.Option()],
    column: Annotated[
        list[str] | None, typer.Option(help="Column to hide outside the organisation (repeatable).")
    ] = None,
) -> None:
    """Hide columns of a resource from readers outside its organisation (none given: show all again)."""
    with _session(ctx) as (rctx, stores):
        service.set_masked_columns(rctx, stores, slug, resource, column or [])
        out.print(f"Masked columns of {slug}/{resource}: {', '.join(column or []) or 'none'}")


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    user: Annotated[str, typer.Option(help="Owner of the token.")],
    scope: Annotated[str, typer.Option(help="read or write.")] = "read",
    expires: Annotated[int, typer.Option(help="Days until the token expires.")] = 90,
    name: Annotated[str, typer.Option(help="A name to recognise the token by.")] = "api",
    org: Annotated[str | None, typer.Option(help="Limit the token to one organisation.")] = None,
    dataset: Annotated[list[str] | None, typer.Option(help="Limit the token to datasets (repeatable).")] = None,
) -> None:
    """Create an API token; the token is printed once, as the last line."""
    with _session(ctx) as (rctx, stores):
        tok = accounts.create_token(
            rctx, stores, user, name=name, scope=scope, expires_days=expires, limit_org=org, limit_datasets=dataset
        )
        expiry = tok.expires_at.strftime("%Y-%m-%d") if tok.expires_at else "never"
        out.print(
            f"Token {tok.prefix}… for {user} ({tok.scope}, expires {expiry}). It is shown only now:", highlight=False
        )
        sys.stdout.write(tok.token + "\n")


@token_app.command("list")
def token_list(ctx: typer.Context, user: Annotated[str, typer.Option()]) -> None:
    """List a user's tokens (never the secret)."""
    with _session(ctx) as (rctx, stores):
        table = Table("id", "prefix", "name", "scope", "limits", "expires", "revoked", "last used")
        for t in accounts.list_tokens(rctx, stores, user):
            limits = ", ".join(filter(None, [t.limit_org, *(t.limit_datasets or [])]))
            table.add_row(
                str(t.id),
                t.prefix,
                t.name,
                t.scope,
                limits,
                t.expires_at.strftime("%Y-%m-%d") if t.expires_at else "never",
                "✔" if t.revoked else "",
                t.last_used_at.strftime("%Y-%m-%d %H:%M") if t.last_used_at else "",
            )
        out.print(table)


@token_app.command("revoke")
def token_revoke(ctx: typer.Context, token: str, user: Annotated[str, typer.Option()]) -> None:
    """Revoke a token by its id or prefix."""
    with _session(ctx) as (rctx, stores):
        t = accounts.revoke_token(rctx, stores, user, token)
        out.print(f"Token {t.prefix}… of {user} revoked.")


@app.command()
def audit(
    ctx: typer.Context,
    action: Annotated[str | None, typer.Option(help="Action, e.g. auth.login or data.* .")] = None,
    actor: Annotated[str | None, typer.Option()] = None,
    target: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option()] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    apply_retention: Annotated[bool, typer.Option("--apply-retention", help="Anonymise old entries (GDPR).")] = False,
) -> None:
    """Read the audit log (newest first)."""
    with _session(ctx) as (rctx, stores):
        if apply_retention:
            n = audit_service.apply_retention(rctx, stores)
            out.print(f"{n} entries anonymised (older than {rctx.settings.audit_retention_days} days).")
            return
        entries = audit_service.query_log(rctx, stores, action=action, actor=actor, target=target, limit=limit)
        if as_json:
            sys.stdout.write(json.dumps(entries, ensure_ascii=False, indent=2) + "\n")
            return
        table = Table("when", "who", "action", "target", "outcome", "details")
        for e in entries:
            table.add_row(
                e["at"][:19],
                e["actor"] or "",
                e["action"],
                e["target"] or "",
                e["outcome"],
                json.dumps(e["details"], ensure_ascii=False)[:80] if e["details"] else "",
            )
        out.print(table)


# --- data quality: rules, reports, version history -------------------------------------------------

quality_app = typer.Typer(help="Data quality: scores, freshness, validation.", no_args_is_help=True)
rules_app = typer.Typer(help="Validation rules of a resource.", no_args_is_help=True)
app.add_typer(quality_app, name="quality")
app.add_typer(rules_app, name="rules")


def _at_option(value: str | None) -> Any:
    import datetime as dt

    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"--at must be an ISO 8601 date-time, not {value!r}", parameter="at") from None


@quality_app.command("report")
def quality_report(
    ctx: typer.Context,
    dataset: str,
    at: Annotated[str | None, typer.Option(help="Evaluate at this ISO date-time (default: now).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Quality score, freshness and its components of a dataset and its resources."""
    from urbandata.catalog import quality

    with _session(ctx) as (rctx, stores):
        report = quality.dataset_quality(rctx, stores, dataset, _at_option(at))
        if as_json:
            sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
            return
        due = report["due_at"][:16] if report["due_at"] else "no schedule"
        out.print(f"{dataset}: score {report['score']}/100, {report['freshness']} (due {due})", highlight=False)
        table = Table("component", "value", "weight", "points")
        for name, c in report["components"].items():
            table.add_row(name, f"{c['value']:.2f}", str(c["weight"]), f"{c['points']:.1f}")
        out.print(table)
        for r in report["resources"]:
            out.print(f"  {r['name']}: score {r['score']}, {r['freshness']}", highlight=False)
        if report["metadata_missing"]:
            out.print("Missing metadata: " + ", ".join(report["metadata_missing"]), highlight=False)


@quality_app.command("overdue")
def quality_overdue(
    ctx: typer.Context, org: str, at: Annotated[str | None, typer.Option(help="ISO date-time.")] = None
) -> None:
    """Overdue resources of an organisation."""
    from urbandata.catalog import quality

    with _session(ctx) as (rctx, stores):
        table = Table("dataset", "resource", "frequency", "overdue since")
        for e in quality.overdue(rctx, stores, org, _at_option(at)):
            table.add_row(e["dataset"], e["resource"] or "", e["frequency"] or "", (e["overdue_since"] or "")[:16])
        out.print(table)


@quality_app.command("notify")
def quality_notify(
    ctx: typer.Context, at: Annotated[str | None, typer.Option(help="Check as of this ISO date-time.")] = None
) -> None:
    """Notify stewards of datasets that became due or overdue (each state once per version)."""
    from urbandata.notify.freshness import check_freshness

    with _session(ctx) as (rctx, stores):
        sent = check_freshness(rctx, stores, _at_option(at))
        for s in sent:
            out.print(f"{s['dataset']}: {s['state']}, {s['notified']} user(s) notified", highlight=False)
        out.print(f"{len(sent)} notification(s) sent.")


@quality_app.command("prune")
def quality_prune(ctx: typer.Context) -> None:
    """Apply the retention setting of every resource that has one (old versions' data are pruned)."""
    from urbandata.catalog.history import prune_all

    with _session(ctx) as (rctx, stores):
        pruned = prune_all(rctx, stores)
        for name, versions in pruned.items():
            out.print(f"{name}: versions {', '.join(map(str, versions))} pruned", highlight=False)
        out.print(f"{len(pruned)} resource(s) pruned.")


@rules_app.command("set")
def rules_set(
    ctx: typer.Context,
    dataset: str,
    rules_file: Annotated[Path, typer.Argument(help="JSON file with a list of rules.")],
    resource: Annotated[str | None, typer.Option()] = None,
    on_failure: Annotated[str, typer.Option(help="reject (keep the previous version) or warn.")] = "reject",
) -> None:
    """Set a resource's validation rules (checked against its schema and each other)."""
    from urbandata.catalog import quality

    with _session(ctx) as (rctx, stores):
        try:
            doc = json.loads(rules_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"Cannot read rules: {exc}", code="invalid_rules", file=str(rules_file)) from None
        name = resource or _only_resource(rctx, stores, dataset)
        saved = quality.set_rules(rctx, stores, dataset, name, doc, on_failure)
        out.print(f"{len(saved['rules'])} rule(s) saved for {dataset}/{name} (on failure: {on_failure}).")


@rules_app.command("show")
def rules_show(ctx: typer.Context, dataset: str, resource: Annotated[str | None, typer.Option()] = None) -> None:
    """Print a resource's validation rules as JSON."""
    from urbandata.catalog import quality

    with _session(ctx) as (rctx, stores):
        name = resource or _only_resource(rctx, stores, dataset)
        rules = quality.get_rules(rctx, stores, dataset, name)
        sys.stdout.write(json.dumps(rules, ensure_ascii=False, indent=2) + "\n")


@app.command("versions-diff")
def versions_diff(
    ctx: typer.Context,
    dataset: str,
    old: Annotated[int, typer.Option("--from", help="Older version.")],
    new: Annotated[int, typer.Option("--to", help="Newer version.")],
    resource: Annotated[str | None, typer.Option()] = None,
    key: Annotated[list[str] | None, typer.Option(help="Key column (repeat for compound keys).")] = None,
    limit: Annotated[int, typer.Option(help="Rows shown per kind.")] = 100,
) -> None:
    """Diff two versions of a resource (rows added, removed, changed by key; schema changes) as JSON."""
    from urbandata.catalog import history

    with _session(ctx) as (rctx, stores):
        name = resource or _only_resource(rctx, stores, dataset)
        result = history.diff(rctx, stores, dataset, name, old, new, key, limit)
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")


@app.command("versions-restore")
def versions_restore(
    ctx: typer.Context,
    dataset: str,
    version: Annotated[int, typer.Option(help="The version to restore.")],
    resource: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Restore an old version as a new current version (a copy of its data)."""
    from urbandata.catalog import history

    with _session(ctx) as (rctx, stores):
        name = resource or _only_resource(rctx, stores, dataset)
        v = history.restore(rctx, stores, dataset, name, version)
        out.print(f"Version {version} of {dataset}/{name} restored as version {v.version} ({v.row_count:,} rows).")


# --- scheduled imports -------------------------------------------------------------------------

imports_app = typer.Typer(
    help="Scheduled imports: fetch a resource from a URL, a watched folder or another CKAN catalog.",
    no_args_is_help=True,
)
app.add_typer(imports_app, name="imports")


@imports_app.command("add")
def imports_add(
    ctx: typer.Context,
    dataset: str,
    resource: Annotated[str, typer.Option(help="Resource (table) the import loads; created by the first run.")],
    url: Annotated[str | None, typer.Option(help="Source: an http(s) address of the file.")] = None,
    folder: Annotated[
        str | None, typer.Option(help="Source: a watched folder, relative to URBANDATA_IMPORT_FOLDER_ROOT.")
    ] = None,
    ckan: Annotated[str | None, typer.Option(help="Source: base URL of another CKAN catalog.")] = None,
    ckan_dataset: Annotated[str | None, typer.Option(help="With --ckan: the dataset's id or name there.")] = None,
    ckan_resource: Annotated[str | None, typer.Option(help="With --ckan: the resource's id or name there.")] = None,
    schedule: Annotated[
        str | None, typer.Option(help="Cron expression, e.g. '0 6 * * *' (06:00 daily); none: only 'imports run'.")
    ] = None,
    timeout: Annotated[float, typer.Option(help="A run is ended after this many seconds.")] = 300.0,
    retries: Annotated[int, typer.Option(help="Further fetch attempts within a run.")] = 2,
    backoff: Annotated[
        float, typer.Option(help="Seconds before the first retry; doubled for each further one.")
    ] = 10.0,
    alert_after: Annotated[
        int | None, typer.Option(help="Alert the organisation after this many failed runs in a row.")
    ] = None,
) -> None:
    """Define a scheduled import of a resource (exactly one of --url, --folder, --ckan)."""
    from urbandata.imports import service as imports

    kinds = [k for k, v in (("url", url), ("folder", folder), ("ckan", ckan)) if v]
    if len(kinds) != 1:
        err.print("[bold red]Error:[/] give exactly one source: --url, --folder or --ckan", highlight=False)
        raise typer.Exit(2)
    spec: dict[str, Any] = {
        "source_type": kinds[0],
        "url": url,
        "folder": folder,
        "ckan_url": ckan,
        "ckan_dataset": ckan_dataset,
        "ckan_resource": ckan_resource,
        "schedule": schedule,
        "timeout_seconds": timeout,
        "retries": retries,
        "backoff_seconds": backoff,
        "alert_after": alert_after,
    }
    with _session(ctx) as (rctx, stores):
        imp = imports.create_import(rctx, stores, dataset, resource, spec)
        nxt = imp.next_run_at.isoformat() if imp.next_run_at else "only on demand"
        out.print(f"Import {imp.id} of {dataset}/{resource} saved; next run: {nxt}", highlight=False)


@imports_app.command("list")
def imports_list(
    ctx: typer.Context,
    dataset: Annotated[str | None, typer.Argument(help="Only this dataset's imports.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List imports with their schedule, next run and last outcome."""
    from urbandata.imports import service as imports

    with _session(ctx) as (rctx, stores):
        items = imports.list_imports(rctx, stores, dataset)
    if as_json:
        sys.stdout.write(json.dumps([i.model_dump(mode="json") for i in items], ensure_ascii=False, indent=2) + "\n")
        return
    table = Table("id", "dataset/resource", "source", "schedule", "next run", "last run", "failed in a row")
    for column in table.columns:
        column.overflow = "fold"  # full names and addresses, wrapped, in a narrow terminal
    for i in items:
        where = i.source.get("url") or i.source.get("folder") or i.source.get("ckan_url")
        last = f"{i.last_run.status} {i.last_run.started_at:%Y-%m-%d %H:%M}" if i.last_run else "-"
        table.add_row(
            str(i.id),
            f"{i.dataset}/{i.resource}",
            f"{i.source_type}: {where}",
            i.schedule or "on demand",
            f"{i.next_run_at:%Y-%m-%d %H:%M} UTC" if i.next_run_at and i.enabled else "-",
            last,
            str(i.consecutive_failures),
        )
    out.print(table)


@imports_app.command("run")
def imports_run(ctx: typer.Context, import_id: Annotated[int, typer.Argument(help="The import's id.")]) -> None:
    """Run an import now and wait for its outcome (exit code 1 if the run failed)."""
    from urbandata.imports import service as imports

    with _session(ctx) as (rctx, stores):
        run = imports.run_now(rctx, stores, import_id)
    line = f"Run {run.id} of import {import_id}: {run.outcome}"
    if run.version is not None:
        line += f", version {run.version} ({run.rows:,} rows)"
    if run.duration_seconds is not None:
        line += f" in {run.duration_seconds:.1f} s"
    out.print(line, highlight=False)
    if run.error:
        err.print(f"[bold red]Error:[/] {run.error}", highlight=False)
        raise typer.Exit(1)


@imports_app.command("history")
def imports_history(
    ctx: typer.Context,
    import_id: Annotated[int, typer.Argument(help="The import's id.")],
    limit: Annotated[int, typer.Option(help="How many runs, newest first.")] = 20,
) -> None:
    """Run history of an import: started, duration, outcome, rows, version, error."""
    from urbandata.imports import service as imports

    with _session(ctx) as (rctx, stores):
        runs = imports.list_runs(rctx, stores, import_id, limit=limit)
    table = Table("run", "trigger", "started (UTC)", "seconds", "outcome", "rows", "version", "error")
    for column in table.columns:
        column.overflow = "fold"
    for r in runs:
        table.add_row(
            str(r.id),
            r.trigger,
            f"{r.started_at:%Y-%m-%d %H:%M:%S}",
            f"{r.duration_seconds:.1f}" if r.duration_seconds is not None else "-",
            r.outcome or r.status,
            f"{r.rows:,}" if r.rows is not None else "-",
            str(r.version or "-"),
            (r.error or "")[:120],
        )
    out.print(table)


# --- sensors (SensorThings): list, CSV import, simulated sensors, car park connector ---

sensors_app = typer.Typer(help="Sensor data (SensorThings): list, import, simulate, connectors.", no_args_is_help=True)
app.add_typer(sensors_app, name="sensors")


@sensors_app.command("list")
def sensors_list(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Things with their Datastreams and latest values."""
    from urbandata.sensors.listing import list_things

    if fmt not in ("table", "json"):
        err.print("[bold red]Error:[/] --format must be table or json", highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    with _session(ctx) as (rctx, stores):
        things = list_things(rctx, stores)
    if fmt == "json":
        sys.stdout.write(json.dumps(things, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table("Thing", "Datastream", "latest value", "time (UTC)")
    for thing in things:
        label = f"{thing['name']} ({thing['id']})" + (f"\n{thing['dataset']}" if thing["dataset"] else "")
        for i, ds in enumerate(thing["datastreams"] or [None]):
            latest = ds["latest"] if ds else None
            value = f"{latest['result']} {ds.get('unit') or ''}".strip() if ds and latest else "-"
            stream = f"{str(ds['name']).split(' – ')[0]} ({ds['id']})" if ds else "-"
            table.add_row(label if i == 0 else "", stream, value, (latest["phenomenonTime"] or "") if latest else "")
        table.add_section()
    out.print(table)


@sensors_app.command("import")
def sensors_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV: phenomenonTime,result[,resultTime]; ';' and decimal commas ok.")],
    datastream: Annotated[int, typer.Option("--datastream", help="Datastream id.")],
    strict: Annotated[bool, typer.Option(help="Store nothing when any row is bad.")] = False,
) -> None:
    """Import observations of one Datastream from a CSV file; bad rows are reported with their line."""
    from urbandata.sensors.csv_import import import_csv

    with _session(ctx) as (rctx, stores):
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"Cannot read {file}: {exc.strerror}", code="file_unreadable", file=str(file)) from None
        with Progress(console=err, transient=True) as progress:
            task = progress.add_task(f"Importing {file.name}", total=None)

            def advance(n: int) -> None:
                progress.update(task, advance=n)

            report = import_csv(rctx, stores, datastream, raw, source=file.name, strict=strict, progress=advance)
    lines = report.lines()
    out.print(lines[0], highlight=False, soft_wrap=True)
    for line in lines[1:]:
        out.print(f"  rejected {line}", highlight=False, soft_wrap=True)
    if report.stored == 0 and report.rejected:
        raise typer.Exit(2)


@sensors_app.command("simulate")
def sensors_simulate(
    ctx: typer.Context,
    days: Annotated[float, typer.Option(help="Days of history to generate (0 = none).")] = 7,
    live: Annotated[
        bool, typer.Option(help="Then keep sending live values (MQTT when URBANDATA_MQTT_URL is set).")
    ] = False,
    interval: Annotated[float, typer.Option(help="Seconds between live values.")] = 60.0,
    rounds: Annotated[
        int | None, typer.Option(help="Stop after this many live rounds (default: until Ctrl+C).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the simulation (same seed, same values).")] = 6,
) -> None:
    """Simulated Kaiserslautern sensors (air quality, traffic): generated data, clearly labelled."""
    from urbandata.sensors import simulate

    with _session(ctx) as (rctx, stores):
        if days > 0:
            rep = simulate.load_history(rctx, stores, days=days, seed=seed)
            out.print(
                f"{rep.things_created} Things created, {rep.observations_added:,} observations added, "
                f"{rep.duplicates:,} already stored, {rep.rejected:,} rejected",
                highlight=False,
                soft_wrap=True,
            )
        else:
            simulate.ensure_sensors(rctx, stores)
        if live:

            def report_round(r: simulate.SimReport, via_mqtt: bool) -> None:
                how = "published over MQTT" if via_mqtt else "written"
                out.print(f"live: {r.observations_added} values {how}", highlight=False, soft_wrap=True)

            try:
                simulate.run_live(rctx, stores, interval=interval, rounds=rounds, seed=seed, on_round=report_round)
            except KeyboardInterrupt:
                out.print("stopped")


@sensors_app.command("parking")
def sensors_parking(
    ctx: typer.Context,
    file: Annotated[Path | None, typer.Option("--file", help="Read the feed from this XML file.")] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="Fetch the feed from this URL (default: the setting).")
    ] = None,
) -> None:
    """One run of the Kaiserslautern car park connector (feed → Things, Datastreams, observations)."""
    from urbandata.sensors.parking import run_connector

    if file is not None and url is not None:
        err.print("[bold red]Error:[/] give --file or --url, not both", highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    with _session(ctx) as (rctx, stores):
        report = run_connector(rctx, stores, file=file, url=url)
    for line in report.lines():
        out.print(line, highlight=False, soft_wrap=True)


@sensors_app.command("export")
def sensors_export(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Argument(help="The catalog dataset whose Things' observations are exported.")],
    start: Annotated[
        str | None, typer.Option("--from", help="Start (ISO 8601, inclusive); default: the first observation.")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="End (ISO 8601, exclusive); default: now.")] = None,
) -> None:
    """Store the dataset's observations as a new version of its resource `beobachtungen` (rows API, SQL)."""
    from urbandata.sensors.export import RESOURCE, export_to_resource

    with _session(ctx) as (rctx, stores):
        version = export_to_resource(rctx, stores, dataset, start, end)
    out.print(
        f"{dataset}/{RESOURCE}: version {version.version} with {version.row_count:,} observations",
        highlight=False,
        soft_wrap=True,
    )
