"""Jobs keep the name of the channel they were started in, to show it instead of its id.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Jobs started before this knew no name: empty, so they show no channel rather than an id.
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(
            sa.Column("origin_channel_name", sa.String(256), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("origin_channel_name")
