"""The notification actors: deliver one outbox row, fall back when a channel is exhausted, escalate an
overrun case up the community's chain, and send each assignee's daily digest. All idempotent.
"""

from __future__ import annotations

import logging
import random
from datetime import date, datetime, timedelta
from typing import NamedTuple

from dramatiq.middleware import CurrentMessage

from minqing import links
from minqing.store import base, cases as case_reads, outbox
from minqing.domain.workflow import is_overdue
from workers.channels.base import Link, Notice, group_of
from workers.channels.breaker import CircuitOpen
from minqing.receipts import feedback_code
from workers.compose import (
    ACTIONABLE,
    REPORTER,
    channel_after,
    fallback_contact,
    first_channel,
    outbox_row,
    reporter_recipient,
    template_event,
)
from workers import rate_limits
from minqing.domain.deadlines import due_at, escalation_target, limit_for
from minqing.domain.tallies import office_day
from workers.registry import actor, runtime
from workers.templates import note, render_digest

log = logging.getLogger("minqing.notify")

# In a delivery message's options once its notification is sent, so a retry records it instead of resending.
SENT_AS = "sent_as"
# Longer than any channel's timeout, so a live sender always finishes before its claim runs out.
CLAIM_SECONDS = 60
LINK_LABELS = {
    "zh-CN": {"acknowledge": "确认受理", "resolve": "已办结", "status": "查看进度与评价"},
    "en": {"acknowledge": "Acknowledge", "resolve": "Mark resolved", "status": "Progress and rating"},
}


class Outgoing(NamedTuple):
    """A case's notices about to leave: those claimed to be sent by this actor (the rows), and the rest (ids).

    Notices of in-process channels (the log) are sent by the actor that made them, once it commits, and
    recorded in one statement (`add` or `pending` in the transaction, `send` after the commit); each of the
    rest goes through a message of its own, so that a slow or failing channel holds only that one.
    """

    claimed: list
    rest: list[int]


def _delivery_retries(settings) -> dict:
    # Dramatiq's retries are for whatever else fails (the database): as long as any other actor's, so a
    # database outage that the store outlasts does not drop a delivery whose row stays pending forever.
    return dict(max_retries=max(settings.max_retries, settings.notify_max_retries + 1),
                min_backoff=settings.min_backoff_ms, max_backoff=settings.max_backoff_ms)


@actor(retry_policy=_delivery_retries)
def deliver_notification(outbox_id: int) -> None:
    rt = runtime()
    message = CurrentMessage.get_current_message()
    options = message.options if message is not None else {}
    if options.get(SENT_AS):
        # An earlier try sent it and then could not record that (the database was away): record it now
        # rather than wait out its own claim and send it a second time.
        with rt.autocommit.connect() as connection:
            outbox.mark_sent(connection, outbox_id, options[SENT_AS])
        return
    with rt.autocommit.connect() as connection:
        claim, entry = outbox.claim_delivery(connection, outbox_id, CLAIM_SECONDS)
    if claim == "sent":
        return
    if claim == "failed":
        fall_back.send(outbox_id)  # again, in case the worker died before sending it
        return
    if claim == "busy":
        # Another worker is sending it (a redelivered duplicate). Look again shortly: by then it is
        # sent, or, if that worker died, its claim runs out and this message takes over.
        deliver_notification.send_with_options(args=(outbox_id,), delay=int(min(entry + 0.05, 2.0) * 1000))
        return
    provider_id = _send(entry)
    if provider_id is None:
        return
    options[SENT_AS] = provider_id  # kept by the retry if the record below fails
    with rt.autocommit.connect() as connection:
        outbox.mark_sent(connection, outbox_id, provider_id)


def add(connection, rows: list[dict]) -> Outgoing:
    rt = runtime()
    until = base.now() + timedelta(seconds=CLAIM_SECONDS)
    added, from_before = outbox.add_to_outbox(
        connection, [dict(row, claimed_until=until) if row["channel"] in rt.in_process_channels else row for row in rows])
    claimed = [row for row in added if row.channel in rt.in_process_channels]
    rest = [row.id for row in added if row.channel not in rt.in_process_channels]
    return _claiming(connection, from_before, claimed, rest)


def pending(connection, submission_id: str, event: str) -> Outgoing:
    return _claiming(connection, outbox.pending_notifications(connection, submission_id, event), [], [])


def _claiming(connection, rows, claimed: list, rest: list[int]) -> Outgoing:
    # Rows from before may be another worker's to send (a redelivered duplicate): claimed only if free.
    rt = runtime()
    taken = outbox.claim_deliveries(connection, [row.id for row in rows if row.channel in rt.in_process_channels],
                                     CLAIM_SECONDS)
    ids = {row.id for row in taken}
    return Outgoing(claimed + taken, rest + [row.id for row in rows if row.id not in ids])


