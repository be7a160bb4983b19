"""Validation of the three intake forms. Imports only marshmallow and the standard library: it sits on the
HTTP intake path, which must cold-start fast."""

from .consultation import ConsultationSchema
from .enterprise import EnterpriseRequestSchema
from .hazard import HazardReportSchema
from .messages import Msg, errors_by_path, localize

SCHEMAS = {
    "hazard": HazardReportSchema,
    "consultation": ConsultationSchema,
    "enterprise": EnterpriseRequestSchema,
}

__all__ = [
    "SCHEMAS",
    "ConsultationSchema",
    "EnterpriseRequestSchema",
    "HazardReportSchema",
    "Msg",
    "errors_by_path",
    "localize",
]
