"""The staff case API: filters, paging, transitions with their 409, reassignment, notes, duplicates."""

import copy

import pytest

from tests.casework import CONSULTATION, ENTERPRISE, HAZARD, seed, street, token_for


@pytest.fixture()
def cases(runtime, stub_worker, settings):
    return street(runtime, settings)


@pytest.fixture()
def leader(engine):
    return token_for(engine, "street-leader")


def act(client, headers, case_id, **body):
    return client.post(f"/api/v1/cases/{case_id}/actions", json=body, headers=headers)


def test_a_case_is_worked_from_received_to_resolved_with_its_history(client, cases, engine):
    grid = token_for(engine, "qjj-grid")
    case_id = cases["hazard"]["id"]
    assert act(client, grid, case_id, action="acknowledge", note="已签收").status_code == 200
    assert act(client, grid, case_id, action="start").status_code == 200
    done = act(client, grid, case_id, action="resolve", note="已加固围墙", photos=["2026/11/wall-after.jpg"]).json
    assert done["status"] == "resolved"
    steps = [(h["status"], h["action"], h["actor"]) for h in done["history"]]
    assert steps == [("received", None, "system"), ("acknowledged", "acknowledge", "qjj-grid"),
                     ("in_progress", "start", "qjj-grid"), ("resolved", "resolve", "qjj-grid")]
    assert done["history"][-1]["photos"] == ["2026/11/wall-after.jpg"]
    assert done["allowed_actions"] == ["close", "reopen", "note", "assign", "publish"]


def test_an_illegal_transition_answers_409_with_the_allowed_actions(client, cases, leader):
    response = act(client, leader, cases["hazard"]["id"], action="close")
    assert response.status_code == 409
    assert response.json["allowed"] == ["acknowledge", "start", "resolve", "reject"]
    assert response.json["current_status"] == "received"


def test_an_action_missing_what_it_needs_is_422_in_both_languages(client, cases, leader):
    response = act(client, leader, cases["hazard"]["id"], action="reject")
    assert response.status_code == 422
    assert response.json["errors"] == {"reason": ["此操作须填写此项。"]}
    english = client.post(f"/api/v1/cases/{cases['hazard']['id']}/actions?lang=en",
                          json={"action": "resolve", "outcome": "solved"}, headers=leader)
    assert english.json["errors"] == {"outcome": ["Not allowed for this action or this kind of case."]}


def test_completing_a_requested_service_records_beneficiaries_and_hours(client, cases, engine):
    team = token_for(engine, "team-legal")
    case_id = cases["consultation"]["id"]
    assert act(client, team, case_id, action="resolve").status_code == 422
    done = act(client, team, case_id, action="resolve", beneficiaries=1, hours=1.5, note="律师已电话解答")
    assert done.status_code == 200
    assert done.json["outcome"] == {"beneficiaries": 1, "hours": 1.5}


def test_an_enterprise_request_records_its_outcome(client, cases, engine):
    official = token_for(engine, "ent-officer-li")
    done = act(client, official, cases["enterprise"]["id"], action="resolve", outcome="solved")
    assert done.status_code == 200 and done.json["outcome"] == {"outcome": "solved"}


def test_reassignment_and_notes_go_to_the_history_without_moving_the_case(client, cases, leader):
    case_id = cases["hazard"]["id"]
    moved = act(client, leader, case_id, action="assign", assignees=["qjj-secretary"], note="请书记跟进")
    assert moved.status_code == 200
    assert moved.json["assignees"] == ["qjj-secretary"] and moved.json["status"] == "received"
    noted = act(client, leader, case_id, action="note", note="已协调物业").json
    assert [h["action"] for h in noted["history"]][-2:] == ["assign", "note"]
    unknown = act(client, leader, case_id, action="assign", assignees=["nobody"])
    assert unknown.status_code == 422 and "nobody" in unknown.json["errors"]["assignees"][0]


