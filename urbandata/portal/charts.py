"""The chart builder of the dataset page: the visitor's choices, checked and turned into one aggregate query.

A chart is `kind` (bar, line, area) of one aggregation (`agg` of column `y`, or a row count) per value of
column `x`, or per time bucket of a date column (`bucket`). Every choice lives in the address, so a chart
is a shareable link; the page, the SVG/PNG images and the data table all read the same choices and call
the same aggregation service as `GET /api/v1/.../aggregate`, with the visitor's request context (the
same visibility and column masking as the API).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from babel.dates import format_date, format_datetime

from urbandata.auth.actor import RequestContext
from urbandata.catalog.aggregate import BUCKET_ALIAS, METRICS, NUMERIC, AggregateQuery, AggregateResult, aggregate
from urbandata.datastore.aggregation import TIME_UNITS
from urbandata.errors import InvalidInput
from urbandata.ingest.tableschema import SchemaField
from urbandata.portal.i18n import N_
from urbandata.portal.rendering import translate
from urbandata.stores import Stores

KINDS = ("bar", "line", "area")
KIND_NAMES = {"bar": N_("Balkendiagramm"), "line": N_("Liniendiagramm"), "area": N_("Flächendiagramm")}
AGG_NAMES = {
    "count": N_("Anzahl"),
    "sum": N_("Summe"),
    "avg": N_("Mittelwert"),
    "min": N_("Minimum"),
    "max": N_("Maximum"),
    "count_distinct": N_("Anzahl verschiedener Werte"),
}
BUCKET_NAMES = {
    "hour": N_("Stunde"),
    "day": N_("Tag"),
    "week": N_("Woche"),
    "month": N_("Monat"),
    "year": N_("Jahr"),
}
TYPE_NAMES = {
    "string": N_("Text"),
    "boolean": N_("Ja/Nein-Werte"),
    "date": N_("Datumswerte"),
    "datetime": N_("Zeitpunkte"),
    "time": N_("Uhrzeiten"),
    "year": N_("Jahreszahlen"),
    "yearmonth": N_("Monatsangaben"),
}
DATES = ("date", "datetime")
MAX_CATEGORIES = 60  # bars of a category chart; more would be unreadable
MAX_BUCKETS = 1000  # points of a time chart
PARAMS = ("chart", "x", "bucket", "agg", "y")
HEIGHTS = ("sum", "avg", "min", "max")  # need numbers to draw a height


@dataclass(frozen=True)
class ChartSpec:
    """The visitor's choices, checked against the resource's (visible) columns."""

    kind: str
    x: str
    agg: str = "count"
    y: str | None = None
    bucket: str | None = None

    def params(self) -> list[tuple[str, str | None]]:
        """The query parameters that rebuild this chart (a shareable address)."""
        return [("chart", self.kind), ("x", self.x), ("bucket", self.bucket), ("agg", self.agg), ("y", self.y)]


class ChartError(InvalidInput):
    """A choice that cannot make a chart; `text` is a German message id, `values` fill its placeholders."""

    code = "invalid_chart"

    def __init__(self, message: str, text: str, **values: str) -> None:
        super().__init__(message, **values)
        self.text = text
        self.values = values

    def localized(self, lang: str) -> str:
        values = dict(self.values)
        if "type" in values:
            values["type"] = translate(lang, TYPE_NAMES.get(values["type"], values["type"]))
        return translate(lang, self.text) % values


def chartable(fields: Sequence[SchemaField]) -> list[SchemaField]:
    """Columns a chart can group by or aggregate (all but geometries)."""
    return [f for f in fields if f.type != "geojson"]


def default_spec(fields: Sequence[SchemaField]) -> ChartSpec | None:
    """A first chart worth seeing: the first number summed per year of a date column, else rows per text value."""
    usable = chartable(fields)
    date = next((f for f in usable if f.type in DATES), None)
    if date is not None:
        number = next((f for f in usable if f.type in NUMERIC), None)
        agg, y = ("sum", number.name) if number is not None else ("count", None)
        return ChartSpec("line", date.name, agg, y, bucket="year" if date.type == "date" else "month")
    text = next((f for f in usable if f.type == "string"), None)
    return ChartSpec("bar", text.name) if text is not None else None


def parse_spec(params: Mapping[str, str], fields: Sequence[SchemaField]) -> ChartSpec | None:
    """The chart asked for in `params` (None: nothing asked, use the default); ChartError on a bad choice."""
    if not any(params.get(p) for p in PARAMS):
        return None
    kind = (params.get("chart") or "bar").strip()
    x = (params.get("x") or "").strip()
    agg = (params.get("agg") or "count").strip()
    y = (params.get("y") or "").strip() or None
    bucket = (params.get("bucket") or "").strip() or None
    by_name = {f.name: f for f in chartable(fields)}
    if kind not in KINDS:
        raise ChartError(
            f"Unknown chart kind {kind!r}; use bar, line or area",
            N_("Die Diagrammart „%(kind)s“ gibt es nicht; wählen Sie Balken, Linie oder Fläche."),
            kind=kind,
        )
    if not x:
        raise ChartError("Choose a column for the x axis", N_("Bitte wählen Sie eine Spalte für die x-Achse."))
    for name in (x, y):
        if name is not None and name not in by_name:
            raise ChartError(
                f"Unknown column {name!r}",
                N_("Die Spalte „%(column)s“ gibt es in dieser Tabelle nicht."),
                column=name,
            )
    if agg not in METRICS:
        raise ChartError(
            f"Unknown aggregation {agg!r}",
            N_("Die Berechnung „%(agg)s“ gibt es nicht; wählen Sie Anzahl, Summe, Mittelwert, Minimum oder Maximum."),
            agg=agg,
        )
    if agg != "count" and y is None:
        raise ChartError(f"{agg} needs a column", N_("Bitte wählen Sie die Spalte, deren Werte berechnet werden."))
    if agg in HEIGHTS and y is not None and by_name[y].type not in NUMERIC:
        raise ChartError(
            f"{agg} needs a numeric column; {y!r} is of type {by_name[y].type}",
            N_(
                "Summe, Mittelwert, Minimum und Maximum gehen nur bei Zahlen; die Spalte „%(column)s“ enthält %(type)s."
            ),
            column=y,
            type=by_name[y].type,
        )
    if bucket is not None:
        if bucket not in TIME_UNITS:
            raise ChartError(
                f"Unknown time bucket {bucket!r}",
                N_("Den Zeitabschnitt „%(bucket)s“ gibt es nicht; wählen Sie Stunde, Tag, Woche, Monat oder Jahr."),
                bucket=bucket,
            )
        if by_name[x].type not in DATES:
            raise ChartError(
                f"Time buckets need a date column; {x!r} is of type {by_name[x].type}",
                N_("Zeitabschnitte gehen nur bei Datumsspalten; die Spalte „%(column)s“ enthält %(type)s."),
                column=x,
                type=by_name[x].type,
            )
        if bucket == "hour" and by_name[x].type == "date":
            raise ChartError(
                f"Column {x!r} holds dates without a time of day",
                N_("Die Spalte „%(column)s“ enthält Tage ohne Uhrzeit; wählen Sie Tag, Woche, Monat oder Jahr."),
                column=x,
            )
    return ChartSpec(kind, x, agg, y, bucket)


def metric_param(spec: ChartSpec) -> str:
    return spec.agg if spec.y is None else f"{spec.agg}:{spec.y}"


def chart_query(spec: ChartSpec) -> AggregateQuery:
    """The aggregate query behind a chart: time buckets in time order, categories in their own order."""
    if spec.bucket:
        return AggregateQuery(
            metrics=[metric_param(spec)],
            bucket=f"{spec.bucket}:{spec.x}",
            sort=[BUCKET_ALIAS],
            limit=MAX_BUCKETS,
        )
    return AggregateQuery(group_by=[spec.x], metrics=[metric_param(spec)], sort=[spec.x], limit=MAX_CATEGORIES)


@dataclass
class Series:
    """One chart's data: a label and a value per group, and the texts that describe it."""

    spec: ChartSpec
    labels: list[str]
    values: list[float | None]
    truncated: bool
    title: str
    x_label: str
    y_label: str
    access_level: str

    @property
    def numbers(self) -> list[float]:
        return [v for v in self.values if v is not None]


