"""notifications: outbox fallback columns, used one-tap links, daily digests

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("on_behalf_of", sa.String(length=40), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("superseded_by", sa.Integer(), nullable=True))
    op.create_table(
        "used_links",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("submission_id", sa.String(length=36), nullable=False),
        sa.Column("staff_id", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )
    op.create_table(
        "digests",
        sa.Column("staff_id", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("staff_id", "day"),
    )


def downgrade():
    op.drop_table("digests")
    op.drop_table("used_links")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("superseded_by")
        batch_op.drop_column("on_behalf_of")
        batch_op.drop_column("note")