def test_a_duplicate_links_to_its_original_and_its_receipt_shows_the_originals_status(
        client, runtime, settings, cases, leader):
    original = cases["hazard"]
    [again] = seed(runtime, settings, ("hazard", HAZARD[0]))
    detail = client.get(f"/api/v1/cases/{again['id']}", headers=leader).json
    assert [d["id"] for d in detail["likely_duplicates"]] == [original["id"]]
    assert detail["likely_duplicates"][0]["distance_m"] == 0
    marked = act(client, leader, again["id"], action="reject", reason="duplicate", duplicate_of=original["receipt"])
    assert marked.status_code == 200, marked.json
    assert marked.json["original"]["id"] == original["id"]
    act(client, leader, original["id"], action="acknowledge")
    receipt = client.get(f"/api/v1/receipts/{again['receipt']}").json
    assert receipt["status"] == "rejected"
    assert receipt["duplicate_of"] == {"receipt": original["receipt"], "status": "acknowledged"}
    assert [d["id"] for d in client.get(f"/api/v1/cases/{original['id']}", headers=leader).json["duplicates"]] == [
        again["id"]]


def test_a_hazard_far_away_or_of_another_category_is_not_a_likely_duplicate(client, runtime, settings, cases, leader):
    far = copy.deepcopy(HAZARD[0])
    far["location"]["lat"] += 0.001  # about 110 m north
    other = dict(copy.deepcopy(HAZARD[0]), category="lighting")
    [far_case, other_case] = seed(runtime, settings, ("hazard", far), ("hazard", other))
    near = copy.deepcopy(HAZARD[0])
    near["location"]["lon"] += 0.0003  # about 29 m east
    [near_case] = seed(runtime, settings, ("hazard", near))
    found = client.get(f"/api/v1/cases/{cases['hazard']['id']}", headers=leader).json["likely_duplicates"]
    assert [d["id"] for d in found] == [near_case["id"]]


def test_the_list_filters_sorts_and_pages_with_a_cursor(client, runtime, stub_worker, settings, leader):
    seed(runtime, settings, *[("hazard", h) for h in HAZARD], *[("consultation", c) for c in CONSULTATION],
         *[("enterprise", e) for e in ENTERPRISE])
    seen, cursor = [], None
    while True:
        page = client.get("/api/v1/cases", query_string={"limit": 5, **({"cursor": cursor} if cursor else {})},
                          headers=leader).json
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len({c["id"] for c in seen}) == 12
    stamps = [(c["submitted_at"], c["id"]) for c in seen]
    assert stamps == sorted(stamps, reverse=True)

    def ids(**query):
        response = client.get("/api/v1/cases", query_string=query, headers=leader)
        assert response.status_code == 200, response.json
        return {c["receipt"] for c in response.json["items"]}

    assert len(ids(kind="hazard")) == 5
    assert len(ids(kind="consultation", community="jiangling")) == 1
    assert len(ids(category="structure")) == 1
    assert len(ids(assignee="team-elderly")) == 2
    assert len(ids(q="围墙")) == 1 and len(ids(q="理发店")) == 1
    assert len(ids(overdue="true")) == 0 and len(ids(overdue="false")) == 12
    assert len(ids(submitted_from="2020-01-01", submitted_to="2020-01-31")) == 0
    assert len(ids(submitted_from="0001-01-01", submitted_to="9999-12-31")) == 12  # no midnight in UTC: clamped
    assert client.get("/api/v1/cases?cursor=bm9wZQ", headers=leader).status_code == 400
    assert client.get("/api/v1/cases?limit=0&kind=ship", headers=leader).json["errors"].keys() == {"limit", "kind"}


def test_an_overdue_case_is_found_by_the_overdue_filter(client, runtime, stub_worker, settings, leader):
    from datetime import datetime, timedelta, timezone

    long_ago = datetime.now(timezone.utc) - timedelta(days=10)
    [late] = seed(runtime, settings, ("hazard", HAZARD[2]), submitted_at=long_ago)
    seed(runtime, settings, ("hazard", HAZARD[3]))
    listed = client.get("/api/v1/cases?overdue=true", headers=leader).json["items"]
    assert [c["id"] for c in listed] == [late["id"]] and listed[0]["overdue"] is True
