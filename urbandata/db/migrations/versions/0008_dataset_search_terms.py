"""search terms other domains add to a dataset (e.g. the names of its sensor Things)

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.create_table(
        "dataset_search_terms",
        sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("source", sa.String(40), primary_key=True),
        sa.Column("terms", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("dataset_search_terms")
