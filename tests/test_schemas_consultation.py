import json
from datetime import datetime
from pathlib import Path

import pytest
from marshmallow import ValidationError

from schemas import errors_by_path
from schemas import fields as schema_fields
from schemas.consultation import ConsultationSchema
from schemas.fields import BEIJING
from tests.schema_checks import assert_bilingual, error_paths

SAMPLES = json.loads((Path(__file__).parent / "samples" / "consultation.json").read_text(encoding="utf-8"))
COMMUNITIES = {"jiangling", "wunancun", "qianjiajie", "shouyi", "ziyang", "yuemachang", "changhu", "xiaochaohu"}
# Samples carry fixed dates; pin "now" a few days after them so they stay recent.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=BEIJING)


@pytest.fixture(autouse=True)
def pinned_clock(monkeypatch):
    monkeypatch.setattr(schema_fields, "now", lambda: NOW)


@pytest.fixture()
def schema():
    return ConsultationSchema(communities=COMMUNITIES)


@pytest.fixture()
def request_():
    return {"mode": "request", "service": "legal_advice", "community": "wunancun", "description": "租房合同纠纷",
            "contact": {"name": "张先生", "phone": "13607101234"}}


@pytest.fixture()
def record():
    return {"mode": "report", "service": "medical_clinic", "community": "jiangling", "description": "专家坐诊",
            "provider": "名医工作站", "held_at": "2026-11-08T09:00:00+08:00", "beneficiaries": 42, "hours": 3}


@pytest.mark.parametrize("submission", SAMPLES["valid"])
def test_valid_samples_load_to_json_serialisable_data(schema, submission):
    json.dumps(schema.load(submission))


@pytest.mark.parametrize("sample", SAMPLES["invalid"], ids=lambda s: s["expect_error"])
def test_invalid_samples_are_rejected_naming_the_field(schema, sample):
    assert sample["expect_error"] in error_paths(schema, sample["case"])


CRAFTED = [
    {"mode": "request", "service": "other", "community": "jiangling", "description": "x", "contact": {},
     "provider": "p", "held_at": "2026-11-08T09:00", "beneficiaries": 1, "hours": 1},
    {"mode": "report", "service": "other", "community": "jiangling", "description": "x", "preferred_time": "周末"},
    {"mode": "report", "service": "other", "community": "jiangling", "description": "x", "provider": "p",
     "held_at": "2026-11-08T09:00", "beneficiaries": 2.5, "hours": "NaN"},
    {"mode": "report", "service": "other", "community": "jiangling", "description": "x", "provider": "p",
     "held_at": "2026-11-08T09:00", "beneficiaries": "9" * 5000, "hours": 10**400},
    {"mode": "report", "service": "other", "community": "jiangling", "description": "x", "provider": "p",
     "held_at": "2026-11-08T09:00", "beneficiaries": 10_001, "hours": 1e999},
    {"mode": 7, "service": None, "contact": {"name": "", "phone": "+1 555 0100", "email": "a@b.c"}},
]


@pytest.mark.parametrize("submission", [s["case"] for s in SAMPLES["invalid"]] + CRAFTED)
def test_every_error_comes_in_chinese_and_english(schema, submission):
    with pytest.raises(ValidationError) as info:
        schema.load(submission)
    assert_bilingual(info.value.messages)


def test_request_without_contact_is_an_error_on_contact(schema, request_):
    del request_["contact"]
    assert list(error_paths(schema, request_)) == ["contact"]


@pytest.mark.parametrize("missing", ["name", "phone"])
def test_request_contact_needs_name_and_phone(schema, request_, missing):
    del request_["contact"][missing]
    assert list(error_paths(schema, request_)) == [f"contact.{missing}"]


@pytest.mark.parametrize("field, value", [("provider", "p"), ("held_at", "2026-11-08T09:00"),
                                          ("beneficiaries", 3), ("hours", 2)])
def test_request_cannot_carry_report_fields(schema, request_, field, value):
    request_[field] = value
    assert list(error_paths(schema, request_)) == [field]


@pytest.mark.parametrize("field", ["provider", "held_at", "beneficiaries", "hours"])
def test_report_needs_its_fields(schema, record, field):
    del record[field]
    assert list(error_paths(schema, record)) == [field]


def test_blank_provider_counts_as_missing_in_a_report(schema, record):
    record["provider"] = "  "
    assert list(error_paths(schema, record)) == ["provider"]


def test_report_cannot_carry_a_preferred_time(schema, record):
    record["preferred_time"] = "周末上午"
    assert list(error_paths(schema, record)) == ["preferred_time"]


def test_report_contact_is_optional(schema, record):
    assert "contact" not in schema.load(record)


def test_form_strings_load_as_numbers(schema, record):
    record.update(beneficiaries="42", hours="30.5")
    loaded = schema.load(record)
    assert (loaded["beneficiaries"], loaded["hours"]) == (42, 30.5)


def test_fractional_beneficiaries_are_rejected_not_truncated(schema, record):
    record["beneficiaries"] = 2.5
    assert list(error_paths(schema, record)) == ["beneficiaries"]


@pytest.mark.parametrize("hours", ["nan", "inf", 1e999, 10**400, -1, 1000.5])
def test_hours_must_be_a_finite_number_in_range(schema, record, hours):
    record["hours"] = hours
    assert list(error_paths(schema, record)) == ["hours"]


def test_huge_integer_strings_are_rejected_without_crashing(schema, record):
    record["beneficiaries"] = "9" * 5000
    assert list(error_paths(schema, record)) == ["beneficiaries"]


def test_held_at_is_output_with_its_offset(schema, record):
    record["held_at"] = "2026-11-08T09:00:00"
    assert schema.load(record)["held_at"] == "2026-11-08T09:00:00+08:00"


def test_mode_errors_name_the_mode_in_both_languages(schema, record):
    del record["hours"]
    with pytest.raises(ValidationError) as info:
        schema.load(record)
    assert errors_by_path(info.value.messages, "zh")["hours"] == ["“服务记录”时此项为必填。"]
