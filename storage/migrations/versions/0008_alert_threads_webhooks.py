"""Alert threads (grouping repeats), outbound webhooks, the claim time of deliveries and
an index of deliveries by destination.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("claimed_at", UTCDateTime(), nullable=True))
    op.create_index(
        "ix_deliveries_destination", "deliveries", ["platform", "workspace", "channel", "state"]
    )
    op.create_table(
        "alert_threads",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("workspace", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(256), nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("message_channel", sa.String(256), nullable=False),
        sa.Column("message_id", sa.String(256), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert_threads"),
        sa.UniqueConstraint(
            "platform", "workspace", "channel", "target", "kind", name="uq_alert_threads_key"
        ),
    )
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("url_hash", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(300), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhooks"),
        sa.UniqueConstraint("url_hash", name="uq_webhooks_url_hash"),
    )


def downgrade() -> None:
    op.drop_table("webhooks")
    op.drop_table("alert_threads")
    op.drop_index("ix_deliveries_destination", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("claimed_at")
