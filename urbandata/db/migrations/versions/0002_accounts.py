"""accounts, memberships, grants, API tokens, audit log, column masking

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(100), nullable=False, unique=True),
        sa.Column("display_name", sa.String(300)),
        sa.Column("email", sa.String(300)),
        sa.Column("password_hash", sa.String(300)),
        sa.Column("oidc_subject", sa.String(300), unique=True),
        sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", TS),
        sa.Column("last_login_at", TS),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "memberships",
        sa.Column("org_id", sa.Integer, sa.ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("role", sa.String(20), nullable=False),
    )
    op.create_table(
        "dataset_grants",
        sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("scope", sa.String(10), nullable=False),
        sa.Column("limit_org", sa.String(100)),
        sa.Column("limit_datasets", sa.JSON),
        sa.Column("expires_at", TS),
        sa.Column("revoked_at", TS),
        sa.Column("last_used_at", TS),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TS, nullable=False, index=True),
        sa.Column("actor", sa.String(100)),
        sa.Column("action", sa.String(60), nullable=False, index=True),
        sa.Column("target_type", sa.String(40)),
        sa.Column("target", sa.String(300)),
        sa.Column("outcome", sa.String(20), nullable=False, server_default="ok"),
        sa.Column("details", sa.JSON),
        sa.Column("client_ip", sa.String(64)),
        sa.Column("request_id", sa.String(64)),
    )
    with op.batch_alter_table("resources") as batch:
        batch.add_column(sa.Column("masked_columns", sa.JSON))


def downgrade() -> None:
    with op.batch_alter_table("resources") as batch:
        batch.drop_column("masked_columns")
    for name in ("audit_log", "api_tokens", "dataset_grants", "memberships", "users"):
        op.drop_table(name)
