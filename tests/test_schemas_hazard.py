import json
from datetime import datetime
from pathlib import Path

import pytest
from marshmallow import ValidationError

from schemas import errors_by_path
from schemas import fields as schema_fields
from schemas.fields import BEIJING
from schemas.hazard import HazardReportSchema
from tests.schema_checks import assert_bilingual, error_paths

SAMPLES = json.loads((Path(__file__).parent / "samples" / "hazard.json").read_text(encoding="utf-8"))
COMMUNITIES = {"jiangling", "wunancun", "qianjiajie", "shouyi", "ziyang", "yuemachang", "changhu", "xiaochaohu"}
# Samples carry fixed dates; pin "now" a few days after them so they stay recent.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=BEIJING)


@pytest.fixture(autouse=True)
def pinned_clock(monkeypatch):
    monkeypatch.setattr(schema_fields, "now", lambda: NOW)


@pytest.fixture()
def schema():
    return HazardReportSchema(communities=COMMUNITIES)


@pytest.fixture()
def report():
    return {"community": "jiangling", "category": "fire_safety", "description": "灭火器过期",
            "location": {"address": "江零社区5栋"}}


@pytest.mark.parametrize("submission", SAMPLES["valid"])
def test_valid_samples_load_to_json_serialisable_data(schema, submission):
    json.dumps(schema.load(submission))


@pytest.mark.parametrize("sample", SAMPLES["invalid"], ids=lambda s: s["expect_error"])
def test_invalid_samples_are_rejected_naming_the_field(schema, sample):
    assert sample["expect_error"] in error_paths(schema, sample["case"])


CRAFTED = [
    [],
    "a string",
    {"community": 1, "category": [], "severity": None, "description": "x" * 2001, "status": "open",
     "location": {"address": "\x00", "spot": "no spaces", "lat": "north", "lon": True, "crs": "utm", "id": 1},
     "photos": [1, "../etc/passwd", "a/../b"], "observed_at": "yesterday",
     "contact": {"name": 5, "phone": "123", "anonymous": "maybe"},
     "patrol": {"volunteer_id": "bad id"}, "client_ref": "nope", "lang": "de"},
    {"location": "here", "contact": [], "patrol": None, "photos": "a.jpg", "observed_at": "2026-11-20"},
    {"location": {"address": "x", "lat": 91}, "photos": ["a"] * 7, "observed_at": "2030-01-01T00:00:00"},
    {"location": {"address": "x", "lat": 30.5, "lon": float("nan")}, "photos": ["a", "a"],
     "observed_at": "2020-01-01T00:00:00", "contact": {"anonymous": True, "name": "王"}},
]


@pytest.mark.parametrize("submission", [s["case"] for s in SAMPLES["invalid"]] + CRAFTED)
def test_every_error_comes_in_chinese_and_english(schema, submission):
    with pytest.raises(ValidationError) as info:
        schema.load(submission)
    assert_bilingual(info.value.messages)


def test_chinese_is_the_default_language(schema, report):
    report["category"] = "ufo"
    with pytest.raises(ValidationError) as info:
        schema.load(report)
    assert errors_by_path(info.value.messages)["category"][0].startswith("必须是以下之一")


def test_severity_defaults_to_medium(schema, report):
    assert schema.load(report)["severity"] == "medium"


def test_contact_is_not_anonymous_unless_asked(schema, report):
    report["contact"] = {"name": "王阿姨", "phone": "13871234567"}
    assert schema.load(report)["contact"]["anonymous"] is False


def test_coordinates_default_to_wgs84(schema, report):
    report["location"].update(lat=30.5, lon=114.3)
    assert schema.load(report)["location"]["crs"] == "wgs84"


def test_no_crs_without_coordinates(schema, report):
    assert "crs" not in schema.load(report)["location"]


def test_latitude_without_longitude_is_an_error_on_longitude(schema, report):
    report["location"]["lat"] = 30.5
    assert list(error_paths(schema, report)) == ["location.lon"]


def test_form_strings_load_as_numbers_and_booleans(schema, report):
    report["location"].update(lat="30.5", lon="114.3")
    report["contact"] = {"anonymous": "true"}
    loaded = schema.load(report)
    assert (loaded["location"]["lat"], loaded["contact"]["anonymous"]) == (30.5, True)


def test_text_is_nfc_normalised(schema, report):
    report["description"] = "Cafe\u0301 fire exit blocked"
    assert schema.load(report)["description"] == "Caf\u00e9 fire exit blocked"


