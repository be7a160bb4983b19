"""The staff side of the problem list (问题清单): filtering, paging, details, reassignment, notes,
duplicates, residents' feedback and the sweep that closes unrated cases."""

from __future__ import annotations

import base64
import json
import math
import uuid
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import and_, bindparam, case, exists, false, func, literal, not_, or_, select, tuple_
from sqlalchemy.engine import Connection

from minqing.domain import search, workflow
from minqing.domain.tallies import OFFICE_TZ
from minqing.store import search_index
from minqing.store.tables import assignments, feedback, outbox, status_history, submissions

DUPLICATE_RADIUS_M = 50
DUPLICATE_WINDOW = timedelta(days=30)
SORTS = {
    "-submitted_at": (submissions.c.submitted_at, True),
    "submitted_at": (submissions.c.submitted_at, False),
    "-updated_at": (submissions.c.updated_at, True),
    "updated_at": (submissions.c.updated_at, False),
}


class BadCursor(ValueError):
    pass


def overdue_clause(at: datetime):
    """Open cases past their deadline (`due_at`). A case without one is never overdue; the explicit null
    test also puts it among the not-overdue, which SQL's NULL would otherwise leave out of both."""
    # Sorted, as the partial index ix_submissions_open_due is written (SQLite matches the two by their text).
    return and_(submissions.c.status.in_(sorted(workflow.OPEN_STATUSES)), submissions.c.due_at.is_not(None),
                submissions.c.due_at < at)


def _office_midnight(day) -> datetime:
    # Clamped: 0001-01-01 or 9999-12-31 are valid dates but have no midnight in UTC, and select the same.
    day = min(max(day, date(1900, 1, 1)), date(9000, 1, 1))
    return datetime.combine(day, time(), tzinfo=OFFICE_TZ)


def text_search(text: str, dialect: str):
    """The cases whose description, address or enterprise name holds `text` (case-insensitive), or whose
    receipt it is. The bigram index finds the candidates (any text of two characters or more) and the
    substring test keeps the matches; the receipt is its own indexed arm of the OR."""
    holds = _holds(text, submissions.c)
    tokens = search.query_grams(text)
    if tokens:
        if dialect == "postgresql":
            # PostgreSQL estimates the bigram condition from the index's statistics, and a CASE at one half;
            # three bare ILIKEs it would estimate as rare and multiply in as if unrelated to the bigram (they
            # imply it), so a common word (围墙) would look rare: every match fetched and sorted for the first
            # page instead of the list's index read in order until the page is full.
            holds = case((submissions.c.search_grams.is_not(None), holds), else_=false())
        holds = and_(search_index.holding(dialect, tokens), holds)
    return or_(submissions.c.receipt == text.upper(), holds)


def _holds(text: str, columns):
    """The substring test (case-insensitive) of `columns` (the table's or a subquery's), no receipt."""
    return or_(*(columns.payload[path].as_string().icontains(text, autoescape=True)
                 for path in ("description", ("location", "address"), ("enterprise", "name"))))


def filtered(filters: dict, scope, at: datetime, dialect: str):
    """The cases matching `filters` (CaseFilterSchema's output) within `scope`, in the asked order."""
    clauses = [scope]
    for name in ("kind", "status", "community", "category"):
        if filters.get(name):
            clauses.append(submissions.c[name] == filters[name])
    if filters.get("assignee"):
        clauses.append(exists(select(assignments.c.staff_id).where(
            assignments.c.submission_id == submissions.c.id, assignments.c.staff_id == filters["assignee"])))
    if filters.get("overdue") is not None:
        clauses.append(overdue_clause(at) if filters["overdue"] else not_(overdue_clause(at)))
    if filters.get("submitted_from"):
        clauses.append(submissions.c.submitted_at >= _office_midnight(filters["submitted_from"]))
    if filters.get("submitted_to"):
        clauses.append(submissions.c.submitted_at < _office_midnight(filters["submitted_to"]) + timedelta(days=1))
    if filters.get("q"):
        clauses.append(text_search(filters["q"], dialect))
    column, descending = SORTS[filters.get("sort") or "-submitted_at"]
    order = (column.desc(), submissions.c.id.desc()) if descending else (column.asc(), submissions.c.id.asc())
    return select(submissions).where(*clauses).order_by(*order)


