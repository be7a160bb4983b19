import json
from pathlib import Path

import pytest
from marshmallow import ValidationError

from schemas.enterprise import EnterpriseRequestSchema
from tests.schema_checks import assert_bilingual, error_paths

SAMPLES = json.loads((Path(__file__).parent / "samples" / "enterprise.json").read_text(encoding="utf-8"))
COMMUNITIES = {"jiangling", "wunancun", "qianjiajie", "shouyi", "ziyang", "yuemachang", "changhu", "xiaochaohu"}


@pytest.fixture()
def schema():
    return EnterpriseRequestSchema(communities=COMMUNITIES)


@pytest.fixture()
def request_():
    return {"enterprise": {"name": "武汉示例企业管理咨询有限公司", "uscc": "91420106MA49A1B2C0"},
            "contact": {"name": "刘经理", "phone": "13545012345"}, "category": "tax", "description": "报税难"}


@pytest.mark.parametrize("submission", SAMPLES["valid"])
def test_valid_samples_load_to_json_serialisable_data(schema, submission):
    json.dumps(schema.load(submission))


@pytest.mark.parametrize("sample", SAMPLES["invalid"], ids=lambda s: s["expect_error"])
def test_invalid_samples_are_rejected_naming_the_field(schema, sample):
    assert sample["expect_error"] in error_paths(schema, sample["case"])


CRAFTED = [
    {"enterprise": {"name": "某公司", "uscc": "91420106MA49A1B2CO", "id": 3}, "contact": {"name": "a", "phone": "12"},
     "category": "tax", "urgency": "asap", "description": "x", "community": "Not Valid", "assignee": "me"},
    {"enterprise": {"name": "某公司", "uscc": "91ABCDEFMA49A1B2C0"}, "contact": {"phone": "010-1234"},
     "category": None, "description": 42},
    {"enterprise": "某公司", "contact": None},
]


@pytest.mark.parametrize("submission", [s["case"] for s in SAMPLES["invalid"]] + CRAFTED)
def test_every_error_comes_in_chinese_and_english(schema, submission):
    with pytest.raises(ValidationError) as info:
        schema.load(submission)
    assert_bilingual(info.value.messages)


def test_urgency_defaults_to_normal(schema, request_):
    assert schema.load(request_)["urgency"] == "normal"


def test_community_is_optional(schema, request_):
    assert "community" not in schema.load(request_)


def test_a_given_community_must_be_known(schema, request_):
    request_["community"] = "nowhere"
    assert list(error_paths(schema, request_)) == ["community"]


def test_uscc_is_uppercased(schema, request_):
    request_["enterprise"]["uscc"] = "91420106ma49a1b2c0"
    assert schema.load(request_)["enterprise"]["uscc"] == "91420106MA49A1B2C0"


@pytest.mark.parametrize("uscc", ["91420106MA49A1B2", "91420106MA49A1B2CO", "9142O106MA49A1B2C0", "91420106MA49A1B2C1"])
def test_uscc_errors_say_what_is_wrong(schema, request_, uscc):
    request_["enterprise"]["uscc"] = uscc
    assert len(error_paths(schema, request_)["enterprise.uscc"]) == 1


def test_uscc_messages_differ_for_length_characters_and_check(schema, request_):
    messages = set()
    for uscc in ["91420106MA49A1B2", "91420106MA49A1B2CO", "91420106MA49A1B2C1"]:
        request_["enterprise"]["uscc"] = uscc
        messages.update(error_paths(schema, request_)["enterprise.uscc"])
    assert len(messages) == 3


@pytest.mark.parametrize("given, stored", [
    ("027-88881234", "027-88881234"),
    ("027 8888 1234", "027-88881234"),
    ("02788881234", "027-88881234"),
    ("0710-3456789", "0710-3456789"),
    ("010-88881234-123", "010-88881234-123"),
    ("+86 135-4501-2345", "13545012345"),
    ("１３５４５０１２３４５", "13545012345"),
])
def test_contact_phone_accepts_mobiles_and_landlines(schema, request_, given, stored):
    request_["contact"]["phone"] = given
    assert schema.load(request_)["contact"]["phone"] == stored


@pytest.mark.parametrize("phone", ["88881234", "027-1234", "12345678901", "027-88881234-"])
def test_contact_phone_rejects_other_numbers(schema, request_, phone):
    request_["contact"]["phone"] = phone
    assert list(error_paths(schema, request_)) == ["contact.phone"]


@pytest.mark.parametrize("nested", ["enterprise", "contact"])
def test_unknown_nested_fields_are_rejected(schema, request_, nested):
    request_[nested]["status"] = "resolved"
    assert error_paths(schema, request_) == {f"{nested}.status": ["Unknown field."]}


def test_enterprise_name_is_required(schema, request_):
    request_["enterprise"]["name"] = " "
    assert list(error_paths(schema, request_)) == ["enterprise.name"]
