"""Uploads that could hurt: image bombs, orphan uploads filling the disk, originals keeping GPS.

Through the real path: `minqing serve` over HTTP with its worker, files under the data dir, moto S3 in
server mode, real Pillow, and `minqing cases sweep` as cron runs it.
"""

import io
import json
import os
import subprocess
import sys
import time
import uuid
from functools import lru_cache
from pathlib import Path

import pytest
import requests
from PIL import Image

from minqing.attachments import make_store
from minqing.attachments.base import issue_key, staff_copy_key
from minqing.settings import load_settings
from minqing.testing.live import LiveServer
from tests.conftest import SAMPLES, wait_until
from tests.photos import gps_of, phone_jpeg

pytestmark = pytest.mark.integration

HAZARD = json.loads((SAMPLES / "hazard.json").read_text())["valid"][0]
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
FORM = {"community": "jiangling", "category": "lighting", "description": "5栋2单元楼道灯不亮",
        "location.address": "江零社区5栋2单元"}
BOMB_SIDE = 7746  # 60 Mpx: over the 40 Mpx budget, under Pillow's own refusal at twice its warning limit


@lru_cache(maxsize=1)
def bomb_png() -> bytes:
    """A PNG of 7746×7746 black pixels: a few KB on the wire, about 180 MB once decoded to RGB."""
    out = io.BytesIO()
    Image.new("1", (BOMB_SIDE, BOMB_SIDE)).save(out, "PNG", optimize=True)
    return out.getvalue()


@pytest.fixture()
def server(base_env, tmp_path):
    """`minqing serve` with its worker on the embedded defaults: SQLite, the embedded queue, the file store."""
    live = LiveServer(base_env, tmp_path)
    yield live
    live.stop()


@pytest.fixture()
def s3_live_server(base_env, s3_server, tmp_path):
    live = LiveServer({**base_env, **s3_server.env}, tmp_path)
    yield live
    live.stop()


def settings_of(live) -> object:
    return load_settings({k: v for k, v in live.env.items() if k.startswith("MINQING_")})


def photo_rows(live, submission_id: str | None = None) -> list:
    """The worker's record of the photos checked (of one submission, or all)."""
    from sqlalchemy import select

    from minqing.store.engine import make_engine
    from minqing.store.tables import attachments

    engine = make_engine(settings_of(live).database_url)
    query = select(attachments).order_by(attachments.c.key)
    if submission_id is not None:
        query = query.where(attachments.c.submission_id == submission_id)
    try:
        with engine.connect() as connection:
            return connection.execute(query).all()
    finally:
        engine.dispose()


def target(live, content_type="image/jpeg") -> dict:
    response = live.post("/api/v1/attachments", json={"content_type": content_type})
    assert response.status_code == 201, response.text
    return response.json()


def upload(issued: dict, data: bytes, content_type="image/jpeg"):
    return requests.post(issued["upload"]["url"], data=issued["upload"]["fields"],
                         files={"file": ("photo", data, content_type)}, timeout=30)


def submit(live, photos: list[str]) -> str:
    response = live.post("/api/v1/hazard-reports", json=dict(HAZARD, photos=photos))
    assert response.status_code == 202, response.text
    return response.json()["id"]


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def uploads_dir(live) -> Path:
    return Path(settings_of(live).data_dir) / "attachments" / "uploads"


# 1. Image bombs are refused by their header, never decoded.

@pytest.mark.parametrize("lang, words", [("en", "more than 40 million pixels"), ("zh", "像素超过40百万")])
def test_an_image_bomb_is_refused_by_the_upload_endpoint_naming_the_field(server, lang, words):
    issued = target(server, "image/png")
    response = requests.post(issued["upload"]["url"] + f"?lang={lang}", data=issued["upload"]["fields"],
                             files={"file": ("bomb.png", bomb_png(), "image/png")}, timeout=30)
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "urn:minqing:problem:photo-too-many-pixels"
    assert words in response.json()["errors"]["file"][0]
    assert files_under(uploads_dir(server)) == []


def test_an_image_bomb_in_a_form_posted_without_javascript_is_refused_and_not_stored(server):
    form = dict(FORM, client_ref=str(uuid.uuid4()))
    response = server.post("/api/v1/hazard-reports?lang=en", data=form,
                           files={"photos": ("bomb.png", bomb_png(), "image/png")})
    assert response.status_code == 422
    assert "million pixels" in response.json()["errors"]["photos"][0]
    page = server.post("/api/v1/hazard-reports", data=form, headers=BROWSER,
                       files={"photos": ("bomb.png", bomb_png(), "image/png")})
    assert page.status_code == 422
    assert 'id="f-photos-e">照片像素超过40百万' in page.text
    assert files_under(uploads_dir(server)) == []


