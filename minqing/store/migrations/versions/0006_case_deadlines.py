"""case deadlines: one `due_at` per submission, from the SLA, backfilled with the default limits

Revision ID: 0006
Revises: 0005

Existing cases get the default limits (12345 practice: an urgent hazard 2 hours, a consultation request
3 working days, anything else 7 days); a team's record of a session it held gets none. The directory is
not known to a migration, so `[[sla]]` entries apply to cases stored from now on. The limits are copied
here, not imported, so this migration keeps doing what it did when the code moves on.
"""

from datetime import timedelta, timezone

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OFFICE_TZ = timezone(timedelta(hours=8))
BATCH = 1000


def upgrade():
    with op.batch_alter_table("submissions") as batch_op:
        batch_op.add_column(sa.Column("due_at", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_submissions_due_at", ["due_at"], unique=False)
    submissions = sa.table("submissions", sa.column("id", sa.String), sa.column("kind", sa.String),
                           sa.column("priority", sa.String), sa.column("payload", sa.JSON),
                           sa.column("submitted_at", sa.DateTime), sa.column("due_at", sa.DateTime))
    connection = op.get_bind()
    rows = connection.execute(sa.select(submissions.c.id, submissions.c.kind, submissions.c.priority,
                                        submissions.c.payload, submissions.c.submitted_at)).all()
    changes = [{"key": row.id, "due": _default_due(row)} for row in rows]
    changes = [change for change in changes if change["due"] is not None]
    statement = (sa.update(submissions).where(submissions.c.id == sa.bindparam("key"))
                 .values(due_at=sa.bindparam("due")))
    for start in range(0, len(changes), BATCH):
        connection.execute(statement, changes[start:start + BATCH])


def downgrade():
    with op.batch_alter_table("submissions") as batch_op:
        batch_op.drop_index("ix_submissions_due_at")
        batch_op.drop_column("due_at")


def _default_due(row):
    """The default limit's deadline, as a naive UTC time (how these columns are stored)."""
    payload = row.payload or {}
    if row.kind == "consultation" and payload.get("mode") == "report":
        return None
    start = row.submitted_at.replace(tzinfo=timezone.utc)
    if row.kind == "hazard" and row.priority == "urgent":
        due = start + timedelta(hours=2)
    elif row.kind == "consultation":
        due = start.astimezone(OFFICE_TZ)
        remaining = 3
        while remaining:
            due += timedelta(days=1)
            if due.weekday() < 5:
                remaining -= 1
    else:
        due = start + timedelta(days=7)
    return due.astimezone(timezone.utc).replace(tzinfo=None)
