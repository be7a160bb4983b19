"""隐患上报 — hazard reports from residents and patrol volunteers."""

from flask import Blueprint

from functions.intake import accept

blueprint = Blueprint("hazard", __name__)


@blueprint.post("/api/v1/hazard-reports")
def submit():
    return accept("hazard")
