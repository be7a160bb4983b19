"""The tables minqing keeps (SQLAlchemy Core). Migrations in `workers/migrations` create them."""

from datetime import timezone

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)


class UTCDateTime(TypeDecorator):
    """An aware datetime in, an aware UTC datetime out, on every database (SQLite keeps no offset)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


metadata = MetaData()

# One row per accepted submission: the problem list (问题清单). `payload` is the validated form, verbatim,
# and holds personal data; public views read only the other columns.
submissions = Table(
    "submissions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("receipt", String(16), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("community", String(32), nullable=False, default=""),
    Column("category", String(32), nullable=False),
    Column("priority", String(16), nullable=False, default=""),
    Column("status", String(16), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("body_hash", String(64), nullable=False),
    # `<client scope>:<key>` (see intake.submit); a key stored before migration 0007 is bare.
    Column("idempotency_key", String(160)),
    Column("lang", String(8), nullable=False, default="zh-CN"),
    Column("submitted_at", UTCDateTime(), nullable=False),
    Column("stored_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_submissions_kind_community_category", "kind", "community", "category"),
    Index("ix_submissions_status", "status"),
    Index("ix_submissions_submitted_at", "submitted_at"),
    Index("ix_submissions_idempotency_key", "idempotency_key", "kind"),
)

# The public status history shown on a receipt.
status_history = Table(
    "status_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("submission_id", String(36), ForeignKey("submissions.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(40), nullable=False, default="system"),
    Column("note", Text, nullable=False, default=""),
    Index("ix_status_history_submission", "submission_id"),
)

# Who answers for a submission, as routed from the directory (任务清单).
assignments = Table(
    "assignments",
    metadata,
    Column("submission_id", String(36), ForeignKey("submissions.id"), primary_key=True),
    Column("staff_id", String(40), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("assigned_at", UTCDateTime(), nullable=False),
)

# Every notification, before it is sent: the unique key is what makes redelivery harmless.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("submission_id", String(36), ForeignKey("submissions.id"), nullable=False),
    Column("event", String(32), nullable=False),
    Column("recipient", String(40), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=False, default=""),
    Column("provider_message_id", String(200), nullable=False, default=""),
    Column("subject", Text, nullable=False, default=""),
    Column("body", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime(), nullable=False),
    # While a worker is sending, others wait; a claim that outlives its worker expires.
    Column("claimed_until", UTCDateTime()),
    Column("sent_at", UTCDateTime()),
    # Why this message came (an overrun SLA, an unreachable colleague), kept for the next channel's copy.
    Column("note", Text, nullable=False, default=""),
    # Set on a row sent in place of another staff member (their channels all failed).
    Column("on_behalf_of", String(40), nullable=False, default=""),
    # The row that took over after this one failed for good; a failed row without one is a final failure.
    Column("superseded_by", Integer),
    UniqueConstraint("submission_id", "event", "recipient", "channel", name="uq_outbox_key"),
    Index("ix_outbox_status", "status"),
)

# A tally counts an event once: the (submission, event) key guards the increments in `tallies`.
tally_events = Table(
    "tally_events",
    metadata,
    Column("submission_id", String(36), primary_key=True),
    Column("event", String(32), primary_key=True),
    Column("at", UTCDateTime(), nullable=False),
)

# Counts by metric × kind × community × category × day (the office's day, UTC+8): the outcome list (效果清单).
tallies = Table(
    "tallies",
    metadata,
    Column("metric", String(32), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("community", String(32), primary_key=True),
    Column("category", String(32), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("value", Float, nullable=False, default=0),
)

# Rollups of the tallies and durations (migration 0013), kept in the same transaction as `tallies` and
# `case_durations` (minqing/store/rollups.py), so a period is read as ~12 rows a key, not 365, and a median
# from counts by duration rather than from every case's duration.
# Keyed by the period first: a period's rows are one range of the key.
tally_months = Table(
    "tally_months",
    metadata,
    Column("month", String(7), primary_key=True),
    Column("metric", String(32), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("community", String(32), primary_key=True),
    Column("category", String(32), primary_key=True),
    Column("value", Float, nullable=False, default=0),
    sqlite_with_rowid=False,  # kept in key order, the value beside the key (migration 0018)
)
tally_days = Table(
    "tally_days",
    metadata,
    Column("day", Date, primary_key=True),
    Column("metric", String(32), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("value", Float, nullable=False, default=0),
    sqlite_with_rowid=False,
)
# Durations counted by the hundredth of an hour (36 s, what the answer shows: `bucket`) and by the hour
# (`hour` = bucket // 100): a median finds its hour in the coarse counts, then its bucket within that hour.
duration_hours = Table(
    "duration_hours",
    metadata,
    Column("month", String(7), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("event", String(32), primary_key=True),
    Column("hour", Integer, primary_key=True),
    Column("count", Integer, nullable=False, default=0),
    sqlite_with_rowid=False,
)
duration_buckets = Table(
    "duration_buckets",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("event", String(32), primary_key=True),
    Column("bucket", Integer, primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("count", Integer, nullable=False, default=0),
    # A month's median reads a hundred buckets of one (month, kind, event) (migration 0016).
    Index("ix_duration_buckets_month", "month", "kind", "event", "bucket"),
)

# Patrol counts (平安合伙人) by team × community × month (the office's, UTC+8): the tallies have no team.
patrol_tallies = Table(
    "patrol_tallies",
    metadata,
    Column("team", String(50), primary_key=True),
    Column("community", String(32), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("metric", String(32), primary_key=True),
    Column("value", Float, nullable=False, default=0),
)

# Messages that kept failing after every retry, whatever the broker.
dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(64), nullable=False),
    Column("queue", String(100), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("message", JSON, nullable=False),
    Column("error", Text, nullable=False, default=""),
    Column("failed_at", UTCDateTime(), nullable=False),
    Column("retried_at", UTCDateTime()),
)

# Each photo of a submission, once checked: what it really is, and where the copy without EXIF is.
attachments = Table(
    "attachments",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("submission_id", String(36), ForeignKey("submissions.id"), nullable=False),
    Column("status", String(16), nullable=False),  # ok, rejected, missing
    Column("reason", String(32), nullable=False, default=""),
    Column("content_type", String(32), nullable=False, default=""),
    Column("bytes", Integer, nullable=False, default=0),
    Column("width", Integer, nullable=False, default=0),
    Column("height", Integer, nullable=False, default=0),
    Column("staff_key", String(160), nullable=False, default=""),
    Column("checked_at", UTCDateTime(), nullable=False),
    Index("ix_attachments_submission", "submission_id"),
)

# One-tap links already used: a link works once, whatever the case's status later allows.
used_links = Table(
    "used_links",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("submission_id", String(36), nullable=False),
    Column("staff_id", String(40), nullable=False),
    Column("action", String(16), nullable=False),
    Column("used_at", UTCDateTime(), nullable=False),
)

# One daily digest per staff member and office day, however often the scheduler asks.
digests = Table(
    "digests",
    metadata,
    Column("staff_id", String(40), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("outbox_id", Integer),
    Column("created_at", UTCDateTime(), nullable=False),
)

# --- The case workflow -------------------------------------------------------------------------------------

# Bearer tokens for staff: only a hash of the secret is kept, so a copy of the database opens nothing.
staff_tokens = Table(
    "staff_tokens",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("staff_id", String(40), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime()),
    Index("ix_staff_tokens_staff", "staff_id"),
)

# 效果共评: a resident's one judgement of a resolved case.
feedback = Table(
    "feedback",
    metadata,
    Column("submission_id", String(36), ForeignKey("submissions.id"), primary_key=True),
    Column("rating", Integer, nullable=False),
    Column("fixed", Integer, nullable=False),
    Column("comment", Text, nullable=False, default=""),
    Column("at", UTCDateTime(), nullable=False),
)

# How long a case took to reach an event (acknowledged, resolved): one row per (submission, event), written
# with the tally increments, so medians are exact and rebuildable.
case_durations = Table(
    "case_durations",
    metadata,
    Column("submission_id", String(36), primary_key=True),
    Column("event", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("community", String(32), nullable=False),
    Column("category", String(32), nullable=False),
    Column("day", Date, nullable=False),
    Column("seconds", Float, nullable=False),
    # A period's edge days summed by bucket from the index alone (migration 0016).
    Index("ix_case_durations_day_buckets", "day", "kind", "event", "seconds"),
)

# Columns the workflow adds to the core tables (created by migration 0005).
submissions.append_column(Column("duplicate_of", String(36)))
submissions.append_column(Column("outcome", JSON))
status_history.append_column(Column("action", String(16)))
status_history.append_column(Column("photos", JSON))
status_history.append_column(Column("details", JSON))

# A case's deadline, from the directory's SLA when it was stored (migration 0006); null when nobody has to
# act on it. Overdue lists, on-time counts, exports, digests and escalation all read this one value.
submissions.append_column(Column("due_at", UTCDateTime()))
Index("ix_submissions_due_at", submissions.c.due_at)

# What the text search and the nearby-duplicates look-up read through indexes (migration 0011): the bigram
# tokens of the searchable fields (minqing.domain.search) and a report's coordinates, copied from the payload
# when the case is stored. On SQLite the tokens are also in the FTS5 table `case_grams` (kept by triggers).
submissions.append_column(Column("search_grams", Text))
submissions.append_column(Column("lat", Float))
submissions.append_column(Column("lon", Float))
Index("ix_submissions_submitted_id", submissions.c.submitted_at, submissions.c.id)
Index("ix_submissions_updated_id", submissions.c.updated_at, submissions.c.id)
Index("ix_submissions_duplicate_of", submissions.c.duplicate_of)
Index("ix_submissions_near", submissions.c.kind, submissions.c.category, submissions.c.lat, submissions.c.lon)
Index("ix_tallies_day", tallies.c.day, tallies.c.kind, tallies.c.metric, tallies.c.community, tallies.c.category,
      tallies.c.value)
Index("ix_tally_events_at", tally_events.c.at)
Index("ix_status_history_at", status_history.c.at)
Index("ix_feedback_at", feedback.c.at)
Index("ix_submissions_community_status", submissions.c.community, submissions.c.status)  # migration 0008
Index("ix_assignments_staff", assignments.c.staff_id)  # migration 0008
# migration 0015: open cases by deadline (我的任务's order), the overdue list's counts from the index alone
Index("ix_submissions_open_due", submissions.c.due_at, submissions.c.submitted_at, submissions.c.community,
      submissions.c.status,
      postgresql_where=submissions.c.status.in_(("acknowledged", "in_progress", "received", "reopened")),
      sqlite_where=submissions.c.status.in_(("acknowledged", "in_progress", "received", "reopened")))

# --- The staff console -----------------------------------------------------------------------------------

# A signed-in browser: the cookie holds the session id, the table only its hash (migration 0008).
staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("staff_id", String(40), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("via", String(16), nullable=False, default=""),  # link, code, wecom
    Column("created_at", UTCDateTime(), nullable=False),
    Column("seen_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("ended_at", UTCDateTime()),
    Index("ix_staff_sessions_staff", "staff_id"),
)

# A one-time sign-in link and its 6-digit code: valid once, for minutes; kept as hashes.
sign_in_links = Table(
    "sign_in_links",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("staff_id", String(40), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("used_at", UTCDateTime()),
    Index("ix_sign_in_links_staff", "staff_id"),
)
