"""The street's staff directory: communities, staff, routing rules and 包保 enterprise assignments.

Read once from a TOML file that office clerks edit; every mistake in it is reported at once, by path.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Mapping
from importlib import import_module
from os import PathLike
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from marshmallow import ValidationError

from schemas.directory import DirectorySchema

EXAMPLE_FILE = "directory.example.toml"


class DirectoryError(Exception):
    """The directory file is unreadable or invalid; `problems` lists every mistake as `path: message`."""

    def __init__(self, problems: list[str], source: str = "<string>") -> None:
        self.problems = list(problems)
        self.source = source
        super().__init__(self.problems, source)

    def __str__(self) -> str:
        count = len(self.problems)
        heading = f"{self.source}: {count} problem{'s' if count != 1 else ''} in the staff directory"
        return "\n".join([heading, *(f"  - {problem}" for problem in self.problems)])


# Immutable records as NamedTuples rather than frozen dataclasses: every cold start of a function defines
# them, and a dataclass costs several times as much to define (it compiles its methods at import).
class Label(NamedTuple):
    zh: str
    en: str


class Channel(NamedTuple):
    type: str
    options: Mapping[str, str]


class Staff(NamedTuple):
    id: str
    name: str
    role: str
    communities: tuple[str, ...]
    services: tuple[str, ...]
    channels: tuple[Channel, ...]
    # 企业微信 userid, for signing in to the console from inside WeCom (网页授权).
    wecom_userid: str = ""
    # 钉钉 userid in the organisation, for signing in with DingTalk (网页登录).
    dingtalk_userid: str = ""


class Spot(NamedTuple):
    code: str
    name: str


class Community(NamedTuple):
    code: str
    name: Label
    fallback: str | None
    chain: tuple[str, ...]
    spots: tuple[Spot, ...]


class Rule(NamedTuple):
    kind: str
    community: str
    category: str
    assignees: tuple[str, ...]
    also: bool = False


class SlaLimit(NamedTuple):
    """A response time limit: `amount` of `unit` (hours, days or working_days)."""

    kind: str
    category: str
    severity: str
    amount: float
    unit: str


class Volunteer(NamedTuple):
    """A patrol volunteer (平安合伙人) of the roster."""

    id: str
    name: str
    team: str
    community: str
    phone: str
    active: bool


class Reply(NamedTuple):
    """A reply template (办理回复模板) the console offers for an action; `{placeholders}` filled from the case."""

    kind: str
    category: str
    action: str
    text: Label


class Street(NamedTuple):
    code: str
    name: Label
    fallback: tuple[str, ...]


class Directory(NamedTuple):
    street: Street
    communities: Mapping[str, Community]
    staff: Mapping[str, Staff]
    rules: tuple[Rule, ...]
    enterprise_assignments: Mapping[str, str]
    sla: tuple[SlaLimit, ...] = ()
    volunteers: Mapping[str, Volunteer] = MappingProxyType({})
    replies: tuple[Reply, ...] = ()

    @property
    def community_codes(self) -> frozenset[str]:
        return frozenset(self.communities)

    @property
    def active_volunteer_ids(self) -> frozenset[str] | None:
        """The ids a patrol finding may name; None without a roster (then any id is accepted)."""
        if not self.volunteers:
            return None
        return frozenset(v.id for v in self.volunteers.values() if v.active)

    def replies_for(self, kind: str, category: str, action: str) -> list[Reply]:
        """The templates for `action` on a case of `kind` and `category`, the most specific first."""
        found = [r for r in self.replies if r.action == action and r.kind in (kind, "*")
                 and r.category in (category, "*")]
        return sorted(found, key=lambda r: (r.kind == "*", r.category == "*"))

    def staff_by_wecom(self, userid: str) -> Staff | None:
        return next((s for s in self.staff.values() if s.wecom_userid and s.wecom_userid == userid), None)

    def staff_by_dingtalk(self, userid: str) -> Staff | None:
        return next((s for s in self.staff.values() if s.dingtalk_userid and s.dingtalk_userid == userid), None)

    def staff_member(self, staff_id: str) -> Staff:
        """The staff member with this id; KeyError if the directory has none."""
        try:
            return self.staff[staff_id]
        except KeyError:
            raise KeyError(f"no staff member with id {staff_id!r} in the directory") from None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | str, source: str = "<string>") -> Directory:
        """Validate a parsed directory (or TOML text) and build it; DirectoryError lists every mistake."""
        if isinstance(data, str):
            data = _parse_toml(data, source)
        try:
            loaded = DirectorySchema().load(data)
        except ValidationError as error:
            raise DirectoryError(list(_flatten(error.messages)), source) from None
        return _build(loaded)


def load_directory(path: str | PathLike[str]) -> Directory:
    """Read and validate the directory TOML at `path`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise DirectoryError([f"byte {error.start}: not UTF-8 text; save the file as UTF-8"], str(path)) from None
    data = _parse_toml(text, str(path))
    roster = data.get("volunteers_file")
    if isinstance(roster, str):
        roster_path = path.parent / roster
        try:
            listed = _parse_toml(roster_path.read_text(encoding="utf-8"), str(roster_path)).get("volunteers", [])
        except OSError as error:
            raise DirectoryError([f"volunteers_file: cannot read {roster_path}: {error.strerror}"], str(path)) from None
        data["volunteers"] = [*data.get("volunteers", []), *listed]
    return Directory.from_mapping(data, source=str(path))


