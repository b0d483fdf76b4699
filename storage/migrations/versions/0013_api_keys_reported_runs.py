"""The job-event API (#16): its keys, the runs reported through it, and the `reported`
targets keys created.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("may_create", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(300), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_api_keys"),
    )
    op.create_table(
        "api_runs",
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("rid", sa.String(64), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("key_name", sa.String(64), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("command", sa.Text(), nullable=False),
        sa.Column("bytes_done", sa.BigInteger(), nullable=True),
        sa.Column("files_done", sa.BigInteger(), nullable=True),
        sa.Column("percent", sa.Float(), nullable=True),
        sa.Column("log_tail", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name="fk_api_runs_job_id_jobs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("target", "rid", name="pk_api_runs"),
    )
    op.create_index("ix_api_runs_job_id", "api_runs", ["job_id"])
    op.create_table(
        "provisioned_targets",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_provisioned_targets"),
    )


def downgrade() -> None:
    op.drop_table("provisioned_targets")
    op.drop_index("ix_api_runs_job_id", table_name="api_runs")
    op.drop_table("api_runs")
    op.drop_table("api_keys")
