"""scheduled imports and their run history

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0005"
down_revision = "0004"

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    pass  # placeholder: tables are added with the feature


def downgrade() -> None:
    pass