def test_an_image_bomb_uploaded_straight_to_s3_is_recorded_rejected_by_the_worker(s3_live_server, s3_server):
    issued = target(s3_live_server, "image/png")
    assert upload(issued, bomb_png(), "image/png").status_code == 204  # S3 checks only size and type
    submission = submit(s3_live_server, [issued["key"]])
    [photo] = wait_until(lambda: photo_rows(s3_live_server, submission), timeout=60)
    assert (photo.status, photo.reason, photo.staff_key) == ("rejected", "too-many-pixels", "")
    assert (photo.width, photo.height) == (BOMB_SIDE, BOMB_SIDE)  # from the header
    # Rejected, it is shown to nobody, so it is not kept either; and the worker carries on.
    wait_until(lambda: "Contents" not in s3_server.client().list_objects_v2(Bucket=s3_server.bucket))
    later = target(s3_live_server)
    upload(later, phone_jpeg())
    after = submit(s3_live_server, [later["key"]])
    [ok] = wait_until(lambda: photo_rows(s3_live_server, after), timeout=60)
    assert ok.status == "ok"


CHECK_IN_A_FRESH_PROCESS = """
import resource, sys
from minqing.attachments.images import check_photo
data = open(sys.argv[1], "rb").read()
check_photo(b"not yet", 10, 40_000_000)  # Pillow and its plugins loaded before the baseline
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
found = check_photo(data, 10 * 1024 * 1024, 40_000_000)
print(found.status, found.reason, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


def test_checking_an_image_bomb_never_decodes_it(tmp_path):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(bomb_png())
    out = subprocess.run([sys.executable, "-c", CHECK_IN_A_FRESH_PROCESS, str(bomb)], capture_output=True,
                         text=True, check=True).stdout.split()
    status, reason, grown_mb = out[0], out[1], int(out[2])
    assert (status, reason) == ("rejected", "too-many-pixels")
    assert grown_mb < 32  # decoded, it would be some 180 MB (RGB) on top


# 2. Orphan uploads: a failed post's photos go at once, unclaimed uploads with the sweep.

def test_a_multipart_post_that_fails_validation_leaves_no_photo_behind(server):
    for client_ref in (str(uuid.uuid4()), None):
        form = {k: v for k, v in dict(FORM, description="", client_ref=client_ref).items() if v}
        response = server.post("/api/v1/hazard-reports", data=form,
                               files=[("photos", ("a.jpg", phone_jpeg(), "image/jpeg")),
                                      ("photos", ("b.jpg", phone_jpeg(gps=False), "image/jpeg"))])
        assert response.status_code == 422, response.text
        assert "description" in response.json()["errors"]
    assert files_under(uploads_dir(server)) == []


def test_a_form_shown_again_with_errors_keeps_its_photo_for_the_resubmission(server):
    form = dict(FORM, description="", client_ref=str(uuid.uuid4()))
    page = server.post("/api/v1/hazard-reports", data=form, headers=BROWSER,
                       files={"photos": ("a.jpg", phone_jpeg(), "image/jpeg")})
    assert page.status_code == 422
    [key] = [line.split('value="')[1].split('"')[0] for line in page.text.split("<input")
             if 'name="photos" value=' in line]
    assert [p.name for p in files_under(uploads_dir(server))] == [key.split("/")[1]]
    # Sent again with the description, and without attaching the photo again: the photo is there.
    thanks = server.post("/api/v1/hazard-reports", data=dict(form, description="楼道灯不亮", photos=key),
                         headers=BROWSER, allow_redirects=False)
    assert thanks.status_code == 303
    [photo] = wait_until(lambda: photo_rows(server), timeout=60)
    assert (photo.key, photo.status) == (key, "ok")


def stored_submission(settings, photos: list[str]) -> str:
    """A submission as the worker stores it, naming `photos`, with their check not yet done."""
    from minqing.store import base, changes
    from minqing.store.engine import make_engine, upgrade

    engine = make_engine(settings.database_url)
    upgrade(engine)
    sid = str(uuid.uuid4())
    with engine.begin() as connection:
        changes.store_submission(connection, {
            "id": sid, "receipt": "R" + sid[:8], "kind": "hazard", "data": dict(HAZARD, photos=photos),
            "idempotency_key": None, "lang": "zh-CN", "submitted_at": base.now().isoformat()})
    engine.dispose()
    return sid


def checked_photo(settings, submission_id: str, key: str) -> None:
    from minqing.store import photos as photo_store
    from minqing.store.engine import make_engine

    engine = make_engine(settings.database_url)
    with engine.begin() as connection:
        photo_store.record_photo(connection, dict(key=key, submission_id=submission_id, status="ok", reason="",
                                              content_type="image/jpeg", bytes=1, width=1, height=1,
                                              staff_key=staff_copy_key(key)))
    engine.dispose()


def run_sweep(env: dict) -> dict:
    out = subprocess.run([sys.executable, "-m", "minqing", "cases", "sweep"], env={**os.environ, **env},
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("store_kind", ["files", "s3"])
def test_the_sweep_removes_unclaimed_uploads_past_the_cutoff_and_keeps_the_rest(store_kind, base_env, request):
    env = dict(base_env, MINQING_ATTACHMENTS_EXPIRY_SECONDS="0", MINQING_ATTACHMENTS_GRACE_SECONDS="5")
    if store_kind == "s3":
        env.update(request.getfixturevalue("s3_server").env)
    settings = load_settings(env)
    store = make_store(settings)
    unclaimed, claimed, checked, fresh = (issue_key(settings.secret_key) for _ in range(4))
    for key in (unclaimed, claimed, checked):
        store.put(key, phone_jpeg(), "image/jpeg")
    store.put(staff_copy_key(checked), phone_jpeg(gps=False), "image/jpeg")
    submission = stored_submission(settings, [claimed, checked])
    checked_photo(settings, submission, checked)
    time.sleep(6.5)  # past the cutoff of 0 + 5 s (S3 times objects to the second)
    store.put(fresh, phone_jpeg(), "image/jpeg")
    # An unclaimed upload, and an original whose copy is made (a resent form may write it again), go.
    assert run_sweep(env)["uploads_removed"] == 2
    assert [store.exists(k) for k in (unclaimed, checked, claimed, fresh)] == [False, False, True, True]
    assert store.exists(staff_copy_key(checked))


# 3. What is kept of a photo is the copy without EXIF; the original with its GPS position goes.

def test_after_the_check_no_stored_file_holds_the_gps_position(server):
    issued = target(server)
    assert upload(issued, phone_jpeg()).status_code == 204
    form = dict(FORM, client_ref=str(uuid.uuid4()))
    thanks = server.post("/api/v1/hazard-reports", data=form, headers=BROWSER, allow_redirects=False,
                         files={"photos": ("IMG_0001.jpg", phone_jpeg(1000, 800), "image/jpeg")})
    assert thanks.status_code == 303
    submission = submit(server, [issued["key"]])
    wait_until(lambda: len(photo_rows(server)) == 2, timeout=60)
    [photo] = photo_rows(server, submission)
    root = Path(settings_of(server).data_dir) / "attachments"
    wait_until(lambda: files_under(root / "uploads") == [])  # both originals: the upload's and the form's
    copies = files_under(root / "staff")
    assert len(copies) == 2 and root / photo.staff_key in copies
    assert all(gps_of(path.read_bytes()) == {} for path in copies)


def test_after_the_check_no_object_in_the_bucket_holds_the_gps_position(s3_live_server, s3_server):
    issued = target(s3_live_server)
    assert upload(issued, phone_jpeg()).status_code == 204
    submission = submit(s3_live_server, [issued["key"]])
    [photo] = wait_until(lambda: photo_rows(s3_live_server, submission), timeout=60)
    assert photo.status == "ok"
    s3 = s3_server.client()

    def stored():
        return [o["Key"] for o in s3.list_objects_v2(Bucket=s3_server.bucket).get("Contents", ())]

    wait_until(lambda: stored() == [photo.staff_key])  # the original is removed just after the record
    assert gps_of(s3.get_object(Bucket=s3_server.bucket, Key=photo.staff_key)["Body"].read()) == {}


def staff_access(live, staff_id: str) -> tuple[dict, dict]:
    """A bearer token for the API and a console session cookie, as `minqing token create` and a redeemed
    sign-in link make them."""
    from minqing.store import sessions, tokens
    from minqing.store.engine import make_engine

    engine = make_engine(settings_of(live).database_url)
    try:
        with engine.begin() as connection:
            token = tokens.create(connection, staff_id).token
            session_id, _csrf = sessions.start(connection, staff_id, via="link", hours=1)
    finally:
        engine.dispose()
    return {"Authorization": "Bearer " + token}, {"mq_staff": session_id}


def test_a_photo_staff_add_to_any_step_is_kept_without_its_gps_position(server):
    bearer, cookie = staff_access(server, "qjj-grid")
    case_id = submit(server, [])
    wait_until(lambda: server.get(f"/api/v1/cases/{case_id}", headers=bearer).status_code == 200, timeout=60)
    issued = target(server)
    assert upload(issued, phone_jpeg()).status_code == 204
    step = server.post(f"/api/v1/cases/{case_id}/actions", headers=bearer,
                       json={"action": "acknowledge", "note": "到现场看过，照片附后", "photos": [issued["key"]]})
    assert step.status_code == 200, step.text
    [photo] = wait_until(lambda: photo_rows(server, case_id), timeout=60)
    assert photo.key == issued["key"] and photo.status == "ok"
    wait_until(lambda: files_under(uploads_dir(server)) == [])  # the upload, with its GPS position, is gone
    shown = server.get(f"/staff/cases/{case_id}/photo", params={"key": photo.staff_key}, cookies=cookie)
    assert shown.status_code == 200 and shown.headers["Content-Type"] == "image/jpeg"
    assert gps_of(shown.content) == {}
    assert server.get(f"/staff/cases/{case_id}/photo", params={"key": issued["key"]}, cookies=cookie).status_code == 404
