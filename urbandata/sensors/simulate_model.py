"""Simulated Kaiserslautern sensors (generated demo data, not measurements): air-quality stations
(NO2, PM10, PM2.5, temperature) and a traffic counter (vehicles per 15 minutes), with plausible
daily and weekly patterns: morning and evening rush hours on working days, low values at night,
less traffic at weekends, pollution following traffic, temperature following sun and season.

Every value is a pure function of (seed, stream, time): history and live values agree, and the
same seed gives the same numbers on every machine."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
DEFAULT_SEED = 6


@dataclass(frozen=True)
class Quantity:
    key: str
    name: str  # ObservedProperty name
    definition: str
    description: str
    unit: dict[str, str]
    step: dt.timedelta  # the interval history values are generated at
    count: bool = False  # whole numbers (OM_CountObservation)


UG = {"name": "Mikrogramm pro Kubikmeter", "symbol": "µg/m³", "definition": "http://unitsofmeasure.org/ucum#ug/m3"}
HOUR = dt.timedelta(hours=1)
QUARTER = dt.timedelta(minutes=15)

QUANTITIES: dict[str, Quantity] = {
    q.key: q
    for q in (
        Quantity(
            "no2",
            "Stickstoffdioxid (NO2)",
            "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/8",
            "Stickstoffdioxid in der Außenluft, Stundenmittel",
            UG,
            HOUR,
        ),
        Quantity(
            "pm10",
            "Feinstaub PM10",
            "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/5",
            "Partikel bis 10 µm, Stundenmittel",
            UG,
            HOUR,
        ),
        Quantity(
            "pm25",
            "Feinstaub PM2,5",
            "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/6001",
            "Partikel bis 2,5 µm, Stundenmittel",
            UG,
            HOUR,
        ),
        Quantity(
            "temperature",
            "Lufttemperatur",
            "http://vocab.nerc.ac.uk/collection/P07/current/CFSN0023/",
            "Lufttemperatur 2 m über Grund",
            {"name": "Grad Celsius", "symbol": "°C", "definition": "http://unitsofmeasure.org/ucum#Cel"},
            HOUR,
        ),
        Quantity(
            "vehicles",
            "Kfz-Verkehrsstärke",
            "urn:x-urbandata:def:traffic:vehicles-per-15min",
            "Gezählte Kraftfahrzeuge je 15 Minuten (beide Richtungen)",
            {
                "name": "Fahrzeuge je 15 Minuten",
                "symbol": "Kfz/15 min",
                "definition": "http://unitsofmeasure.org/ucum#{vehicles}/(15.min)",
            },
            QUARTER,
            count=True,
        ),
    )
}


@dataclass(frozen=True)
class Station:
    key: str
    name: str
    description: str
    lon: float
    lat: float
    quantities: tuple[str, ...]
    traffic_load: float  # how much local traffic drives pollution (0 = background site)
    kind: str  # "air" or "traffic"


STATIONS: tuple[Station, ...] = (
    Station(
        "stiftsplatz",
        "Luftmessstation Stiftsplatz (simuliert)",
        "Simulierte Luftmessstation in der Innenstadt am Stiftsplatz",
        7.7709,
        49.4446,
        ("no2", "pm10", "pm25", "temperature"),
        0.8,
        "air",
    ),
    Station(
        "pfaffplatz",
        "Luftmessstation Pfaffplatz (simuliert)",
        "Simulierte Luftmessstation am Pfaffplatz (Wohn- und Gewerbegebiet)",
        7.7562,
        49.4411,
        ("no2", "pm10", "pm25", "temperature"),
        0.5,
        "air",
    ),
    Station(
        "hauptbahnhof",
        "Luftmessstation Hauptbahnhof (simuliert)",
        "Simulierte verkehrsnahe Luftmessstation am Hauptbahnhof",
        7.7688,
        49.4363,
        ("no2", "pm10", "pm25", "temperature"),
        1.0,
        "air",
    ),
    Station(
        "pariser-strasse",
        "Verkehrszählstelle Pariser Straße (simuliert)",
        "Simulierte Dauerzählstelle für Kraftfahrzeuge an der Pariser Straße",
        7.7585,
        49.4466,
        ("vehicles",),
        1.0,
        "traffic",
    ),
)


def _noise(seed: int, station: str, quantity: str, at: dt.datetime) -> random.Random:
    return random.Random(f"{seed}:{station}:{quantity}:{int(at.timestamp())}")


def _gauss(x: float, centre: float, width: float) -> float:
    return math.exp(-(((x - centre) / width) ** 2) / 2)


def traffic_index(at: dt.datetime) -> float:
    """Relative traffic (0 … ~1) at an instant, by local time: rush hours on working days, night lows, weekends."""
    local = at.astimezone(BERLIN)
    h = local.hour + local.minute / 60
    if local.weekday() < 5:
        level = 0.04 + 0.55 * _gauss(h, 12.5, 4.0) + 0.5 * _gauss(h, 7.75, 1.0) + 0.55 * _gauss(h, 17.0, 1.4)
        if local.weekday() == 4:
            level *= 1.05 if h < 16 else 0.95  # Friday: earlier home-going
    else:
        peak = 14.0 if local.weekday() == 5 else 15.0
        level = 0.03 + (0.5 if local.weekday() == 5 else 0.32) * _gauss(h, peak, 3.5)
    return min(level, 1.2)


def vehicles(at: dt.datetime, seed: int = DEFAULT_SEED, station: str = "pariser-strasse") -> int:
    """Vehicles counted in the 15 minutes starting at `at` (~ 420 at the evening peak, ~ 15 at night)."""
    rnd = _noise(seed, station, "vehicles", at)
    mean = 400 * traffic_index(at + dt.timedelta(minutes=7.5))
    return max(0, round(mean * rnd.uniform(0.9, 1.1) + rnd.gauss(0, 4)))


def temperature(at: dt.datetime, seed: int = DEFAULT_SEED, station: str = "stiftsplatz") -> float:
    """Air temperature: season (coldest mid-January) plus a daily cycle (warmest ~15:00, coldest ~05:00)."""
    local = at.astimezone(BERLIN)
    day = local.timetuple().tm_yday
    season = 10.0 - 9.5 * math.cos(2 * math.pi * (day - 15) / 365.25)
    h = local.hour + local.minute / 60
    daily = 4.5 * math.cos(2 * math.pi * (h - 15) / 24)
    # slow weather drift from day to day, the same for all stations
    drift = random.Random(f"{seed}:weather:{local.date().isoformat()}").gauss(0, 2.0)
    rnd = _noise(seed, station, "temperature", at)
    return round(season + daily + drift + rnd.gauss(0, 0.3), 1)


def value(station: Station, quantity: str, at: dt.datetime, seed: int = DEFAULT_SEED) -> float | int:
    """The simulated value of one station's quantity at `at`."""
    if quantity == "vehicles":
        return vehicles(at, seed, station.key)
    if quantity == "temperature":
        return temperature(at, seed, station.key)
    rnd = _noise(seed, station.key, quantity, at)
    traffic = traffic_index(at) * station.traffic_load
    cold = max(0.0, 8.0 - temperature(at, seed, station.key)) / 8.0  # heating season adds particles
    if quantity == "no2":
        v = 11.0 + 42.0 * traffic + rnd.gauss(0, 2.5)
    elif quantity == "pm10":
        v = 12.0 + 14.0 * traffic + 6.0 * cold + rnd.gauss(0, 1.8)
    elif quantity == "pm25":
        v = 0.62 * (12.0 + 14.0 * traffic + 6.0 * cold) + rnd.gauss(0, 1.0)
    else:
        raise ValueError(f"unknown quantity {quantity!r}")
    return round(max(v, 0.5), 1)


def grid(start: dt.datetime, end: dt.datetime, step: dt.timedelta) -> Iterator[dt.datetime]:
    """Instants on the UTC grid of `step` in [start, end)."""
    epoch = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    n = math.ceil((start - epoch) / step)
    t = epoch + n * step
    while t < end:
        yield t
        t += step


def history(
    station: Station, quantity: str, end: dt.datetime, days: float, seed: int = DEFAULT_SEED
) -> list[tuple[dt.datetime, float | int]]:
    """(time, value) on the quantity's grid for the `days` before `end`."""
    step = QUANTITIES[quantity].step
    return [(t, value(station, quantity, t, seed)) for t in grid(end - dt.timedelta(days=days), end, step)]
