"""企业诉求: an enterprise asks the sub-district for help (tax filing, licences, premises, hiring …)."""

from __future__ import annotations

from .choices import ENTERPRISE_CATEGORIES, URGENCIES
from .common import NotifyMixin, StrictSchema, SubmissionSchema, community_field, description_field
from .fields import USCC, Choice, Nested, Phone, Text


class EnterpriseSchema(StrictSchema):
    name = Text(100, required=True)
    uscc = USCC(required=True)
    address = Text(200)


class EnterpriseContactSchema(NotifyMixin, StrictSchema):
    """The person to call back; enterprises often give an office landline."""

    name = Text(50, required=True)
    phone = Phone(required=True)


class EnterpriseRequestSchema(SubmissionSchema):
    """An enterprise's request; `community` is optional because enterprises may not know theirs."""

    enterprise = Nested(EnterpriseSchema, required=True)
    contact = Nested(EnterpriseContactSchema, required=True)
    category = Choice(ENTERPRISE_CATEGORIES, required=True)
    urgency = Choice(URGENCIES, load_default="normal")
    description = description_field()
    community = community_field()
