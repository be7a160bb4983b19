"""Fixtures: the app and a stub worker for unit tests; real Redis, PostgreSQL, RabbitMQ and a real
server over HTTP for integration tests. With CI=true a service that cannot be reached fails the run."""

from __future__ import annotations

import os
import socket
import time
import uuid
from pathlib import Path

import pytest

from minqing.settings import load_settings
from minqing.testing.live import LiveServer, free_port

SAMPLES = Path(__file__).parent / "samples"
IN_CI = os.environ.get("CI", "").lower() == "true"
REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RABBITMQ = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


def _reachable(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


def _require(name: str, host: str, port: int) -> None:
    if not _reachable(host, port):
        message = f"{name} is not reachable on {host}:{port}"
        if IN_CI:
            pytest.fail(message + " (CI=true: integration tests must not be skipped)", pytrace=False)
        pytest.skip(message)


@pytest.fixture()
def base_env(tmp_path) -> dict:
    """Settings for one test: its own data dir, secret, queue name and quick retries."""
    return {
        "MINQING_DATA_DIR": str(tmp_path / "var"),
        "MINQING_SECRET_KEY": "test-secret-" + uuid.uuid4().hex,
        "MINQING_QUEUE": "mq_" + uuid.uuid4().hex[:12],
        "MINQING_MIN_BACKOFF_MS": "50",
        "MINQING_MAX_BACKOFF_MS": "500",
        "MINQING_MAX_RETRIES": "3",
        "MINQING_VISIBILITY_TIMEOUT_MS": "3000",
        "MINQING_WORKER_THREADS": "4",
        # Tests post many forms from one address; the rate-limit tests switch limits on themselves.
        "MINQING_RATE_LIMIT_PER_ADDRESS": "off",
        "MINQING_RATE_LIMIT_PER_SPOT": "off",
    }


@pytest.fixture()
def settings(base_env):
    return load_settings(base_env)


@pytest.fixture()
def redis_url():
    _require("Redis", "127.0.0.1", 6379)
    return REDIS


@pytest.fixture()
def rabbitmq_url():
    _require("RabbitMQ", "127.0.0.1", 5672)
    return RABBITMQ


@pytest.fixture()
def postgres_url():
    """A fresh, empty PostgreSQL database for one test."""
    _require("PostgreSQL", "127.0.0.1", 5432)
    import psycopg

    name = "mq_test_" + uuid.uuid4().hex[:12]
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield POSTGRES.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


BACKENDS = ["embedded", "redis+postgres", "rabbitmq+postgres"]


@pytest.fixture(params=BACKENDS)
def backend_env(request, base_env) -> dict:
    """The same test on every backend: embedded SQLite, Redis + PostgreSQL, RabbitMQ + PostgreSQL."""
    return backend_settings(request, request.param, base_env)


def backend_settings(request, name: str, env: dict) -> dict:
    env = dict(env)
    if name == "embedded":
        return env
    env["MINQING_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    if name.startswith("redis"):
        env["MINQING_BROKER_URL"] = request.getfixturevalue("redis_url")
    else:
        env["MINQING_BROKER_URL"] = request.getfixturevalue("rabbitmq_url")
    return env


@pytest.fixture()
def live_server(backend_env, tmp_path):
    server = LiveServer(backend_env, tmp_path)
    yield server
    server.stop()


def wait_until(predicate, timeout: float = 20, interval: float = 0.05):
    """Poll until `predicate()` is truthy; returns its value or fails the test."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s", pytrace=False)
        time.sleep(interval)


# Unit-test fixtures: the Flask test client and Dramatiq's StubBroker.

@pytest.fixture()
def stub_broker(settings):
    from dramatiq.brokers.stub import StubBroker

    from workers.brokers import default_middleware

    broker = StubBroker(middleware=default_middleware(settings))
    broker.emit_after("process_boot")
    yield broker
    broker.flush_all()
    broker.close()


@pytest.fixture()
def engine(settings):
    from minqing.store.engine import make_engine, upgrade

    engine = make_engine(settings.database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture()
def runtime(settings, stub_broker, engine):
    from workers.main import build

    return build(settings, broker=stub_broker)


@pytest.fixture()
def stub_worker(runtime):
    import dramatiq

    worker = dramatiq.Worker(runtime.broker, worker_timeout=50, worker_threads=2)
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture()
def app(settings, stub_broker, engine):
    from functions.app import create_app

    stub_broker.declare_queue(settings.queue_name)
    app = create_app(settings, broker=stub_broker)
    app.testing = True
    return app


@pytest.fixture()
def client(app):
    return app.test_client()


# Photos: a real S3-compatible server over HTTP (moto in server mode) and a real browser.

class S3Server:
    """moto's S3 on a free port, with one bucket; `env` points minqing's attachment store at it."""

    def __init__(self):
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.bucket = "mq-photos-" + uuid.uuid4().hex[:8]
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        self.credentials = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                            "AWS_DEFAULT_REGION": "us-east-1"}
        self.client().create_bucket(Bucket=self.bucket)
        self.env = {**self.credentials, "MINQING_ATTACHMENTS_URL": f"s3://{self.bucket}",
                    "MINQING_ATTACHMENTS_ENDPOINT_URL": self.url}

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def stop(self):
        self._server.stop()


@pytest.fixture()
def s3_server(monkeypatch):
    server = S3Server()
    for name, value in server.credentials.items():
        monkeypatch.setenv(name, value)
    yield server
    server.stop()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# WeChat's built-in browser on Android (X5/XWEB): the user agent residents scanning a poster arrive with.
WECHAT_UA = ("Mozilla/5.0 (Linux; Android 12; M2012K11AC Build/SKQ1.211006.001; wv) AppleWebKit/537.36 "
             "(KHTML, like Gecko) Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 XWEB/5023 "
             "MMWEBSDK/20230202 MicroMessenger/8.0.33.2320(0x28002151) WeChat/arm64 Weixin NetType/4G "
             "Language/zh_CN ABI/arm64")
ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    """The system Chromium driven by Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing (apt-get install -y chromium)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def phone(request, browser):
    """A 360×640 phone page in WeChat's browser, with JavaScript on or off."""
    context = browser.new_context(viewport={"width": 360, "height": 640}, user_agent=WECHAT_UA, locale="zh-CN",
                                  java_script_enabled=request.param, device_scale_factor=2, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield Phone(page, request.param)
    context.close()


class Phone:
    def __init__(self, page, javascript: bool):
        self.page, self.javascript = page, javascript
        self.name = "js" if javascript else "no-js"
