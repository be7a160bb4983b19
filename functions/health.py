"""Liveness (`/healthz`) and readiness (`/readyz`: the queue and the database answer)."""

from flask import Blueprint, jsonify

from functions.services import services

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@blueprint.get("/readyz")
def readyz():
    svc = services()
    from workers.brokers import ping as ping_queue
    from minqing.store.engine import ping as ping_database

    checks = {}
    for name, check in (("queue", lambda: ping_queue(svc.broker)), ("database", lambda: ping_database(svc.engine))):
        try:
            check()
            checks[name] = "ok"
        except Exception as error:
            checks[name] = f"unavailable: {type(error).__name__}"
    ready = all(v == "ok" for v in checks.values())
    body = {"status": "ready" if ready else "unavailable", "checks": checks}
    if checks["database"] == "ok":
        # Shown, not judged: notifications that reached nobody need a person, not a restart.
        from minqing.store import outbox

        try:
            with svc.engine.connect() as connection:
                body["notifications"] = {"failed": outbox.count_failed(connection)}
        except Exception as error:
            body["notifications"] = {"failed": f"unknown: {type(error).__name__}"}
    response = jsonify(body)
    response.status_code = 200 if ready else 503
    if not ready:
        response.headers["Retry-After"] = "5"
    return response