def test_text_is_trimmed_including_ideographic_spaces(schema, report):
    report["description"] = "\u3000 楼道堆物 \n"
    assert schema.load(report)["description"] == "楼道堆物"


def test_blank_description_counts_as_missing(schema, report):
    report["description"] = "   "
    assert error_paths(schema, report)["description"] == ["This field is required."]


def test_description_keeps_line_breaks_and_tabs(schema, report):
    report["description"] = "一楼\r\n二楼\t三楼"
    assert schema.load(report)["description"] == "一楼\n二楼\t三楼"


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b", "\x7f", "\x85"])
def test_control_characters_are_rejected(schema, report, control):
    report["description"] = f"灭火器{control}过期"
    assert "description" in error_paths(schema, report)


def test_single_line_text_rejects_line_breaks(schema, report):
    report["location"]["address"] = "5栋\n2单元"
    assert "location.address" in error_paths(schema, report)


def test_length_is_counted_in_characters(schema, report):
    report["description"] = "墙" * 2000
    assert schema.load(report)["description"] == "墙" * 2000


@pytest.mark.parametrize("field", ["status", "id", "assignee"])
def test_unknown_top_level_fields_are_rejected(schema, report, field):
    report[field] = "x"
    assert error_paths(schema, report) == {field: ["Unknown field."]}


@pytest.mark.parametrize("nested", ["location", "contact", "patrol"])
def test_unknown_nested_fields_are_rejected(schema, report, nested):
    report[nested] = {**report.get(nested, {}), "assignee": "x"}
    assert f"{nested}.assignee" in error_paths(schema, report)


def test_anonymous_report_cannot_carry_a_phone(schema, report):
    report["contact"] = {"anonymous": True, "phone": "13871234567"}
    assert list(error_paths(schema, report)) == ["contact.anonymous"]


def test_patrol_needs_team_and_volunteer_id(schema, report):
    report["patrol"] = {}
    assert set(error_paths(schema, report)) == {"patrol.team", "patrol.volunteer_id"}


def test_at_most_six_photos(schema, report):
    report["photos"] = [f"p/{i}.jpg" for i in range(7)]
    assert "photos" in error_paths(schema, report)


def test_duplicate_photos_are_rejected(schema, report):
    report["photos"] = ["p/1.jpg", "p/1.jpg"]
    assert "photos" in error_paths(schema, report)


def test_photo_keys_cannot_climb_out_of_their_folder(schema, report):
    report["photos"] = ["p/1.jpg", "p/../../secret"]
    assert list(error_paths(schema, report)) == ["photos.1"]


def test_naive_observed_at_means_beijing_time(schema, report):
    report["observed_at"] = "2026-11-20T21:15"
    assert schema.load(report)["observed_at"] == "2026-11-20T21:15:00+08:00"


def test_observed_at_is_converted_to_beijing_time(schema, report):
    report["observed_at"] = "2026-11-20T13:15:00Z"
    assert schema.load(report)["observed_at"] == "2026-11-20T21:15:00+08:00"


@pytest.mark.parametrize("moment", ["2026-11-25T12:10:00+08:00", "2025-11-01T00:00:00+08:00", "2026-11-20"])
def test_observed_at_must_be_a_recent_past_moment(schema, report, moment):
    report["observed_at"] = moment
    assert "observed_at" in error_paths(schema, report)


def test_a_few_minutes_of_clock_drift_are_tolerated(schema, report):
    report["observed_at"] = "2026-11-25T12:04:00+08:00"
    assert schema.load(report)["observed_at"] == "2026-11-25T12:04:00+08:00"


def test_any_well_formed_community_passes_without_a_directory(report):
    report["community"] = "newly-added_01"
    assert HazardReportSchema().load(report)["community"] == "newly-added_01"


def test_malformed_community_is_rejected_without_a_directory(report):
    report["community"] = "Jiang Ling"
    assert "community" in error_paths(HazardReportSchema(), report)


def test_client_ref_is_output_as_canonical_lower_case(schema, report):
    report["client_ref"] = "{12345678-ABCD-5678-1234-567812345678}"
    assert schema.load(report)["client_ref"] == "12345678-abcd-5678-1234-567812345678"


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_lang_is_zh_cn_or_en(schema, report, lang):
    report["lang"] = lang
    assert schema.load(report)["lang"] == lang
