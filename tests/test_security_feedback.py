"""Security, through the real path: `minqing serve` over HTTP, on SQLite and PostgreSQL.

Only the one who reported may rate (and so close or reopen) a case: the receipt, which Open311 lists for
every hazard, reads a public status and nothing more.
"""

import re
import subprocess
import sys

import pytest
import requests

from minqing.receipts import (
    client_scope,
    feedback_code,
    is_feedback_code,
    issue,
    keyed_submission_id,
)
from tests.casework import HAZARD
from minqing.testing.live import LiveServer
from tests.conftest import backend_settings, wait_until

API_KEY = "civic-app-key"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
FORM = {"community": "jiangling", "category": "lighting", "description": "5栋2单元楼道灯不亮",
        "location.address": "江零社区5栋2单元", "severity": "medium"}


@pytest.fixture(params=["embedded", "redis+postgres"])
def server(request, base_env, tmp_path):
    env = {**backend_settings(request, request.param, base_env), "MINQING_OPEN311_API_KEYS": API_KEY}
    live = LiveServer(env, tmp_path)
    yield live
    live.stop()


def bearer(server, staff_id: str) -> dict:
    issued = subprocess.run([sys.executable, "-m", "minqing", "token", "create", "--staff", staff_id],
                            env=server.env, capture_output=True, text=True, timeout=60)
    assert issued.returncode == 0, issued.stderr
    return {"Authorization": f"Bearer {issued.stdout.strip()}"}


def resolve(server, receipt: str) -> dict:
    """Staff work the case of `receipt` to "resolved"; the street leader's token (who sees every case)."""
    grid = bearer(server, "street-leader")
    case = wait_until(lambda: next((c for c in server.get("/api/v1/cases", headers=grid).json()["items"]
                                    if c["receipt"] == receipt), None))
    for action in ("acknowledge", "start", "resolve"):
        done = server.post(f"/api/v1/cases/{case['id']}/actions", json={"action": action}, headers=grid)
        assert done.status_code == 200, done.text
    return {"id": case["id"], "grid": grid}


def rate(server, receipt: str, lang: str = "zh", **body):
    return server.post(f"/api/v1/receipts/{receipt}/feedback?lang={lang}", json={"rating": 1, "fixed": False, **body})


def test_a_feedback_code_is_80_bits_apart_from_the_receipt_and_stays_the_same():
    sid = "00000000-0000-4000-8000-000000000000"
    # Codes already given to residents must keep working: the derivation must never change.
    assert issue("s3cret", "hazard", sid) == ("HS3C-BPAJ-PPK3", "7N96-1540-7712-96ND")
    assert feedback_code("s3cret", sid) == "7N96-1540-7712-96ND"
    assert is_feedback_code("s3cret", sid, "7n96 1540 77l2 96nd")
    assert not any(is_feedback_code("s3cret", sid, wrong) for wrong in (
        None, "", "HS3C-BPAJ-PPK3", "7N96-1540-7712-96NE", "７N96-1540-7712-96ND", feedback_code("other", sid)))


@pytest.mark.integration
def test_a_receipt_from_the_open311_list_cannot_rate_reopen_or_close_a_case(server):
    server.post("/api/v1/hazard-reports", json=HAZARD[0])
    [listed] = wait_until(lambda: server.get("/open311/v2/requests.json").json())
    receipt = listed["service_request_id"]
    case = resolve(server, receipt)
    before = server.get("/api/v1/tallies").json()["totals"]["hazard"]

    for lang, given in (("zh", {}), ("en", {"feedback_code": "0000-0000-0000-0000"}),
                        ("zh", {"feedback_code": receipt}), ("en", {"feedback_code": ""})):
        refused = rate(server, receipt, lang, **given)
        assert refused.status_code == 403, refused.text
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert refused.json()["type"] == "urn:minqing:problem:feedback-code-wrong"
        assert refused.headers["Content-Language"] == ("en" if lang == "en" else "zh-CN")
        assert ("feedback code" in refused.json()["detail"]) == (lang == "en")
    form = server.post(f"/api/v1/receipts/{receipt}/feedback", data={"rating": "1", "fixed": "false"})
    assert form.status_code == 403

    status = server.get(f"/api/v1/receipts/{receipt}").json()
    assert status["status"] == "resolved" and status["feedback_open"] is True
    detail = server.get(f"/api/v1/cases/{case['id']}", headers=case["grid"]).json()
    assert detail["feedback"] is None and "resident" not in {step["actor"] for step in detail["history"]}
    assert server.get("/api/v1/tallies").json()["totals"]["hazard"] == before


