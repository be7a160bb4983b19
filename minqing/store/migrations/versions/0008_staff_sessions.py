"""the staff console's sign-in: server-side sessions and one-time sign-in links

Revision ID: 0008
Revises: 0007

Both tables keep only SHA-256 hashes of what the browser or the link holds, so a copy of the database
signs nobody in.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "staff_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("staff_id", sa.String(40), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("via", sa.String(16), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime()),
    )
    op.create_index("ix_staff_sessions_staff", "staff_sessions", ["staff_id"])
    op.create_table(
        "sign_in_links",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("staff_id", sa.String(40), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime()),
    )
    op.create_index("ix_sign_in_links_staff", "sign_in_links", ["staff_id"])
    # A community's counts per status (the problem list's header) read from an index alone, and a member's
    # cases (我的任务) found from their assignments rather than by testing every case.
    op.create_index("ix_submissions_community_status", "submissions", ["community", "status"])
    op.create_index("ix_assignments_staff", "assignments", ["staff_id"])


def downgrade():
    op.drop_index("ix_assignments_staff", table_name="assignments")
    op.drop_index("ix_submissions_community_status", table_name="submissions")
    op.drop_index("ix_sign_in_links_staff", table_name="sign_in_links")
    op.drop_table("sign_in_links")
    op.drop_index("ix_staff_sessions_staff", table_name="staff_sessions")
    op.drop_table("staff_sessions")
