"""data services of datasets: live access points besides tables (e.g. the SensorThings API)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_table(
        "dataset_services",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("url", sa.String(1000), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("conforms_to", sa.String(300)),
        sa.UniqueConstraint("dataset_id", "kind", name="uq_dataset_service_kind"),
    )
    op.create_index("ix_dataset_services_dataset_id", "dataset_services", ["dataset_id"])


def downgrade() -> None:
    op.drop_table("dataset_services")
