"""indexes for reading a period's medians: the duration buckets by month first, and the case durations by
day with the columns a partial month's edge days are summed from

Revision ID: 0016
Revises: 0015

A month's median looks up a hundred buckets of one (month, kind, event): the key (kind, event, bucket,
month) made it read that hour's buckets of every month. The edge days of a period were read from the
table's rows, scattered over it (a day's durations are written as its cases move); with kind, event and
seconds in the day's index they are read from the index alone, which replaces the day-only one. On
PostgreSQL made CONCURRENTLY, so the tables stay writable while the indexes are built.
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

MADE = ("ix_duration_buckets_month ON duration_buckets (month, kind, event, bucket)",
        "ix_case_durations_day_buckets ON case_durations (day, kind, event, seconds)")


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        for index in MADE:
            op.execute(f"CREATE INDEX IF NOT EXISTS {index}")
        op.execute("DROP INDEX IF EXISTS ix_case_durations_day")
        return
    with op.get_context().autocommit_block():
        for index in MADE:
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {index}")
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_case_durations_day")


def downgrade():
    op.execute("CREATE INDEX IF NOT EXISTS ix_case_durations_day ON case_durations (day)")
    op.execute("DROP INDEX IF EXISTS ix_case_durations_day_buckets")
    op.execute("DROP INDEX IF EXISTS ix_duration_buckets_month")
