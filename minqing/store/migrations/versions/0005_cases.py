"""case workflow: staff tokens, feedback, durations, duplicate links, history details

Revision ID: 0005
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "staff_tokens",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("staff_id", sa.String(length=40), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_staff_tokens_staff", "staff_tokens", ["staff_id"])
    op.create_table(
        "feedback",
        sa.Column("submission_id", sa.String(length=36), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("fixed", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"]),
        sa.PrimaryKeyConstraint("submission_id"),
    )
    op.create_table(
        "case_durations",
        sa.Column("submission_id", sa.String(length=36), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("community", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("submission_id", "event"),
    )
    op.create_index("ix_case_durations_day", "case_durations", ["day"])
    with op.batch_alter_table("submissions") as batch_op:
        batch_op.add_column(sa.Column("duplicate_of", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.JSON(), nullable=True))
    with op.batch_alter_table("status_history") as batch_op:
        batch_op.add_column(sa.Column("action", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("photos", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("status_history") as batch_op:
        batch_op.drop_column("details")
        batch_op.drop_column("photos")
        batch_op.drop_column("action")
    with op.batch_alter_table("submissions") as batch_op:
        batch_op.drop_column("outcome")
        batch_op.drop_column("duplicate_of")
    op.drop_index("ix_case_durations_day", "case_durations")
    op.drop_table("case_durations")
    op.drop_table("feedback")
    op.drop_index("ix_staff_tokens_staff", "staff_tokens")
    op.drop_table("staff_tokens")
