"""The guided tour (D1): per principal, whether it was offered, skipped or finished, so it
is offered once and a skip is remembered.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0016"
down_revision = "0015"  # the integrator re-chains at merge
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tours",
        sa.Column("principal", sa.String(300), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("offered_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("principal", name="pk_tours"),
    )


def downgrade() -> None:
    op.drop_table("tours")
