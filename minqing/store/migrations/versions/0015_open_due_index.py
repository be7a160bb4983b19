"""an index of the open cases by deadline: 我的任务 reads a member's open cases in its order, and the
console's overdue list counts its cases per community and status from the index alone

Revision ID: 0015
Revises: 0013

Partial (open statuses only), so it stays the size of the open work, not of the history. On PostgreSQL made
CONCURRENTLY, so a big table stays writable while it is built.
"""

from alembic import op

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None

# workflow.OPEN_STATUSES, sorted as cases.overdue_clause writes them (SQLite uses a partial index only
# for a query whose condition is written as the index's is).
OPEN = "('acknowledged', 'in_progress', 'received', 'reopened')"
INDEX = f"ix_submissions_open_due ON submissions (due_at, submitted_at, community, status) WHERE status IN {OPEN}"


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"CREATE INDEX {INDEX}")
        return
    with op.get_context().autocommit_block():
        op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX}")


def downgrade():
    op.execute("DROP INDEX IF EXISTS ix_submissions_open_due")