@pytest.mark.integration
def test_the_reporter_rates_with_the_code_from_their_202(server):
    accepted = server.post("/api/v1/hazard-reports", json=HAZARD[0]).json()
    code = accepted["feedback_code"]
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}", code)  # 80 bits, Crockford base32
    resolve(server, accepted["receipt"])
    spoken = code.lower().replace("-", " ")
    given = rate(server, accepted["receipt"], rating=2, fixed=False, comment="裂缝还在", feedback_code=spoken)
    assert given.status_code == 201 and given.json()["status"] == "reopened"
    assert server.get("/api/v1/tallies").json()["totals"]["hazard"]["rated"] == 1


@pytest.mark.integration
def test_an_open311_poster_gets_the_code_and_nobody_listing_does(server):
    posted = server.post("/open311/v2/requests.json", data={
        "api_key": API_KEY, "service_code": "lighting", "attribute[community]": "shouyi",
        "address_string": "首义社区北门", "description": "北门路灯坏了一周"}).json()
    [answer] = posted
    receipt, code = answer["service_request_id"], answer["feedback_code"]
    wait_until(lambda: server.get(f"/open311/v2/requests/{receipt}.json").ok)
    public = server.get("/open311/v2/requests.json").text + server.get(f"/api/v1/receipts/{receipt}").text
    public += server.get(f"/r/{receipt}").text + server.get(f"/thanks/{receipt}").text
    assert code not in public and code.replace("-", "") not in public
    resolve(server, receipt)
    assert rate(server, receipt, rating=5, fixed=True, feedback_code=code).json()["status"] == "closed"


@pytest.mark.integration
def test_the_thank_you_page_shows_the_code_to_the_browser_that_posted_and_keeps_it_out_of_urls(server):
    phone = requests.Session()
    posted = phone.post(server.url + "/api/v1/hazard-reports", data=FORM, headers=BROWSER, allow_redirects=False,
                        timeout=15)
    assert posted.status_code == 303 and posted.headers["Cache-Control"] == "no-store"
    cookie = posted.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/thanks/" in cookie
    location = posted.headers["Location"]
    thanks = phone.get(location if location.startswith("http") else server.url + location, timeout=15)
    assert thanks.headers["Referrer-Policy"] == "no-referrer" and thanks.headers["Cache-Control"] == "no-store"
    receipt = re.search(r'id="receipt">([0-9A-Z-]+)<', thanks.text).group(1)
    code = re.search(r'id="feedback-code">([0-9A-Z-]+)<', thanks.text).group(1)
    assert code not in location and code.replace("-", "") not in location
    assert not any(code in r.url for r in [posted, *thanks.history, thanks])

    stranger = requests.get(server.url + f"/thanks/{receipt}", timeout=15)
    assert stranger.status_code == 200 and code not in stranger.text and "feedback-code" not in stranger.text

    resolve(server, receipt)
    form = phone.post(server.url + f"/api/v1/receipts/{receipt}/feedback", timeout=15,
                      data={"rating": "4", "fixed": "true", "comment": "好", "feedback_code": code})
    assert form.status_code == 201 and form.json()["status"] == "closed"


OPEN311_POST = {"service_code": "lighting", "attribute[community]": "shouyi", "address_string": "首义社区北门",
                "description": "北门路灯坏了一周"}


@pytest.fixture()
def open311_keys(settings, stub_broker, engine):
    """A Flask test client of an app with three Open311 API keys."""
    from functions.app import create_app

    stub_broker.declare_queue(settings.queue_name)
    keys = ("first-client-key", "second-client-key", API_KEY)
    return create_app(settings.with_overrides(open311_api_keys=keys), broker=stub_broker).test_client()


