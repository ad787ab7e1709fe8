"""How the STA service root advertises MQTT (STA 1.1 clause 14 and 9.2.1 serverSettings)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from urbandata.config import Settings

MQTT_CREATE = "http://www.opengis.net/spec/iot_sensing/1.1/req/create-observations-via-mqtt/observations-creation"
MQTT_RECEIVE = "http://www.opengis.net/spec/iot_sensing/1.1/req/receive-updates-via-mqtt/receive-updates"


def broker_endpoint(url: str) -> str:
    """The broker address clients connect to, without credentials: mqtt://host:port or mqtts://host:port."""
    parts = urlsplit(url)
    secure = parts.scheme in ("mqtts", "ssl", "tls")
    host = parts.hostname or "localhost"
    if ":" in host:
        host = f"[{host}]"
    port = parts.port or (8883 if secure else 1883)
    return f"{'mqtts' if secure else 'mqtt'}://{host}:{port}"


def mqtt_server_settings(settings: Settings) -> dict[str, Any]:
    """serverSettings entries for MQTT: the conformance URIs (under `mqtt_conformance`, which the
    service root merges into its `conformance` list) and each class's broker endpoints. Empty
    without a broker (URBANDATA_MQTT_URL unset)."""
    if not settings.mqtt_url:
        return {}
    endpoint = {"endpoints": [broker_endpoint(settings.mqtt_url)]}
    return {
        "mqtt_conformance": [MQTT_CREATE, MQTT_RECEIVE],
        MQTT_CREATE: dict(endpoint),
        MQTT_RECEIVE: dict(endpoint),
    }
