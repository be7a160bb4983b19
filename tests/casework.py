"""Helpers for the case-workflow tests: a small street of stored cases, and staff tokens."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from minqing.store import tokens
from minqing.receipts import receipt_for, submission_id
from tests.conftest import SAMPLES

HAZARD = json.loads((SAMPLES / "hazard.json").read_text())["valid"]
CONSULTATION = json.loads((SAMPLES / "consultation.json").read_text())["valid"]
ENTERPRISE = json.loads((SAMPLES / "enterprise.json").read_text())["valid"]

# One staff member of each role, and one more community member for a wrong scope.
ROLES = {
    "street": "street-leader",
    "community": "qjj-grid",
    "other_community": "jl-grid",
    "official": "ent-officer-li",
    "service_team": "team-legal",
}


def envelope(settings, kind, data, *, submitted_at=None, key=None):
    sid = submission_id(settings.secret_key, kind, key)
    at = submitted_at or datetime.now(timezone.utc)
    return {"id": sid, "receipt": receipt_for(settings.secret_key, kind, sid), "kind": kind, "data": data,
            "idempotency_key": key, "lang": "zh-CN", "submitted_at": at.isoformat()}


def seed(runtime, settings, *pairs, submitted_at=None) -> list[dict]:
    """Store (kind, data) pairs through the real actors; returns their envelopes."""
    from workers.actors import store_submission

    messages = [envelope(settings, kind, data, submitted_at=submitted_at) for kind, data in pairs]
    for message in messages:
        store_submission.send(message)
    runtime.broker.join(settings.queue_name)
    return messages


def street(runtime, settings) -> dict:
    """A hazard in 千家街, a legal-advice request in 武南村, an enterprise request for 李's enterprise."""
    hazard, legal, enterprise = seed(runtime, settings, ("hazard", HAZARD[0]), ("consultation", CONSULTATION[1]),
                                     ("enterprise", ENTERPRISE[0]))
    return {"hazard": hazard, "consultation": legal, "enterprise": enterprise}


def token_for(engine, staff_id: str) -> dict:
    with engine.begin() as connection:
        issued = tokens.create(connection, staff_id)
    return {"Authorization": f"Bearer {issued.token}"}
