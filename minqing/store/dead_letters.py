"""Messages that failed every retry, kept for an operator to read and send again."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from minqing.store.base import now
from minqing.store.tables import dead_letters


def add_dead_letter(connection: Connection, *, message_id, queue, actor, message, error) -> None:
    connection.execute(
        dead_letters.insert().values(
            message_id=message_id, queue=queue, actor=actor, message=message, error=error, failed_at=now()
        )
    )


def list_dead_letters(connection: Connection, limit: int = 100, *, include_retried: bool = False):
    query = select(dead_letters).order_by(dead_letters.c.id.desc()).limit(limit)
    if not include_retried:
        query = query.where(dead_letters.c.retried_at.is_(None))
    return connection.execute(query).all()


def mark_dead_letter_retried(connection: Connection, dead_letter_id: int) -> None:
    connection.execute(update(dead_letters).where(dead_letters.c.id == dead_letter_id).values(retried_at=now()))


def waiting(connection: Connection, dead_letter_id: int):
    """One dead letter not yet sent again, by its id; None if there is none."""
    return connection.execute(select(dead_letters).where(
        dead_letters.c.id == dead_letter_id, dead_letters.c.retried_at.is_(None))).one_or_none()
