"""Settings never show a secret: not in their repr, not in a log line that prints them."""

import logging

import pytest

from minqing.settings import load_settings, redacted_url

SECRETS = {
    "MINQING_SECRET_KEY": "s3cret-signing-key-for-tests-0123456789",
    "MINQING_DATABASE_URL": "postgresql://minqing:db-pa55@db.internal/minqing",
    "MINQING_BROKER_URL": "amqp://worker:mq-pa55@mq.internal:5672/%2F",
    "MINQING_RATE_LIMIT_STORAGE_URL": "redis://:redis-pa55@cache.internal:6379/1",
    "MINQING_SMTP_PASSWORD": "smtp-pa55",
    "MINQING_OPEN311_API_KEYS": "open311-key-1,open311-key-2",
    "MINQING_WECOM_ROBOT_TOKEN": "robot-token",
    "MINQING_PARTNER_URL": "https://partner.example/hook?access_token=partner-token&lang=zh",
}


def test_the_repr_of_settings_masks_every_secret(tmp_path):
    shown = repr(load_settings({"MINQING_DATA_DIR": str(tmp_path), **SECRETS}))
    for secret in ("s3cret-signing-key", "db-pa55", "mq-pa55", "redis-pa55", "smtp-pa55", "open311-key",
                   "robot-token", "partner-token"):
        assert secret not in shown
    # What is not secret stays readable, so the repr is still worth logging.
    assert "postgresql://minqing:***@db.internal/minqing" in shown
    assert "amqp://worker:***@mq.internal:5672/%2F" in shown
    assert "'WECOM_ROBOT_TOKEN': '***'" in shown and "lang=zh" in shown


def test_settings_in_a_log_line_are_masked(tmp_path, caplog):
    settings = load_settings({"MINQING_DATA_DIR": str(tmp_path), **SECRETS})
    with caplog.at_level(logging.INFO):
        logging.getLogger("minqing.test").info("starting with %s", settings)
    assert "db-pa55" not in caplog.text and "s3cret-signing-key" not in caplog.text and "***" in caplog.text


def test_the_settings_themselves_still_hold_the_real_values(tmp_path):
    settings = load_settings({"MINQING_DATA_DIR": str(tmp_path), **SECRETS})
    assert settings.database_url == SECRETS["MINQING_DATABASE_URL"] and settings.smtp_password == "smtp-pa55"


def test_urls_without_credentials_are_shown_as_they_are():
    assert redacted_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    assert redacted_url("postgresql://postgres@127.0.0.1:5432/db") == "postgresql://postgres@127.0.0.1:5432/db"
    assert redacted_url("sqlite:////var/lib/minqing/queue.db") == "sqlite:////var/lib/minqing/queue.db"


def test_an_unknown_smtp_security_mode_is_refused_rather_than_sending_in_clear(tmp_path):
    with pytest.raises(ValueError, match="MINQING_SMTP_SECURITY must be one of starttls, ssl, none"):
        load_settings({"MINQING_DATA_DIR": str(tmp_path), "MINQING_SMTP_SECURITY": "tls"})


@pytest.mark.parametrize("broker_url, threads", [(None, 8), ("redis://127.0.0.1:6379/0", 4)])
def test_web_processes_get_more_threads_on_the_embedded_queue_whose_posts_wait_for_the_disk(tmp_path, broker_url,
                                                                                             threads):
    environ = {"MINQING_DATA_DIR": str(tmp_path), **({"MINQING_BROKER_URL": broker_url} if broker_url else {})}
    assert load_settings(environ).web_threads == threads
    assert load_settings({**environ, "MINQING_WEB_THREADS": "2"}).web_threads == 2
