"""A small sensor world: an organisation with a public and an internal dataset, a steward with a
write token, a foreign editor, and helpers to create Things over the SensorThings API."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import make_dataset, make_org
from urbandata.accounts import service as accounts
from urbandata.auth.actor import RequestContext
from urbandata.stores import Stores

STA = "/sta/v1.1"
M = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"


@pytest.fixture
def sensor_world(admin: RequestContext, stores: Stores) -> dict[str, str]:
    make_org(admin, stores, "umwelt", "Umweltreferat")
    make_org(admin, stores, "verkehr", "Verkehrsreferat")
    make_dataset(admin, stores, "luft", org="umwelt", title="Luftqualität")
    make_dataset(admin, stores, "luft-intern", org="umwelt", title="Interne Messstellen", access_level="internal")
    accounts.add_user(admin, stores, "sina")
    accounts.set_member(admin, stores, "umwelt", "sina", "steward")
    accounts.add_user(admin, stores, "vera")
    accounts.set_member(admin, stores, "verkehr", "vera", "editor")
    return {
        "steward": accounts.create_token(admin, stores, "sina", scope="write").token,
        "reader": accounts.create_token(admin, stores, "sina", scope="read").token,
        "foreign": accounts.create_token(admin, stores, "vera", scope="write").token,
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def basic(user: str, token: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()}


def station(name: str = "Messstation Stiftsplatz", dataset: str = "luft", lon: float = 7.7686) -> dict[str, Any]:
    """A Thing with a Location and one Datastream, as a deep insert."""
    return {
        "name": name,
        "description": "Luftmessstation",
        "properties": {"dataset": dataset, "district": "Innenstadt"},
        "Locations": [
            {
                "name": f"Standort {name}",
                "description": "Mast",
                "encodingType": "application/geo+json",
                "location": {"type": "Point", "coordinates": [lon, 49.4447]},
            }
        ],
        "Datastreams": [
            {
                "name": f"NO2 {name}",
                "description": "Stickstoffdioxid, Stundenmittel",
                "observationType": M,
                "unitOfMeasurement": {
                    "name": "Mikrogramm pro Kubikmeter",
                    "symbol": "µg/m³",
                    "definition": "ucum:ug/m3",
                },
                "Sensor": {
                    "name": "NO2-Sensor",
                    "description": "Chemilumineszenz",
                    "encodingType": "text/html",
                    "metadata": "https://example.org/no2",
                },
                "ObservedProperty": {
                    "name": "NO2",
                    "definition": "https://dd.eionet.europa.eu/vocabulary/aq/pollutant/8",
                    "description": "Stickstoffdioxid",
                },
            }
        ],
    }


def create_station(client: TestClient, token: str, **kw: Any) -> tuple[int, int]:
    """(thing id, datastream id) of a new station."""
    r = client.post(f"{STA}/Things", json=station(**kw), headers=bearer(token))
    assert r.status_code == 201, r.text
    thing_id = r.json()["@iot.id"]
    ds = client.get(f"{STA}/Things({thing_id})/Datastreams", headers=bearer(token)).json()["value"][0]
    return thing_id, ds["@iot.id"]
