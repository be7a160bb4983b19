"""Schemas for the staff directory TOML: who works in which community, and which rules route to them.

Loading returns plain dicts; `minqing.directory` turns them into frozen objects. Unknown keys are
rejected everywhere because the file is edited by hand and a misspelt key would otherwise vanish.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from marshmallow import RAISE, INCLUDE, Schema, ValidationError, fields, post_load, validate, validates_schema

# These lists must agree with schemas/choices.py; a later step will import them from there.
KINDS = ("hazard", "consultation", "enterprise")
HAZARD_CATEGORIES = (
    "fire_safety", "structure", "ev_charging", "sanitation", "lighting", "facility", "traffic_parking", "other",
)
CONSULTATION_SERVICES = (
    "medical_clinic", "legal_advice", "mediation", "elderly_meals", "home_cleaning", "elder_care",
    "home_adaptation", "appliance_cleaning", "other",
)
ENTERPRISE_CATEGORIES = (
    "workspace", "tax", "licensing", "market_entry", "customer_flow", "hiring", "subsidy", "financing", "other",
)
CATEGORIES_BY_KIND = {
    "hazard": HAZARD_CATEGORIES,
    "consultation": CONSULTATION_SERVICES,
    "enterprise": ENTERPRISE_CATEGORIES,
}
# Priorities an SLA limit can name: a hazard's severity or an enterprise request's urgency.
PRIORITIES = ("low", "medium", "high", "urgent", "normal")
SLA_UNITS = ("hours", "days", "working_days")
ROLES = ("street", "community", "official", "service_team")
CHANNEL_TYPES = ("log", "smtp", "wecom", "dingtalk", "webhook", "ses", "sns")
ANY = "*"

CODE_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"
SPOT_PATTERN = r"^[A-Za-z0-9_-]{1,40}$"
USCC_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{18}$"
ENV_NAME_PATTERN = r"^[A-Z_][A-Z0-9_]*$"
# WeCom and DingTalk robot URLs carry their access token, so URLs count as secrets too.
SECRET_KEY = re.compile(r"secret|password|passwd|token|key|url|webhook")


def _one_of(choices) -> validate.OneOf:
    return validate.OneOf(choices, error="must be one of {choices}")


def _code(pattern: str = CODE_PATTERN, **kwargs) -> fields.String:
    return fields.String(
        validate=validate.Regexp(pattern, error="must match {regex}"), **kwargs
    )


def _staff_ids(**kwargs) -> fields.List:
    return fields.List(_code(), **kwargs)


class _Strict(Schema):
    class Meta:
        unknown = RAISE

    error_messages = {"unknown": "unknown key (check the spelling)", "type": "must be a table"}


class LabelSchema(_Strict):
    zh = fields.String(required=True, validate=validate.Length(min=1))
    en = fields.String(validate=validate.Length(min=1))

    @post_load
    def english_defaults_to_chinese(self, data, **kwargs):
        return {"zh": data["zh"], "en": data.get("en", data["zh"])}


class ChannelSchema(Schema):
    """A notification channel: `type` plus free string options such as `to` or `webhook_env`."""

    class Meta:
        unknown = INCLUDE

    error_messages = {"type": "must be a table"}

    type = fields.String(required=True, validate=_one_of(CHANNEL_TYPES))

    @validates_schema(skip_on_field_errors=False)
    def options_are_strings_without_secrets(self, data, **kwargs):
        errors: dict[str, list[str]] = {}
        for key, value in data.items():
            if key == "type":
                continue
            if not isinstance(value, str):
                errors[key] = ["must be a string (put it in quotes)"]
            elif key.endswith("_env"):
                if not re.match(ENV_NAME_PATTERN, value):
                    errors[key] = ["must name an environment variable, e.g. WECOM_JIANGLING"]
            elif SECRET_KEY.search(key):
                errors[key] = [
                    f"credentials must not be written here; set '{key}_env' to an environment variable name"
                ]
        if errors:
            raise ValidationError(errors)

    @post_load
    def split_options(self, data, **kwargs):
        options = {key: value for key, value in data.items() if key != "type"}
        return {"type": data["type"], "options": options}


class SpotSchema(_Strict):
    code = _code(SPOT_PATTERN, required=True)
    name = fields.String(required=True, validate=validate.Length(min=1))


class StreetSchema(_Strict):
    code = _code(required=True)
    name = fields.Nested(LabelSchema, required=True)
    fallback = _staff_ids(required=True, validate=validate.Length(min=1, error="name at least one staff id"))


class CommunitySchema(_Strict):
    code = _code(required=True)
    name = fields.Nested(LabelSchema, required=True)
    fallback = _code(load_default=None)
    chain = _staff_ids(load_default=list)
    spots = fields.List(fields.Nested(SpotSchema), load_default=list)


class StaffSchema(_Strict):
    id = _code(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1))
    role = fields.String(required=True, validate=_one_of(ROLES))
    communities = fields.List(fields.String(), load_default=list)
    services = fields.List(fields.String(validate=_one_of(CONSULTATION_SERVICES)), load_default=list)
    wecom_userid = fields.String(load_default="", validate=validate.Length(max=64))
    dingtalk_userid = fields.String(load_default="", validate=validate.Length(max=64))
    channels = fields.List(
        fields.Nested(ChannelSchema),
        validate=validate.Length(min=1, error="list at least one channel"),
        load_default=lambda: [{"type": "log", "options": {}}],
    )

    @validates_schema(skip_on_field_errors=False)
    def role_has_its_scope(self, data, **kwargs):
        role = data.get("role")
        if role == "community" and not data.get("communities"):
            raise ValidationError("community staff must list their communities", "communities")
        if role == "service_team" and not data.get("services"):
            raise ValidationError("a service team must list the services it provides", "services")
        types = [channel.get("type") for channel in data.get("channels") or []]
        if len(types) != len(set(types)):
            # The outbox keys a notification by channel type, and fallback moves to the next type.
            raise ValidationError("list each channel type once", "channels")


class RuleSchema(_Strict):
    kind = fields.String(required=True, validate=_one_of((*KINDS, ANY)))
    community = fields.String(load_default=ANY)
    category = fields.String(load_default=ANY)
    assignees = _staff_ids(required=True, validate=validate.Length(min=1, error="name at least one staff id"))
    # Copy these staff in whenever the rule matches, without competing with the most specific rules.
    also = fields.Boolean(load_default=False)

    @validates_schema(skip_on_field_errors=False)
    def category_fits_kind(self, data, **kwargs):
        _check_category(data)


def _check_category(data) -> None:
    kind, category = data.get("kind"), data.get("category")
    if kind is None or category is None or category == ANY:
        return
    if kind == ANY:
        allowed = sorted({code for codes in CATEGORIES_BY_KIND.values() for code in codes})
    else:
        allowed = CATEGORIES_BY_KIND[kind]
    if category not in allowed:
        label = "category" if kind == ANY else f"{kind} category"
        raise ValidationError(f"not a {label}; must be one of {', '.join(allowed)} or *", "category")


class SlaSchema(_Strict):
    """How long a case may wait for acknowledgement before the community's chain is told (时限)."""

    kind = fields.String(required=True, validate=_one_of((*KINDS, ANY)))
    category = fields.String(load_default=ANY)
    severity = fields.String(load_default=ANY, validate=_one_of((*PRIORITIES, ANY)))
    hours = fields.Float(validate=validate.Range(min=0, min_inclusive=False, error="must be more than 0"))
    days = fields.Float(validate=validate.Range(min=0, min_inclusive=False, error="must be more than 0"))
    working_days = fields.Integer(validate=validate.Range(min=1, error="must be at least 1"))

    @validates_schema(skip_on_field_errors=False)
    def one_unit(self, data, **kwargs):
        given = [unit for unit in SLA_UNITS if unit in data]
        if len(given) != 1:
            raise ValidationError(f"give exactly one of {', '.join(SLA_UNITS)}")
        _check_category(data)


