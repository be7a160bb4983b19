"""Open311 in XML, as FixMyStreet's client asks for it: the spec-written client in tests/open311_client.py
walks the round trip against `minqing serve` over HTTP; the JSON and XML answers carry the same data."""

from datetime import datetime, timedelta, timezone
from xml.etree import ElementTree

import pytest
import requests

from minqing.store import tokens
from minqing.store.engine import make_engine
from minqing.testing.live import LiveServer
from tests.conftest import backend_settings, wait_until
from tests.open311_client import Client, Open311Error, read

pytestmark = pytest.mark.integration
KEY = "fixmystreet-key"
POST = {"service_code": "lighting", "attribute[community]": "shouyi", "lat": "30.5467", "long": "114.3021",
        "address_string": "首义社区北门12号", "description": "北门路灯坏了一周，电话13871234567",
        "first_name": "阿姨", "last_name": "王", "phone": "13871234567", "email": "wang@example.com"}


@pytest.fixture(params=["embedded", "redis+postgres"])
def server(request, base_env, tmp_path):
    live = LiveServer({**backend_settings(request, request.param, base_env), "MINQING_OPEN311_API_KEYS": KEY},
                      tmp_path)
    yield live
    live.stop()


def staff(server, staff_id: str) -> dict:
    url = server.env.get("MINQING_DATABASE_URL") or f"sqlite:///{server.env['MINQING_DATA_DIR']}/minqing.db"
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            return {"Authorization": "Bearer " + tokens.create(connection, staff_id).token}
    finally:
        engine.dispose()


def test_fixmystreet_files_follows_and_updates_a_report_in_xml(server):
    client = Client(server.url + "/open311/v2", jurisdiction_id="shouyilu", api_key=KEY)
    [endpoint] = client.discovery()["endpoints"]
    assert endpoint["url"] == server.url + "/open311/v2" and "text/xml" in endpoint["formats"]
    services = client.services()
    lighting = next(s for s in services if s["service_code"] == "lighting")
    assert lighting["metadata"] == "true" and lighting["group"]
    definition = client.service_definition("lighting")
    community = next(a for a in definition["attributes"] if a["code"] == "community")
    assert community["required"] == "true" and {"key": "shouyi", "name": "首义社区"} in community["values"]

    created = client.post_request(**POST)
    receipt = created["service_request_id"]
    assert wait_until(lambda: _or_none(lambda: client.token(receipt)))["service_request_id"] == receipt
    found = client.request(receipt)
    assert found["status"] == "open" and found["service_code"] == "lighting"
    assert found["address"] == "首义社区北门" and "13871234567" not in str(found) and "王" not in str(found)
    assert receipt in [r["service_request_id"] for r in client.requests(service_code="lighting")]

    headers = staff(server, "street-leader")
    case_id = requests.get(f"{server.url}/api/v1/cases?q={receipt}", headers=headers, timeout=15).json()["items"][0]["id"]
    for body in ({"action": "acknowledge"}, {"action": "resolve", "reply": "路灯已更换。"}):
        assert requests.post(f"{server.url}/api/v1/cases/{case_id}/actions", json=body, headers=headers,
                             timeout=15).ok
    since = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    updates = [u for u in client.updates(start_date=since) if u["service_request_id"] == receipt]
    assert [u["status"] for u in updates] == ["OPEN", "CLOSED"]
    assert updates[-1]["description"] == "路灯已更换。" and updates[-1]["update_id"]
    assert client.request(receipt)["status"] == "closed"

    posted = client.post_update(service_request_id=receipt, update_id="fms-77", status="OPEN",
                                description="还是不亮", updated_datetime=since, first_name="阿姨", last_name="王")
    again = client.post_update(service_request_id=receipt, update_id="fms-77", status="OPEN", description="还是不亮")
    assert posted["update_id"] and again == posted  # FixMyStreet's retry is the same update
    history = requests.get(f"{server.url}/api/v1/cases/{case_id}", headers=headers, timeout=15).json()["history"]
    assert [h["note"] for h in history if h["action"] == "update"] == ["还是不亮"]
    assert history[-1]["status"] == "resolved"  # an update from another site moves nothing


def _or_none(call):
    try:
        return call()
    except Open311Error:
        return None


def test_errors_are_open311_errors_with_the_right_status(server):
    wrong_place = Client(server.url + "/open311/v2", jurisdiction_id="elsewhere")
    with pytest.raises(Open311Error) as raised:
        wrong_place.services()
    assert raised.value.status == 404 and raised.value.errors[0]["code"] == "404"
    with pytest.raises(Open311Error) as raised:
        Client(server.url + "/open311/v2", api_key="nope").post_request(**POST)
    assert raised.value.status == 403
    with pytest.raises(Open311Error) as raised:
        Client(server.url + "/open311/v2", api_key=KEY).post_request(**{**POST, "service_code": "ufo"})
    assert raised.value.status == 400 and raised.value.errors
    with pytest.raises(Open311Error) as raised:
        Client(server.url + "/open311/v2").request("HXXX-XXXX-XXXX")
    assert raised.value.status == 404


def _same(json_value, xml_value) -> bool:
    """JSON's numbers, booleans and nulls are XML's text."""
    if isinstance(json_value, dict):
        return json_value.keys() == xml_value.keys() and all(_same(v, xml_value[k]) for k, v in json_value.items())
    if isinstance(json_value, list):
        return len(json_value) == len(xml_value) and all(map(_same, json_value, xml_value))
    text = "" if json_value is None else ("true" if json_value is True else "false" if json_value is False
                                          else str(json_value))
    return text == xml_value


def test_json_and_xml_carry_the_same_data(server):
    receipt = Client(server.url + "/open311/v2", api_key=KEY).post_request(**POST)["service_request_id"]
    wait_until(lambda: requests.get(f"{server.url}/open311/v2/requests/{receipt}.json", timeout=15).ok)
    for path in ("discovery", "services", "services/lighting", "requests", f"requests/{receipt}",
                 f"tokens/{receipt}", "servicerequestupdates", "services/ufo", "requests/HXXX-XXXX-XXXX"):
        as_json = requests.get(f"{server.url}/open311/v2/{path}.json", timeout=15)
        as_xml = requests.get(f"{server.url}/open311/v2/{path}.xml", timeout=15)
        assert as_json.status_code == as_xml.status_code, path
        assert as_xml.headers["Content-Type"].startswith("text/xml")
        assert _same(as_json.json(), read(ElementTree.fromstring(as_xml.content))), path
