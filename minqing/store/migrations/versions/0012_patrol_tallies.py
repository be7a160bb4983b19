"""patrol counts by team × community × month (平安合伙人): rounds, findings, rectified on site and later, checks

Revision ID: 0012
Revises: 0007

A table of its own, beside the tallies, because the tallies have no team. Written in the same transaction
as the other counts and once per (case, event) through `tally_events`; `minqing tallies --rebuild` recounts it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "patrol_tallies",
        sa.Column("team", sa.String(length=50), primary_key=True),
        sa.Column("community", sa.String(length=32), primary_key=True),
        sa.Column("month", sa.String(length=7), primary_key=True),
        sa.Column("metric", sa.String(length=32), primary_key=True),
        sa.Column("value", sa.Float(), nullable=False, server_default="0"),
    )


def downgrade():
    op.drop_table("patrol_tallies")
