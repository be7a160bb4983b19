"""an index of the patrol findings by round and time, so that a period's recount finds whether a round's
first finding came before the period without reading every earlier hazard

Revision ID: 0017
Revises: 0016

A round is counted once, on the day of its first finding. A month's recount sees the month's findings; for
each of their rounds it must know whether the round had a finding before the month, and that look-up read
every earlier hazard each month (quadratic in the history). Partial: only a patrol's finding has a round.
On PostgreSQL made CONCURRENTLY, so the table stays writable while it is built.
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# As minqing.store.patrol_counts.patrol_round writes the expression.
ROUND = {"postgresql": "(payload -> 'patrol' ->> 'round')", "sqlite": "json_extract(payload, '$.patrol.round')"}


def upgrade():
    dialect = op.get_bind().dialect.name
    index = (f"ix_submissions_patrol_round ON submissions ({ROUND[dialect]}, submitted_at) "
             f"WHERE {ROUND[dialect]} IS NOT NULL")
    if dialect == "sqlite":
        op.execute(f"CREATE INDEX IF NOT EXISTS {index}")
        return
    with op.get_context().autocommit_block():
        op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {index}")


def downgrade():
    op.execute("DROP INDEX IF EXISTS ix_submissions_patrol_round")
