"""scheduled imports and their run history

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("dataset_slug", sa.String(100), sa.ForeignKey("datasets.slug", ondelete="CASCADE"), nullable=False),
        sa.Column("resource", sa.String(200), nullable=False),
        sa.Column("source_type", sa.String(10), nullable=False),
        sa.Column("source", sa.JSON, nullable=False),
        sa.Column("schedule", sa.String(100)),
        sa.Column("timeout_seconds", sa.Float, nullable=False),
        sa.Column("retries", sa.Integer, nullable=False),
        sa.Column("backoff_seconds", sa.Float, nullable=False),
        sa.Column("alert_after", sa.Integer, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("etag", sa.String(300)),
        sa.Column("last_modified", sa.String(100)),
        sa.Column("last_sha256", sa.String(64)),
        sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_run_at", TS),
        sa.Column("lease_until", TS),
        sa.Column("lease_owner", sa.String(100)),
        sa.Column("created_by", sa.String(200)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_imports_dataset_slug", "imports", ["dataset_slug"])
    op.create_index("ix_imports_next_run_at", "imports", ["next_run_at"])
    op.create_table(
        "import_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.id", ondelete="CASCADE"), nullable=False),
        sa.Column("trigger", sa.String(10), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS),
        sa.Column("duration_seconds", sa.Float),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rows", sa.BigInteger),
        sa.Column("version", sa.Integer),
        sa.Column("error", sa.Text),
        sa.Column("details", sa.JSON),
        sa.Index("ix_import_runs_import", "import_id", "id"),
    )
    op.create_table(
        "periodic_jobs",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("last_run_at", TS, nullable=False),
    )


def downgrade() -> None:
    for name in ("periodic_jobs", "import_runs", "imports"):
        op.drop_table(name)
