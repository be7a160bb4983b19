"""indexes for reading a period's medians: the duration buckets by month first, and the case durations by
day with the columns a partial month's edge days are summed from; and the logged sessions by the day held

Revision ID: 0016
Revises: 0015

A month's median looks up a hundred buckets of one (month, kind, event): the key (kind, event, bucket,
month) made it read that hour's buckets of every month. The edge days of a period were read from the
table's rows, scattered over it (a day's durations are written as its cases move); with kind, event and
seconds in the day's index they are read from the index alone, which replaces the day-only one. A recount
month by month read every consultation's form each month to find the sessions held in it (quadratic in the
history); the index of held_at (partial: only logged sessions have one) finds them. On PostgreSQL made
CONCURRENTLY, so the tables stay writable while the indexes are built.
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

MADE = ("ix_duration_buckets_month ON duration_buckets (month, kind, event, bucket)",
        "ix_case_durations_day_buckets ON case_durations (day, kind, event, seconds)")
# As minqing.store.recount.held_at writes the expression.
HELD_AT = {"postgresql": "ix_submissions_held_at ON submissions ((payload ->> 'held_at')) "
                         "WHERE (payload ->> 'held_at') IS NOT NULL",
           "sqlite": "ix_submissions_held_at ON submissions (json_extract(payload, '$.held_at')) "
                     "WHERE json_extract(payload, '$.held_at') IS NOT NULL"}


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        for index in (*MADE, HELD_AT["sqlite"]):
            op.execute(f"CREATE INDEX IF NOT EXISTS {index}")
        op.execute("DROP INDEX IF EXISTS ix_case_durations_day")
        return
    with op.get_context().autocommit_block():
        for index in (*MADE, HELD_AT["postgresql"]):
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {index}")
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_case_durations_day")


def downgrade():
    op.execute("CREATE INDEX IF NOT EXISTS ix_case_durations_day ON case_durations (day)")
    op.execute("DROP INDEX IF EXISTS ix_case_durations_day_buckets")
    op.execute("DROP INDEX IF EXISTS ix_duration_buckets_month")
    op.execute("DROP INDEX IF EXISTS ix_submissions_held_at")
