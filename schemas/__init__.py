"""Vocabulary and validation: the forms' schemas, the choices and their labels, bilingual messages, the
response shapes. Imports only marshmallow and the standard library: it sits on the HTTP intake path, which
must cold-start fast. A form's schema module is imported when it is first asked for, so a function deployed
for one form loads only its own."""

from importlib import import_module

from .messages import Msg, errors_by_path, localize

_CLASSES = {
    "hazard": ("schemas.hazard", "HazardReportSchema"),
    "consultation": ("schemas.consultation", "ConsultationSchema"),
    "enterprise": ("schemas.enterprise", "EnterpriseRequestSchema"),
}


FORM_KINDS = tuple(_CLASSES)


def schema_class(kind: str):
    """The schema class of a form kind (`hazard`, `consultation`, `enterprise`)."""
    module, name = _CLASSES[kind]
    return getattr(import_module(module), name)


__all__ = [
    "FORM_KINDS",
    "Msg",
    "errors_by_path",
    "localize",
    "schema_class",
]
