"""The staff console (工作台) through the Flask test client: sign-in, sessions, CSRF, scope and masking on
every page, reply templates, the map. The real path (`minqing serve`, Chromium) is tests/test_console_browser.py."""

import re

import pytest

from minqing.store import sessions, tokens
from tests.casework import HAZARD, ROLES, seed, street
from tests.peers import robot_server, smtp_server  # noqa: F401 - fixtures
from tests.test_delivery import notify_env, notify_runtime  # noqa: F401 - fixtures


def sign_in(client, engine, staff_id):
    """Through a one-time link, as a member of staff would: open it, then press the button."""
    with engine.begin() as connection:
        made = sessions.create_link(connection, staff_id)
    page = client.get(f"/staff/sign-in/link/{made.token}")
    assert page.status_code == 200
    response = client.post(f"/staff/sign-in/link/{made.token}", data={"csrf": csrf_of(page)})
    assert response.status_code == 303, response.text
    return made


def csrf_of(response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', response.get_data(as_text=True))[1]


@pytest.fixture()
def cases_stored(runtime, settings, stub_worker):
    return street(runtime, settings)


def case_id(envelope):
    return envelope["id"]


def test_a_link_opened_by_a_preview_stays_usable_and_works_once(client, engine):
    with engine.begin() as connection:
        made = sessions.create_link(connection, "qjj-grid")
    preview = client.get(f"/staff/sign-in/link/{made.token}")
    assert "千家街社区王网格员" in preview.text and "Set-Cookie" not in str(preview.headers.get("Set-Cookie", ""))[:0]
    assert client.get("/staff/").status_code == 302  # the GET signed nobody in
    signed = client.post(f"/staff/sign-in/link/{made.token}", data={"csrf": csrf_of(preview)})
    assert signed.status_code == 303
    cookie = signed.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookie if c.startswith("mq_staff="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    assert "Secure" not in session_cookie  # plain HTTP on 127.0.0.1 only
    assert client.get("/staff/").status_code == 200
    other = client.application.test_client()
    again = other.get(f"/staff/sign-in/link/{made.token}")
    assert again.status_code == 410


def test_a_sign_in_post_without_the_form_token_is_refused(client, engine):
    with engine.begin() as connection:
        made = sessions.create_link(connection, "qjj-grid")
    client.get(f"/staff/sign-in/link/{made.token}")
    assert client.post(f"/staff/sign-in/link/{made.token}", data={}).status_code == 403
    with engine.connect() as connection:
        assert sessions.link_staff(connection, made.token) == "qjj-grid"  # nothing spent


def test_a_six_digit_code_signs_in_once_and_five_wrong_codes_kill_it(client, engine):
    with engine.begin() as connection:
        made = sessions.create_link(connection, "qjj-grid")
    form = client.get("/staff/sign-in")
    token = csrf_of(form)
    wrong = "000000" if made.code != "000000" else "111111"
    for _ in range(5):
        assert client.post("/staff/sign-in/code", data={"csrf": token, "staff": "qjj-grid", "code": wrong}).status_code == 401
    refused = client.post("/staff/sign-in/code", data={"csrf": token, "staff": "qjj-grid", "code": made.code})
    assert refused.status_code == 401
    with engine.begin() as connection:
        fresh = sessions.create_link(connection, "qjj-grid")
    ok = client.post("/staff/sign-in/code", data={"csrf": token, "staff": "qjj-grid", "code": fresh.code})
    assert ok.status_code == 303 and client.get("/staff/").status_code == 200


def test_revoking_a_member_ends_their_sessions(client, engine):
    sign_in(client, engine, "qjj-grid")
    assert client.get("/staff/").status_code == 200
    with engine.begin() as connection:
        tokens.revoke(connection, tokens.create(connection, "qjj-grid").id)
    assert client.get("/staff/").status_code == 302
    with engine.begin() as connection:
        assert sessions.end_all(connection, "qjj-grid") == 0  # already ended


def test_signing_out_ends_the_session(client, engine):
    sign_in(client, engine, "qjj-grid")
    page = client.get("/staff/")
    assert client.post("/staff/sign-out", data={"csrf": csrf_of(page)}).status_code == 303
    assert client.get("/staff/").status_code == 302


def test_the_task_list_shows_my_open_cases(client, engine, cases_stored):
    sign_in(client, engine, "qjj-grid")
    page = client.get("/staff/")
    assert cases_stored["hazard"]["receipt"] in page.text
    assert cases_stored["enterprise"]["receipt"] not in page.text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_the_problem_list_filters_counts_and_pages(client, engine, cases_stored):
    sign_in(client, engine, "street-leader")
    page = client.get("/staff/cases")
    assert all(c["receipt"] in page.text for c in cases_stored.values())
    assert "合计 3" in page.text
    only = client.get("/staff/cases?kind=hazard")
    assert cases_stored["hazard"]["receipt"] in only.text and cases_stored["enterprise"]["receipt"] not in only.text
    bad = client.get("/staff/cases?submitted_from=2026-13-01")
    assert bad.status_code == 200 and 'href="#f-submitted_from"' in bad.text
    english = client.get("/staff/cases?lang=en")
    assert "Problem list" in english.text


STAFF_PAGES = ("/staff/", "/staff/cases", "/staff/map")


@pytest.mark.parametrize("role", sorted(ROLES))
def test_out_of_scope_is_404_like_a_missing_case_and_leaks_nothing(client, engine, cases_stored, role):
    staff_id = ROLES[role]
    sign_in(client, engine, staff_id)
    from minqing.store import scopes
    from minqing.store.cases import case_in_scope

    missing = client.get("/staff/cases/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    member = client.application.extensions["minqing"].directory.staff[staff_id]
    for kind, envelope in cases_stored.items():
        with engine.connect() as connection:
            visible = case_in_scope(connection, envelope["id"], scopes.scope_clause(member)) is not None
        page = client.get(f"/staff/cases/{envelope['id']}")
        assert page.status_code == (200 if visible else 404), (role, kind)
        if not visible:
            assert page.text == missing.text
            assert client.get(f"/staff/cases/{envelope['id']}/photo?key=x").status_code == 404
            for path in STAFF_PAGES:
                assert envelope["receipt"] not in client.get(path).text
        contact = envelope["data"].get("contact") or {}
        if contact.get("phone") and not visible:
            for path in STAFF_PAGES:
                assert contact["phone"] not in client.get(path).text


def test_street_staff_not_assigned_see_contacts_masked(client, engine, cases_stored):
    sign_in(client, engine, "street-leader")
    phone = cases_stored["hazard"]["data"]["contact"]["phone"]
    page = client.get(f"/staff/cases/{cases_stored['hazard']['id']}")
    assert phone not in page.text and phone[:3] + "****" + phone[-4:] in page.text


def test_every_post_route_without_the_form_token_is_403_and_changes_nothing(client, engine, cases_stored):
    sign_in(client, engine, "qjj-grid")
    case = cases_stored["hazard"]["id"]
    posts = [rule.rule.replace("<case_id>", case).replace("<token>", "x")
             for rule in client.application.url_map.iter_rules()
             if rule.rule.startswith("/staff") and "POST" in rule.methods]
    assert len(posts) >= 4
    for path in posts:
        assert client.post(path, data={"action": "acknowledge"}).status_code == 403, path
    assert "待受理" in client.get(f"/staff/cases/{case}").text
    assert client.get("/staff/").status_code == 200  # sign-out without the token did not sign out


def test_a_case_is_worked_from_the_action_form(client, engine, cases_stored):
    sign_in(client, engine, "qjj-grid")
    case = cases_stored["hazard"]["id"]
    page = client.get(f"/staff/cases/{case}")
    token = csrf_of(page)
    for action in ("acknowledge", "start"):
        done = client.post(f"/staff/cases/{case}/actions", data={"csrf": token, "action": action, "note": action})
        assert done.status_code == 303, done.text
    refused = client.post(f"/staff/cases/{case}/actions", data={"csrf": token, "action": "reject"})
    assert refused.status_code == 422 and 'id="a-reject-reason-e"' in refused.text
    resolved = client.post(f"/staff/cases/{case}/actions", data={"csrf": token, "action": "resolve", "note": "修好了"})
    assert resolved.status_code == 303
    page = client.get(resolved.headers["Location"])
    assert "已办结" in page.text and "修好了" in page.text


def test_reply_templates_fill_the_note_for_the_matching_action(client, engine, cases_stored):
    sign_in(client, engine, "qjj-grid")
    page = client.get(f"/staff/cases/{cases_stored['hazard']['id']}")
    receipt = cases_stored["hazard"]["receipt"]
    assert f"回执码{receipt}）已受理" in page.text


def test_residents_markup_is_shown_as_text_on_every_page(client, engine, runtime, settings, stub_worker):
    data = {**HAZARD[0], "description": "<script>alert(1)</script><img src=x onerror=alert(2)>"}
    [stored] = seed(runtime, settings, ("hazard", data))
    sign_in(client, engine, "qjj-grid")
    for path in ("/staff/", "/staff/cases", f"/staff/cases/{stored['id']}", "/staff/map"):
        text = client.get(path).text
        assert "<script>alert" not in text and "<img src=x" not in text, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get(f"/staff/cases/{stored['id']}").text


def test_the_map_draws_open_hazards_in_scope_as_links(client, engine, cases_stored):
    sign_in(client, engine, "qjj-grid")
    page = client.get("/staff/map")
    hazard = cases_stored["hazard"]
    if "lat" in (hazard["data"].get("location") or {}):
        assert f'href="/staff/cases/{hazard["id"]}"' in page.text and "<svg" in page.text


def test_an_asked_for_link_goes_by_e_mail_never_to_the_group_robot(notify_runtime, smtp_server, robot_server, engine):
    from functions.app import create_app
    from tests.conftest import wait_until

    app = create_app(notify_runtime.settings, broker=notify_runtime.broker, directory=notify_runtime.directory)
    client = app.test_client()
    form = client.get("/staff/sign-in")
    for staff_id in ("qjj-grid", "nobody-here"):
        answer = client.post("/staff/sign-in/send", data={"csrf": csrf_of(form), "staff": staff_id})
        assert answer.status_code == 200 and 'id="sent"' in answer.text
    [mail] = wait_until(lambda: smtp_server.messages, timeout=20)
    assert mail["to"] == ["grid@qjj.example"]
    import email
    from email import policy

    message = email.message_from_bytes(mail["data"], policy=policy.default)
    text = message.get_body(("plain",)).get_content()
    link = re.search(r"http://\S+/staff/sign-in/link/[A-Za-z0-9_-]+", text)[0]
    assert robot_server.received == []  # the grid worker's first channel is a group robot: not used
    page = client.get(link[link.index("/staff"):])
    assert page.status_code == 200 and "王网格员" in page.text


def test_a_text_searchs_counts_past_the_cap_read_as_more_with_every_status_a_link(client, engine, cases_stored,
                                                                                  monkeypatch):
    from minqing.store import cases

    sign_in(client, engine, "street-leader")
    assert "合计 1<" in client.get("/staff/cases?q=围墙").text
    monkeypatch.setattr(cases, "COUNT_CAP", 0)
    page = client.get("/staff/cases?q=围墙")
    assert cases_stored["hazard"]["receipt"] in page.text and "合计 0+" in page.text
    assert page.text.count("status=") >= 7  # each status still filters, without a number
