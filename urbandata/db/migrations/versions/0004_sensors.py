"""SensorThings entities, observations, hourly rollups and latest values

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "sta_locations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("encoding_type", sa.String(length=100), nullable=False),
        sa.Column("location", sa.JSON(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_sta_locations_dataset_id"), "sta_locations", ["dataset_id"], unique=False)
    op.create_table(
        "sta_observed_properties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("definition", sa.String(length=1000), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_sta_observed_properties_dataset_id"), "sta_observed_properties", ["dataset_id"], unique=False
    )
    op.create_table(
        "sta_sensors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("encoding_type", sa.String(length=200), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_sta_sensors_dataset_id"), "sta_sensors", ["dataset_id"], unique=False)
    op.create_table(
        "sta_things",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_sta_things_dataset_id"), "sta_things", ["dataset_id"], unique=False)
    op.create_table(
        "sta_datastreams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("thing_id", sa.Integer(), nullable=False),
        sa.Column("sensor_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("observation_type", sa.String(length=200), nullable=False),
        sa.Column("observed_area", sa.JSON(), nullable=True),
        sa.Column("phenomenon_time_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("phenomenon_time_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_time_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_time_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("properties", sa.JSON(), nullable=True),
        sa.Column("latest_observation_id", sa.BigInteger(), nullable=True),
        sa.Column("observed_property_id", sa.Integer(), nullable=False),
        sa.Column("unit_of_measurement", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["observed_property_id"], ["sta_observed_properties.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["sensor_id"], ["sta_sensors.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["thing_id"], ["sta_things.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_sta_datastreams_dataset_id"), "sta_datastreams", ["dataset_id"], unique=False)
    op.create_index(
        op.f("ix_sta_datastreams_observed_property_id"), "sta_datastreams", ["observed_property_id"], unique=False
    )
    op.create_index(op.f("ix_sta_datastreams_sensor_id"), "sta_datastreams", ["sensor_id"], unique=False)
    op.create_index(op.f("ix_sta_datastreams_thing_id"), "sta_datastreams", ["thing_id"], unique=False)
    op.create_table(
        "sta_features",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("encoding_type", sa.String(length=100), nullable=False),
        sa.Column("feature", sa.JSON(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=True),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["location_id"], ["sta_locations.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_sta_features_dataset_id"), "sta_features", ["dataset_id"], unique=False)
    op.create_index(op.f("ix_sta_features_location_id"), "sta_features", ["location_id"], unique=False)
    op.create_table(
        "sta_historical_locations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thing_id", sa.Integer(), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["thing_id"], ["sta_things.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_sta_historical_locations_thing_id"), "sta_historical_locations", ["thing_id"], unique=False
    )
    op.create_table(
        "sta_multi_datastreams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("thing_id", sa.Integer(), nullable=False),
        sa.Column("sensor_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("observation_type", sa.String(length=200), nullable=False),
        sa.Column("observed_area", sa.JSON(), nullable=True),
        sa.Column("phenomenon_time_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("phenomenon_time_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_time_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_time_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("properties", sa.JSON(), nullable=True),
        sa.Column("latest_observation_id", sa.BigInteger(), nullable=True),
        sa.Column("unit_of_measurements", sa.JSON(), nullable=False),
        sa.Column("multi_observation_data_types", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["sensor_id"], ["sta_sensors.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["thing_id"], ["sta_things.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_sta_multi_datastreams_dataset_id"), "sta_multi_datastreams", ["dataset_id"], unique=False)
    op.create_index(op.f("ix_sta_multi_datastreams_sensor_id"), "sta_multi_datastreams", ["sensor_id"], unique=False)
    op.create_index(op.f("ix_sta_multi_datastreams_thing_id"), "sta_multi_datastreams", ["thing_id"], unique=False)
    op.create_table(
        "sta_thing_locations",
        sa.Column("thing_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["location_id"], ["sta_locations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["thing_id"], ["sta_things.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("thing_id", "location_id"),
    )
    op.create_index(op.f("ix_sta_thing_locations_location_id"), "sta_thing_locations", ["location_id"], unique=False)
    op.create_table(
        "sta_historical_location_locations",
        sa.Column("historical_location_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["historical_location_id"], ["sta_historical_locations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["location_id"], ["sta_locations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("historical_location_id", "location_id"),
    )
    op.create_index(
        op.f("ix_sta_historical_location_locations_location_id"),
        "sta_historical_location_locations",
        ["location_id"],
        unique=False,
    )
    op.create_table(
        "sta_multi_datastream_properties",
        sa.Column("multi_datastream_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("observed_property_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["multi_datastream_id"], ["sta_multi_datastreams.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["observed_property_id"], ["sta_observed_properties.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("multi_datastream_id", "position"),
    )
    op.create_index(
        op.f("ix_sta_multi_datastream_properties_observed_property_id"),
        "sta_multi_datastream_properties",
        ["observed_property_id"],
        unique=False,
    )
    op.create_table(
        "sta_observations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("datastream_id", sa.Integer(), nullable=True),
        sa.Column("multi_datastream_id", sa.Integer(), nullable=True),
        sa.Column("feature_id", sa.Integer(), nullable=False),
        sa.Column("phenomenon_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("phenomenon_time_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_number", sa.Float(), nullable=True),
        sa.Column("result_json", sa.JSON(), nullable=True),
        sa.Column("result_quality", sa.JSON(), nullable=True),
        sa.Column("valid_time_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_time_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["datastream_id"], ["sta_datastreams.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["feature_id"], ["sta_features.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["multi_datastream_id"], ["sta_multi_datastreams.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sta_observations_feature", "sta_observations", ["feature_id"], unique=False)
    op.create_index(
        "ix_sta_observations_multi_time", "sta_observations", ["multi_datastream_id", "phenomenon_time"], unique=True
    )
    op.create_index(
        "ix_sta_observations_stream_time", "sta_observations", ["datastream_id", "phenomenon_time"], unique=True
    )
    op.create_table(
        "sta_rollups",
        sa.Column("datastream_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("minimum", sa.Float(), nullable=False),
        sa.Column("maximum", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["datastream_id"], ["sta_datastreams.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("datastream_id", "hour"),
    )


def downgrade() -> None:
    for name in (
        "sta_rollups",
        "sta_observations",
        "sta_features",
        "sta_multi_datastream_properties",
        "sta_datastreams",
        "sta_multi_datastreams",
        "sta_historical_location_locations",
        "sta_historical_locations",
        "sta_thing_locations",
        "sta_observed_properties",
        "sta_sensors",
        "sta_locations",
        "sta_things",
    ):
        op.drop_table(name)
