"""Posted messages (thread notes find their job) and handled inbound event ids (retries).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "posted_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("workspace", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(256), nullable=False),
        sa.Column("message_id", sa.String(256), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("draft_id", sa.Integer(), nullable=True),
        sa.Column("posted_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_posted_messages"),
        sa.UniqueConstraint(
            "platform", "channel", "message_id", name="uq_posted_messages_platform_channel"
        ),
    )
    op.create_index("ix_posted_messages_job_id", "posted_messages", ["job_id"])
    op.create_table(
        "inbound_events",
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("event_key", sa.String(256), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "event_key", name="pk_inbound_events"),
    )
    op.create_index("ix_inbound_events_received_at", "inbound_events", ["received_at"])


def downgrade() -> None:
    op.drop_table("inbound_events")
    op.drop_table("posted_messages")
