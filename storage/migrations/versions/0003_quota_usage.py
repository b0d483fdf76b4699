"""Quota usage counters.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quota_usage",
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("storage", sa.String(64), nullable=False),
        sa.Column("used_bytes", sa.BigInteger(), nullable=False),
        sa.Column("archive_count", sa.Integer(), nullable=False),
        sa.Column("fired", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("target", name="pk_quota_usage"),
    )
    # Existing archives count from the start (databases made before quotas existed).
    op.execute(
        "INSERT INTO quota_usage (target, storage, used_bytes, archive_count, fired, updated_at)"
        " SELECT target, 'local', SUM(size_bytes), COUNT(*), '[]', MAX(created_at)"
        " FROM archives WHERE deleted_at IS NULL GROUP BY target"
    )


def downgrade() -> None:
    op.drop_table("quota_usage")
