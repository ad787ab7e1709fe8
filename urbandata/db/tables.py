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
