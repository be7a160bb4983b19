"""reads that do not grow with the history: search tokens and coordinates on the cases, indexes for the
cursor, duplicates, period tallies and their freshness; on SQLite an FTS5 table of the search tokens

Revision ID: 0011
Revises: 0007

Cases stored before get their tokens and coordinates from their payload, a batch at a time. On PostgreSQL
each batch and each index (CREATE INDEX CONCURRENTLY) commits on its own, so a big table stays writable
while this runs; on SQLite (the embedded default, one process) it is one transaction.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = None

BATCH = 5000
INDEXES = (
    ("ix_submissions_submitted_id", "submissions", "(submitted_at, id)"),
    ("ix_submissions_updated_id", "submissions", "(updated_at, id)"),
    ("ix_submissions_duplicate_of", "submissions", "(duplicate_of)"),
    ("ix_submissions_near", "submissions", "(kind, category, lat, lon)"),
    # Covering: a period's sums are read from the index alone.
    ("ix_tallies_day", "tallies", "(day, kind, metric, community, category, value)"),
    ("ix_tally_events_at", "tally_events", "(at)"),
    ("ix_status_history_at", "status_history", "(at)"),
    ("ix_feedback_at", "feedback", "(at)"),
)


def upgrade():
    bind = op.get_bind()
    op.add_column("submissions", sa.Column("search_grams", sa.Text()))
    op.add_column("submissions", sa.Column("lat", sa.Float()))
    op.add_column("submissions", sa.Column("lon", sa.Float()))
    if bind.dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE case_grams USING fts5(submission_id UNINDEXED, grams)")
        _backfill(bind)
        for name, table, columns in INDEXES:
            op.execute(f"CREATE INDEX {name} ON {table} {columns}")
        return
    with op.get_context().autocommit_block():
        _backfill(op.get_bind())
        for name, table, columns in INDEXES:
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} {columns}")
        op.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_submissions_search_grams ON submissions "
                   "USING gin (string_to_array(search_grams, ' '))")


def _backfill(bind):
    from minqing.store.search_index import index_rows
    from minqing.domain.search import grams_of, location_of

    table = sa.table("submissions", sa.column("id"), sa.column("payload", sa.JSON), sa.column("search_grams"),
                     sa.column("lat"), sa.column("lon"))
    last = ""
    while True:
        found = bind.execute(sa.select(table.c.id, table.c.payload).where(table.c.id > last)
                             .order_by(table.c.id).limit(BATCH)).all()
        if not found:
            return
        rows = []
        for row in found:
            lat, lon = location_of(row.payload)
            rows.append(dict(row_id=row.id, grams=grams_of(row.payload), lat=lat, lon=lon))
        bind.execute(sa.update(table).where(table.c.id == sa.bindparam("row_id"))
                     .values(search_grams=sa.bindparam("grams"), lat=sa.bindparam("lat"), lon=sa.bindparam("lon")),
                     rows)
        index_rows(bind, [(r["row_id"], r["grams"]) for r in rows])
        last = found[-1].id


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS case_grams")
    else:
        op.execute("DROP INDEX IF EXISTS ix_submissions_search_grams")
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("lon")
        batch.drop_column("lat")
        batch.drop_column("search_grams")