def default_directory_path() -> Path:
    """The demo street's directory shipped in the `infra` package."""
    # The package is always installed unpacked (setuptools, not a zip), so the file sits beside its
    # __init__; importlib.resources would find it too, at a cost every cold start would pay.
    return Path(import_module("infra").__file__).parent / EXAMPLE_FILE


def load_configured_directory(settings) -> "Directory":
    """The directory `settings` names, or the demo street when none is set."""
    if settings.directory_path is None:
        path = default_directory_path()
        logging.getLogger("minqing.directory").warning("MINQING_DIRECTORY is not set: using the demo street in %s", path)
        return load_directory(path)
    return load_directory(settings.directory_path)


def _parse_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise DirectoryError([_syntax_problem(str(error), text)], source) from None


def _syntax_problem(message: str, text: str) -> str:
    # Python 3.11's TOMLDecodeError has no lineno attribute; the position is only in the message.
    at_line = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if at_line:
        reason = message[: at_line.start()]
        return f"line {at_line[1]}: TOML syntax error: {reason} (column {at_line[2]})"
    at_end = re.search(r"\s*\(at end of document\)$", message)
    if at_end:
        return f"line {text.count(chr(10)) + 1}: TOML syntax error: {message[: at_end.start()]} (at end of file)"
    return f"TOML syntax error: {message}"


def _flatten(messages: Any, path: str = "") -> list[str]:
    """Turn marshmallow's nested error dict into `staff[3].channels[0].type: message` lines."""
    if isinstance(messages, Mapping):
        problems = []
        for key, value in messages.items():
            if isinstance(key, int):
                child = f"{path}[{key}]"
            elif key == "_schema":
                child = path
            else:
                child = f"{path}.{key}" if path else str(key)
            problems.extend(_flatten(value, child))
        return problems
    if isinstance(messages, list) and all(isinstance(item, str) for item in messages):
        return [f"{path or 'directory'}: {_tidy(message)}" for message in messages]
    if isinstance(messages, list):
        return [problem for item in messages for problem in _flatten(item, path)]
    return [f"{path or 'directory'}: {_tidy(str(messages))}"]


def _tidy(message: str) -> str:
    # marshmallow's built-in messages are sentences ("Not a valid string."); ours are lower-case clauses.
    message = message.rstrip(".")
    if len(message) > 1 and message[0].isupper() and message[1].islower():
        message = message[0].lower() + message[1:]
    return message


def _label(data: Mapping[str, str]) -> Label:
    return Label(zh=data["zh"], en=data["en"])


def _build(data: Mapping[str, Any]) -> Directory:
    street = data["street"]
    communities = {
        item["code"]: Community(
            code=item["code"],
            name=_label(item["name"]),
            fallback=item["fallback"],
            chain=tuple(item["chain"]),
            spots=tuple(Spot(code=spot["code"], name=spot["name"]) for spot in item["spots"]),
        )
        for item in data["communities"]
    }
    staff = {
        item["id"]: Staff(
            id=item["id"],
            name=item["name"],
            role=item["role"],
            communities=tuple(item["communities"]),
            services=tuple(item["services"]),
            channels=tuple(
                Channel(type=channel["type"], options=MappingProxyType(dict(channel["options"])))
                for channel in item["channels"]
            ),
            wecom_userid=item["wecom_userid"],
            dingtalk_userid=item["dingtalk_userid"],
        )
        for item in data["staff"]
    }
    rules = tuple(
        Rule(kind=item["kind"], community=item["community"], category=item["category"],
             assignees=tuple(item["assignees"]), also=item["also"])
        for item in data["rules"]
    )
    return Directory(
        street=Street(code=street["code"], name=_label(street["name"]), fallback=tuple(street["fallback"])),
        communities=MappingProxyType(communities),
        staff=MappingProxyType(staff),
        rules=rules,
        enterprise_assignments=MappingProxyType(
            {item["uscc"]: item["official"] for item in data["enterprise_assignments"]}
        ),
        sla=tuple(
            SlaLimit(kind=item["kind"], category=item["category"], severity=item["severity"],
                     amount=next(item[u] for u in ("hours", "days", "working_days") if u in item),
                     unit=next(u for u in ("hours", "days", "working_days") if u in item))
            for item in data["sla"]
        ),
        volunteers=MappingProxyType({item["id"]: Volunteer(**item) for item in data["volunteers"]}),
        replies=tuple(Reply(kind=item["kind"], category=item["category"], action=item["action"],
                            text=_label(item["text"])) for item in data["replies"]),
    )
