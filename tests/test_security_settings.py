"""Security settings: a whole secret key or no start at all, rate limits that see the client
behind a proxy, and a data dir only minqing's user can read."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.casework import HAZARD
from minqing.testing.live import LiveServer, free_port
from tests.conftest import wait_until

STARTS, ROUNDS = 90, 25


def minqing_serve(env: dict, tmp_path) -> subprocess.CompletedProcess:
    """`minqing serve` run to its end, which is expected to come quickly: it should refuse to start."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MINQING_")}, **env}
    process = subprocess.Popen([sys.executable, "-m", "minqing", "serve", "--port", str(free_port()),
                                "--no-with-worker"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # it started: gunicorn too must not outlive the test
        process.communicate()
        pytest.fail("minqing serve started instead of refusing to", pytrace=False)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_processes_starting_together_on_an_empty_data_dir_all_get_the_same_whole_key(tmp_path):
    # One round in several loses the race on a key written in place; enough rounds to see it.
    done = subprocess.run([sys.executable, "-m", "tests.key_race", str(tmp_path), str(ROUNDS), str(STARTS)],
                          capture_output=True, text=True, timeout=600, cwd=Path(__file__).parent.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    rounds = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(rounds) == ROUNDS
    for n, found in enumerate(rounds):
        got, data_dir = found["keys"], Path(found["dir"])
        assert len(got) == STARTS
        assert len(set(got)) == 1, f"round {n}: {sorted(set(got))}"
        assert len(got[0].encode()) >= 32
        assert got[0] == (data_dir / "secret_key").read_text()
        assert [p.name for p in data_dir.iterdir()] == ["secret_key"]  # no temporary file left behind


@pytest.mark.parametrize("kept", ["", "Zm9vYmFy"], ids=["empty", "truncated"])
def test_serve_refuses_to_start_on_a_kept_key_that_is_not_whole(tmp_path, kept):
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "secret_key").write_text(kept)
    result = minqing_serve({"MINQING_DATA_DIR": str(tmp_path / "var")}, tmp_path)
    assert result.returncode != 0
    assert "secret_key" in result.stderr and "at least 32 bytes" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_a_short_secret_key_from_the_environment(tmp_path):
    result = minqing_serve({"MINQING_DATA_DIR": str(tmp_path / "var"), "MINQING_SECRET_KEY": "s3cret"}, tmp_path)
    assert result.returncode != 0
    assert "MINQING_SECRET_KEY" in result.stderr and "at least 32 bytes" in result.stderr
    assert "Traceback" not in result.stderr


# Rate limits: the client's address behind a proxy, and a spot counted on what it accepted.

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
SPOT_REPORT = {"community": "qianjiajie", "category": "structure", "description": "3栋北侧围墙开裂",
               "location.address": "千家街省一保小区3栋北侧", "location.spot": "qjj-syb-03"}


@pytest.fixture()
def limited_server(base_env, redis_url, tmp_path):
    """A live server with limits on, counted in Redis so that both of its web processes share them."""
    servers = []

    def start(**settings):
        env = {**base_env, "MINQING_RATE_LIMIT_STORAGE_URL": redis_url.rsplit("/", 1)[0] + "/3",
               **{f"MINQING_{name.upper()}": value for name, value in settings.items()}}
        servers.append(LiveServer(env, tmp_path, with_worker=False))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def post_from(server, address: str, form=HAZARD[2]):
    return server.post("/api/v1/hazard-reports", json=form, headers={"X-Forwarded-For": address}).status_code


def test_behind_a_trusted_proxy_each_forwarded_address_has_its_own_limit(limited_server):
    server = limited_server(trusted_proxies="1", rate_limit_per_address="3/minute", rate_limit_per_spot="off")
    assert [post_from(server, "203.0.113.7") for _ in range(4)] == [202, 202, 202, 429]
    assert post_from(server, "203.0.113.8") == 202
    # Only the address the proxy added counts: one the client sent ahead of it changes nothing.
    assert post_from(server, "198.51.100.1, 203.0.113.7") == 429


def test_without_a_trusted_proxy_a_forwarded_address_cannot_dodge_the_limit(limited_server):
    server = limited_server(rate_limit_per_address="3/minute", rate_limit_per_spot="off")
    assert [post_from(server, f"203.0.113.{i}") for i in range(4)] == [202, 202, 202, 429]


def test_invalid_posts_naming_a_spot_never_lock_it(limited_server):
    server = limited_server(rate_limit_per_address="off", rate_limit_per_spot="2/minute")
    invalid = {**HAZARD[0], "category": "no-such-category"}
    assert [post_from(server, "203.0.113.9", invalid) for _ in range(5)] == [422] * 5
    form = dict(SPOT_REPORT, **{"contact.phone": "12345"})
    assert [server.post("/api/v1/hazard-reports", data=form, headers=BROWSER, allow_redirects=False).status_code
            for _ in range(3)] == [422] * 3
    assert post_from(server, "203.0.113.9", HAZARD[0]) == 202


def test_accepted_submissions_naming_a_spot_count_towards_its_limit(limited_server):
    server = limited_server(rate_limit_per_address="off", rate_limit_per_spot="2/minute")
    assert post_from(server, "203.0.113.10", HAZARD[0]) == 202
    assert server.post("/api/v1/hazard-reports", data=SPOT_REPORT, headers=BROWSER,
                       allow_redirects=False).status_code == 303
    assert post_from(server, "203.0.113.11", HAZARD[0]) == 429
    assert server.post("/api/v1/hazard-reports", data=SPOT_REPORT, headers=BROWSER,
                       allow_redirects=False).status_code == 429


# The data dir: only minqing's user may open what is in it.

def test_after_serving_a_submission_everything_in_the_data_dir_is_private(base_env, tmp_path):
    from tests.photos import phone_jpeg

    env = {k: v for k, v in base_env.items() if k != "MINQING_SECRET_KEY"}  # the key is kept in the dir too
    umask = os.umask(0o022)  # the usual one: left to it, files would be world-readable
    try:
        server = LiveServer(env, tmp_path)
    finally:
        os.umask(umask)
    try:
        thanks = server.post("/api/v1/hazard-reports", data=SPOT_REPORT, headers=BROWSER,
                             files={"photos": ("IMG_0001.jpg", phone_jpeg(), "image/jpeg")}, allow_redirects=False)
        assert thanks.status_code == 303
        receipt = thanks.headers["Location"].split("/thanks/")[1].split("?")[0]
        wait_until(lambda: server.get(f"/api/v1/receipts/{receipt}").status_code == 200)
        modes = modes_under(tmp_path / "var")  # while it runs: SQLite removes -wal and -shm files at the end
    finally:
        server.stop()
    assert any(name.endswith("minqing.db-wal") for name in modes) and any("attachments/" in name for name in modes)
    assert {name: oct(mode) for name, (mode, is_dir) in modes.items() if mode != (0o700 if is_dir else 0o600)} == {}


def modes_under(data_dir) -> dict:
    modes = {}
    for path in [data_dir, *data_dir.rglob("*")]:
        try:
            stat = path.lstat()
        except FileNotFoundError:  # a temporary file, gone meanwhile
            continue
        modes[str(path.relative_to(data_dir.parent))] = (stat.st_mode & 0o777, path.is_dir())
    return modes