class EnterpriseAssignmentSchema(_Strict):
    """包保: the official who answers for one enterprise."""

    uscc = fields.String(
        required=True,
        validate=validate.Regexp(USCC_PATTERN, error="must be 18 characters of 0-9 and A-Z except I, O, S, V, Z"),
    )
    official = _code(required=True)


class VolunteerSchema(_Strict):
    """One patrol volunteer (平安合伙人) of the roster: a finding names them by `id`."""

    id = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9-]{1,32}$",
                                                                 error="letters, digits and -, at most 32"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=50))
    team = fields.String(required=True, validate=validate.Length(min=1, max=50))
    community = _code(required=True)
    phone = fields.String(load_default="", validate=validate.Regexp(r"^(1[3-9]\d{9})?$",
                                                                    error="not a mainland mobile number"))
    active = fields.Boolean(load_default=True)


# The actions a reply template can be for: the workflow's and the steps recorded beside it.
REPLY_ACTIONS = ("acknowledge", "start", "resolve", "close", "reject", "reopen", "note", "assign")


class ReplySchema(_Strict):
    """办理回复模板: a text the console offers for an action on cases of a kind and category."""

    kind = fields.String(load_default=ANY, validate=_one_of((*KINDS, ANY)))
    category = fields.String(load_default=ANY)
    action = fields.String(required=True, validate=_one_of(REPLY_ACTIONS))
    text = fields.Nested(LabelSchema, required=True)

    @validates_schema(skip_on_field_errors=False)
    def category_fits_kind(self, data, **kwargs):
        _check_category(data)