# How many of the newest cases (after the other filters and the cursor) a text search reads first.
TEXT_WINDOW = 2000
# Below this many cases holding a text's bigrams the bigram index's query reads fewer rows than the window.
FEW_CANDIDATES = TEXT_WINDOW


def list_cases(connection: Connection, filters: dict, scope, at: datetime) -> tuple[list, str | None]:
    """One page of cases and the cursor of the next page (None on the last one)."""
    column, _ = SORTS[filters.get("sort") or "-submitted_at"]
    limit = filters.get("limit") or 50
    rows = None
    if filters.get("q"):
        search_index.learn_shares(connection)
    if filters.get("q") and _worth_a_window(connection, filters["q"]):
        rows = _page_in_newest(connection, filters, scope, at, limit + 1)
    if rows is None:
        rows = connection.execute(_after_cursor(filtered(filters, scope, at, connection.dialect.name), filters)
                                  .limit(limit + 1)).all()
    page, more = rows[:limit], len(rows) > limit
    last = page[-1] if page else None
    next_cursor = _encode(getattr(last, column.name), last.id) if more and last else None
    return page, next_cursor


def _after_cursor(query, filters: dict):
    if not filters.get("cursor"):
        return query
    column, descending = SORTS[filters.get("sort") or "-submitted_at"]
    value, last_id = _decode(filters["cursor"])
    # A row comparison: an index bound on (column, id) on both databases, flat at any depth.
    here, there = tuple_(column, submissions.c.id), tuple_(literal(value, column.type), literal(last_id))
    return query.where(here < there if descending else here > there)


def _worth_a_window(connection: Connection, text: str) -> bool:
    """Whether a text search should try _page_in_newest first. Not for a receipt (its index finds it), nor
    for a rare text (few candidates in the bigram index), nor
    on PostgreSQL for one bigram, whose frequency the planner knows from the index's statistics (it reads
    the list's index itself when the word is common); yes for a longer text, whose bigrams it counts as
    unrelated (a common phrase looks rare), and on SQLite, whose full-text index is slow for a common word."""
    if connection.execute(_BY_RECEIPT, {"receipt": text.upper()}).first() is not None:
        return False
    tokens = search.query_grams(text)
    if connection.dialect.name == "postgresql" and len(tokens) == 1:
        return False
    # Nor for a text so rare that the index holds few candidates: fetching them is cheaper than the window.
    return not tokens or search_index.candidates_up_to(connection, tokens, FEW_CANDIDATES) == FEW_CANDIDATES


def _page_in_newest(connection: Connection, filters: dict, scope, at: datetime, wanted: int):
    """A text search's page from the next TEXT_WINDOW cases in the list's order, read through its index
    (newest first, stopping once the page is full): if they hold `wanted` matches, those are the page (every
    later match comes after them); None if not. A common word or phrase fills its page there, whatever the
    planner estimates of three ILIKEs; a rare one then goes through the bigram index, which fetches its few
    matches. Neither database reads a common word's thousands of index entries this way."""
    column, descending = SORTS[filters.get("sort") or "-submitted_at"]
    dialect, text = connection.dialect.name, filters["q"]
    others = _after_cursor(filtered({**filters, "q": None}, scope, at, dialect), filters)
    edge = connection.execute(others.with_only_columns(column, submissions.c.id).offset(TEXT_WINDOW - 1)
                              .limit(1)).first()
    query = others.where(or_(submissions.c.receipt == text.upper(), _holds(text, submissions.c)))
    if edge is not None:
        here, there = tuple_(column, submissions.c.id), tuple_(literal(edge[0], column.type), literal(edge[1]))
        query = query.where(here >= there if descending else here <= there)
    rows = connection.execute(query.limit(wanted)).all()
    # Fewer cases than the window: it held them all, and so the page.
    return rows if len(rows) == wanted or edge is None else None


ASSIGNEE_SEPARATOR = "\x1f"


def _assignee_ids():
    """Each case's assignees in order, as one text (ASSIGNEE_SEPARATOR between): one aggregate over all
    assignments, joined, rather than one lookup per case (half the time for a whole export)."""
    from sqlalchemy.dialects.postgresql import aggregate_order_by

    return select(assignments.c.submission_id, func.string_agg(
        assignments.c.staff_id, aggregate_order_by(literal(ASSIGNEE_SEPARATOR), assignments.c.position)
    ).label("assignee_ids")).group_by(assignments.c.submission_id).subquery()


