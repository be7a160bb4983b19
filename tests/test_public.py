"""The public pages on the Flask test client: the front page, the status page with its rating form and 催办,
the public problem list with moderation, and 催办 in the tallies."""

import copy
import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from minqing.receipts import feedback_code
from minqing.store import base
from minqing.store.counts import rebuild_tallies, tally_rows
from minqing.store.tables import submissions
from minqing.domain.tallies import summarise
from tests.casework import CONSULTATION, ENTERPRISE, HAZARD, seed, token_for

BROWSER = {"Accept": "text/html"}


@pytest.fixture()
def grid(engine):
    return token_for(engine, "qjj-grid")


@pytest.fixture()
def hazard(runtime, stub_worker, settings):
    data = copy.deepcopy(HAZARD[0])
    data["contact"] = {**data["contact"], "email": "wang@example.com", "notify": True}
    [stored] = seed(runtime, settings, ("hazard", data))
    return stored


def act(client, headers, case_id, **body):
    response = client.post(f"/api/v1/cases/{case_id}/actions", json=body, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_the_front_page_names_the_street_and_offers_the_three_forms(client):
    html = client.get("/").get_data(as_text=True)
    assert "首义路街道" in html
    for path in ("/f/hazard", "/f/consultation", "/f/enterprise", "/problems", "/problems/map", "/dashboard",
                 "/lookup"):
        assert f'"{path}' in html, path
    assert "Shouyilu Sub-district" in client.get("/?lang=en").get_data(as_text=True)


def test_looking_up_a_receipt_goes_to_its_status_page(client, hazard):
    response = client.get("/lookup?receipt=" + hazard["receipt"].lower().replace("-", " "))
    assert response.status_code == 303 and response.headers["Location"] == f"/r/{hazard['receipt']}"
    wrong = client.get("/lookup?receipt=HXXX-XXXX-XXXX")
    assert wrong.status_code == 303 and "bad=1" in wrong.headers["Location"]
    assert "没有这个回执码" in client.get(wrong.headers["Location"]).get_data(as_text=True)


def test_the_link_from_the_reporters_message_becomes_a_cookie_and_leaves_the_url(client, settings, hazard):
    code = feedback_code(settings.secret_key, hazard["id"]).replace("-", "")
    response = client.get(f"/r/{hazard['receipt']}?k={code}")
    assert response.status_code == 303 and response.headers["Location"] == f"/r/{hazard['receipt']}"
    cookie = response.headers["Set-Cookie"]
    assert f"Path=/r/{hazard['receipt']}" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Cache-Control"] == "no-store"
    forged = client.get(f"/r/{hazard['receipt']}?k=AAAABBBBCCCCDDDD")
    assert forged.status_code == 303 and "Set-Cookie" not in forged.headers


def test_the_status_page_shows_the_public_reply_and_the_rating_form_once_resolved(client, settings, hazard, grid):
    act(client, grid, hazard["id"], action="acknowledge", note="内部备注：王阿姨家门口", reply="已安排人员查看")
    html = client.get(f"/r/{hazard['receipt']}").get_data(as_text=True)
    assert "已安排人员查看" in html and "内部备注" not in html and "王阿姨" not in html
    assert 'id="rate"' not in html
    act(client, grid, hazard["id"], action="resolve", reply="已加固围墙")
    html = client.get(f"/r/{hazard['receipt']}").get_data(as_text=True)
    assert 'id="rate"' in html and 'name="feedback_code"' in html  # no cookie: the code is asked for


def test_a_rating_without_the_right_code_changes_nothing(client, engine, hazard, grid):
    act(client, grid, hazard["id"], action="resolve")
    response = client.post(f"/r/{hazard['receipt']}/feedback",
                           data={"rating": "1", "fixed": "false", "feedback_code": "AAAA-BBBB-CCCC-DDDD"})
    assert response.status_code == 403 and "评价码不正确" in response.get_data(as_text=True)
    with engine.connect() as connection:
        assert connection.execute(submissions.select().where(submissions.c.id == hazard["id"])).one().status == \
            "resolved"


def test_not_fixed_from_the_status_page_reopens_the_case_and_counts_the_rating(client, settings, engine, hazard,
                                                                                grid):
    act(client, grid, hazard["id"], action="resolve")
    code = feedback_code(settings.secret_key, hazard["id"])
    client.get(f"/r/{hazard['receipt']}?k={code}")  # the cookie, as from the reporter's message
    html = client.get(f"/r/{hazard['receipt']}").get_data(as_text=True)
    assert 'id="rate"' in html and 'name="feedback_code"' not in html
    bad = client.post(f"/r/{hazard['receipt']}/feedback", data={"fixed": "false"})
    assert bad.status_code == 422 and 'class="err"' in bad.get_data(as_text=True)
    response = client.post(f"/r/{hazard['receipt']}/feedback", data={"rating": "2", "fixed": "false",
                                                                     "comment": "<b>还是裂的</b>"})
    assert response.status_code == 303 and "done=reopened" in response.headers["Location"]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已重新交办" in html and "重新办理" in html
    with engine.connect() as connection:
        totals = summarise(tally_rows(connection))["totals"]["hazard"]
    assert totals["rated"] == 1 and totals["rating_sum"] == 2 and totals["reopened"] == 1


def overdue(engine, case_id):
    with engine.begin() as connection:
        connection.execute(update(submissions).where(submissions.c.id == case_id)
                           .values(due_at=base.now() - timedelta(hours=1)))


def test_the_reporter_can_chase_an_overdue_case_once_a_day(client, settings, engine, hazard, stub_worker, runtime):
    code = feedback_code(settings.secret_key, hazard["id"])
    client.get(f"/r/{hazard['receipt']}?k={code}")
    assert 'id="nudge"' not in client.get(f"/r/{hazard['receipt']}").get_data(as_text=True)  # not overdue yet
    overdue(engine, hazard["id"])
    assert 'id="nudge"' in client.get(f"/r/{hazard['receipt']}").get_data(as_text=True)
    first = client.post(f"/r/{hazard['receipt']}/nudge")
    assert first.status_code == 303 and "done=nudged" in first.headers["Location"]
    again = client.post(f"/r/{hazard['receipt']}/nudge")
    assert "done=nudge-again" in again.headers["Location"]
    runtime.broker.join(settings.queue_name)
    html = client.get(f"/r/{hazard['receipt']}").get_data(as_text=True)
    assert html.count("居民催办") == 1
    with engine.connect() as connection:
        totals = summarise(tally_rows(connection))["totals"]["hazard"]
        from minqing.store.tables import outbox

        told = {row.recipient for row in connection.execute(outbox.select().where(outbox.c.event.like("nudged-%")))}
    assert totals["nudges"] == 1 and totals["nudged"] == 1
    assert {"qjj-grid", "qjj-secretary"} <= told  # the assignee and the next one up the chain
    with engine.begin() as connection:
        rebuild_tallies(connection)
    with engine.connect() as connection:
        assert summarise(tally_rows(connection))["totals"]["hazard"]["nudges"] == 1
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "居民催办次数" in dashboard and "催办率" in dashboard


def test_without_the_code_nobody_can_chase(client, engine, hazard):
    overdue(engine, hazard["id"])
    response = client.post(f"/r/{hazard['receipt']}/nudge")
    assert response.status_code == 403


def test_the_public_list_shows_the_residents_words_only_once_published(client, runtime, stub_worker, settings,
                                                                     hazard, grid):
    seed(runtime, settings, ("enterprise", ENTERPRISE[0]), ("consultation", CONSULTATION[1]))
    html = client.get("/problems").get_data(as_text=True)
    receipts = re.findall(r'data-receipt="([^"]+)"', html)
    assert receipts == [hazard["receipt"]]  # no enterprise request, no consultation request
    assert "千家街省一保小区" in html and "3栋" not in html and "围墙出现明显裂缝" not in html
    assert "王阿姨" not in html and "13871234567" not in html
    act(client, grid, hazard["id"], action="publish", public_text="围墙出现裂缝<script>x</script>")
    html = client.get("/problems").get_data(as_text=True)
    assert "围墙出现裂缝&lt;script&gt;" in html
    act(client, grid, hazard["id"], action="publish", public=False)
    assert "围墙出现裂缝" not in client.get("/problems").get_data(as_text=True)


def test_publishing_is_refused_for_an_enterprise_request(client, runtime, stub_worker, settings, engine):
    [enterprise] = seed(runtime, settings, ("enterprise", ENTERPRISE[0]))
    response = client.post(f"/api/v1/cases/{enterprise['id']}/actions", json={"action": "publish"},
                           headers=token_for(engine, "street-leader"))
    assert response.status_code == 422


def test_the_map_draws_reported_places_without_anything_from_elsewhere(client, hazard):
    html = client.get("/problems/map").get_data(as_text=True)
    assert "<circle" in html and f"/r/{hazard['receipt']}" in html
    assert "http" not in re.sub(r'xmlns="[^"]+"', "", html.split("<svg", 1)[1].split("</svg>")[0])


def test_the_opt_in_needs_a_phone_or_an_email(client):
    response = client.post("/api/v1/hazard-reports", json={
        "community": "jiangling", "category": "lighting", "description": "路灯不亮",
        "location": {"address": "江零社区东门"}, "contact": {"notify": True}})
    assert response.status_code == 422 and "contact.notify" in response.json["errors"]


def test_every_public_page_is_small_has_the_one_policy_and_no_script_of_its_own(client, hazard):
    for path in ("/", "/?lang=en", "/problems", "/problems/map", f"/r/{hazard['receipt']}",
                 f"/r/{hazard['receipt']}?lang=en"):
        response = client.get(path)
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and len(response.data) < 20 * 1024, path
        assert "script-src 'self'" in response.headers["Content-Security-Policy"], path
        assert "<script" not in html and "http://" not in html.replace("http://localhost", ""), path


def test_the_public_problem_list_reads_the_newest_through_the_time_index_on_sqlite(tmp_path):
    # Without statistics SQLite answered the public kinds' OR by the kind's index: every hazard read, then
    # sorted, for the first page (280 ms at 100,000 cases). The list's own index, newest first, stops at a page.
    from minqing.store import public
    from minqing.store.engine import make_engine, upgrade
    from tests.test_migrations import plan_of

    engine = make_engine(f"sqlite:///{tmp_path / 'list.db'}")
    try:
        upgrade(engine, "head")
        plan = plan_of(engine, public.problem_query("sqlite").limit(21))
        assert "ix_submissions_submitted_id" in plan and "TEMP B-TREE" not in plan, plan
    finally:
        engine.dispose()
