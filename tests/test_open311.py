"""Open311 GeoReport v2 for hazard reports: services, posting through the native pipeline, and looking
requests up; errors as Open311's list."""

import json

import pytest

from functions.app import create_app
from tests.casework import HAZARD, seed
from minqing.testing.live import LiveServer
from tests.conftest import wait_until

KEY = "civic-app-key"
POST = {"api_key": KEY, "service_code": "lighting", "attribute[community]": "shouyi", "lat": "30.5467",
        "long": "114.3021", "address_string": "首义社区北门", "description": "北门路灯坏了一周",
        "first_name": "阿姨", "last_name": "王", "phone": "13871234567", "media_url": "https://example.org/a.jpg"}


@pytest.fixture()
def client(settings, stub_broker, engine):
    stub_broker.declare_queue(settings.queue_name)
    app = create_app(settings.with_overrides(open311_api_keys=(KEY,)), broker=stub_broker)
    return app.test_client()


def test_the_hazard_categories_are_services_with_groups(client):
    services = client.get("/open311/v2/services.json").json
    assert {s["service_code"] for s in services} >= {"lighting", "structure", "fire_safety"}
    lighting = next(s for s in services if s["service_code"] == "lighting")
    assert lighting["group"] == "环境与设施" and lighting["metadata"] is True
    definition = client.get("/open311/v2/services/lighting.json").json
    assert definition["attributes"][0]["code"] == "community" and definition["attributes"][0]["required"]
    missing = client.get("/open311/v2/services/nothing.json")
    assert missing.status_code == 404 and missing.json == [{"code": 404, "description": "service_code not found"}]


def test_a_post_is_queued_like_a_native_report(client, stub_broker, settings):
    response = client.post("/open311/v2/requests.json", data=POST)
    assert response.status_code == 200, response.json
    [answer] = response.json
    assert answer["service_request_id"][0] == "H"
    [message] = stub_broker.queues[settings.queue_name].queue  # the same store_submission message
    envelope = json.loads(message)["args"][0]
    assert envelope["data"]["contact"] == {"name": "王阿姨", "phone": "13871234567", "anonymous": False}
    assert envelope["data"]["location"]["lat"] == 30.5467 and envelope["data"]["media_url"] == POST["media_url"]


def test_a_post_without_a_valid_key_is_403(client):
    response = client.post("/open311/v2/requests.json", data={**POST, "api_key": "nope"})
    assert response.status_code == 403 and response.json[0]["code"] == 403


def test_an_invalid_post_lists_each_problem(client):
    response = client.post("/open311/v2/requests.json?lang=en",
                           data={"api_key": KEY, "service_code": "lighting", "lat": "95", "long": "114"})
    assert response.status_code == 400
    described = " ".join(e["description"] for e in response.json)
    assert "community" in described and "description" in described and "location.lat" in described


def test_requests_are_listed_and_looked_up_without_personal_data(settings, runtime, stub_worker, engine):
    app = create_app(settings, broker=runtime.broker)
    client = app.test_client()
    [hazard] = seed(runtime, settings, ("hazard", HAZARD[0]))
    listed = client.get("/open311/v2/requests.json").json
    assert [r["service_request_id"] for r in listed] == [hazard["receipt"]]
    [one] = client.get(f"/open311/v2/requests/{hazard['receipt']}.json").json
    # Public as on /problems: coordinates to about 100 m, a rough place, and not the resident's words.
    assert one["status"] == "open" and one["service_code"] == "structure" and one["lat"] == 30.544
    assert one["address"] == "千家街省一保小区" and "围墙" not in one["description"]
    assert one["agency_responsible"] == "首义路街道"
    assert "王阿姨" not in str(one) and "13871234567" not in str(one)
    assert client.get("/open311/v2/requests.json?status=closed").json == []
    assert client.get("/open311/v2/requests.json?start_date=2020-01-01T00:00:00Z&end_date=2020-02-01T00:00:00Z").json == []
    assert client.get("/open311/v2/requests.json?start_date=soon").status_code == 400
    assert client.get("/open311/v2/requests/HXXX-XXXX-XXXX.json").status_code == 404


@pytest.mark.integration
def test_an_open311_request_is_stored_and_followed_over_http(backend_env, tmp_path):
    server = LiveServer({**backend_env, "MINQING_OPEN311_API_KEYS": KEY}, tmp_path)
    try:
        response = server.post("/open311/v2/requests.json", data=POST)
        assert response.status_code == 200, response.text
        receipt = response.json()[0]["service_request_id"]
        [found] = wait_until(lambda: server.get(f"/open311/v2/requests/{receipt}.json").json() if
                             server.get(f"/open311/v2/requests/{receipt}.json").ok else None)
        assert found["status"] == "open" and found["address"] == "首义社区北门"
        assert found["media_url"] is None  # a resident's photo: public once staff publish it
    finally:
        server.stop()