class DirectorySchema(_Strict):
    street = fields.Nested(StreetSchema, required=True)
    communities = fields.List(fields.Nested(CommunitySchema), load_default=list)
    staff = fields.List(fields.Nested(StaffSchema), required=True)
    rules = fields.List(fields.Nested(RuleSchema), load_default=list)
    enterprise_assignments = fields.List(fields.Nested(EnterpriseAssignmentSchema), load_default=list)
    sla = fields.List(fields.Nested(SlaSchema), load_default=list)
    volunteers = fields.List(fields.Nested(VolunteerSchema), load_default=list)
    # The roster `minqing volunteers import` writes, beside this file; its volunteers join the ones above.
    volunteers_file = fields.String()
    replies = fields.List(fields.Nested(ReplySchema), load_default=list)

    # Cross-references are checked against the original input so that every entry keeps its index and
    # mistakes are reported together with field errors, not after the clerk has fixed those.
    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def references_resolve(self, data, original, **kwargs):
        problems = _Problems()
        staff = _unique(problems, original, "staff", "id", "staff id")
        communities = _unique(problems, original, "communities", "code", "community code")
        _unique_spots(problems, _entries(original, "communities"))

        street = original.get("street") if isinstance(original, Mapping) else None
        if isinstance(street, Mapping):
            problems.unknown_staff(staff, street.get("fallback"), ("street", "fallback"))
        for index, community in _entries(original, "communities"):
            fallback = ("communities", index, "fallback")
            problems.unknown_staff(staff, [community.get("fallback")], fallback, single=True)
            problems.unknown_staff(staff, community.get("chain"), ("communities", index, "chain"))
        for index, member in _entries(original, "staff"):
            for position, code in _strings(member.get("communities")):
                if code not in communities:
                    path = ("staff", index, "communities", position)
                    problems.add(path, f"unknown community code '{code}'")
        for index, rule in _entries(original, "rules"):
            code = rule.get("community")
            if isinstance(code, str) and code != ANY and code not in communities:
                problems.add(("rules", index, "community"), f"unknown community code '{code}'")
            problems.unknown_staff(staff, rule.get("assignees"), ("rules", index, "assignees"))
        _unique(problems, original, "enterprise_assignments", "uscc", "USCC")
        _unique(problems, original, "volunteers", "id", "volunteer id")
        for index, volunteer in _entries(original, "volunteers"):
            code = volunteer.get("community")
            if isinstance(code, str) and code not in communities:
                problems.add(("volunteers", index, "community"), f"unknown community code '{code}'")
        for index, assignment in _entries(original, "enterprise_assignments"):
            official = assignment.get("official")
            path = ("enterprise_assignments", index, "official")
            if problems.unknown_staff(staff, [official], path, single=True):
                role = staff[official].get("role")
                if role != "official":
                    problems.add(path, f"staff '{official}' has role '{role}'; 包保 needs role official")
        if problems.errors:
            raise ValidationError(problems.errors)


class _Problems:
    def __init__(self) -> None:
        self.errors: dict = {}

    def add(self, path: tuple, message: str) -> None:
        node = self.errors
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node.setdefault(path[-1], []).append(message)

    def unknown_staff(self, staff: Mapping[str, Any], ids, path: tuple, single: bool = False) -> bool:
        """Report ids not in `staff`; true when every given id is known."""
        known = True
        for position, staff_id in _strings(ids):
            if staff_id not in staff:
                self.add(path if single else (*path, position), f"unknown staff id '{staff_id}'")
                known = False
        return known and any(True for _ in _strings(ids))


def _entries(original, key: str) -> Iterator[tuple[int, Mapping]]:
    value = original.get(key) if isinstance(original, Mapping) else None
    if isinstance(value, list):
        for index, entry in enumerate(value):
            if isinstance(entry, Mapping):
                yield index, entry


def _strings(values) -> Iterator[tuple[int, str]]:
    if isinstance(values, list):
        for position, value in enumerate(values):
            if isinstance(value, str):
                yield position, value


def _unique(problems: _Problems, original, section: str, key: str, what: str) -> dict[str, Mapping]:
    """Report repeated `key` values in a section; map each first occurrence to its entry."""
    seen: dict[str, tuple[int, Mapping]] = {}
    for index, entry in _entries(original, section):
        value = entry.get(key)
        if not isinstance(value, str):
            continue
        if value in seen:
            first = f"{section}[{seen[value][0]}]"
            problems.add((section, index, key), f"duplicate {what} '{value}' (first used at {first})")
        else:
            seen[value] = (index, entry)
    return {value: entry for value, (_, entry) in seen.items()}


def _unique_spots(problems: _Problems, communities) -> None:
    # QR codes are printed street-wide, so a spot code must be unique across communities.
    seen: dict[str, str] = {}
    for index, community in communities:
        for position, spot in enumerate(community.get("spots") or []):
            code = spot.get("code") if isinstance(spot, Mapping) else None
            if not isinstance(code, str):
                continue
            here = f"communities[{index}].spots[{position}]"
            if code in seen:
                problems.add(("communities", index, "spots", position, "code"),
                             f"duplicate spot code '{code}' (first used at {seen[code]})")
            else:
                seen[code] = here
