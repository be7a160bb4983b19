"""idempotency keys scoped per client: an index to find a kind's submissions under a key, and room for the scope

Revision ID: 0007
Revises: 0006

Keys are stored from now on as `<client scope>:<key>` (`public:…`, `api-…:…`), up to 149 characters, and
the web process looks them up before it queues a keyed post. Keys stored before keep their bare form; their
submissions are found by id (see intake.submit). SQLite does not enforce a VARCHAR's length, so only other
databases have the column widened, and SQLite's table is not rebuilt for nothing.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("submissions", "idempotency_key", type_=sa.String(length=160),
                        existing_type=sa.String(length=128), existing_nullable=True)
    op.create_index("ix_submissions_idempotency_key", "submissions", ["idempotency_key", "kind"], unique=False)


def downgrade():
    op.drop_index("ix_submissions_idempotency_key", table_name="submissions")
    if op.get_bind().dialect.name != "sqlite":
        # A scoped key longer than 128 characters would not fit: cut, it no longer matches anything.
        op.execute("UPDATE submissions SET idempotency_key = LEFT(idempotency_key, 128) "
                   "WHERE LENGTH(idempotency_key) > 128")
        op.alter_column("submissions", "idempotency_key", type_=sa.String(length=128),
                        existing_type=sa.String(length=160), existing_nullable=True)