def send(outgoing: Outgoing) -> None:
    rt = runtime()
    for outbox_id in outgoing.rest:
        deliver_notification.send(outbox_id)
    sent = []
    for entry in outgoing.claimed:
        try:
            provider_id = _send(entry)
        except Exception:
            # Its failure is recorded on the row; the delivery actor takes over, with its retries.
            log.warning("notification %s: sending failed; handing it to a message", entry.id, exc_info=True)
            deliver_notification.send(entry.id)
            continue
        if provider_id is not None:
            sent.append((entry.id, provider_id))
    if not sent:
        return
    try:
        with rt.autocommit.connect() as connection:
            outbox.mark_all_sent(connection, sent)
    except Exception:
        log.warning("notifications %s: sent, not recorded; handing them to messages", [i for i, _ in sent],
                    exc_info=True)
        for outbox_id, provider_id in sent:
            deliver_notification.send_with_options(args=(outbox_id,), **{SENT_AS: provider_id})


def _send(entry) -> str | None:
    """Send a claimed notification: the provider's message id, or None when it was not tried (the
    channel's circuit is open, or its quota spent: the row says what comes next). Raises to retry."""
    rt = runtime()
    staff, case = _recipient(entry)
    channel = rt.channels[entry.channel]
    quota = channel.quota_key(staff)
    target = quota or entry.channel
    try:
        rt.breaker.check(target)  # before the quota: a send that is not tried uses none of it
    except CircuitOpen as error:
        _attempt_failed(entry, error)
        return None
    if quota and not rate_limits.take(rt.rate_backend, quota, rt.settings.robot_per_minute):
        # The robot's quota is spent: come back when the window has moved on, without using a retry.
        with rt.autocommit.connect() as connection:
            outbox.release(connection, entry.id)
        deliver_notification.send_with_options(args=(entry.id,), delay=random.randint(2_000, 6_000))
        return None
    try:
        provider_id = channel.send(staff, _notice(entry, staff, case))
    except Exception as error:
        rt.breaker.failed(target, error)
        _attempt_failed(entry, error)
        return None
    rt.breaker.succeeded(target)
    return provider_id


def _attempt_failed(entry, error: Exception) -> None:
    # The channel's budget is counted on the row, not in the message: a database outage also costs
    # the message retries, and must not use up the channel's (nor drop the message, see below).
    rt = runtime()
    final = entry.attempts >= rt.settings.notify_max_retries
    with rt.autocommit.connect() as connection:
        outbox.mark_attempt_failed(connection, entry.id, f"{type(error).__name__}: {error}", final=final)
    if not final:
        raise error
    log.warning("notification %s to %s by %s failed for good: %s", entry.id, entry.recipient, entry.channel,
                error)
    fall_back.send(entry.id)


def _recipient(entry):
    """The staff member, or the reporter (read from the case: their address is kept nowhere else), and the
    case for a reporter's notice."""
    rt = runtime()
    if entry.recipient != REPORTER:
        return rt.directory.staff_member(entry.recipient), None
    with rt.engine.connect() as connection:
        case = case_reads.submission(connection, entry.submission_id)
    return reporter_recipient(case.payload, rt.settings), case


def _notice(entry, staff, case=None) -> Notice:
    rt = runtime()
    actions = ()
    if case is not None and entry.channel not in rt.in_process_channels:
        # The reporter's link carries their feedback code; /r/ turns it into a cookie and drops it from the URL.
        settings = rt.settings
        code = feedback_code(settings.secret_key, case.id).replace("-", "")
        label = LINK_LABELS["en" if (case.lang or "").startswith("en") else "zh-CN"]["status"]
        actions = (Link(label, f"{settings.base_url}/r/{case.receipt}?k={code}"),)
    # The log gets no one-tap links: it is no place for URLs that act on a case, and it never shows them.
    if template_event(entry.event) in ACTIONABLE and entry.channel not in rt.in_process_channels:
        settings = rt.settings
        ttl = settings.link_ttl_hours * 3600
        # A group robot's link says so: its confirm page names whom it acts as, and the history the group.
        via = group_of(staff, entry.channel)
        actions = tuple(
            Link(LINK_LABELS[rt.lang][action], f"{settings.base_url}/a/" + links.sign(
                settings.secret_key, entry.submission_id, entry.recipient, action, ttl, via=via))
            for action in links.ACTIONS
        )
    return Notice(id=entry.id, recipient=entry.recipient, event=entry.event, subject=entry.subject,
                  body=entry.body, links=actions)


@actor
def fall_back(outbox_id: int) -> None:
    rt = runtime()
    with rt.engine.begin() as connection:
        entry = outbox.entry(connection, outbox_id)
        if entry is None or entry.status != "failed":
            return
        successor = entry.superseded_by
        if successor is None:
            row = _successor_row(connection, entry)
            if row is None:
                log.error("notification %s for case %s reached nobody: no channel or fallback left",
                          outbox_id, entry.submission_id)
                return
            successor, _ = outbox.add_one(connection, row)
            outbox.supersede(connection, outbox_id, successor)
    deliver_notification.send(successor)


