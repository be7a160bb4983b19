"""效果共评: the resident who reported rates the outcome of a resolved case, once; "not fixed" reopens it.

The receipt names the case; the feedback code, given only to the one who reported, is what allows rating
it. A receipt is public (Open311 lists every hazard's), so it alone changes nothing.
"""

from flask import Blueprint, jsonify
from marshmallow import ValidationError

from functions.intake import parse_body
from functions.services import services
from functions.problems import Problem, pick_lang
from minqing.receipts import is_feedback_code, parse_receipt
from schemas import errors_by_path
from schemas.cases import FeedbackSchema
from schemas.responses import FeedbackAccepted

blueprint = Blueprint("feedback", __name__)

NOT_ISSUED = ("没有这个回执码，请核对后重试。", "No such receipt; check the code and try again.")
WRONG_CODE = ("评价码不正确。只有上报人可以评价，评价码在提交成功时给出。",
              "Wrong feedback code. Only the one who reported may rate the outcome, with the code given on submitting.")
REFUSED = {
    "unknown": (404, "receipt-not-found", NOT_ISSUED),
    "not-resolved": (409, "not-awaiting-feedback", ("该事项尚未办结，办结后再来评价。",
                                                    "The case is not resolved yet; rate it once it is.")),
    "already-given": (409, "feedback-already-given", ("该事项已经评价过了，谢谢！", "Feedback was already given; thank you.")),
}


@blueprint.post("/api/v1/receipts/<code>/feedback")
def give_feedback(code: str):
    svc = services()
    lang = pick_lang(svc.settings.default_lang)
    parsed = parse_receipt(svc.settings.secret_key, code)
    if parsed is None:
        raise Problem(404, "receipt-not-found", NOT_ISSUED)
    schema = FeedbackSchema()
    try:
        given = schema.load(parse_body(schema))
    except ValidationError as error:
        raise Problem(422, "validation-error", errors=errors_by_path(error.messages, lang))
    from minqing.store import cases, changes

    with svc.engine.begin() as connection:
        case = cases.case_by_receipt(connection, parsed[1])
        if case is None:
            raise Problem(*REFUSED["unknown"])
        # Before anything about the case is told (whether it awaits feedback) or changed.
        if not is_feedback_code(svc.settings.secret_key, case.id, given.get("feedback_code")):
            raise Problem(403, "feedback-code-wrong", WRONG_CODE)
        outcome = changes.record_feedback(connection, parsed[1], rating=given["rating"], fixed=given["fixed"],
                                               comment=given.get("comment", ""))
        if outcome != "recorded":
            raise Problem(*REFUSED[outcome])
        status = cases.case_by_receipt(connection, parsed[1]).status
    response = jsonify(FeedbackAccepted().dump({"receipt": parsed[1], "status": status}))
    response.status_code = 201
    return response
