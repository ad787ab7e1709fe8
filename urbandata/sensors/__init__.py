"""OGC SensorThings API 1.1: entity model, $filter/$expand parsing, storage, MQTT, connectors."""
