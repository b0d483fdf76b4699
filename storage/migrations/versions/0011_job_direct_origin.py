"""Jobs remember whether they were started in the person's own chat with the bot, where their
ended reply already tells that person (so no second, private message is sent).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Jobs from before did not say: false, so their requester is still told privately (C3).
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(
            sa.Column("origin_direct", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("origin_direct")
