"""Photo uploads on the embedded store: issued keys, the direct upload endpoint, the intake and the check."""

import io
import json

import pytest

from minqing.attachments import make_store
from minqing.attachments.base import is_issued, issue_key, staff_copy_key
from minqing.attachments.images import check_photo
from tests.conftest import SAMPLES
from tests.photos import gps_of, phone_jpeg, png

HAZARD = json.loads((SAMPLES / "hazard.json").read_text())["valid"][0]


def target_for(client, content_type="image/jpeg"):
    response = client.post("/api/v1/attachments", json={"content_type": content_type})
    assert response.status_code == 201, response.json
    return response.json


def upload(client, issued, data, filename="photo.jpg"):
    fields = dict(issued["upload"]["fields"], file=(io.BytesIO(data), filename))
    return client.post("/api/v1/attachments/upload", data=fields, content_type="multipart/form-data")


def test_a_key_is_only_good_when_this_service_issued_it():
    key = issue_key("secret")
    assert is_issued("secret", key)
    assert not is_issued("another secret", key)
    assert not is_issued("secret", key[:-1] + ("0" if key[-1] != "0" else "1"))
    assert not is_issued("secret", "uploads/my-own-photo.jpg")


def test_a_seeded_key_is_the_same_each_time_so_a_resent_form_keeps_its_receipt():
    assert issue_key("s", "ref:hash") == issue_key("s", "ref:hash") != issue_key("s", "ref:other")


def test_an_upload_target_is_signed_for_one_key_type_and_size(client, settings):
    issued = target_for(client)
    assert issued["upload"]["method"] == "POST"
    assert issued["upload"]["fields"]["key"] == issued["key"]
    assert issued["upload"]["fields"]["Content-Type"] == "image/jpeg"
    assert issued["max_bytes"] == 10 * 1024 * 1024
    assert is_issued(settings.secret_key, issued["key"])


def test_only_photo_types_get_an_upload_target(client):
    response = client.post("/api/v1/attachments?lang=en", json={"content_type": "application/pdf"})
    assert response.status_code == 422
    assert "content_type" in response.json["errors"]


def test_a_photo_uploads_to_the_embedded_store(client, settings):
    issued = target_for(client)
    assert upload(client, issued, phone_jpeg()).status_code == 204
    assert make_store(settings).get(issued["key"]) == phone_jpeg()


def test_a_file_that_is_not_a_photo_is_refused_whatever_its_name(client):
    response = upload(client, target_for(client), b"%PDF-1.4 not a photo", "photo.jpg")
    assert response.status_code == 415
    assert response.json["errors"]["file"]


def test_an_oversize_photo_is_refused(client, app):
    app.extensions["minqing"].settings = app.extensions["minqing"].settings.with_overrides(attachments_max_bytes=50_000)
    response = upload(client, target_for(client), phone_jpeg())
    assert response.status_code == 413


def test_altered_upload_fields_are_refused(client):
    issued = target_for(client)
    issued["upload"]["fields"]["key"] = issue_key("someone else's secret")
    assert upload(client, issued, phone_jpeg()).status_code == 403


def test_upload_fields_with_characters_no_key_or_signature_has_are_refused_not_an_error(client):
    issued = target_for(client)
    issued["upload"]["fields"]["signature"] = "签名"
    assert upload(client, issued, phone_jpeg()).status_code == 403
    assert not is_issued("secret", "uploads/照片" + "0" * 24)


def test_an_expired_upload_target_is_refused(client, app):
    app.extensions["minqing"].settings = app.extensions["minqing"].settings.with_overrides(
        attachments_expiry_seconds=-1)
    app.extensions["minqing"].__dict__.pop("attachments", None)
    response = upload(client, target_for(client), phone_jpeg())
    assert response.status_code == 403
    assert response.json["type"].endswith("upload-expired")


def test_a_submission_naming_an_invented_photo_is_a_422_on_that_photo(client):
    issued = target_for(client)
    report = dict(HAZARD, photos=[issued["key"], "uploads/INVENTED0000000000000000AB"])
    response = client.post("/api/v1/hazard-reports?lang=en", json=report)
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["photos.1"]
    assert "not uploaded through this service" in response.json["errors"]["photos.1"][0]


def test_the_check_knows_a_photo_by_its_content_and_strips_the_gps_position():
    original = phone_jpeg()
    assert gps_of(original)
    checked = check_photo(original, 10 * 1024 * 1024, 40_000_000)
    assert (checked.status, checked.content_type, checked.width, checked.height) == ("ok", "image/jpeg", 1200, 900)
    assert gps_of(checked.clean_copy) == {}
    assert check_photo(png(), 10 * 1024 * 1024, 40_000_000).content_type == "image/png"


@pytest.mark.parametrize("data, reason", [(b"GIF89a....", "not-an-image"), (b"x" * 2000, "too-large")])
def test_the_check_rejects_what_is_not_an_accepted_photo(data, reason):
    assert check_photo(data, 1000 if reason == "too-large" else 10**7, 40_000_000).reason == reason


def test_the_worker_checks_each_photo_once_and_keeps_a_copy_without_exif(client, stub_broker, stub_worker,
                                                                         runtime, settings, engine):
    from minqing.store import photos

    issued = target_for(client)
    upload(client, issued, phone_jpeg())
    response = client.post("/api/v1/hazard-reports", json=dict(HAZARD, photos=[issued["key"]]))
    assert response.status_code == 202
    stub_broker.join(settings.queue_name)
    with engine.connect() as connection:
        [photo] = photos.photos_of(connection, response.json["id"])
    assert (photo.status, photo.content_type, photo.staff_key) == ("ok", "image/jpeg", staff_copy_key(issued["key"]))
    assert gps_of(runtime.attachments.get(photo.staff_key)) == {}
    # Redelivered: nothing changes.
    runtime.broker.actors["check_photo"].send(response.json["id"], issued["key"])
    stub_broker.join(settings.queue_name)
    with engine.connect() as connection:
        assert len(photos.photos_of(connection, response.json["id"])) == 1


def test_a_photo_never_uploaded_is_recorded_as_missing(client, stub_broker, stub_worker, settings, engine):
    from minqing.store import photos

    key = target_for(client)["key"]
    response = client.post("/api/v1/hazard-reports", json=dict(HAZARD, photos=[key]))
    stub_broker.join(settings.queue_name)
    with engine.connect() as connection:
        [photo] = photos.photos_of(connection, response.json["id"])
    assert photo.status == "missing"
