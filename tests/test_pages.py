"""The phone pages on the Flask test client: prefilled and locked forms, answers to a browser's form post."""

import io
import re
import uuid

import pytest

from tests.photos import phone_jpeg

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
REPORT = {"community": "jiangling", "category": "lighting", "description": "5栋2单元楼道灯不亮",
          "location.address": "江零社区5栋2单元"}


def value_of(html: str, name: str) -> str | None:
    found = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', html)
    return found and found.group(1)


def test_a_poster_link_opens_the_form_prefilled_and_locked(client):
    html = client.get("/f/hazard?spot=jl-05-2&cat=lighting&lock=1").get_data(as_text=True)
    assert '<div class="fixed">江零社区</div><input type="hidden" name="community" value="jiangling">' in html
    assert '<div class="fixed">路灯照明</div><input type="hidden" name="category" value="lighting">' in html
    assert value_of(html, "location.spot") == "jl-05-2"
    assert value_of(html, "location.address") == "江零社区5栋2单元"


def test_without_the_lock_the_prefilled_fields_stay_editable(client):
    html = client.get("/f/hazard?c=jiangling&cat=lighting").get_data(as_text=True)
    assert '<option value="jiangling" selected>' in html
    assert 'class="fixed"' not in html


def test_every_label_is_tied_to_its_input(client):
    for path in ("/f/hazard", "/f/hazard?mode=patrol", "/f/consultation", "/f/consultation?mode=report",
                 "/f/enterprise"):
        html = client.get(path).get_data(as_text=True)
        for target in re.findall(r'<label[^>]* for="([^"]+)"', html):
            assert f'id="{target}"' in html, (path, target)


