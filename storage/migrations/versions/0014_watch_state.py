"""The dead-man's switch of `reported` targets (#16): where each stands (ok, missed, stuck)
and since when, so a missed or stuck run alerts once, also across a restart.

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0014"
down_revision = "0013"  # after the job-event API's keys
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watch_state",
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("since", UTCDateTime(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("target", name="pk_watch_state"),
    )


def downgrade() -> None:
    op.drop_table("watch_state")
