"""Outbox rows for a notification: which channel, what text, masked or not (pure; no I/O)."""

from __future__ import annotations

import re

from minqing.directory import Channel, Staff
from workers.channels.base import GROUP_CHANNELS
from schemas.messages import language
from workers.templates import render, render_for_reporter

# The outbox's recipient for the person who reported: their address is read from the case when sending,
# never copied into the outbox or the directory.
REPORTER = "reporter"
_MOBILE = re.compile(r"1[3-9][0-9]{9}")

# Events whose messages carry one-tap links: the recipient is asked to act on the case.
ACTIONABLE = ("received", "escalated", "assigned", "nudged", "rechecked")


def template_event(event: str) -> str:
    """`escalated-2` → `escalated`, `assigned-41` → `assigned`: one template per event kind; the rest only
    keys the outbox row."""
    return event.split("-", 1)[0]


def first_channel(staff, known: set[str]) -> str:
    types = [channel.type for channel in staff.channels if channel.type in known]
    return types[0] if types else "log"


def channel_after(staff, channel_type: str, known: set[str]) -> str | None:
    """The staff member's next channel after `channel_type`, in their order of preference."""
    types = [channel.type for channel in staff.channels if channel.type in known]
    if channel_type not in types:
        return None
    rest = types[types.index(channel_type) + 1:]
    return rest[0] if rest else None


def outbox_row(directory, submission, event: str, staff_id: str, channel_type: str, *, lang: str,
               note: str = "", on_behalf_of: str = "") -> dict:
    """One outbox row; group channels get masked text, direct channels (e-mail, SMS) the contact details."""
    community = directory.communities.get(submission.community)
    text = render(
        kind=submission.kind,
        event=template_event(event),
        receipt=submission.receipt,
        data=submission.payload,
        community_name=(community.name.zh if community else "") if language(lang) == "zh-CN" else
                       (community.name.en if community else ""),
        lang=lang,
        masked=channel_type in GROUP_CHANNELS,
        note=note,
    )
    return dict(submission_id=submission.id, event=event, recipient=staff_id, channel=channel_type,
                subject=text.subject, body=text.body, note=note, on_behalf_of=on_behalf_of)


def outbox_rows(directory, submission, event: str, staff_ids, known: set[str], *, lang: str, note: str = "") -> list[dict]:
    return [
        outbox_row(directory, submission, event, staff_id, first_channel(directory.staff_member(staff_id), known),
                   lang=lang, note=note)
        for staff_id in staff_ids
    ]


def fallback_contact(directory, community_code: str | None) -> str | None:
    """Who hears of a case when an assignee cannot be reached: the community's fallback, else the street's."""
    community = directory.communities.get(community_code) if community_code else None
    if community is not None and community.fallback:
        return community.fallback
    return directory.street.fallback[0] if directory.street.fallback else None


def reporter_recipient(payload: dict, settings) -> Staff:
    """The reporter as a channel sends to them: e-mail first (SMTP if configured, else SES), then SMS
    (SNS, when MINQING_REPORTER_SMS is on, to a mobile); no channels when they did not ask or gave neither."""
    contact = payload.get("contact") or {}
    channels = []
    if contact.get("notify") and not contact.get("anonymous"):
        email_channel = "smtp" if settings.smtp_host else "ses" if settings.ses_from else None
        if contact.get("email") and email_channel:
            channels.append(Channel(email_channel, {"to": contact["email"]}))
        if settings.reporter_sms and _MOBILE.fullmatch(contact.get("phone") or ""):
            channels.append(Channel("sns", {"phone": contact["phone"]}))
    return Staff(REPORTER, contact.get("name") or "", REPORTER, (), (), tuple(channels))


def reporter_row(submission, event: str, status: str, channel_type: str, *, reply: str = "",
                 reminder: bool = False) -> dict:
    """The outbox row telling the reporter of `status`; the status link (with the feedback code) is added
    when sending, so the code is never stored in the outbox."""
    text = render_for_reporter(kind=submission.kind, status=status, receipt=submission.receipt,
                               lang=submission.lang, reply=reply, reminder=reminder)
    return dict(submission_id=submission.id, event=event, recipient=REPORTER, channel=channel_type,
                subject=text.subject, body=text.body, note="", on_behalf_of="")
