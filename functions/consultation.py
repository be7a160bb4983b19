"""咨询服务 — a resident asks for a service, or a service team logs a session it held."""

from flask import Blueprint

from functions.intake import accept

blueprint = Blueprint("consultation", __name__)


@blueprint.post("/api/v1/consultations")
def submit():
    return accept("consultation")
