"""Routing picks the staff who answer for a submission, from the directory alone."""

import pytest

from minqing.directory import Directory, default_directory_path, load_directory
from minqing.domain.routing import route


@pytest.fixture(scope="module")
def demo_directory():
    return load_directory(default_directory_path())


def directory_with_rules(*rules: dict) -> Directory:
    staff = ["duty", "grid", "secretary", "a", "b", "c", "officer"]
    return Directory.from_mapping({
        "street": {"code": "demo", "name": {"zh": "示例街道"}, "fallback": ["duty"]},
        "communities": [{"code": "east", "name": {"zh": "东社区"}, "fallback": "secretary"}],
        "staff": [
            {"id": staff_id, "name": f"{staff_id}（示例）", "role": "official" if staff_id == "officer" else "street"}
            for staff_id in staff
        ],
        "rules": list(rules),
        "enterprise_assignments": [{"uscc": "91420106MA49A1B2C0", "official": "officer"}],
    })


def test_hazard_goes_to_the_community_grid_worker(demo_directory):
    assert route(demo_directory, kind="hazard", community="jiangling", category="lighting") == ("jl-grid",)


def test_structural_hazard_also_goes_to_the_safety_office(demo_directory):
    assert route(demo_directory, kind="hazard", community="qianjiajie", category="structure") == (
        "qjj-grid",
        "safety-office",
    )


def test_enterprise_with_an_assigned_official_reaches_the_official_first(demo_directory):
    assigned = route(demo_directory, kind="enterprise", community=None, category="tax", uscc="91420106MA49A1B2C0")
    assert assigned == ("ent-officer-li", "enterprise-office")


def test_enterprise_without_an_assigned_official_goes_to_the_enterprise_office(demo_directory):
    assigned = route(demo_directory, kind="enterprise", community=None, category="licensing", uscc="91420106MA4KXXXX17")
    assert assigned == ("enterprise-office",)


def test_medical_clinic_consultation_goes_to_the_clinic_team(demo_directory):
    assigned = route(demo_directory, kind="consultation", community="jiangling", category="medical_clinic")
    assert [demo_directory.staff_member(staff_id).name for staff_id in assigned] == ["名医工作站（示例）"]


def test_consultation_without_a_team_goes_to_the_community_fallback(demo_directory):
    assert route(demo_directory, kind="consultation", community="ziyang", category="other") == ("zy-secretary",)


def test_unknown_community_goes_to_the_street_fallback(demo_directory):
    assert route(demo_directory, kind="hazard", community="atlantis", category="lighting") == ("street-duty",)


def test_kind_outweighs_community_which_outweighs_category():
    directory = directory_with_rules(
        {"kind": "*", "community": "east", "category": "lighting", "assignees": ["a"]},
        {"kind": "hazard", "community": "*", "category": "*", "assignees": ["b"]},
        {"kind": "hazard", "community": "*", "category": "lighting", "assignees": ["c"]},
    )
    assert route(directory, kind="hazard", community="east", category="lighting") == ("c",)
    assert route(directory, kind="consultation", community="east", category="lighting") == ("a",)


def test_equally_specific_rules_all_contribute_in_file_order_without_duplicates():
    directory = directory_with_rules(
        {"kind": "hazard", "category": "lighting", "assignees": ["b", "a"]},
        {"kind": "hazard", "category": "facility", "assignees": ["c"]},
        {"kind": "hazard", "category": "lighting", "assignees": ["a", "c"]},
    )
    assert route(directory, kind="hazard", community="east", category="lighting") == ("b", "a", "c")


def test_no_rule_falls_back_to_the_community_then_the_street():
    directory = directory_with_rules()
    assert route(directory, kind="hazard", community="east", category="other") == ("secretary",)
    assert route(directory, kind="hazard", community=None, category="other") == ("duty",)


def test_assigned_official_is_not_repeated_by_a_rule():
    directory = directory_with_rules({"kind": "enterprise", "assignees": ["officer", "a"]})
    assigned = route(directory, kind="enterprise", community=None, category="tax", uscc="91420106MA49A1B2C0")
    assert assigned == ("officer", "a")


def test_assigned_official_alone_needs_no_street_fallback():
    directory = directory_with_rules()
    assigned = route(directory, kind="enterprise", community=None, category="tax", uscc="91420106MA49A1B2C0")
    assert assigned == ("officer",)


def test_an_also_rule_copies_its_staff_in_without_displacing_the_specific_rule():
    directory = Directory.from_mapping("""
[street]
code = "s"
name = { zh = "街道" }
fallback = ["duty"]
[[communities]]
code = "c1"
name = { zh = "社区" }
[[staff]]
id = "duty"
name = "值班"
role = "street"
[[staff]]
id = "grid"
name = "网格员"
role = "community"
communities = ["c1"]
[[staff]]
id = "safety"
name = "安全办"
role = "street"
[[rules]]
kind = "hazard"
community = "c1"
assignees = ["grid"]
[[rules]]
kind = "hazard"
category = "structure"
assignees = ["safety"]
also = true
""")
    assert route(directory, kind="hazard", community="c1", category="structure") == ("grid", "safety")
    assert route(directory, kind="hazard", community="c1", category="lighting") == ("grid",)
