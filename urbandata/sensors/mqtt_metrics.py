"""Prometheus metrics of the MQTT bridge, in a registry of their own (one per bridge), which
`GET /metrics` exposes next to the process's default registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class MqttMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.received = Counter(
            "urbandata_mqtt_received", "Messages received on SensorThings create topics.", registry=r
        )
        self.created = Counter("urbandata_mqtt_created", "Observations created from MQTT messages.", registry=r)
        self.rejected = Counter(
            "urbandata_mqtt_rejected",
            "MQTT messages rejected, by reason (error code: invalid_json, not_found, invalid_result, "
            "duplicate_observation, forbidden, unsupported_topic, ...).",
            ["reason"],
            registry=r,
        )
        self.dropped = Counter(
            "urbandata_mqtt_dropped",
            "MQTT messages dropped because the buffer was full while the database was unavailable.",
            registry=r,
        )
        self.batches = Counter(
            "urbandata_mqtt_batches", "Write batches (received messages written together).", registry=r
        )
        self.write_retries = Counter(
            "urbandata_mqtt_write_retries", "Writes retried because the database was unavailable.", registry=r
        )
        self.buffered = Gauge("urbandata_mqtt_buffered", "MQTT messages waiting to be written.", registry=r)
        self.connected = Gauge("urbandata_mqtt_connected", "1 while connected to the MQTT broker.", registry=r)
        self.connects = Counter("urbandata_mqtt_connects", "Successful connections to the MQTT broker.", registry=r)
        self.published = Counter(
            "urbandata_mqtt_published", "Messages published on SensorThings receive topics.", registry=r
        )
        self.publish_dropped = Counter(
            "urbandata_mqtt_publish_dropped",
            "Change notifications not published (publish queue full).",
            registry=r,
        )

    def sample(self, name: str, **labels: str) -> float:
        """The current value of a sample, e.g. sample("urbandata_mqtt_rejected_total", reason="invalid_json")."""
        return self.registry.get_sample_value(name, labels) or 0.0
