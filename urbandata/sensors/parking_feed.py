"""Kaiserslautern's car park guidance feed (`pls.xml`) and the car park locations (GeoJSON):
parsing with their quirks, and matching feed entries to locations by normalised name.

The feed is an XML document `<Daten><Zeitstempel>13.07.2021 14:46:00</Zeitstempel><Parkhaus>…`
with one `<Parkhaus>` per car park: `ID`, `Name` (with HTML character references such as
`&#223;`), `Gesamt` (capacity), `Aktuell` (occupied), `Trend`, `Status` (`Offen`, `Geschlossen`,
`Stoerung`, …) and opening-time windows. The timestamp is local time in Europe/Berlin without a zone.
"""

from __future__ import annotations

import datetime as dt
import difflib
import html
import html.entities
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element, ParseError
from zoneinfo import ZoneInfo

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from urbandata.errors import IngestError

BERLIN = ZoneInfo("Europe/Berlin")
MAX_FEED_BYTES = 5 * 1024 * 1024

_XML_NAMED = {"amp", "lt", "gt", "quot", "apos"}
_NAMED_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]{1,31});")
_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)[\"']")
_GERMAN_TIME = re.compile(r"^\s*(\d{1,2})\.(\d{1,2})\.(\d{4})[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")


@dataclass(frozen=True)
class CarPark:
    """One `<Parkhaus>` of the feed."""

    feed_id: str
    name: str
    capacity: int
    occupied: int
    status: str
    trend: int | None = None

    @property
    def free(self) -> int:
        return max(self.capacity - self.occupied, 0)


@dataclass
class FeedSnapshot:
    """The feed at one moment: its time (UTC), the car parks and the entries that were skipped."""

    time: dt.datetime
    car_parks: list[CarPark]
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CarParkLocation:
    name: str
    lon: float
    lat: float
    address: str | None
    kind: str | None  # Parkhaus, Parkplatz, …
    capacity: int | None


def german_local_time(text: str) -> dt.datetime:
    """`13.07.2021 14:46:00` (Europe/Berlin, no zone) → an aware UTC datetime."""
    m = _GERMAN_TIME.match(text or "")
    if m is None:
        raise ValueError(f"not a German timestamp dd.mm.yyyy HH:MM[:SS]: {text!r}")
    day, month, year, hour, minute, second = (int(g) if g else 0 for g in m.groups())
    local = dt.datetime(year, month, day, hour, minute, second, tzinfo=BERLIN)
    return local.astimezone(dt.UTC)


def _decode(raw: bytes) -> str:
    m = _DECLARED_ENCODING.match(raw)
    encodings = [m.group(1).decode("ascii")] if m else []
    encodings += ["utf-8", "cp1252"]
    for enc in encodings:
        try:
            text = raw.decode(enc)
        except (LookupError, UnicodeDecodeError):
            continue
        return re.sub(r"^\ufeff?\s*<\?xml[^>]*\?>", "", text, count=1)
    raise IngestError("The car park feed is not text in any known encoding", code="feed_invalid")


def _named_entities_to_numeric(text: str) -> str:
    """HTML named entities (`&szlig;`, `&auml;`) are not defined in XML: turn them into character references."""

    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in _XML_NAMED:
            return m.group(0)
        code = html.entities.name2codepoint.get(name)
        return f"&#{code};" if code is not None else m.group(0)

    return _NAMED_ENTITY.sub(repl, text)


def _text(el: Element, tag: str) -> str | None:
    child = el.find(tag)
    if child is None or child.text is None:
        return None
    # a second unescape catches double-escaped names (`&amp;#223;` → `&#223;` → `ß`)
    return " ".join(html.unescape(child.text).split())


def _int(el: Element, tag: str) -> int:
    value = _text(el, tag)
    if value is None or not re.fullmatch(r"-?\d+", value):
        raise ValueError(f"{tag} is not a whole number: {value!r}")
    return int(value)


