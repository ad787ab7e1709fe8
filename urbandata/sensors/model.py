"""The SensorThings API 1.1 data model (OGC 18-088, clause 8) mapped onto the `sta_*` tables.

One `EntitySet` per entity type: its properties (STA name -> column and kind) and its relations
(navigation properties and how they join). Serialization, the `$filter`/`$orderby` compiler, the
resource-path parser and the services all read this one description.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import sqlalchemy as sa

from urbandata.db import tables as t

PropertyKind = Literal["id", "string", "json", "geojson", "instant", "interval", "time_object", "result", "any"]


@dataclass(frozen=True)
class Property:
    name: str  # the STA name, e.g. "encodingType"
    kind: PropertyKind
    column: str  # main column ("phenomenon_time_start" for intervals, "result_number" for results)
    end_column: str | None = None  # intervals and time objects: the end column
    required: bool = False  # mandatory on create (STA clause 8)


@dataclass(frozen=True)
class Relation:
    name: str  # navigation property, e.g. "Datastreams"
    target: str  # entity set name of the other side, e.g. "Datastreams"
    many: bool
    # "self_fk": this table holds the key of the target (self.<column> = target.id)
    # "target_fk": the target holds our key (target.<column> = self.id)
    # "link": a link table (link.<self_column> = self.id and link.<target_column> = target.id)
    kind: Literal["self_fk", "target_fk", "link"]
    column: str = ""
    link: sa.Table | None = None
    link_self: str = ""
    link_target: str = ""
    required: bool = False  # mandatory link on create


@dataclass(frozen=True)
class EntitySet:
    name: str  # "Things"
    singular: str  # "Thing"
    table: sa.Table
    properties: tuple[Property, ...]
    relations: tuple[Relation, ...]
    # how the owning catalog dataset is found: None = the table's own dataset_id column,
    # else the names of to-one relations whose target holds it (the first non-NULL decides)
    owner_via: tuple[str, ...] = ()
    by_name: dict[str, Property] = field(default_factory=dict, compare=False, repr=False)
    rel_by_name: dict[str, Relation] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.by_name.update({p.name: p for p in self.properties})
        self.rel_by_name.update({r.name: r for r in self.relations})

    def prop(self, name: str) -> Property | None:
        return self.by_name.get(name)

    def relation(self, name: str) -> Relation | None:
        return self.rel_by_name.get(name)


def _p(name: str, kind: PropertyKind, column: str, end: str | None = None, required: bool = False) -> Property:
    return Property(name, kind, column, end, required)


_ID = _p("id", "id", "id")
_NAME = _p("name", "string", "name", required=True)
_DESCRIPTION = _p("description", "string", "description", required=True)
_PROPERTIES = _p("properties", "json", "properties")
_ENCODING = _p("encodingType", "string", "encoding_type", required=True)
_STREAM_COMMON = (
    _ID,
    _NAME,
    _DESCRIPTION,
    _p("observationType", "string", "observation_type", required=True),
    _p("observedArea", "geojson", "observed_area"),
    _p("phenomenonTime", "interval", "phenomenon_time_start", "phenomenon_time_end"),
    _p("resultTime", "interval", "result_time_start", "result_time_end"),
    _PROPERTIES,
)

THINGS = EntitySet(
    "Things",
    "Thing",
    t.sta_things,
    (_ID, _NAME, _DESCRIPTION, _PROPERTIES),
    (
        Relation(
            "Locations",
            "Locations",
            True,
            "link",
            link=t.sta_thing_locations,
            link_self="thing_id",
            link_target="location_id",
        ),
        Relation("HistoricalLocations", "HistoricalLocations", True, "target_fk", "thing_id"),
        Relation("Datastreams", "Datastreams", True, "target_fk", "thing_id"),
        Relation("MultiDatastreams", "MultiDatastreams", True, "target_fk", "thing_id"),
    ),
)
LOCATIONS = EntitySet(
    "Locations",
    "Location",
    t.sta_locations,
    (_ID, _NAME, _DESCRIPTION, _ENCODING, _p("location", "geojson", "location", required=True), _PROPERTIES),
    (
        Relation(
            "Things",
            "Things",
            True,
            "link",
            link=t.sta_thing_locations,
            link_self="location_id",
            link_target="thing_id",
        ),
        Relation(
            "HistoricalLocations",
            "HistoricalLocations",
            True,
            "link",
            link=t.sta_historical_location_locations,
            link_self="location_id",
            link_target="historical_location_id",
        ),
    ),
)
HISTORICAL_LOCATIONS = EntitySet(
    "HistoricalLocations",
    "HistoricalLocation",
    t.sta_historical_locations,
    (_ID, _p("time", "instant", "time", required=True)),
    (
        Relation("Thing", "Things", False, "self_fk", "thing_id", required=True),
        Relation(
            "Locations",
            "Locations",
            True,
            "link",
            link=t.sta_historical_location_locations,
            link_self="historical_location_id",
            link_target="location_id",
        ),
    ),
    owner_via=("Thing",),
)
DATASTREAMS = EntitySet(
    "Datastreams",
    "Datastream",
    t.sta_datastreams,
    (*_STREAM_COMMON, _p("unitOfMeasurement", "json", "unit_of_measurement", required=True)),
    (
        Relation("Thing", "Things", False, "self_fk", "thing_id", required=True),
        Relation("Sensor", "Sensors", False, "self_fk", "sensor_id", required=True),
        Relation("ObservedProperty", "ObservedProperties", False, "self_fk", "observed_property_id", required=True),
        Relation("Observations", "Observations", True, "target_fk", "datastream_id"),
    ),
)
MULTI_DATASTREAMS = EntitySet(
    "MultiDatastreams",
    "MultiDatastream",
    t.sta_multi_datastreams,
    (
        *_STREAM_COMMON,
        _p("unitOfMeasurements", "json", "unit_of_measurements", required=True),
        _p("multiObservationDataTypes", "json", "multi_observation_data_types", required=True),
    ),
    (
        Relation("Thing", "Things", False, "self_fk", "thing_id", required=True),
        Relation("Sensor", "Sensors", False, "self_fk", "sensor_id", required=True),
        Relation(
            "ObservedProperties",
            "ObservedProperties",
            True,
            "link",
            link=t.sta_multi_datastream_properties,
            link_self="multi_datastream_id",
            link_target="observed_property_id",
            required=True,
        ),
        Relation("Observations", "Observations", True, "target_fk", "multi_datastream_id"),
    ),
)
SENSORS = EntitySet(
    "Sensors",
    "Sensor",
    t.sta_sensors,
    (_ID, _NAME, _DESCRIPTION, _ENCODING, _p("metadata", "any", "metadata", required=True), _PROPERTIES),
    (
        Relation("Datastreams", "Datastreams", True, "target_fk", "sensor_id"),
        Relation("MultiDatastreams", "MultiDatastreams", True, "target_fk", "sensor_id"),
    ),
)
OBSERVED_PROPERTIES = EntitySet(
    "ObservedProperties",
    "ObservedProperty",
    t.sta_observed_properties,
    (_ID, _NAME, _p("definition", "string", "definition", required=True), _DESCRIPTION, _PROPERTIES),
    (
        Relation("Datastreams", "Datastreams", True, "target_fk", "observed_property_id"),
        Relation(
            "MultiDatastreams",
            "MultiDatastreams",
            True,
            "link",
            link=t.sta_multi_datastream_properties,
            link_self="observed_property_id",
            link_target="multi_datastream_id",
        ),
    ),
)
OBSERVATIONS = EntitySet(
    "Observations",
    "Observation",
    t.sta_observations,
    (
        _ID,
        _p("phenomenonTime", "time_object", "phenomenon_time", "phenomenon_time_end"),
        _p("resultTime", "instant", "result_time"),
        _p("result", "result", "result_number", required=True),
        _p("resultQuality", "json", "result_quality"),
        _p("validTime", "interval", "valid_time_start", "valid_time_end"),
        _p("parameters", "json", "parameters"),
    ),
    (
        Relation("Datastream", "Datastreams", False, "self_fk", "datastream_id"),
        Relation("MultiDatastream", "MultiDatastreams", False, "self_fk", "multi_datastream_id"),
        Relation("FeatureOfInterest", "FeaturesOfInterest", False, "self_fk", "feature_id"),
    ),
    owner_via=("Datastream", "MultiDatastream"),
)
FEATURES = EntitySet(
    "FeaturesOfInterest",
    "FeatureOfInterest",
    t.sta_features,
    (_ID, _NAME, _DESCRIPTION, _ENCODING, _p("feature", "geojson", "feature", required=True), _PROPERTIES),
    (Relation("Observations", "Observations", True, "target_fk", "feature_id"),),
)

ENTITY_SETS: dict[str, EntitySet] = {
    e.name: e
    for e in (
        THINGS,
        LOCATIONS,
        HISTORICAL_LOCATIONS,
        DATASTREAMS,
        MULTI_DATASTREAMS,
        SENSORS,
        OBSERVED_PROPERTIES,
        OBSERVATIONS,
        FEATURES,
    )
}
BY_SINGULAR: dict[str, EntitySet] = {e.singular: e for e in ENTITY_SETS.values()}

OBSERVATION_TYPES = {
    "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_CategoryObservation",
    "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_CountObservation",
    "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
    "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Observation",
    "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_TruthObservation",
    "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_ComplexObservation",
}


def join_condition(source: EntitySet, rel: Relation, src: sa.FromClause, dst: sa.FromClause) -> sa.ColumnElement[bool]:
    """The join of `src` (an alias of source.table) to `dst` (an alias of the target's table) for a
    relation without a link table."""
    if rel.kind == "self_fk":
        return src.c[rel.column] == dst.c.id
    if rel.kind == "target_fk":
        return dst.c[rel.column] == src.c.id
    raise ValueError(f"{source.name}.{rel.name} joins through a link table")


def related_ids(rel: Relation, src: sa.FromClause, dst: sa.FromClause) -> sa.ColumnElement[bool]:
    """EXISTS-style condition: `dst` row is related to the `src` row over `rel` (any kind of relation)."""
    if rel.kind == "link":
        assert rel.link is not None
        link = rel.link.alias()
        return sa.exists(
            sa.select(sa.literal(1))
            .select_from(link)
            .where(link.c[rel.link_self] == src.c.id, link.c[rel.link_target] == dst.c.id)
        )
    if rel.kind == "self_fk":
        return src.c[rel.column] == dst.c.id
    return dst.c[rel.column] == src.c.id
