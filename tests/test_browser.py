"""A resident's phone, for real: the system Chromium at 360×640 with WeChat's user agent, JavaScript on and
off, against `minqing serve` over HTTP, on the embedded default and with photos in S3 (moto server)."""

import json
import os
import re
import uuid
from urllib.parse import urlparse

import pytest
from sqlalchemy import select

from minqing.attachments.base import staff_copy_key
from minqing.testing.live import LiveServer
from tests.conftest import ARTIFACTS, S3Server, wait_until
from tests.photos import gps_of, phone_jpeg
from minqing.store.engine import make_engine
from minqing.store.tables import attachments, submissions

pytestmark = pytest.mark.integration

FORM = "/f/hazard?spot=jl-05-2&cat=lighting&lock=1"


def env_for(tmp_path_factory, **extra):
    return {"MINQING_DATA_DIR": str(tmp_path_factory.mktemp("var")), "MINQING_SECRET_KEY": uuid.uuid4().hex,
            "MINQING_QUEUE": "mq_" + uuid.uuid4().hex[:12], "MINQING_WORKER_THREADS": "2", **extra}


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    server = LiveServer(env_for(tmp_path_factory), tmp_path_factory.mktemp("logs"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def with_s3(tmp_path_factory):
    s3 = S3Server()
    server = LiveServer(env_for(tmp_path_factory, **s3.env), tmp_path_factory.mktemp("logs"))
    server.s3 = s3
    yield server
    server.stop()
    s3.stop()


def stored(server, receipt: str):
    engine = make_engine(f"sqlite:///{server.env['MINQING_DATA_DIR']}/minqing.db")
    try:
        def found():
            with engine.connect() as c:
                row = c.execute(select(submissions).where(submissions.c.receipt == receipt)).first()
                photos = row and c.execute(select(attachments).where(attachments.c.submission_id == row.id)).all()
            return row and len(photos) == len(row.payload.get("photos", [])) and (row, photos)
        return wait_until(found, timeout=30)
    finally:
        engine.dispose()


def weigh(page, server):
    """Bytes transferred (headers + bodies) and requests made while the form loads."""
    requests = []
    page.on("requestfinished", lambda request: requests.append(request))
    page.goto(server.url + FORM, wait_until="load")
    sizes = [(r.url, r.sizes()) for r in requests]
    return {"requests": len(sizes), "bodies": sum(s["responseBodySize"] for _, s in sizes),
            "transferred": sum(s["responseBodySize"] + s["responseHeadersSize"] + s["requestHeadersSize"]
                               for _, s in sizes),
            "origins": sorted({urlparse(u).netloc for u, _ in sizes})}


def shoot(phone, name):
    ARTIFACTS.mkdir(exist_ok=True)
    phone.page.screenshot(path=str(ARTIFACTS / f"{name}-{phone.name}.png"), full_page=True)


def report_with_photo(phone, server):
    page = phone.page
    weight = weigh(page, server)
    (ARTIFACTS / f"page-weight-{phone.name}.json").parent.mkdir(exist_ok=True)
    (ARTIFACTS / f"page-weight-{phone.name}.json").write_text(json.dumps(weight, indent=2))
    print(f"\nform page weight ({phone.name}): {weight}")
    assert weight["bodies"] < 20 * 1024
    assert weight["origins"] == [urlparse(server.url).netloc]

    assert page.input_value("#f-location-address") == "江零社区5栋2单元"
    page.fill("#f-description", "5栋2单元楼道灯不亮，晚上很黑。")
    page.fill("#f-contact-phone", "13871234567")
    page.set_input_files("#f-photos", files=[{"name": "IMG_2041.jpg", "mimeType": "image/jpeg",
                                              "buffer": phone_jpeg(2400, 1800)}])
    shoot(phone, "hazard-form")
    page.click("button[type=submit]")
    page.wait_for_url("**/thanks/**")
    receipt = page.text_content("#receipt")
    # The feedback code comes in a cookie for this page (SameSite=Strict, over the 303), not in its URL.
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", page.text_content("#feedback-code"))
    assert page.text_content("#feedback-code") not in page.url
    shoot(phone, "hazard-thanks")
    page.click(f'a[href="/r/{receipt}"]')
    page.wait_for_url(f"**/r/{receipt}")
    assert receipt in page.text_content("main")
    shoot(phone, "hazard-status")
    return receipt


def test_a_resident_reports_a_hazard_with_a_photo(phone, embedded):
    receipt = report_with_photo(phone, embedded)
    row, [photo] = stored(embedded, receipt)
    assert row.payload["location"]["spot"] == "jl-05-2"
    assert row.payload["category"] == "lighting"
    assert photo.status == "ok"
    files = embedded.env["MINQING_DATA_DIR"] + "/attachments/"
    staff = open(files + staff_copy_key(photo.key), "rb").read()
    assert gps_of(staff) == {}
    # Shrunk on the phone before upload with JavaScript, sent as taken without (with the position): either
    # way only the worker's copy, without the position, is kept.
    assert max(photo.width, photo.height) == (2000 if phone.javascript else 2400)
    wait_until(lambda: not os.path.exists(files + photo.key))


def test_photos_go_to_s3_compatible_storage(phone, with_s3):
    receipt = report_with_photo(phone, with_s3)
    _, [photo] = stored(with_s3, receipt)
    assert photo.status == "ok"
    bucket = with_s3.s3.client()
    staff = bucket.get_object(Bucket=with_s3.s3.bucket, Key=photo.staff_key)["Body"].read()
    assert gps_of(staff) == {}
    # Only the copy is kept: the upload itself is removed once the copy is stored.
    wait_until(lambda: "Contents" not in bucket.list_objects_v2(Bucket=with_s3.s3.bucket, Prefix=photo.key))


def test_a_validation_error_keeps_what_the_resident_typed(phone, embedded):
    page = phone.page
    page.goto(embedded.url + FORM)
    page.fill("#f-description", "路灯不亮")
    page.fill("#f-contact-name", "王阿姨")
    page.fill("#f-contact-phone", "12345")
    page.click("button[type=submit]")
    page.wait_for_selector("#f-contact-phone-e")
    shoot(phone, "hazard-error")
    assert "不是有效的手机号码" in page.text_content("#f-contact-phone-e")
    assert page.input_value("#f-description") == "路灯不亮"
    assert page.input_value("#f-contact-name") == "王阿姨"
    assert page.input_value("#f-contact-phone") == "12345"
    page.fill("#f-contact-phone", "13871234567")
    page.click("button[type=submit]")
    page.wait_for_url("**/thanks/**")