# In this order: functions/exports.py reads the rows by position.
EXPORTED = [submissions.c[name] for name in ("id", "receipt", "kind", "community", "category", "priority", "status",
                                             "submitted_at", "updated_at", "due_at", "payload")]


def iter_cases(connection: Connection, filters: dict, scope, at: datetime, batch: int = 2000):
    """Every matching case with its assignees (a list), `batch` at a time, so an export never holds them
    all. PostgreSQL reads the assignees in the same query; SQLite, whose ordered aggregate would need a
    subquery it cannot correlate, looks them up once a batch (locally, cheap)."""
    dialect = connection.dialect.name
    # The columns an export shows, not the search text or the outcome.
    query = filtered(filters, scope, at, dialect).with_only_columns(*EXPORTED)
    if dialect == "postgresql":
        assigned = _assignee_ids()
        query = query.add_columns(assigned.c.assignee_ids).outerjoin_from(
            submissions, assigned, assigned.c.submission_id == submissions.c.id)
    result = connection.execute(query, execution_options={"stream_results": True, "yield_per": batch})
    for partition in result.partitions():
        if dialect == "postgresql":
            yield [(row, row.assignee_ids.split(ASSIGNEE_SEPARATOR) if row.assignee_ids else []) for row in partition]
        else:
            assigned = assignees_of(connection, [row.id for row in partition])
            yield [(row, assigned[row.id]) for row in partition]


def _encode(value: datetime, last_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([value.isoformat(), last_id]).encode()).decode()


def _decode(cursor: str) -> tuple[datetime, str]:
    """The (moment, id) a cursor from `_encode` holds; BadCursor for anything else, even a well-formed
    cursor with a naive moment, which the UTC columns refuse."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not (isinstance(decoded, list) and len(decoded) == 2 and all(isinstance(v, str) for v in decoded)):
            raise TypeError("not [moment, id]")
        # Ids are UUIDs: anything else (a NUL byte, which PostgreSQL refuses) never reaches the query.
        value, last_id = datetime.fromisoformat(decoded[0]), str(uuid.UUID(decoded[1]))
        if value.tzinfo is None:
            raise ValueError("naive moment")
        value.astimezone(timezone.utc)  # years 1 and 9999 with an offset have no UTC moment
        return value, last_id
    except (ValueError, TypeError, OverflowError, RecursionError):
        raise BadCursor(cursor) from None


def assignees_of(connection: Connection, ids: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {sid: [] for sid in ids}
    if ids:
        for row in connection.execute(select(assignments).where(assignments.c.submission_id.in_(ids))
                                      .order_by(assignments.c.position)):
            found[row.submission_id].append(row.staff_id)
    return found


def case_in_scope(connection: Connection, submission_id: str, scope):
    return connection.execute(select(submissions).where(submissions.c.id == submission_id, scope)).one_or_none()


def case_by_receipt(connection: Connection, receipt: str):
    return connection.execute(select(submissions).where(submissions.c.receipt == receipt)).one_or_none()


def history_of(connection: Connection, submission_id: str):
    return connection.execute(select(status_history).where(status_history.c.submission_id == submission_id)
                              .order_by(status_history.c.at, status_history.c.id)).all()


def feedback_of(connection: Connection, submission_id: str):
    return connection.execute(select(feedback).where(feedback.c.submission_id == submission_id)).one_or_none()


def duplicates_of(connection: Connection, submission_id: str, scope):
    """The cases marked as duplicates of this one, of those within `scope`: a duplicate in another
    community is not the caller's to see, not even its receipt."""
    return connection.execute(select(submissions.c.id, submissions.c.receipt, submissions.c.status)
                              .where(submissions.c.duplicate_of == submission_id, scope)).all()


