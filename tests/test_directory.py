"""The staff directory loads from TOML and reports every mistake in it by path."""

import textwrap

import pytest

from minqing.directory import Channel, Directory, DirectoryError, default_directory_path, load_directory
from schemas import directory as schema

DEMO_COMMUNITIES = {
    "jiangling": "江零社区",
    "wunancun": "武南村社区",
    "qianjiajie": "千家街社区",
    "shouyi": "首义社区",
    "ziyang": "紫阳社区",
    "yuemachang": "阅马场社区",
    "changhu": "长湖社区",
    "xiaochaohu": "小朝湖社区",
}

SMALL_STREET = """
[street]
code = "demo"
name = { zh = "示例街道", en = "Demo Sub-district" }
fallback = ["duty"]

[[communities]]
code = "east"
name = { zh = "东社区" }
fallback = "east-secretary"
chain = ["east-grid", "east-secretary"]
spots = [{ code = "east-01", name = "东1栋" }]

[[staff]]
id = "duty"
name = "值班室（示例）"
role = "street"

[[staff]]
id = "east-grid"
name = "东网格员（示例）"
role = "community"
communities = ["east"]
channels = [{ type = "wecom", webhook_env = "WECOM_EAST" }, { type = "log" }]

[[staff]]
id = "east-secretary"
name = "东书记（示例）"
role = "community"
communities = ["east"]

[[staff]]
id = "officer"
name = "包保干部（示例）"
role = "official"

[[rules]]
kind = "hazard"
community = "east"
assignees = ["east-grid"]

[[enterprise_assignments]]
uscc = "91420106MA49A1B2C0"
official = "officer"
"""


def problems_in(toml_text: str) -> list[str]:
    with pytest.raises(DirectoryError) as caught:
        Directory.from_mapping(textwrap.dedent(toml_text))
    return caught.value.problems


@pytest.fixture()
def demo_directory():
    return load_directory(default_directory_path())


def test_demo_street_has_every_community(demo_directory):
    assert demo_directory.street.code == "shouyilu"
    assert demo_directory.street.name.zh == "首义路街道"
    assert {code: c.name.zh for code, c in demo_directory.communities.items()} == DEMO_COMMUNITIES
    assert demo_directory.community_codes == frozenset(DEMO_COMMUNITIES)


def test_demo_communities_escalate_from_grid_to_street_leader(demo_directory):
    for community in demo_directory.communities.values():
        roles = [demo_directory.staff_member(staff_id).role for staff_id in community.chain]
        assert roles == ["community", "community", "street"]
        assert community.name.en


def test_demo_spots_are_printed_for_jiangling_and_qianjiajie(demo_directory):
    assert "jl-05-2" in {spot.code for spot in demo_directory.communities["jiangling"].spots}
    assert "qjj-syb-03" in {spot.code for spot in demo_directory.communities["qianjiajie"].spots}


def test_demo_names_are_marked_as_examples(demo_directory):
    assert all("示例" in member.name for member in demo_directory.staff.values())


def test_small_street_loads_into_frozen_objects():
    directory = Directory.from_mapping(SMALL_STREET)
    grid = directory.staff_member("east-grid")
    assert grid.channels == (Channel("wecom", {"webhook_env": "WECOM_EAST"}), Channel("log", {}))
    assert directory.staff_member("duty").channels == (Channel("log", {}),)
    assert directory.communities["east"].name.en == "东社区"  # English falls back to Chinese
    assert directory.rules[0].category == "*"
    assert directory.enterprise_assignments == {"91420106MA49A1B2C0": "officer"}
    with pytest.raises(TypeError):
        directory.staff["x"] = grid


def test_unknown_staff_member_is_a_key_error():
    with pytest.raises(KeyError, match="nobody"):
        Directory.from_mapping(SMALL_STREET).staff_member("nobody")


def test_three_mistakes_are_reported_together_with_their_paths():
    broken = (
        SMALL_STREET.replace('{ type = "log" }]', '{ type = "fax" }]')
        .replace('role = "street"', 'role = "street"\nemail = "duty@example.cn"')
        .replace('assignees = ["east-grid"]', 'assignees = ["grid-xx"]')
    )
    problems = problems_in(broken)
    assert "staff[1].channels[1].type: must be one of log, smtp, wecom, dingtalk, webhook, ses, sns" in problems
    assert "staff[0].email: unknown key (check the spelling)" in problems
    assert "rules[0].assignees[0]: unknown staff id 'grid-xx'" in problems
    assert len(problems) == 3