def test_open311_api_keys_are_compared_in_constant_time_with_every_key(open311_keys, monkeypatch):
    import hmac

    compared = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: compared.append((a, b)) or real(a, b))
    for wrong in ("civic-app-ke", "civic-app-key-", "first-client-key ", "密钥"):
        compared.clear()
        refused = open311_keys.post("/open311/v2/requests.json", data={**OPEN311_POST, "api_key": wrong})
        assert refused.status_code == 403, wrong
        assert {b for _, b in compared} == {b"first-client-key", b"second-client-key", API_KEY.encode()}
    compared.clear()
    # The first key matches, and every other is compared all the same.
    accepted = open311_keys.post("/open311/v2/requests.json", data={**OPEN311_POST, "api_key": "first-client-key"})
    assert accepted.status_code == 200 and len(compared) >= 3
    assert open311_keys.post("/open311/v2/requests.json", data=OPEN311_POST).status_code == 403


# Idempotency keys are each client's own, and two forms racing under one key are both kept.

A, B, C = (dict(HAZARD[2], category=category) for category in ("traffic_parking", "facility", "sanitation"))


def test_a_keyed_id_is_the_same_for_a_retry_and_another_for_anything_else():
    first = keyed_submission_id("s3cret", "hazard", "public:key-1", "h")
    # Retries after an upgrade must find their first post: the derivation must never change.
    assert first == "54e877f4-b951-4dac-ac3c-061125d9108a"
    others = {keyed_submission_id("s3cret", *changed) for changed in (
        ("consultation", "public:key-1", "h"), ("hazard", "public:key-2", "h"), ("hazard", "public:key-1", "i"),
        ("hazard", client_scope("s3cret", API_KEY) + ":key-1", "h"))}
    assert len(others) == 4 and first not in others
    assert client_scope("s3cret") == "public"
    assert client_scope("s3cret", API_KEY) == "api-2B2GKHXM83GZSKVQ" != client_scope("s3cret", API_KEY + "x")


def database_of(server):
    """An engine on the live server's own database."""
    from minqing.settings import load_settings
    from minqing.store.engine import make_engine

    return make_engine(load_settings(server.env).database_url)


def stored(server, receipt: str) -> dict:
    """The public status of `receipt` once its submission is stored."""
    return wait_until(lambda: (found := server.get(f"/api/v1/receipts/{receipt}").json())["submitted_at"] and found)


@pytest.mark.integration
def test_two_forms_raced_under_one_key_are_never_a_202_that_is_then_dropped(server):
    import threading

    accepted, rounds_both_accepted = [], 0
    for round_ in range(20):
        start, answers = threading.Barrier(2), {}

        def post(name, body):
            start.wait()
            answers[name] = server.post("/api/v1/hazard-reports", json=body,
                                        headers={"Idempotency-Key": f"race-{round_}"})

        threads = [threading.Thread(target=post, args=pair) for pair in (("A", A), ("B", B))]
        [t.start() for t in threads]
        [t.join() for t in threads]
        for name, response in answers.items():
            assert response.status_code in (202, 422), response.text
            if response.status_code == 202:
                accepted.append((name, response.json()["receipt"]))
        rounds_both_accepted += all(r.status_code == 202 for r in answers.values())
    assert rounds_both_accepted, "the two posts never raced: no round had both accepted"
    categories = {"A": A["category"], "B": B["category"]}
    for name, receipt in accepted:
        # Stored, and stored as the form that was accepted, not as the other one under the same key.
        assert stored(server, receipt)["category"] == categories[name], (name, receipt)

    retry = server.post("/api/v1/hazard-reports", json=A, headers={"Idempotency-Key": "race-0"})
    assert retry.status_code == 202 and ("A", retry.json()["receipt"]) in accepted
    other = server.post("/api/v1/hazard-reports", json=C, headers={"Idempotency-Key": "race-0"})
    assert other.status_code == 422 and other.json()["type"] == "urn:minqing:problem:idempotency-key-reused"