def test_english_on_request(client):
    assert "Hazard report" in client.get("/f/hazard?lang=en").get_data(as_text=True)
    assert "Hazard report" in client.get("/f/hazard", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "隐患上报" in client.get("/f/hazard").get_data(as_text=True)


def test_the_patrol_variant_asks_for_team_and_volunteer_instead_of_contact(client):
    html = client.get("/f/hazard?mode=patrol&team=一组&vid=V-007").get_data(as_text=True)
    assert value_of(html, "patrol.team") == "一组" and value_of(html, "patrol.volunteer_id") == "V-007"
    assert 'name="contact.phone"' not in html


def test_the_consultation_form_has_a_request_and_a_report_mode(client):
    request = client.get("/f/consultation").get_data(as_text=True)
    report = client.get("/f/consultation?mode=report").get_data(as_text=True)
    assert value_of(request, "mode") == "request" and 'name="preferred_time"' in request
    assert value_of(report, "mode") == "report" and 'name="beneficiaries"' in report


def test_the_form_page_is_small_and_asks_nothing_of_other_sites(client):
    html = client.get("/f/hazard?spot=jl-05-2&lock=1").get_data()
    assert re.search(rb'<script src="/assets/form.js" defer>', html)
    script = client.get("/assets/form.js")
    assert script.status_code == 200
    script = script.get_data()
    assert len(html) + len(script) < 20 * 1024
    assert not re.search(rb'(src|href)="(https?:)?//', html)


def test_a_browser_form_post_is_answered_with_the_thank_you_page(client):
    response = client.post("/api/v1/hazard-reports?spot=jl-05-2&lock=1", data=REPORT, headers=BROWSER)
    assert response.status_code == 303
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    receipt = re.search(r'<p class="code" id="receipt">([0-9A-Z-]+)</p>', thanks).group(1)
    assert f'href="/r/{receipt}"' in thanks


def test_an_api_client_posting_a_form_still_gets_json(client):
    response = client.post("/api/v1/hazard-reports", data=REPORT, headers={"Accept": "*/*"})
    assert response.status_code == 202
    assert response.json["status"] == "received"


def test_a_validation_error_shows_the_form_again_with_the_input_and_the_messages(client):
    response = client.post("/api/v1/hazard-reports?lang=en", data=dict(REPORT, **{"contact.phone": "12345"}),
                           headers=BROWSER)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "5栋2单元楼道灯不亮</textarea>" in html
    assert value_of(html, "contact.phone") == "12345"
    assert re.search(r'aria-describedby="f-contact-phone-e">\s*<p class="err" id="f-contact-phone-e">Not a valid',
                     html)


def test_a_missing_group_is_reported_at_its_first_input(client):
    html = client.post("/api/v1/hazard-reports", data={k: v for k, v in REPORT.items() if k != "location.address"},
                       headers=BROWSER).get_data(as_text=True)
    assert 'id="f-location-address-e">此项为必填。' in html


def test_a_double_tap_gives_one_receipt(client, stub_broker, settings):
    form = dict(REPORT, client_ref=str(uuid.uuid4()))
    first = client.post("/api/v1/hazard-reports", data=form, headers=BROWSER).headers["Location"]
    second = client.post("/api/v1/hazard-reports", data=form, headers=BROWSER).headers["Location"]
    assert first == second


def test_a_form_with_a_photo_posted_without_javascript_stores_the_photo(client, stub_broker, settings):
    from dramatiq import Message

    form = dict(REPORT, client_ref=str(uuid.uuid4()), photos=(io.BytesIO(phone_jpeg()), "IMG_0001.jpg"))
    response = client.post("/api/v1/hazard-reports", data=form, headers=BROWSER, content_type="multipart/form-data")
    assert response.status_code == 303
    [message] = [Message.decode(m) for m in stub_broker.queues[settings.queue_name].queue]
    [key] = message.args[0]["data"]["photos"]
    assert client.application.extensions["minqing"].attachments.get(key) == phone_jpeg()


def test_a_photo_is_kept_when_the_form_comes_back_with_an_error(client):
    form = {"community": "jiangling", "photos": (io.BytesIO(phone_jpeg()), "IMG_0001.jpg")}
    html = client.post("/api/v1/hazard-reports", data=form, headers=BROWSER,
                       content_type="multipart/form-data").get_data(as_text=True)
    assert re.search(r'<input type="hidden" name="photos" value="uploads/\w+">', html)


def test_a_file_that_is_not_a_photo_comes_back_as_an_error_next_to_the_photos(client):
    form = dict(REPORT, photos=(io.BytesIO(b"MZ not a photo"), "photo.jpg"))
    response = client.post("/api/v1/hazard-reports", data=form, headers=BROWSER, content_type="multipart/form-data")
    assert response.status_code == 415
    assert 'id="f-photos-e">只接受 JPEG' in response.get_data(as_text=True)


def test_the_status_page_shows_the_history_and_no_personal_data(client, stub_worker, stub_broker, settings):
    form = dict(REPORT, **{"contact.name": "王阿姨", "contact.phone": "13871234567"})
    receipt = client.post("/api/v1/hazard-reports", data=form).json["receipt"]
    stub_broker.join(settings.queue_name)
    html = client.get(f"/r/{receipt}").get_data(as_text=True)
    assert "待受理" in html and "江零社区" in html and "路灯照明" in html
    assert "王阿姨" not in html and "1387" not in html and "楼道灯" not in html


@pytest.mark.parametrize("code", ["HXXX-XXXX-XXXX", "nonsense"])
def test_an_unknown_receipt_is_a_404_page(client, code):
    response = client.get(f"/r/{code}")
    assert response.status_code == 404
    assert "没有这个回执码" in response.get_data(as_text=True)


def test_a_patrol_round_goes_on_with_the_same_team_and_volunteer(client):
    form = dict(REPORT, **{"patrol.team": "平安合伙人一组", "patrol.volunteer_id": "V-007"})
    thanks = client.get(client.post("/api/v1/hazard-reports?mode=patrol&c=jiangling", data=form,
                                    headers=BROWSER).headers["Location"]).get_data(as_text=True)
    next_form = re.search(r'<a class="btn alt" href="([^"]+)">记录下一条发现</a>', thanks).group(1)
    html = client.get(next_form.replace("&amp;", "&")).get_data(as_text=True)
    assert value_of(html, "patrol.team") == "平安合伙人一组" and value_of(html, "patrol.volunteer_id") == "V-007"


def test_only_the_patrol_form_keeps_findings_on_the_phone(client):
    resident = client.get("/f/hazard?c=jiangling").data
    patrol = client.get("/f/hazard?mode=patrol&c=jiangling").data
    assert b"patrol.js" not in resident and b"data-offline" not in resident and b"rectified_on_site" not in resident
    assert b'<script src="/assets/patrol.js" defer>' in patrol and b"data-offline" in patrol
    assert b'name="rectified_on_site"' in patrol and b'name="after_photos"' in patrol
    assert re.search(rb'name="patrol.round" id="f-patrol-round" value="[0-9a-f-]{36}"', patrol)


def test_the_patrol_worker_is_served_under_the_forms_path_and_revalidated(client):
    worker = client.get("/f/patrol-sw.js")
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert worker.headers["Cache-Control"] == "no-cache"
    assert b'importScripts("/assets/patrol-queue.js")' in worker.data
