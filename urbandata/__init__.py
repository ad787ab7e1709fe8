"""urbandata: an open-source urban data platform for a city's digital office."""

__version__ = "0.1.0"
