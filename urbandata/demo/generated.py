"""Seeded, clearly labelled generated data for Kaiserslautern's districts (not official figures).

The files are written the way city departments export them: `;` delimiter, decimal comma,
`dd.mm.yyyy` dates, Windows-1252 encoding, district numbers with leading zeros.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

# Kaiserslautern districts (illustrative selection of Stadtteile and Ortsbezirke)
DISTRICTS = [
    ("01", "Innenstadt-Ost"),
    ("02", "Innenstadt-West/Kotten"),
    ("03", "Innenstadt-Nord/Kaiserberg"),
    ("04", "Innenstadt-Südwest"),
    ("05", "Grübentälchen/Volkspark"),
    ("06", "Betzenberg"),
    ("07", "Lämmchesberg/Uni-Wohnstadt"),
    ("08", "Bännjerrück/Karl-Pfaff-Siedlung"),
    ("09", "Kaiserslautern-West"),
    ("10", "Erzhütten/Wiesenthalerhof"),
    ("11", "Dansenberg"),
    ("12", "Einsiedlerhof"),
    ("13", "Erfenbach"),
    ("14", "Erlenbach"),
    ("15", "Hohenecken"),
    ("16", "Mölschbach"),
    ("17", "Morlautern"),
    ("18", "Siegelbach"),
]

NOTE = "Generierte Beispieldaten – keine amtlichen Zahlen"


def _de(x: float, digits: int = 2) -> str:
    s = f"{x:,.{digits}f}"
    return s.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def write_population(path: Path, seed: int = 2020) -> Path:
    rnd = random.Random(seed)
    lines = [NOTE, "Stadtteil;Bezirksnummer;Stichtag;Einwohner;davon weiblich;Fläche (km²);Anteil unter 18 (%)"]
    for year in range(2015, 2025):
        for code, name in DISTRICTS:
            base = 2500 + (int(code) * 7919) % 9000
            people = int(base * (1 + 0.004 * (year - 2015)) + rnd.randint(-60, 60))
            area = 1.5 + (int(code) * 37 % 100) / 10
            lines.append(
                f"{name};{code};31.12.{year};{_de(people, 0)};{_de(people * rnd.uniform(0.48, 0.53), 0)};"
                f"{_de(area)};{_de(rnd.uniform(12, 22), 1)}"
            )
    lines.append("")
    lines.append("Quelle: urbandata-Demo (generiert); Stand: 31.12.2024")
    path.write_bytes("\r\n".join(lines).encode("cp1252"))
    return path


def write_waiting_times(path: Path, seed: int = 7) -> Path:
    rnd = random.Random(seed)
    lines = ["Datum;Uhrzeit;Bürgerbüro;Wartende;Wartezeit (min);Terminbuchung"]
    day = dt.date(2024, 1, 2)
    while day < dt.date(2024, 7, 1):
        if day.weekday() < 5:
            for hour in (8, 10, 12, 14):
                waiting = max(0, int(rnd.gauss(8 if hour in (10, 12) else 4, 3)))
                lines.append(
                    f"{day:%d.%m.%Y};{day:%d.%m.%Y} {hour:02d}:00;Rathaus Nord;{waiting};"
                    f"{_de(waiting * rnd.uniform(2.5, 4.5), 1)};{'ja' if rnd.random() < 0.6 else 'nein'}"
                )
        day += dt.timedelta(days=1)
    path.write_bytes("\n".join(lines).encode("utf-8"))
    return path
