"""notifications to stewards

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("org_slug", sa.String(100)),
        sa.Column("dataset_slug", sa.String(100)),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("email_status", sa.String(10), nullable=False, server_default="none"),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("read_at", TS),
        sa.Index("ix_notifications_user", "user_id", "id"),
    )
    op.create_table(
        "freshness_notices",
        sa.Column("dataset", sa.String(100), primary_key=True),
        sa.Column("resource", sa.String(200), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("state", sa.String(10), primary_key=True),
        sa.Column("sent_at", TS, nullable=False),
    )


def downgrade() -> None:
    for name in ("freshness_notices", "notifications"):
        op.drop_table(name)
