"""The patrol roster (平安合伙人花名册) from the office's own spreadsheet (CSV): each row checked, the good ones
written as `[[volunteers]]` for the directory's `volunteers_file`, the others refused with the reason."""

from __future__ import annotations

import csv
import io
import json
from typing import Iterable, Iterator, NamedTuple

from marshmallow import ValidationError

from schemas.directory import VolunteerSchema

# The office's column headings, in Chinese or in English.
COLUMNS = {"编号": "id", "志愿者编号": "id", "姓名": "name", "队伍": "team", "巡查队伍": "team", "社区": "community",
           "手机": "phone", "手机号": "phone", "在册": "active", "id": "id", "name": "name", "team": "team",
           "community": "community", "phone": "phone", "active": "active"}
NO = {"0", "false", "no", "否", "离队", "不在册", "n"}


class Refused(NamedTuple):
    line: int
    reason: str


def read_rows(data: bytes) -> list[dict]:
    """The CSV's rows as dicts keyed by our field names (UTF-8 with or without BOM, or GBK as Excel saves)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gbk")
    reader = csv.DictReader(io.StringIO(text))
    rows = []
    for row in reader:
        rows.append({COLUMNS.get((key or "").strip().lower(), (key or "").strip()): (value or "").strip()
                     for key, value in row.items() if key is not None})
    return rows


def check_rows(rows: Iterable[dict], directory) -> Iterator[tuple[int, dict | None, Refused | None]]:
    """Each row (line numbers as the spreadsheet shows them) as a volunteer, or the reason it is refused."""
    names = {c.name.zh: code for code, c in directory.communities.items()}
    seen: set[str] = set()
    schema = VolunteerSchema()
    for line, row in enumerate(rows, start=2):
        row = dict(row)
        row["community"] = names.get(row.get("community", ""), row.get("community", ""))
        row["active"] = row.get("active", "").lower() not in NO
        if row["community"] not in directory.communities:
            yield line, None, Refused(line, f"community: unknown community '{row['community']}'")
            continue
        try:
            volunteer = schema.load({k: v for k, v in row.items() if k in schema.fields})
        except ValidationError as error:
            yield line, None, Refused(line, "; ".join(f"{k}: {' '.join(v)}" for k, v in error.messages.items()))
            continue
        if volunteer["id"] in seen:
            yield line, None, Refused(line, f"id: '{volunteer['id']}' is listed twice")
        else:
            seen.add(volunteer["id"])
            yield line, volunteer, None


def as_toml(volunteers: list[dict]) -> str:
    """`[[volunteers]]` entries; JSON's string escapes are valid TOML basic strings."""
    out = ["# 平安合伙人花名册, written by `minqing volunteers import`; name it in the directory as volunteers_file."]
    for v in volunteers:
        out.append("\n[[volunteers]]")
        out += [f"{key} = {json.dumps(v[key], ensure_ascii=False)}" for key in ("id", "name", "team", "community", "phone")]
        out.append(f"active = {'true' if v['active'] else 'false'}")
    return "\n".join(out) + "\n"