def _label(value: Any, ftype: str, bucket: str | None, lang: str) -> str:
    if value is None:
        return translate(lang, N_("(leer)"))
    if bucket or ftype in DATES:
        try:
            moment = dt.datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
        if bucket == "year":
            return str(moment.year)
        if bucket == "month":
            return format_date(moment, "MMM yyyy" if lang == "en" else "MM.yyyy", locale=lang)
        if bucket == "week":
            return translate(lang, N_("Woche ab %(date)s")) % {"date": format_date(moment, "dd.MM.yyyy", locale=lang)}
        if bucket == "hour" or (ftype == "datetime" and not bucket):
            return format_datetime(moment, "dd.MM.yyyy HH:mm", locale=lang)
        return format_date(moment, "dd.MM.yyyy", locale=lang)
    if isinstance(value, bool):
        return translate(lang, N_("ja") if value else N_("nein"))
    return str(value)


def describe(spec: ChartSpec, lang: str) -> tuple[str, str, str]:
    """(title, x-axis label, y-axis label) of a chart, in the visitor's language."""
    agg = translate(lang, AGG_NAMES[spec.agg])
    y_label = translate(lang, N_("Anzahl der Zeilen")) if spec.y is None else f"{agg}: {spec.y}"
    x_label = spec.x
    if spec.bucket:
        x_label = f"{spec.x} ({translate(lang, BUCKET_NAMES[spec.bucket])})"
    title = translate(lang, N_("%(measure)s je %(group)s")) % {"measure": y_label, "group": x_label}
    return title, x_label, y_label


