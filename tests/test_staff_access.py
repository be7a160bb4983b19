"""Every staff endpoint × every role × no token: 401 without a live token, 404 for a case outside the
caller's scope (never a hint that it exists), 403 for a filter outside it, and only in-scope data."""

import pytest

from minqing.store import tokens
from tests.casework import ROLES, street, token_for

# Which of the street's cases each role may see.
VISIBLE = {
    "street": {"hazard", "consultation", "enterprise"},
    "community": {"hazard"},
    "other_community": set(),
    "official": {"enterprise"},
    "service_team": {"consultation"},
}

# How to call each staff endpoint: (method, path, JSON body); {id} is a case id.
CALLS = {
    "cases.list_cases": ("GET", "/api/v1/cases", None),
    "cases.show_case": ("GET", "/api/v1/cases/{id}", None),
    "cases.act": ("POST", "/api/v1/cases/{id}/actions", {"action": "note", "note": "已电话联系"}),
    "exports.cases_csv": ("GET", "/api/v1/exports/cases.csv", None),
    "exports.cases_xlsx": ("GET", "/api/v1/exports/cases.xlsx", None),
}


@pytest.fixture()
def cases(runtime, stub_worker, settings):
    return street(runtime, settings)


def call(client, endpoint, case_id=None, headers=None):
    method, path, body = CALLS[endpoint]
    return client.open(path.format(id=case_id), method=method, json=body, headers=headers or {})


def staff_endpoints(app):
    return sorted(rule.endpoint for rule in app.url_map.iter_rules()
                  if getattr(app.view_functions[rule.endpoint], "staff_only", False))


def test_the_walk_covers_every_staff_endpoint(app):
    assert staff_endpoints(app) == sorted(CALLS)


@pytest.mark.parametrize("endpoint", sorted(CALLS))
def test_no_token_gets_401(client, cases, endpoint):
    response = call(client, endpoint, cases["hazard"]["id"])
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("endpoint", sorted(CALLS))
def test_a_revoked_or_expired_or_forged_token_gets_401(client, engine, cases, endpoint):
    with engine.begin() as c:
        revoked = tokens.create(c, "street-leader")
        tokens.revoke(c, revoked.id)
        expired = tokens.create(c, "street-leader", days=0)
        live = tokens.create(c, "street-leader")
    forged = live.token[:-4] + "AAAA"
    for token in (revoked.token, expired.token, forged, "not-a-token"):
        response = call(client, endpoint, cases["hazard"]["id"], {"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token


@pytest.mark.parametrize("role", sorted(ROLES))
@pytest.mark.parametrize("endpoint", sorted(e for e in CALLS if "{id}" in CALLS[e][1]))
def test_each_role_reaches_exactly_the_cases_in_its_scope(client, engine, cases, role, endpoint):
    headers = token_for(engine, ROLES[role])
    for kind, message in cases.items():
        response = call(client, endpoint, message["id"], headers)
        if kind in VISIBLE[role]:
            assert response.status_code == 200, (role, kind, response.json)
        else:
            assert response.status_code == 404, (role, kind)
            assert message["receipt"] not in response.get_data(as_text=True)


@pytest.mark.parametrize("role", sorted(ROLES))
def test_each_role_lists_only_its_cases(client, engine, cases, role):
    response = call(client, "cases.list_cases", headers=token_for(engine, ROLES[role]))
    assert response.status_code == 200
    listed = {item["kind"] for item in response.json["items"]}
    assert listed == VISIBLE[role]


def test_a_community_filter_outside_the_scope_is_forbidden(client, engine, cases):
    headers = token_for(engine, ROLES["community"])
    assert client.get("/api/v1/cases?community=jiangling", headers=headers).status_code == 403
    assert client.get("/api/v1/cases?community=qianjiajie", headers=headers).status_code == 200


def test_an_unknown_case_id_is_404_like_one_out_of_scope(client, engine, cases):
    headers = token_for(engine, ROLES["street"])
    assert client.get("/api/v1/cases/not-a-uuid", headers=headers).status_code == 404
    assert client.get("/api/v1/cases/00000000-0000-4000-8000-000000000000", headers=headers).status_code == 404


def test_personal_data_only_for_those_who_answer_for_the_case(client, engine, cases):
    hazard = cases["hazard"]["id"]
    grid = client.get(f"/api/v1/cases/{hazard}", headers=token_for(engine, "qjj-grid")).json
    leader = client.get(f"/api/v1/cases/{hazard}", headers=token_for(engine, "street-leader")).json
    safety = client.get(f"/api/v1/cases/{hazard}", headers=token_for(engine, "safety-office")).json
    assert grid["payload"]["contact"] == {"name": "王阿姨", "phone": "13871234567"}
    assert safety["personal_data"] is True  # assigned to it as well
    assert leader["personal_data"] is False
    assert leader["payload"]["contact"] == {"name": "王**", "phone": "138****4567"}
