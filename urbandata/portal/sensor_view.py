"""The dataset page's sensor section: Things, Datastreams with their latest values, and for one chosen
Datastream the hourly averages of the last seven days as a chart (drawn by chart_render, like the chart
builder's) with the same values as a table. Backed by the same services as the SensorThings API and its
extensions (`LatestObservations`, `Datastreams(id)/Aggregations`), with the visitor's request context."""

from __future__ import annotations

import datetime as dt
from typing import Any

from babel.dates import format_datetime
from fastapi import Request

from urbandata.auth.actor import RequestContext
from urbandata.portal.charts import ChartSpec, Series, summary
from urbandata.portal.i18n import N_
from urbandata.portal.rendering import choose_language, environment, query_url, translate
from urbandata.sensors import aggregate, overview
from urbandata.stores import Stores

DAYS = 7
HOUR = dt.timedelta(hours=1)
STA_ROOT = "/sta/v1.1"


def site_url(request: Request) -> str:
    public: str | None = request.app.state.settings.public_url
    return (public or str(request.base_url)).rstrip("/")


def week_range(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The last seven days in whole UTC hours, up to and including the current hour."""
    end = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0) + HOUR
    return end - dt.timedelta(days=DAYS), end


def _hour_label(moment: dt.datetime, lang: str) -> str:
    pattern = "dd.MM. HH:mm" if lang == "de" else "d MMM, HH:mm"
    return str(format_datetime(moment, format=pattern, tzinfo=dt.UTC, locale=lang))


def hourly_series(
    ctx: RequestContext,
    stores: Stores,
    stream: overview.StreamView,
    access_level: str,
    lang: str,
    now: dt.datetime,
    base_url: str,
) -> Series:
    """Hourly averages of the last seven days; hours without a measurement are left out."""
    start, end = week_range(now)
    params = {
        "interval": "hour",
        "from": start.isoformat(),
        "to": end.isoformat(),
        "functions": "avg",
        "tz": "UTC",
    }
    body = aggregate.aggregate(ctx, stores, stream.id, params, base_url=base_url)
    labels: list[str] = []
    values: list[float | None] = []
    for bucket in body["value"]:
        if bucket.get("avg") is None:
            continue
        moment = dt.datetime.fromisoformat(str(bucket["start"]).replace("Z", "+00:00"))
        labels.append(_hour_label(moment, lang))
        values.append(float(bucket["avg"]))
    unit = f" ({stream.unit_symbol})" if stream.unit_symbol else ""
    title = translate(lang, N_("%(name)s: Stundenmittel der letzten 7 Tage")) % {"name": stream.name}
    return Series(
        spec=ChartSpec("line", "phenomenonTime", "avg", stream.name, "hour"),
        labels=labels,
        values=values,
        truncated=False,
        title=title,
        x_label=translate(lang, N_("Stunde (UTC)")),
        y_label=translate(lang, N_("Mittelwert")) + unit,
        access_level=access_level,
    )


def image_url(slug: str, stream_id: int, fmt: str, lang: str, download: bool = False) -> str:
    params: list[tuple[str, Any]] = [("lang", lang), ("download", "1" if download else None)]
    return query_url(f"/datasets/{slug}/sensors/{stream_id}/chart.{fmt}", params)


def sensor_section(
    request: Request,
    ctx: RequestContext,
    stores: Stores,
    slug: str,
    access_level: str,
    chosen: str | None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """`sensors` for the dataset page (None when the dataset has no Things the visitor may see) and
    `sensors_status` (400 when the chosen Datastream is not one of the dataset's)."""
    lang, _ = choose_language(request)
    site = site_url(request)
    found = overview.dataset_sensors(ctx, stores, slug, base_url=site + STA_ROOT)
    if not found.things:
        return {"sensors": None, "sensors_status": 200}
    error: str | None = None
    stream: overview.StreamView | None = None
    if chosen:
        stream = found.stream(int(chosen)) if chosen.strip().isdigit() else None
        if stream is None:
            error = translate(lang, N_("Diese Messreihe gehört nicht zu diesem Datensatz; gezeigt wird die erste."))
    if stream is None:
        stream = next(iter(found.streams), None)
    view: dict[str, Any] = {
        "things": found.things,
        "more": found.more,
        "sta": site + STA_ROOT,
        "error": error,
        "stream": stream,
        "series": None,
    }
    if stream is not None:
        series = hourly_series(ctx, stores, stream, access_level, lang, now or dt.datetime.now(dt.UTC), site + STA_ROOT)
        number = environment(lang).filters["num"]
        view.update(
            series=series,
            rows=list(zip(series.labels, series.values, strict=True)),
            summary=summary(series, lang, number),
            svg=image_url(slug, stream.id, "svg", lang),
            svg_download=image_url(slug, stream.id, "svg", lang, download=True),
            png_download=image_url(slug, stream.id, "png", lang, download=True),
        )
    return {"sensors": view, "sensors_status": 400 if error else 200}