def likely_duplicates(connection: Connection, case, scope) -> list[dict]:
    """Hazards of the same category within 50 m reported in the 30 days before this one (or since)."""
    here = (case.payload.get("location") or {}) if case.kind == "hazard" else {}
    if "lat" not in here or "lon" not in here:
        return []
    # A box around the report, a little wider than the radius, found through ix_submissions_near; the exact
    # distance then decides. Only the columns the answer needs are read, never the payloads.
    lat, lon = float(here["lat"]), float(here["lon"])
    dlat = DUPLICATE_RADIUS_M * 1.01 / 111_195
    dlon = dlat / max(math.cos(math.radians(min(abs(lat) + dlat, 89.9))), 1e-6)
    nearby = connection.execute(select(
        submissions.c.id, submissions.c.receipt, submissions.c.status, submissions.c.submitted_at,
        submissions.c.lat, submissions.c.lon).where(
        scope, submissions.c.kind == "hazard", submissions.c.category == case.category,
        submissions.c.lat.between(lat - dlat, lat + dlat), submissions.c.lon.between(lon - dlon, lon + dlon),
        submissions.c.id != case.id, submissions.c.submitted_at >= case.submitted_at - DUPLICATE_WINDOW,
    ).order_by(submissions.c.submitted_at)).all()
    found = []
    for other in nearby:
        metres = distance_m(here["lat"], here["lon"], other.lat, other.lon)
        if metres <= DUPLICATE_RADIUS_M:
            found.append({"id": other.id, "receipt": other.receipt, "status": other.status,
                          "distance_m": round(metres, 1), "submitted_at": other.submitted_at.isoformat()})
    return found


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine); exact enough at the scale of a street."""
    r = 6_371_000
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def unrated_resolved(connection: Connection, before: datetime) -> list[str]:
    """Resolved cases with no feedback whose last resolution is older than `before`."""
    last_resolved = (select(status_history.c.submission_id, func.max(status_history.c.at).label("at"))
                     .where(status_history.c.status == "resolved").group_by(status_history.c.submission_id)
                     .subquery())
    return list(connection.execute(
        select(submissions.c.id).join(last_resolved, last_resolved.c.submission_id == submissions.c.id)
        .where(submissions.c.status == "resolved", last_resolved.c.at < before,
               ~exists(select(feedback.c.submission_id).where(feedback.c.submission_id == submissions.c.id)))
    ).scalars())


def public_links(connection: Connection, case) -> dict:
    """What a receipt adds from the workflow: the original's status for a duplicate, and whether the
    resident may still rate the outcome."""
    found: dict = {"duplicate_of": None, "feedback_open": False}
    if case.duplicate_of:
        original = connection.execute(select(submissions.c.receipt, submissions.c.status)
                                      .where(submissions.c.id == case.duplicate_of)).one_or_none()
        found["duplicate_of"] = original and {"receipt": original.receipt, "status": original.status}
    if case.status == "resolved":
        given = connection.execute(select(feedback.c.submission_id).where(feedback.c.submission_id == case.id))
        found["feedback_open"] = given.first() is None
    return found


def hazard_requests(connection: Connection, *, receipts=(), category=None, start=None, end=None, status=None,
                    limit: int = 1000):
    """Hazard reports as Open311 lists them: newest first, at most `limit`."""
    query = select(submissions).where(submissions.c.kind == "hazard")
    if receipts:
        query = query.where(submissions.c.receipt.in_(receipts))
    if category:
        query = query.where(submissions.c.category == category)
    if start:
        query = query.where(submissions.c.submitted_at >= start)
    if end:
        query = query.where(submissions.c.submitted_at <= end)
    if status == "open":
        query = query.where(submissions.c.status.in_(workflow.OPEN_STATUSES))
    elif status == "closed":
        query = query.where(submissions.c.status.not_in(workflow.OPEN_STATUSES))
    return connection.execute(query.order_by(submissions.c.submitted_at.desc()).limit(limit)).all()


PUBLIC_COLUMNS = (
    submissions.c.receipt,
    submissions.c.kind,
    submissions.c.community,
    submissions.c.category,
    submissions.c.status,
    submissions.c.submitted_at,
    submissions.c.updated_at,
)


# The statements every submission runs, built once: constructing them per call costs more than running them.
_BODY_HASH = select(submissions.c.body_hash).where(submissions.c.id == bindparam("id"))


_SUBMISSION = select(submissions).where(submissions.c.id == bindparam("id"))


_BY_RECEIPT = select(submissions.c.id).where(submissions.c.receipt == bindparam("receipt"))


_ASSIGNEES = (
    select(assignments.c.staff_id).where(assignments.c.submission_id == bindparam("id")).order_by(assignments.c.position)
)


def body_hash_of(connection: Connection, submission_id: str) -> str | None:
    return connection.execute(_BODY_HASH, {"id": submission_id}).scalar_one_or_none()


def submission(connection: Connection, submission_id: str):
    return connection.execute(_SUBMISSION, {"id": submission_id}).one_or_none()


def public_status(connection: Connection, receipt: str) -> dict | None:
    """What anyone holding the receipt may see: no names, phones or free text."""
    row = connection.execute(
        select(submissions.c.id, submissions.c.duplicate_of, *PUBLIC_COLUMNS).where(submissions.c.receipt == receipt)
    ).one_or_none()
    if row is None:
        return None
    history = connection.execute(
        select(status_history.c.status, status_history.c.at)
        .where(status_history.c.submission_id == row.id)
        .order_by(status_history.c.at, status_history.c.id)
    ).all()
    return {
        "receipt": row.receipt,
        "kind": row.kind,
        "community": row.community or None,
        "category": row.category,
        "status": row.status,
        "submitted_at": row.submitted_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
        "history": [{"status": h.status, "at": h.at.isoformat()} for h in history],
        **public_links(connection, row),
    }


def assignees(connection: Connection, submission_id: str) -> list[str]:
    return list(connection.execute(_ASSIGNEES, {"id": submission_id}).scalars())


COUNT_CAP = 1000


def status_counts(connection: Connection, filters: dict, scope, at: datetime) -> tuple[dict[str, int], bool]:
    """How many cases match `filters` in each status (the status filter itself set aside): the list's header;
    and whether that is all of them. With a text filter the count stops past COUNT_CAP matches: a common
    word is in tens of thousands of cases, each matched against its text, and an exact count would cost far
    more than the page. Under the cap (a rare word, read through the bigram index) the counts are exact."""
    dialect = connection.dialect.name
    # Without the list's ORDER BY and columns: the database counts over the status alone, sorting nothing.
    query = filtered({**filters, "status": None}, scope, at, dialect).order_by(None).with_only_columns(
        submissions.c.status)
    if filters.get("q"):
        search_index.learn_shares(connection)
        query = query.limit(COUNT_CAP + 1)
    found = query.subquery()
    counts = dict(connection.execute(select(found.c.status, func.count()).group_by(found.c.status)).all())
    return counts, not filters.get("q") or sum(counts.values()) <= COUNT_CAP


def open_assigned_to(connection: Connection, staff_id: str, scope, limit: int = 100):
    """任务清单: the open cases `staff_id` answers for, overdue first, then by deadline (none last)."""
    mine = exists(select(assignments.c.staff_id).where(assignments.c.submission_id == submissions.c.id,
                                                       assignments.c.staff_id == staff_id))
    open_mine = select(submissions).where(scope, mine, submissions.c.status.in_(sorted(workflow.OPEN_STATUSES)))
    # In two reads, each in an index's order (ix_submissions_open_due for the deadlines): one ORDER BY
    # "due_at IS NULL" first would fetch and sort every open case of the member's for the first hundred.
    found = connection.execute(open_mine.where(submissions.c.due_at.is_not(None))
                               .order_by(submissions.c.due_at, submissions.c.submitted_at).limit(limit)).all()
    if len(found) < limit:
        found += connection.execute(open_mine.where(submissions.c.due_at.is_(None))
                                    .order_by(submissions.c.submitted_at).limit(limit - len(found))).all()
    return found


def escalated_to(connection: Connection, staff_id: str, scope, limit: int = 50):
    """Open cases escalated to `staff_id` (they were told that nobody acknowledged them in time)."""
    told = exists(select(outbox.c.id).where(outbox.c.submission_id == submissions.c.id,
                                            outbox.c.recipient == staff_id, outbox.c.event.like("escalated-%")))
    return connection.execute(select(submissions).where(
        scope, told, submissions.c.status.in_(workflow.OPEN_STATUSES))
        .order_by(submissions.c.due_at, submissions.c.submitted_at).limit(limit)).all()


def hazard_points(connection: Connection, scope, limit: int = 400, community: str | None = None):
    """Open hazards in `scope` that have a position, for the maps (newest first); `community` narrows them
    to one community's (a case page's neighbours)."""
    where = [scope, submissions.c.kind == "hazard", submissions.c.status.in_(workflow.OPEN_STATUSES)]
    if community is not None:
        where.append(submissions.c.community == community)
    return connection.execute(select(
        submissions.c.id, submissions.c.receipt, submissions.c.status, submissions.c.category,
        submissions.c.community, submissions.c.due_at, submissions.c.payload["location"].label("location"))
        .where(*where).order_by(submissions.c.submitted_at.desc()).limit(limit)).all()
