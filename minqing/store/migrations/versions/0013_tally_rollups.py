"""the tallies' rollups: sums by month and by day, durations counted by hour and by hundredth of an hour

Revision ID: 0013
Revises: 0012

New tables (their keys are their only indexes, built while they are empty), filled from the tallies and
case durations stored before, set-based (INSERT … SELECT … GROUP BY, minqing.store.rollups.refresh). On
PostgreSQL live counting waits for the fill's commit (the lock the rebuild takes), so no increment is in
the tallies and missing from the rollups; readers and intake go on. A worker of the version before, still
running after this, adds to the tallies only: `minqing tallies --rebuild --from <its first day>` puts that
right.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

KEYS = {
    # The period first in the key, so that a period's rows are one range of it.
    "tally_months": [("month", 7), ("metric", 32), ("kind", 16), ("community", 32), ("category", 32)],
    "tally_days": [("day", None), ("metric", 32), ("kind", 16)],
    "duration_hours": [("month", 7), ("kind", 16), ("event", 32), ("hour", 0)],
    "duration_buckets": [("kind", 16), ("event", 32), ("bucket", 0), ("month", 7)],
}


def _column(name, size):
    kind = sa.Date() if size is None else sa.Integer() if size == 0 else sa.String(length=size)
    return sa.Column(name, kind, primary_key=True)


def upgrade():
    for table, keys in KEYS.items():
        summed = sa.Column("value", sa.Float(), nullable=False, server_default="0") if table.startswith("tally") \
            else sa.Column("count", sa.Integer(), nullable=False, server_default="0")
        op.create_table(table, *[_column(name, size) for name, size in keys], summed)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("LOCK TABLE tally_events IN SHARE ROW EXCLUSIVE MODE")
    from minqing.store import rollups

    rollups.refresh(bind)
    if bind.dialect.name == "postgresql":
        # Statistics now, not at autovacuum's leisure: the planner reads a period's months by them.
        for table in KEYS:
            op.execute(f"ANALYZE {table}")


def downgrade():
    for table in KEYS:
        op.drop_table(table)