def parse_feed(raw: bytes, *, source: str = "feed") -> FeedSnapshot:
    """Parse the feed safely (no DTDs or entity expansion). Garbage, HTML pages or a document
    without car parks raise IngestError; single broken `<Parkhaus>` entries are skipped and reported."""
    if len(raw) > MAX_FEED_BYTES:
        raise IngestError(f"The car park feed is larger than {MAX_FEED_BYTES} bytes", code="feed_invalid", file=source)
    if not raw.strip():
        raise IngestError("The car park feed is empty", code="feed_invalid", file=source)
    text = _named_entities_to_numeric(_decode(raw))
    try:
        root = SafeET.fromstring(text)
    except ParseError as exc:
        line, column = getattr(exc, "position", (None, None))
        raise IngestError(
            f"The car park feed is not well-formed XML: {exc}",
            code="feed_invalid",
            file=source,
            line=line,
            column=column,
        ) from None
    except DefusedXmlException as exc:
        raise IngestError(
            f"The car park feed uses forbidden XML features: {type(exc).__name__}", code="feed_invalid", file=source
        ) from None
    if root.tag != "Daten":
        raise IngestError(
            f"The car park feed's root element is <{root.tag}>, expected <Daten>", code="feed_invalid", file=source
        )
    stamp = _text(root, "Zeitstempel")
    try:
        when = german_local_time(stamp or "")
    except ValueError as exc:
        raise IngestError(
            f"The car park feed has no valid Zeitstempel: {exc}", code="feed_invalid", file=source
        ) from None
    parks: list[CarPark] = []
    problems: list[str] = []
    seen: set[str] = set()
    for n, el in enumerate(root.iter("Parkhaus"), start=1):
        feed_id = _text(el, "ID")
        try:
            if not feed_id:
                raise ValueError("no ID")
            if feed_id in seen:
                raise ValueError(f"ID {feed_id} appears twice")
            name = _text(el, "Name") or f"Parkhaus {feed_id}"
            capacity, occupied = _int(el, "Gesamt"), _int(el, "Aktuell")
            if capacity < 0 or occupied < 0:
                raise ValueError("negative Gesamt or Aktuell")
            trend_text = _text(el, "Trend")
            trend = int(trend_text) if trend_text and re.fullmatch(r"-?\d+", trend_text) else None
            status = _text(el, "Status") or "unbekannt"
        except ValueError as exc:
            problems.append(f"<Parkhaus> #{n} (ID {feed_id or '?'}) skipped: {exc}")
            continue
        seen.add(feed_id)
        parks.append(CarPark(feed_id, name, capacity, occupied, status, trend))
    if not parks:
        raise IngestError("The car park feed lists no usable <Parkhaus>", code="feed_invalid", file=source)
    return FeedSnapshot(when, parks, problems)


def parse_locations(raw: bytes | str) -> list[CarParkLocation]:
    """Car park points from the ParkAPI GeoJSON (the feature describing the city is left out)."""
    data = json.loads(raw)
    out: list[CarParkLocation] = []
    for feature in data.get("features", []):
        props: dict[str, Any] = feature.get("properties") or {}
        geom = feature.get("geometry") or {}
        if props.get("type") == "city" or geom.get("type") != "Point" or not props.get("name"):
            continue
        lon, lat = (float(c) for c in geom["coordinates"][:2])
        total = props.get("total")
        out.append(
            CarParkLocation(
                name=str(props["name"]),
                lon=lon,
                lat=lat,
                address=props.get("address"),
                kind=props.get("type"),
                capacity=int(total) if isinstance(total, int | float) else None,
            )
        )
    return out


def city_point(raw: bytes | str) -> tuple[float, float] | None:
    """The city's own point in the ParkAPI GeoJSON (lon, lat), if given."""
    for feature in json.loads(raw).get("features", []):
        if (feature.get("properties") or {}).get("type") == "city":
            lon, lat = feature["geometry"]["coordinates"][:2]
            return float(lon), float(lat)
    return None


_PREFIXES = ("parkhaus ", "parkplatz ", "tiefgarage ", "ph ", "pp ", "tg ")


def normalise_name(name: str) -> str:
    """A comparable form of a car park name: case, umlauts, ß, `str.`, prefixes like `PH` and punctuation ignored."""
    s = html.unescape(name).casefold().strip()
    s = s.replace("ß", "ss").replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = re.sub(r"str\.(?=\s|$)", "strasse", s)
    s = re.sub(r"[^a-z0-9]+", " ", s).strip()
    for prefix in _PREFIXES:
        if s.startswith(prefix):
            s = s[len(prefix) :]
            break
    return s


def match_locations(
    parks: list[CarPark], locations: list[CarParkLocation], *, cutoff: float = 0.85
) -> dict[str, CarParkLocation | None]:
    """Per feed id the location whose normalised name equals (or, failing that, closely resembles)
    the car park's; None when nothing fits. Each location is used at most once."""
    by_norm = {normalise_name(loc.name): loc for loc in locations}
    used: set[str] = set()
    out: dict[str, CarParkLocation | None] = {}
    pending: list[CarPark] = []
    for park in parks:
        key = normalise_name(park.name)
        if key in by_norm and key not in used:
            out[park.feed_id] = by_norm[key]
            used.add(key)
        else:
            pending.append(park)
    for park in pending:
        free = [k for k in by_norm if k not in used]
        close = difflib.get_close_matches(normalise_name(park.name), free, n=1, cutoff=cutoff)
        if close:
            out[park.feed_id] = by_norm[close[0]]
            used.add(close[0])
        else:
            out[park.feed_id] = None
    return out
