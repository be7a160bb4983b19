"""What the pipeline did, read from the database, and the one-line figure the scale and fault tests print."""

from __future__ import annotations

from sqlalchemy import func, select

from minqing.store.tables import assignments, dead_letters, outbox, submissions, tally_events


def effects(engine) -> dict:
    """Counts of every effect, and how many happened more than once for one key."""
    with engine.connect() as c:
        def count(query):
            return c.execute(query).scalar_one()

        return {
            "stored": count(select(func.count()).select_from(submissions)),
            "routed": count(select(func.count()).select_from(assignments)),
            "notifications": count(select(func.count()).select_from(outbox)),
            "sent": count(select(func.count()).where(outbox.c.status == "sent")),
            "counted": count(select(func.count()).select_from(tally_events)),
            "dead": count(select(func.count()).select_from(dead_letters)),
            # Primary and unique keys make these 0 by construction; the figures show it, not assume it.
            "doubled": count(select(func.count()).select_from(
                select(submissions.c.receipt).group_by(submissions.c.receipt)
                .having(func.count() > 1).subquery())),
        }


def receipts_stored(engine) -> set[str]:
    with engine.connect() as c:
        return set(c.execute(select(submissions.c.receipt)).scalars())


def finished(engine, expected: int):
    """The effects once `expected` submissions are stored, counted and every notification sent, else None."""
    now = effects(engine)
    done = now["stored"] >= expected and now["counted"] >= expected and now["sent"] == now["notifications"] > 0
    return now if done else None


def figure(name: str, *, sent: int, accepted: int, now: dict, lost: int, extra: str = "") -> str:
    line = (f"FIGURE {name}: sent {sent} / accepted {accepted} / stored {now['stored']} / notified {now['sent']} "
            f"of {now['notifications']} / counted {now['counted']} / lost {lost} / doubled {now['doubled']}")
    return line + (f" / {extra}" if extra else "")
