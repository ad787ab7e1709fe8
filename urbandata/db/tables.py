"""Metadata tables (SQLAlchemy Core). The Alembic migrations create exactly these."""

from __future__ import annotations

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
