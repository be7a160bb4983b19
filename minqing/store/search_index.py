"""The text search's index of bigram tokens (minqing.domain.search). PostgreSQL indexes the column itself
(a GIN index over its tokens, migration 0011); SQLite keeps them in the FTS5 table `case_grams`, written here
with the case, in its transaction (not by a trigger, which a table rebuild in a later migration would drop)."""

from __future__ import annotations

from sqlalchemy import Text, bindparam, func, literal, literal_column, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection

from minqing.store.tables import submissions

_ADD = text("INSERT INTO case_grams (submission_id, grams) VALUES (:submission_id, :grams)")


def index_rows(connection: Connection, rows: list[tuple[str, str]]) -> None:
    """Index (submission id, tokens) pairs just stored."""
    if connection.dialect.name == "sqlite" and rows:
        connection.execute(_ADD, [dict(submission_id=sid, grams=grams or "") for sid, grams in rows])


def holding(dialect: str, tokens: list[str]):
    """A clause true of the cases whose searchable text holds every token; through an index on both."""
    if dialect == "sqlite":
        match = " ".join(f'"{token}"' for token in tokens)
        return submissions.c.id.in_(select(literal_column("submission_id")).select_from(text("case_grams"))
                                    .where(text("case_grams MATCH :match").bindparams(match=match)))
    # Written as the index is (ix_submissions_search_grams), with the separator a literal, so the planner
    # matches the two.
    return text("string_to_array(submissions.search_grams, ' ') @> CAST(:tokens AS text[])").bindparams(
        bindparam("tokens", tokens, type_=ARRAY(Text)))


def candidates_up_to(connection: Connection, tokens: list[str], most: int) -> int:
    """How many cases (of all, up to `most`) hold every token: what the indexed search would fetch; the
    count stops at `most`, so a common token costs no more than a rare one."""
    if connection.dialect.name == "sqlite":
        some = text("SELECT 1 FROM case_grams WHERE case_grams MATCH :match LIMIT :most").bindparams(
            match=" ".join(f'"{token}"' for token in tokens), most=most).columns()
    else:
        some = select(literal(1)).select_from(submissions).where(holding("postgresql", tokens)).limit(most)
    return connection.execute(select(func.count()).select_from(some.subquery())).scalar_one()
