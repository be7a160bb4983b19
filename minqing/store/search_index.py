"""The text search's index of bigram tokens (minqing.domain.search). PostgreSQL indexes the column itself
(a GIN index over its tokens, migration 0011); SQLite keeps them in the FTS5 table `case_grams`, written here
with the case, in its transaction (not by a trigger, which a table rebuild in a later migration would drop)."""

from __future__ import annotations

import threading
import time

from sqlalchemy import Text, bindparam, func, literal, literal_column, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection

from minqing.store.tables import submissions

_ADD = text("INSERT INTO case_grams (submission_id, grams) VALUES (:submission_id, :grams)")


def index_rows(connection: Connection, rows: list[tuple[str, str]]) -> None:
    """Index (submission id, tokens) pairs just stored."""
    if connection.dialect.name == "sqlite" and rows:
        connection.execute(_ADD, [dict(submission_id=sid, grams=grams or "") for sid, grams in rows])


# PostgreSQL reads the whole list of cases of every token asked for in the index and intersects them, and a
# phrase's bigrams are each common (小区 is in one case of seven) where the phrase is rare: at a million cases
# most of a rare phrase's time. The substring test keeps only true matches whatever the index finds, so the
# index is asked only for the rarest few tokens, as the planner's statistics of the index (ANALYZE's most
# common elements and their shares) rank them; a token not among them is rarer than all of those.
INDEXED_TOKENS = 3
_STALE_AFTER_S = 600.0
_shares: dict[str, float] = {}
_shares_read_at = [float("-inf")]
_shares_lock = threading.Lock()
_SHARES = text("SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
               "WHERE tablename = 'ix_submissions_search_grams' AND most_common_elems IS NOT NULL")


def learn_shares(connection: Connection) -> None:
    """Read the tokens' shares of cases from PostgreSQL's statistics, if last read ten minutes ago or more."""
    if connection.dialect.name != "postgresql" or time.monotonic() - _shares_read_at[0] < _STALE_AFTER_S:
        return
    with _shares_lock:
        row = connection.execute(_SHARES).first()
        _shares.clear()
        if row is not None:
            _shares.update(zip(row[0], row[1]))
        _shares_read_at[0] = time.monotonic()


def rarest(dialect: str, tokens: list[str]) -> list[str]:
    """The tokens the index is asked for: on PostgreSQL the INDEXED_TOKENS rarest of them (all when no
    statistics are known), in their order in the text."""
    if dialect != "postgresql" or len(tokens) <= INDEXED_TOKENS or not _shares:
        return tokens
    kept = set(sorted(tokens, key=lambda token: _shares.get(token, 0.0))[:INDEXED_TOKENS])
    return [token for token in tokens if token in kept]


def holding(dialect: str, tokens: list[str]):
    """A clause true of the cases whose searchable text holds every token; through an index on both."""
    tokens = rarest(dialect, tokens)
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