def test_syntax_error_names_the_line():
    problems = problems_in('[street]\ncode = "demo"\nname = {zh = "示例"\n')
    assert len(problems) == 1
    assert problems[0].startswith("line 3: TOML syntax error")


def test_error_message_names_the_file(tmp_path):
    path = tmp_path / "directory.toml"
    path.write_text(SMALL_STREET.replace('code = "demo"', 'code = "Demo Street"'), encoding="utf-8")
    with pytest.raises(DirectoryError) as caught:
        load_directory(path)
    assert str(caught.value).startswith(f"{path}: 1 problem")
    assert "street.code: must match" in str(caught.value)


def test_duplicate_ids_and_codes_are_reported():
    duplicated = SMALL_STREET.replace('id = "officer"', 'id = "duty"').replace(
        'official = "officer"', 'official = "duty"'
    )
    duplicated += '\n[[communities]]\ncode = "east"\nname = { zh = "又一个东社区" }\nspots = [{ code = "east-01", name = "x" }]\n'
    problems = problems_in(duplicated)
    assert "staff[3].id: duplicate staff id 'duty' (first used at staff[0])" in problems
    assert "communities[1].code: duplicate community code 'east' (first used at communities[0])" in problems
    assert "communities[1].spots[0].code: duplicate spot code 'east-01' (first used at communities[0].spots[0])" in problems


def test_dangling_staff_references_are_reported_everywhere():
    dangling = (
        SMALL_STREET.replace('fallback = ["duty"]', 'fallback = ["duty", "ghost"]')
        .replace('fallback = "east-secretary"', 'fallback = "east-sec"')
        .replace('chain = ["east-grid", "east-secretary"]', 'chain = ["east-grid", "east-boss"]')
        .replace('official = "officer"', 'official = "li"')
    )
    assert problems_in(dangling) == [
        "street.fallback[1]: unknown staff id 'ghost'",
        "communities[0].fallback: unknown staff id 'east-sec'",
        "communities[0].chain[1]: unknown staff id 'east-boss'",
        "enterprise_assignments[0].official: unknown staff id 'li'",
    ]


def test_rules_must_name_known_communities_and_categories_of_their_kind():
    rules = SMALL_STREET + '\n[[rules]]\nkind = "hazard"\ncommunity = "west"\ncategory = "tax"\nassignees = ["duty"]\n'
    problems = problems_in(rules)
    assert "rules[1].community: unknown community code 'west'" in problems
    assert any(p.startswith("rules[1].category: not a hazard category; must be one of fire_safety") for p in problems)


def test_enterprise_assignment_needs_an_official_and_a_well_formed_uscc():
    wrong = SMALL_STREET.replace('official = "officer"', 'official = "duty"').replace(
        "91420106MA49A1B2C0", "91420106MA49A1B2CI"
    )
    problems = problems_in(wrong)
    assert "enterprise_assignments[0].official: staff 'duty' has role 'street'; 包保 needs role official" in problems
    assert any(p.startswith("enterprise_assignments[0].uscc: must be 18 characters") for p in problems)


def test_street_needs_a_fallback():
    assert "street.fallback: name at least one staff id" in problems_in(SMALL_STREET.replace('["duty"]', "[]", 1))


def test_channel_credentials_must_come_from_the_environment():
    inline = SMALL_STREET.replace('webhook_env = "WECOM_EAST"', 'webhook = "https://qyapi.weixin.qq.com/x?key=1"')
    assert problems_in(inline) == [
        "staff[1].channels[0].webhook: credentials must not be written here; "
        "set 'webhook_env' to an environment variable name"
    ]


def test_community_staff_must_say_which_communities():
    assert problems_in(SMALL_STREET.replace('communities = ["east"]\nchannels', "channels")) == [
        "staff[1].communities: community staff must list their communities"
    ]


def test_category_lists_agree_with_the_form_vocabularies():
    choices = pytest.importorskip("schemas.choices")
    assert set(schema.KINDS) == set(choices.KINDS)
    assert set(schema.HAZARD_CATEGORIES) == set(choices.HAZARD_CATEGORIES)
    assert set(schema.CONSULTATION_SERVICES) == set(choices.SERVICES)
    assert set(schema.ENTERPRISE_CATEGORIES) == set(choices.ENTERPRISE_CATEGORIES)