@pytest.mark.integration
def test_one_open311_client_cannot_claim_another_clients_key(base_env, tmp_path, request):
    keys = ("first-client-key", "second-client-key")
    server = LiveServer({**backend_settings(request, "embedded", base_env), "MINQING_OPEN311_API_KEYS": ",".join(keys)},
                        tmp_path)
    try:
        def post(api_key, body):
            form = {"api_key": api_key, "service_code": body["category"], "attribute[community]": body["community"],
                    "address_string": body["location"]["address"], "description": body["description"]}
            return server.post("/open311/v2/requests.json", data=form, headers={"Idempotency-Key": "order-17"})

        first = post(keys[0], A)
        assert first.status_code == 200, first.text
        mine = first.json()[0]["service_request_id"]
        stored(server, mine)
        assert post(keys[0], C).status_code == 400  # the first client's own key, another form
        assert post(keys[0], A).json()[0]["service_request_id"] == mine  # its retry
        # The same key and the same form from the second client: its own submission, not the first's receipt.
        theirs = post(keys[1], A)
        assert theirs.status_code == 200, theirs.text
        receipt = theirs.json()[0]["service_request_id"]
        assert receipt != mine and stored(server, receipt)["category"] == A["category"]
        assert post(keys[1], C).status_code == 400
        native = server.post("/api/v1/hazard-reports", json=A, headers={"Idempotency-Key": "order-17"})
        assert native.status_code == 202 and native.json()["receipt"] != mine
        stored(server, native.json()["receipt"])

        from sqlalchemy import select

        from minqing.store.tables import submissions

        engine = database_of(server)
        with engine.connect() as c:
            scoped = set(c.execute(select(submissions.c.idempotency_key)).scalars())
        engine.dispose()
        assert len(scoped) == 3 and "public:order-17" in scoped
        assert not any(key in text for key in keys for text in scoped)  # a MAC of the API key, not the key
    finally:
        server.stop()


@pytest.mark.integration
def test_a_retry_of_a_submission_stored_before_keys_were_scoped_gets_its_receipt(server):
    from functions.app import create_app
    from minqing.settings import load_settings
    from minqing.store import changes
    from tests.casework import envelope

    settings = load_settings(server.env)
    content = create_app(settings).extensions["minqing"].schemas["hazard"].load(A)
    old = envelope(settings, "hazard", content, key="phone-retry-7")  # the id from (kind, key), as before
    old["idempotency_key"] = "phone-retry-7"  # stored bare, as before
    engine = database_of(server)
    with engine.begin() as c:
        changes.store_submission(c, old)
    engine.dispose()

    retry = server.post("/api/v1/hazard-reports", json=A, headers={"Idempotency-Key": "phone-retry-7"})
    assert retry.status_code == 202
    assert (retry.json()["id"], retry.json()["receipt"]) == (old["id"], old["receipt"])
    assert retry.json()["feedback_code"] == feedback_code(settings.secret_key, old["id"])
    # Whose the bare key was is not known: it refuses no other form, which is stored under its own id.
    other = server.post("/api/v1/hazard-reports", json=C, headers={"Idempotency-Key": "phone-retry-7"})
    assert other.status_code == 202 and other.json()["receipt"] != old["receipt"]
    assert stored(server, other.json()["receipt"])["category"] == C["category"]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_migration_0007_indexes_keys_and_makes_room_for_their_scope(database, tmp_path, request):
    import sqlalchemy as sa

    from minqing.store.engine import current_revision, make_engine, upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}" if database == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    try:
        upgrade(engine, "0006")
        upgrade(engine, "0007")
        assert current_revision(engine) == "0007"
        indexes = {i["name"]: i["column_names"] for i in sa.inspect(engine).get_indexes("submissions")}
        assert indexes["ix_submissions_idempotency_key"] == ["idempotency_key", "kind"]
        with engine.begin() as c:
            c.execute(sa.text(
                "INSERT INTO submissions (id, receipt, kind, community, category, priority, status, payload, "
                "body_hash, idempotency_key, lang, submitted_at, stored_at, updated_at) VALUES ('x', 'R', "
                "'hazard', '', 'other', '', 'received', '{}', 'h', :key, 'zh-CN', :at, :at, :at)"),
                {"key": "api-" + "Z" * 16 + ":" + "k" * 128, "at": "2026-11-26 00:00:00"})
    finally:
        engine.dispose()
