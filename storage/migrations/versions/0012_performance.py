"""Performance (C6): an index the daily averages of `stats` are read from alone, and which
bounds each target was last judged outside of (the alert's hysteresis survives a restart).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.tables import SUCCEEDED_SQL, UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_jobs_performance",
        "jobs",
        ["target", "finished_at", "started_at", "size_bytes"],
        sqlite_where=sa.text(SUCCEEDED_SQL),
        postgresql_where=sa.text(SUCCEEDED_SQL),
    )
    op.create_table(
        "performance_state",
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("outside", sa.String(200), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("target", name="pk_performance_state"),
    )


def downgrade() -> None:
    op.drop_table("performance_state")
    op.drop_index("ix_jobs_performance", table_name="jobs")