def build_series(ctx: RequestContext, stores: Stores, slug: str, resource: str, spec: ChartSpec, lang: str) -> Series:
    """Run the chart's aggregation through the catalog service (visibility and masking as in the API)."""
    result: AggregateResult = aggregate(ctx, stores, slug, resource, chart_query(spec))
    group = BUCKET_ALIAS if spec.bucket else spec.x
    types = {f["name"]: f["type"] for f in result.fields}
    metric = result.metrics[0]
    title, x_label, y_label = describe(spec, lang)
    return Series(
        spec=spec,
        labels=[_label(r[group], types[group], spec.bucket, lang) for r in result.rows],
        values=[_number(r[metric]) for r in result.rows],
        truncated=result.truncated,
        title=title,
        x_label=x_label,
        y_label=y_label,
        access_level=result.table.access_level,
    )


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None  # min/max of a text or date column: no height to draw


def summary(series: Series, lang: str, fmt: Callable[[Any, int], str]) -> str:
    """The chart's text alternative: what it shows, how many values, the largest and the smallest."""
    kind = translate(lang, KIND_NAMES[series.spec.kind])
    if not series.numbers:
        return translate(lang, N_("%(kind)s „%(title)s“: keine Werte.")) % {"kind": kind, "title": series.title}
    pairs = [(v, label) for v, label in zip(series.values, series.labels, strict=True) if v is not None]
    high = max(pairs, key=lambda p: p[0])
    low = min(pairs, key=lambda p: p[0])
    text = N_(
        "%(kind)s „%(title)s“ mit %(n)s Werten; höchster Wert %(high)s (%(high_at)s), niedrigster %(low)s (%(low_at)s)."
    )
    return translate(lang, text) % {
        "kind": kind,
        "title": series.title,
        "n": fmt(len(pairs), 0),
        "high": fmt(high[0], 2),
        "high_at": high[1],
        "low": fmt(low[0], 2),
        "low_at": low[1],
    }
