"""S3-compatible attachment store (AWS S3, MinIO, Aliyun OSS, Tencent COS, moto): presigned POSTs.

boto3 is imported on first use, so the intake path stays light. Credentials come from boto3's usual
chain (AWS_ACCESS_KEY_ID …, or an instance role); they are never minqing settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import cached_property
from urllib.parse import urlparse

from minqing.attachments.base import UPLOADS, UploadTarget


class S3Store:
    def __init__(self, settings):
        self.bucket = urlparse(settings.attachments_url).netloc
        self.endpoint_url = settings.attachments_endpoint_url
        self.max_bytes = settings.attachments_max_bytes
        self.expiry = settings.attachments_expiry_seconds

    @cached_property
    def client(self):
        import boto3
        from botocore.config import Config

        # Path-style addressing on custom endpoints: MinIO and test servers have no per-bucket host names.
        addressing = "path" if self.endpoint_url else "auto"
        return boto3.client("s3", endpoint_url=self.endpoint_url,
                            config=Config(s3={"addressing_style": addressing}, retries={"max_attempts": 3}))

    @property
    def upload_origin(self) -> str:
        parsed = urlparse(self.endpoint_url or f"https://{self.bucket}.s3.amazonaws.com")
        return f"{parsed.scheme}://{parsed.netloc}"

    def upload_target(self, key: str, content_type: str) -> UploadTarget:
        post = self.client.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, self.max_bytes]],
            ExpiresIn=self.expiry,
        )
        return UploadTarget(method="POST", url=post["url"], fields=post["fields"])

    def download_url(self, key: str, seconds: int) -> str:
        """A presigned GET of `key`, valid for `seconds` (staff photos: the console's photo route)."""
        return self.client.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": key},
                                                  ExpiresIn=seconds)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)  # S3 answers 204 for a missing key too

    def uploads_before(self, cutoff: datetime) -> Iterator[tuple[str, datetime]]:
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=UPLOADS):
            for item in page.get("Contents", ()):
                if item["LastModified"] < cutoff:
                    yield item["Key"], item["LastModified"]
