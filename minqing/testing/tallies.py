"""What the tallies hold, as tests compare it: the tallies, the case durations and their rollups, sorted."""

from __future__ import annotations

from sqlalchemy import select

from minqing.store import counts
from minqing.store.tables import (
    duration_buckets,
    duration_hours,
    tally_days,
    tally_months,
)

ROLLUPS = (tally_months, tally_days, duration_hours, duration_buckets)


def rollup_rows(connection) -> dict:
    """Each rollup's rows, sorted; sums compared to a millionth (hundredths added in another order may differ
    in their last bit)."""
    return {table.name: sorted((*row[:-1], round(row[-1], 6)) for row in connection.execute(select(table)))
            for table in ROLLUPS}


def counted(engine) -> tuple:
    """(tally rows, duration rows, rollup rows), each sorted."""
    with engine.connect() as c:
        return (sorted(tuple(r) for r in counts.tally_rows(c)), sorted(tuple(r) for r in counts.duration_rows(c)),
                rollup_rows(c))
