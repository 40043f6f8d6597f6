"""The journal, API keys and service metadata.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

import dispatch.live.web_stack  # noqa: F401  (names the extra when it is missing)

# isort: split

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the three tables."""
    op.create_table(
        "journal",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("now_s", sa.Float(precision=53), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=True, unique=True),
        sa.Column("unit_id", sa.String(200), nullable=True),
        sa.Column("call_id", sa.String(200), nullable=True),
        sa.Column("input", sa.Text, nullable=False),
        sa.Column("output", sa.Text, nullable=False),
        sa.Column("recorded_at_s", sa.Float(precision=53), nullable=False),
    )
    op.create_index("ix_journal_unit_id", "journal", ["unit_id"])
    op.create_index("ix_journal_call_id", "journal", ["call_id"])
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(128), nullable=False),
        sa.Column("label", sa.String(200), nullable=True),
        sa.Column("created_at_s", sa.Float(precision=53), nullable=False),
        sa.Column("revoked_at_s", sa.Float(precision=53), nullable=True),
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_table("meta")
    op.drop_table("api_keys")
    op.drop_index("ix_journal_call_id", "journal")
    op.drop_index("ix_journal_unit_id", "journal")
    op.drop_table("journal")