def _successor_row(connection, entry) -> dict | None:
    rt = runtime()
    directory = rt.directory
    submission = case_reads.submission(connection, entry.submission_id)
    if entry.recipient == REPORTER:
        # The reporter's next channel (SMS after e-mail), with the same text; nobody else gets it.
        next_type = channel_after(reporter_recipient(submission.payload, rt.settings), entry.channel, set(rt.channels))
        return None if next_type is None else dict(
            submission_id=entry.submission_id, event=entry.event, recipient=REPORTER, channel=next_type,
            subject=entry.subject, body=entry.body, note="", on_behalf_of="")
    staff = directory.staff_member(entry.recipient)
    next_type = channel_after(staff, entry.channel, set(rt.channels))
    if next_type is not None:
        return outbox_row(directory, submission, entry.event, entry.recipient, next_type, lang=rt.lang,
                          note=entry.note, on_behalf_of=entry.on_behalf_of)
    contact = fallback_contact(directory, submission.community)
    if entry.on_behalf_of or contact is None or contact == entry.recipient:
        return None  # the fallback contact is the last resort; it does not fall back again
    why = note("fallback", names=[staff.name], lang=rt.lang)
    return outbox_row(directory, submission, entry.event, contact, first_channel(directory.staff_member(contact), set(rt.channels)),
                      lang=rt.lang, note=f"{why}\n{entry.note}".strip(), on_behalf_of=entry.recipient)


@actor(timer=True)
def check_sla(submission_id: str, level: int = 1) -> None:
    rt = runtime()
    directory = rt.directory
    event = f"escalated-{level}"
    with rt.engine.begin() as connection:
        submission = case_reads.submission(connection, submission_id)
        if submission is None or submission.status != "received":
            return  # the case moved on: the timer has nothing left to do
        early = _ms_until(submission.due_at) if level == 1 and submission.due_at else 0
        if early:
            # Delivered before the case's deadline (a broker caps delays, SQS at 15 minutes): wait again.
            check_sla.send_with_options(args=(submission_id, level), delay=early)
            return
        community = directory.communities.get(submission.community)
        staff_ids = case_reads.assignees(connection, submission_id)
        # A case with no community chain (an enterprise request, say) climbs the street's fallback list.
        chain = (community.chain if community else ()) or directory.street.fallback
        target = escalation_target(chain, staff_ids, level)
        if target is None:
            return
        first_time = not outbox.has_event(connection, submission_id, event)
        limit = limit_for(directory, kind=submission.kind, category=submission.category,
                          priority=submission.priority or "*")
        names = [directory.staff_member(s).name for s in staff_ids if s in directory.staff]
        row = outbox_row(directory, submission, event, target,
                         first_channel(directory.staff_member(target), set(rt.channels)), lang=rt.lang,
                         note=note("escalated", names=names, lang=rt.lang, limit=limit))
        outbox_id, status = outbox.add_one(connection, row)
    if status == "pending":
        deliver_notification.send(outbox_id)
    if first_time:
        # Only the run that escalated sets the next timer, so a redelivered check never doubles it.
        check_sla.send_with_options(args=(submission_id, level + 1), delay=_sla_delay(limit))


def _sla_delay(limit) -> int:
    rt = runtime()
    start = base.now()
    return max(0, int((due_at(start, limit, override_seconds=rt.settings.sla_seconds) - start).total_seconds() * 1000))


@actor
def send_digests(day: str | None = None) -> None:
    rt = runtime()
    day = day or office_day(base.now()).isoformat()
    with rt.engine.connect() as connection:
        staff_ids = outbox.staff_with_open_cases(connection)
    for staff_id in staff_ids:
        send_digest.send(staff_id, day)


@actor
def send_digest(staff_id: str, day: str) -> None:
    rt = runtime()
    with rt.engine.begin() as connection:
        first, outbox_id = outbox.digest_claim(connection, staff_id, date.fromisoformat(day))
        if first:
            outbox_id = _add_digest(connection, staff_id, day)
        status = outbox.entry(connection, outbox_id).status if outbox_id else None
    if status == "pending":
        deliver_notification.send(outbox_id)


def _add_digest(connection, staff_id: str, day: str) -> int | None:
    rt = runtime()
    directory = rt.directory
    cases = outbox.open_cases(connection, staff_id)
    if not cases or staff_id not in directory.staff:
        return None
    at = base.now()
    listed = [(c.receipt, c.kind, c.category, is_overdue(c.status, c.due_at, at)) for c in cases]
    text = render_digest(day=day, cases=listed, lang=rt.lang)
    row = dict(submission_id=cases[0].id, event=f"digest-{day}", recipient=staff_id,
               channel=first_channel(directory.staff_member(staff_id), set(rt.channels)), subject=text.subject,
               body=text.body)
    outbox_id, _ = outbox.add_one(connection, row)
    outbox.record_digest(connection, staff_id, date.fromisoformat(day), outbox_id)
    return outbox_id


def sla_delay_ms(submission) -> int:
    """How long after now a newly stored case's first SLA check is due: at its deadline."""
    return _ms_until(submission.due_at)


def _ms_until(moment: datetime) -> int:
    return max(0, int((moment - base.now()).total_seconds() * 1000))
