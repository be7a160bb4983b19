"""企业诉求 — support requests from local enterprises."""

from flask import Blueprint

from functions.intake import accept

blueprint = Blueprint("enterprise", __name__)


@blueprint.post("/api/v1/enterprise-requests")
def submit():
    return accept("enterprise")
