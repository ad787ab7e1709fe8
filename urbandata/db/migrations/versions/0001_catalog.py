"""catalog: organisations, datasets, resources, versions, full-text index

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("slug", sa.String(100), nullable=False, unique=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("email", sa.String(300)),
        sa.Column("url", sa.String(500)),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "datasets",
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
        sa.Column("issued", TS),
        sa.Column("modified", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "dataset_keywords",
        sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("keyword", sa.String(200), primary_key=True),
    )
    op.create_table(
        "dataset_themes",
        sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("theme", sa.String(10), primary_key=True),
    )
    op.create_table(
        "resources",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("title", sa.String(500)),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("format", sa.String(20)),
        sa.Column("sql_table", sa.String(250), nullable=False, unique=True),
        sa.Column("current_version", sa.Integer),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("dataset_id", "name", name="uq_resource_name"),
    )
    op.create_table(
        "resource_versions",
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
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("resource_id", "version", name="uq_resource_version"),
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE dataset_fts USING fts5(search_text, content='datasets', "
            "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
        )
    else:
        op.add_column(
            "datasets",
            sa.Column(
                "search_vector",
                postgresql.TSVECTOR,
                sa.Computed("to_tsvector('simple', search_text)", persisted=True),
            ),
        )
        op.create_index("ix_datasets_search", "datasets", ["search_vector"], postgresql_using="gin")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE dataset_fts")
    for name in ("resource_versions", "resources", "dataset_themes", "dataset_keywords", "datasets", "organizations"):
        op.drop_table(name)
