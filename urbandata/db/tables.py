"""Metadata tables (SQLAlchemy Core). The Alembic migrations create exactly these."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

metadata = sa.MetaData()

organizations = sa.Table(
    "organizations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("slug", sa.String(100), nullable=False, unique=True),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("email", sa.String(300)),
    sa.Column("url", sa.String(500)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

datasets = sa.Table(
    "datasets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("slug", sa.String(100), nullable=False, unique=True),
    sa.Column("org_id", sa.Integer, sa.ForeignKey("organizations.id"), nullable=False, index=True),
    sa.Column("title", sa.String(500), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("access_level", sa.String(20), nullable=False, index=True),
    sa.Column("license_id", sa.String(50), nullable=False),
    sa.Column("frequency", sa.String(30)),
    sa.Column("meta", sa.JSON, nullable=False),
    sa.Column("search_text", sa.Text, nullable=False, server_default=""),
    sa.Column("issued", sa.DateTime(timezone=True)),
    sa.Column("modified", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

dataset_keywords = sa.Table(
    "dataset_keywords",
    metadata,
    sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("keyword", sa.String(200), primary_key=True),
)

dataset_themes = sa.Table(
    "dataset_themes",
    metadata,
    sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("theme", sa.String(10), primary_key=True),
)

resources = sa.Table(
    "resources",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("title", sa.String(500)),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("format", sa.String(20)),
    sa.Column("sql_table", sa.String(250), nullable=False, unique=True),
    sa.Column("current_version", sa.Integer),
    sa.Column("masked_columns", sa.JSON),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("dataset_id", "name", name="uq_resource_name"),
)

resource_versions = sa.Table(
    "resource_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("resource_id", sa.Integer, sa.ForeignKey("resources.id", ondelete="CASCADE"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("table_ref", sa.String(300), nullable=False),
    sa.Column("format", sa.String(20), nullable=False),
    sa.Column("source_name", sa.String(500), nullable=False),
    sa.Column("source_sha256", sa.String(64), nullable=False),
    sa.Column("source_size", sa.BigInteger, nullable=False),
    sa.Column("row_count", sa.BigInteger, nullable=False),
    sa.Column("schema", sa.JSON, nullable=False),
    sa.Column("report", sa.JSON, nullable=False),
    sa.Column("created_by", sa.String(200)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("resource_id", "version", name="uq_resource_version"),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(100), nullable=False, unique=True),
    sa.Column("display_name", sa.String(300)),
    sa.Column("email", sa.String(300)),
    sa.Column("password_hash", sa.String(300)),
    sa.Column("oidc_subject", sa.String(300), unique=True),
    sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", sa.DateTime(timezone=True)),
    sa.Column("last_login_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

memberships = sa.Table(
    "memberships",
    metadata,
    sa.Column("org_id", sa.Integer, sa.ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("role", sa.String(20), nullable=False),
)

dataset_grants = sa.Table(
    "dataset_grants",
    metadata,
    sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("scope", sa.String(10), nullable=False),
    sa.Column("limit_org", sa.String(100)),
    sa.Column("limit_datasets", sa.JSON),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.Column("last_used_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("actor", sa.String(100)),
    sa.Column("action", sa.String(60), nullable=False, index=True),
    sa.Column("target_type", sa.String(40)),
    sa.Column("target", sa.String(300)),
    sa.Column("outcome", sa.String(20), nullable=False, server_default="ok"),
    sa.Column("details", sa.JSON),
    sa.Column("client_ip", sa.String(64)),
    sa.Column("request_id", sa.String(64)),
)

# --- data quality (migration 0003) ---------------------------------------------------------------

resource_quality = sa.Table(
    "resource_quality",
    metadata,
    sa.Column("resource_id", sa.Integer, sa.ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("rules", sa.JSON, nullable=False),
    sa.Column("on_failure", sa.String(10), nullable=False, server_default="reject"),
    sa.Column("retention", sa.JSON),
    sa.Column("updated_by", sa.String(200)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

validation_reports = sa.Table(
    "validation_reports",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("resource_id", sa.Integer, sa.ForeignKey("resources.id", ondelete="CASCADE"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("report", sa.JSON, nullable=False),
    sa.Column("created_by", sa.String(200)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_validation_reports_resource", "resource_id", "version"),
)

pruned_versions = sa.Table(
    "pruned_versions",
    metadata,
    sa.Column("resource_id", sa.Integer, sa.ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("pruned_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("pruned_by", sa.String(200)),
)

# --- SensorThings API (migration 0004) ------------------------------------------------------------
# Every entity carries the catalog dataset whose access level decides who sees it (auth.policy);
# NULL means a shared descriptor not tied to any Thing yet (a Sensor, an ObservedProperty, ...).

_TS = sa.DateTime(timezone=True)
_BIGID = sa.BigInteger().with_variant(sa.Integer, "sqlite")  # SQLite: INTEGER PRIMARY KEY is the rowid


def _dataset_ref() -> sa.Column[int]:
    return sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id", ondelete="CASCADE"), index=True)


sta_things = sa.Table(
    "sta_things",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _dataset_ref(),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("properties", sa.JSON),
)

sta_locations = sa.Table(
    "sta_locations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _dataset_ref(),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("encoding_type", sa.String(100), nullable=False),
    sa.Column("location", sa.JSON, nullable=False),
    sa.Column("properties", sa.JSON),
)

sta_thing_locations = sa.Table(
    "sta_thing_locations",
    metadata,
    sa.Column("thing_id", sa.Integer, sa.ForeignKey("sta_things.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "location_id", sa.Integer, sa.ForeignKey("sta_locations.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)

sta_historical_locations = sa.Table(
    "sta_historical_locations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("thing_id", sa.Integer, sa.ForeignKey("sta_things.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("time", _TS, nullable=False),
)

sta_historical_location_locations = sa.Table(
    "sta_historical_location_locations",
    metadata,
    sa.Column(
        "historical_location_id",
        sa.Integer,
        sa.ForeignKey("sta_historical_locations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "location_id", sa.Integer, sa.ForeignKey("sta_locations.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)

sta_sensors = sa.Table(
    "sta_sensors",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _dataset_ref(),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("encoding_type", sa.String(200), nullable=False),
    sa.Column("metadata", sa.JSON, nullable=False),
    sa.Column("properties", sa.JSON),
)

sta_observed_properties = sa.Table(
    "sta_observed_properties",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _dataset_ref(),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("definition", sa.String(1000), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("properties", sa.JSON),
)


def _stream_columns() -> list[sa.Column[Any]]:
    """Columns Datastreams and MultiDatastreams share."""
    return [
        sa.Column("id", sa.Integer, primary_key=True),
        _dataset_ref(),
        sa.Column(
            "thing_id", sa.Integer, sa.ForeignKey("sta_things.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column(
            "sensor_id", sa.Integer, sa.ForeignKey("sta_sensors.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("observation_type", sa.String(200), nullable=False),
        sa.Column("observed_area", sa.JSON),
        sa.Column("phenomenon_time_start", _TS),
        sa.Column("phenomenon_time_end", _TS),
        sa.Column("result_time_start", _TS),
        sa.Column("result_time_end", _TS),
        sa.Column("properties", sa.JSON),
        sa.Column("latest_observation_id", sa.BigInteger),  # the observation with the latest phenomenon time
    ]


sta_datastreams = sa.Table(
    "sta_datastreams",
    metadata,
    *_stream_columns(),
    sa.Column(
        "observed_property_id",
        sa.Integer,
        sa.ForeignKey("sta_observed_properties.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("unit_of_measurement", sa.JSON, nullable=False),
)

sta_multi_datastreams = sa.Table(
    "sta_multi_datastreams",
    metadata,
    *_stream_columns(),
    sa.Column("unit_of_measurements", sa.JSON, nullable=False),
    sa.Column("multi_observation_data_types", sa.JSON, nullable=False),
)

sta_multi_datastream_properties = sa.Table(
    "sta_multi_datastream_properties",
    metadata,
    sa.Column(
        "multi_datastream_id",
        sa.Integer,
        sa.ForeignKey("sta_multi_datastreams.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column(
        "observed_property_id",
        sa.Integer,
        sa.ForeignKey("sta_observed_properties.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
)

sta_features = sa.Table(
    "sta_features",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _dataset_ref(),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("encoding_type", sa.String(100), nullable=False),
    sa.Column("feature", sa.JSON, nullable=False),
    sa.Column("properties", sa.JSON),
    # set when the FeatureOfInterest was generated from a Thing's Location (reused for later observations)
    sa.Column("location_id", sa.Integer, sa.ForeignKey("sta_locations.id", ondelete="SET NULL"), index=True),
)

_JSON_OR_NULL = sa.JSON(none_as_null=True)  # Python None is SQL NULL (not the JSON text "null")

sta_observations = sa.Table(
    "sta_observations",
    metadata,
    sa.Column("id", _BIGID, primary_key=True),
    sa.Column("datastream_id", sa.Integer, sa.ForeignKey("sta_datastreams.id", ondelete="CASCADE")),
    sa.Column("multi_datastream_id", sa.Integer, sa.ForeignKey("sta_multi_datastreams.id", ondelete="CASCADE")),
    sa.Column("feature_id", sa.Integer, sa.ForeignKey("sta_features.id", ondelete="CASCADE"), nullable=False),
    sa.Column("phenomenon_time", _TS, nullable=False),  # the instant, or the start of an interval
    sa.Column("phenomenon_time_end", _TS),  # the end of an interval; NULL for an instant
    sa.Column("result_time", _TS),
    sa.Column("result_number", sa.Float),  # numeric results (aggregations, numeric filters)
    sa.Column("result_json", _JSON_OR_NULL),  # every other result: text, boolean, object, array, null
    sa.Column("result_quality", _JSON_OR_NULL),
    sa.Column("valid_time_start", _TS),
    sa.Column("valid_time_end", _TS),
    sa.Column("parameters", _JSON_OR_NULL),
    # one observation per stream and phenomenon time: a repeated delivery (MQTT QoS 1) is a duplicate
    sa.Index("ix_sta_observations_stream_time", "datastream_id", "phenomenon_time", unique=True),
    sa.Index("ix_sta_observations_multi_time", "multi_datastream_id", "phenomenon_time", unique=True),
    sa.Index("ix_sta_observations_feature", "feature_id"),
)

# hourly rollups of numeric results, maintained on every write, so that aggregations over long
# histories read one row per hour instead of every observation
sta_rollups = sa.Table(
    "sta_rollups",
    metadata,
    sa.Column("datastream_id", sa.Integer, sa.ForeignKey("sta_datastreams.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("hour", _TS, primary_key=True),
    sa.Column("n", sa.BigInteger, nullable=False),
    sa.Column("total", sa.Float, nullable=False),
    sa.Column("minimum", sa.Float, nullable=False),
    sa.Column("maximum", sa.Float, nullable=False),
)

# --- notifications (migration 0006) --------------------------------------------------------------

notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("org_slug", sa.String(100)),
    sa.Column("dataset_slug", sa.String(100)),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("subject", sa.String(300), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("email_status", sa.String(10), nullable=False, server_default="none"),  # none, sent, failed
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("read_at", sa.DateTime(timezone=True)),
    sa.Index("ix_notifications_user", "user_id", "id"),
)

freshness_notices = sa.Table(
    "freshness_notices",
    metadata,
    sa.Column("dataset", sa.String(100), primary_key=True),  # slug
    sa.Column("resource", sa.String(200), primary_key=True),  # "" for a dataset without tables
    sa.Column("version", sa.Integer, primary_key=True),  # 0 for a dataset without tables
    sa.Column("state", sa.String(10), primary_key=True),  # due, overdue
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
)

# --- scheduled imports (migration 0005) ----------------------------------------------------------

imports = sa.Table(
    "imports",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "dataset_slug", sa.String(100), sa.ForeignKey("datasets.slug", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("resource", sa.String(200), nullable=False),
    sa.Column("source_type", sa.String(10), nullable=False),  # url, folder, ckan
    sa.Column("source", sa.JSON, nullable=False),
    sa.Column("schedule", sa.String(100)),  # cron expression; NULL: run only on demand
    sa.Column("timeout_seconds", sa.Float, nullable=False),
    sa.Column("retries", sa.Integer, nullable=False),
    sa.Column("backoff_seconds", sa.Float, nullable=False),
    sa.Column("alert_after", sa.Integer, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("etag", sa.String(300)),
    sa.Column("last_modified", sa.String(100)),
    sa.Column("last_sha256", sa.String(64)),
    sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_run_at", sa.DateTime(timezone=True), index=True),
    sa.Column("lease_until", sa.DateTime(timezone=True)),
    sa.Column("lease_owner", sa.String(100)),
    sa.Column("created_by", sa.String(200)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

import_runs = sa.Table(
    "import_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.id", ondelete="CASCADE"), nullable=False),
    sa.Column("trigger", sa.String(10), nullable=False),  # schedule, manual
    sa.Column("status", sa.String(12), nullable=False),  # running, publishing, success, unchanged, failed
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("duration_seconds", sa.Float),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows", sa.BigInteger),
    sa.Column("version", sa.Integer),
    sa.Column("error", sa.Text),
    sa.Column("details", sa.JSON),
    sa.Index("ix_import_runs_import", "import_id", "id"),
)

periodic_jobs = sa.Table(  # periodic maintenance hooks of the scheduler: when each last ran (one run per period)
    "periodic_jobs",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=False),
)


# --- data services of datasets (migration 0007) ---------------------------------------------------

dataset_search_terms = sa.Table(  # words another domain adds to a dataset's full-text search
    "dataset_search_terms",
    metadata,
    sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("source", sa.String(40), primary_key=True),  # "sensors"
    sa.Column("terms", sa.Text, nullable=False),
)

dataset_services = sa.Table(
    "dataset_services",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("url", sa.String(1000), nullable=False),
    sa.Column("media_type", sa.String(100), nullable=False),
    sa.Column("conforms_to", sa.String(300)),
    sa.UniqueConstraint("dataset_id", "kind", name="uq_dataset_service_kind"),
)
