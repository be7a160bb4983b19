"""The public status of a submission, by its receipt: no names, phones or free text."""

from flask import Blueprint, jsonify

from functions.services import services
from functions.problems import Problem
from minqing.receipts import parse_receipt
from schemas.responses import ReceiptStatus

blueprint = Blueprint("receipts", __name__)

NOT_ISSUED = ("没有这个回执码，请核对后重试。", "No such receipt; check the code and try again.")
DATABASE_DOWN = ("暂时查不到状态，请稍后重试。", "The status cannot be read right now; retry later.")
_STATUS = ReceiptStatus()


@blueprint.get("/api/v1/receipts/<code>")
def status(code: str):
    svc = services()
    parsed = parse_receipt(svc.settings.secret_key, code)
    if parsed is None:
        raise Problem(404, "receipt-not-found", NOT_ISSUED)
    kind, receipt = parsed
    from minqing.store import cases

    try:
        with svc.engine.connect() as connection:
            found = cases.public_status(connection, receipt)
    except Exception:
        raise Problem(503, "database-unavailable", DATABASE_DOWN, headers={"Retry-After": "5"})
    if found is None:
        # Issued by us (the code checks out) and still in the queue: accepted, not yet stored.
        found = {"receipt": receipt, "kind": kind, "status": "received", "submitted_at": None,
                 "updated_at": None, "history": []}
    return jsonify(_STATUS.dump(found))
