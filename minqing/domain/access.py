"""Who may see and work which cases, from the directory's roles.

street: every case · community: cases of their communities · official: enterprise cases assigned to them
(包保) · service_team: consultations of their services. Personal data (names, phones, enterprise contacts)
goes to those who answer for a case: the community, official and service-team staff in scope, and street
staff the case is assigned to; the other street staff see it masked.
"""

from __future__ import annotations

from minqing.privacy import mask_email, mask_name, mask_personal_numbers_in, mask_phone


def may_filter_community(staff, community: str) -> bool:
    """Whether asking for `community` is within the role's reach (else 403: the filter itself is refused)."""
    return staff.role != "community" or community in staff.communities


def sees_personal_data(staff, assignees: list[str]) -> bool:
    return staff.role != "street" or staff.id in assignees


def masked_payload(payload: dict) -> dict:
    """The form as a staff member without the need to know sees it: names and phones masked."""
    shown = dict(payload)
    contact = shown.get("contact")
    if isinstance(contact, dict):
        shown["contact"] = {**contact, "name": mask_name(contact.get("name")), "phone": mask_phone(contact.get("phone")),
                            "email": mask_email(contact.get("email"))}
        shown["contact"] = {k: v for k, v in shown["contact"].items() if v != "" or k not in ("name", "phone", "email")}
    for path in FREE_TEXT:
        shown = _masked_at(shown, path)
    return shown


# Where a resident types what they like, and so may type a phone or ID number: masked in place.
FREE_TEXT = (("description",), ("location", "address"), ("enterprise", "address"), ("preferred_time",))


def masked_text(value):
    """A free-text field as masked_payload shows it: phone and ID numbers masked (a non-text value as is)."""
    return mask_personal_numbers_in(value) if isinstance(value, str) else value


def _masked_at(payload: dict, path: tuple[str, ...]) -> dict:
    head, *rest = path
    value = payload.get(head)
    if rest and isinstance(value, dict):
        return {**payload, head: _masked_at(value, tuple(rest))}
    if not rest and isinstance(value, str):
        return {**payload, head: mask_personal_numbers_in(value)}
    return payload
