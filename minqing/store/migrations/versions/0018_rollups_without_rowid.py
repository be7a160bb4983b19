"""SQLite: the rollups kept in the order of their keys (WITHOUT ROWID), so that a period's rows are read
from the key alone

Revision ID: 0018
Revises: 0017

On SQLite a table with a rowid keeps its rows apart from its key: a year's 18,000 month rows were found in
the key, then each looked up in the table, which was most of the time the embedded default's public
tallies spent reading the months. A table WITHOUT ROWID is stored in its key's order, the value beside it.
Alembic's batch mode copies each table into its new form within one transaction: at the embedded
default's size (tens of thousands of rows) a write lock of under a second. PostgreSQL has no rowid and
nothing to change.
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# Not duration_buckets: its key (kind, event, bucket, month) would then be the table, and SQLite's planner
# took it over the month index for a month's buckets, reading that hour's buckets of every month.
ROLLUPS = ("tally_months", "tally_days", "duration_hours")


def _recreate(with_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in ROLLUPS:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_with_rowid": with_rowid}):
            pass


def upgrade():
    _recreate(False)


def downgrade():
    _recreate(True)
