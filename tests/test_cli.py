"""The `minqing` command, run as a user would."""

import json
import os
import subprocess
import sys

import pytest

from minqing.directory import default_directory_path


def minqing(env, *args, check=True):
    result = subprocess.run([sys.executable, "-m", "minqing", *args], env={**os.environ, **env},
                            capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.mark.parametrize("command", [[], ["serve"], ["worker"], ["db", "upgrade"], ["directory", "check"],
                                     ["tallies"], ["dead-letters"], ["notifications"], ["scheduler"]])
def test_every_command_has_help(base_env, command):
    assert "usage: minqing" in minqing(base_env, *command, "--help").stdout


def test_db_upgrade_reports_the_revision(base_env):
    assert "database at revision" in minqing(base_env, "db", "upgrade").stdout


def test_the_demo_directory_checks_out(base_env):
    out = minqing(base_env, "directory", "check", str(default_directory_path())).stdout
    assert "OK" in out and "8 communities" in out


def test_a_broken_directory_lists_its_problems(base_env, tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text('[street]\ncode = "s"\nname = { zh = "街" }\nfallback = ["nobody"]\n')
    result = minqing(base_env, "directory", "check", str(broken), check=False)
    assert result.returncode == 1
    assert "nobody" in result.stderr


@pytest.mark.parametrize("command", [["tallies"], ["notifications"], ["dead-letters"], ["token", "list"]])
def test_a_command_that_only_reads_never_migrates_the_database(base_env, command):
    from minqing.settings import load_settings
    from minqing.store.engine import current_revision, make_engine

    result = minqing(base_env, *command, check=False)
    assert result.returncode == 1 and "minqing db upgrade" in result.stderr
    assert current_revision(make_engine(load_settings(base_env).database_url)) is None
    minqing(base_env, "db", "upgrade")
    assert minqing(base_env, *command).returncode == 0


def test_tallies_rebuild_gives_the_same_numbers(base_env, runtime, stub_worker, settings):
    from tests.test_pipeline import HAZARD, deliver, envelope

    for data in HAZARD:
        deliver(runtime, envelope(settings, "hazard", data))
    before = json.loads(minqing(base_env, "tallies").stdout)
    after = json.loads(minqing(base_env, "tallies", "--rebuild").stdout)
    assert before == after
    assert before["totals"]["hazard"]["received"] == len(HAZARD)


def test_dead_letters_are_listed_and_can_be_retried(base_env, runtime, stub_worker, settings, engine):
    from tests.conftest import wait_until
    from minqing.store import dead_letters as dead_letter_store

    runtime.broker.actors["notify_assignees"].send("no-such-submission")
    runtime.broker.join(settings.queue_name, fail_fast=False)
    def dead_letters():
        with engine.connect() as connection:
            return dead_letter_store.list_dead_letters(connection)

    wait_until(dead_letters, timeout=5)
    listing = minqing(base_env, "dead-letters").stdout
    assert "notify_assignees" in listing
    letter_id = listing.split("\t")[0]
    assert "queued again" in minqing(base_env, "dead-letters", "--retry", letter_id).stdout
    assert "no dead letters" in minqing(base_env, "dead-letters").stdout


@pytest.mark.parametrize("command", [["worker"], ["worker", "--processes", "2"], ["scheduler"]])
def test_a_command_stops_when_signalled_twice(base_env, command):
    # A supervisor forwards SIGTERM and `kill` to the process group sends it as well: twice, at once.
    import signal
    import time

    process = subprocess.Popen([sys.executable, "-m", "minqing", *command], env={**os.environ, **base_env},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        seen = []
        for line in process.stdout:
            seen.append(line)
            if "started" in line or time.monotonic() > deadline:
                break
        time.sleep(0.5)
        os.killpg(process.pid, signal.SIGTERM)
        os.killpg(process.pid, signal.SIGTERM)
        code = process.wait(timeout=30)
        assert code == 0, seen + [process.stdout.read()]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def test_the_recorded_head_is_alembics_head():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from minqing.store.engine import HEAD, MIGRATIONS

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD


def test_a_worker_on_an_up_to_date_database_does_not_import_alembic(base_env):
    minqing(base_env, "db", "upgrade")
    code = ("import sys; from minqing.settings import load_settings; from minqing.cli import _engine; "
            "_engine(load_settings()); print('alembic' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], env={**os.environ, **base_env}, capture_output=True,
                            text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr


def test_without_a_base_url_the_links_name_the_port_serve_was_given(base_env, tmp_path):
    from minqing.testing.live import LiveServer
    server = LiveServer(base_env, tmp_path, base_url=False)
    try:
        response = server.post("/api/v1/hazard-reports", data={
            "community": "jiangling", "category": "lighting", "description": "路灯不亮",
            "location.address": "江零社区东门", "location.spot": "jl-gate-e"})
        assert response.status_code == 202, response.text
        assert response.json()["status_url"].startswith(f"http://127.0.0.1:{server.port}/api/v1/receipts/")
        assert response.headers["Location"] == response.json()["status_url"]
    finally:
        server.stop()


@pytest.mark.parametrize("host, port, expected", [
    (None, None, "http://127.0.0.1:8000"), ("0.0.0.0", "8080", "http://127.0.0.1:8080"),
    ("192.168.1.5", "80", "http://192.168.1.5:80"), ("::1", "9000", "http://[::1]:9000")])
def test_the_default_base_url_follows_host_and_port(host, port, expected):
    from minqing.settings import load_settings

    env = {name: value for name, value in (("MINQING_HOST", host), ("MINQING_PORT", port)) if value}
    assert load_settings(env).base_url == expected
