"""data quality: validation rules and settings per resource, validation reports, pruned versions

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "resource_quality",
        sa.Column("resource_id", sa.Integer, sa.ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("rules", sa.JSON, nullable=False),
        sa.Column("on_failure", sa.String(10), nullable=False, server_default="reject"),
        sa.Column("retention", sa.JSON),
        sa.Column("updated_by", sa.String(200)),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "validation_reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("resource_id", sa.Integer, sa.ForeignKey("resources.id", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("report", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(200)),
        sa.Column("created_at", TS, nullable=False),
        sa.Index("ix_validation_reports_resource", "resource_id", "version"),
    )
    op.create_table(
        "pruned_versions",
        sa.Column("resource_id", sa.Integer, sa.ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("pruned_at", TS, nullable=False),
        sa.Column("pruned_by", sa.String(200)),
    )


def downgrade() -> None:
    for name in ("pruned_versions", "validation_reports", "resource_quality"):
        op.drop_table(name)
