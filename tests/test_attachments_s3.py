"""The S3 attachment store against moto in server mode, over HTTP."""

import base64
import json

import pytest
import requests

from minqing.attachments import make_store
from minqing.attachments.base import issue_key
from tests.photos import phone_jpeg

pytestmark = pytest.mark.integration


@pytest.fixture()
def s3_store(s3_server, settings):
    return make_store(settings.with_overrides(attachments_url=f"s3://{s3_server.bucket}",
                                              attachments_endpoint_url=s3_server.url))


def test_the_presigned_post_limits_size_type_and_time(s3_store):
    target = s3_store.upload_target(issue_key("k"), "image/jpeg")
    policy = json.loads(base64.b64decode(target["fields"]["policy"]))
    assert {"Content-Type": "image/jpeg"} in policy["conditions"]
    assert ["content-length-range", 1, 10 * 1024 * 1024] in policy["conditions"]
    assert policy["expiration"]


def test_a_photo_posted_to_the_presigned_target_is_stored(s3_store):
    key = issue_key("k")
    target = s3_store.upload_target(key, "image/jpeg")
    response = requests.post(target["url"], data=target["fields"],
                             files={"file": ("p.jpg", phone_jpeg(), "image/jpeg")}, timeout=15)
    assert response.status_code == 204
    assert s3_store.get(key) == phone_jpeg()
    assert s3_store.get(issue_key("k")) is None
