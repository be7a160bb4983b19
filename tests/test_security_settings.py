"""Security settings (issue 16): a whole secret key or no start at all, rate limits that see the client
behind a proxy, and a data dir only minqing's user can read."""

import multiprocessing
import os
import signal
import subprocess
import sys

import pytest

from minqing.settings import load_settings
from tests.conftest import free_port

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


def _start(data_dir, barrier, keys):
    barrier.wait()
    try:
        keys.put(load_settings({"MINQING_DATA_DIR": data_dir}).secret_key)
    except BaseException as error:  # a refusal is an answer too: the test shows it
        keys.put(f"error: {error}")


def test_processes_starting_together_on_an_empty_data_dir_all_get_the_same_whole_key(tmp_path):
    # One round in several loses the race on a key written in place; enough rounds to see it.
    context = multiprocessing.get_context("fork")
    for round in range(ROUNDS):
        data_dir = tmp_path / f"var{round}"
        barrier, keys = context.Barrier(STARTS), context.Queue()
        starts = [context.Process(target=_start, args=(str(data_dir), barrier, keys)) for _ in range(STARTS)]
        for process in starts:
            process.start()
        got = [keys.get(timeout=60) for _ in starts]
        for process in starts:
            process.join(timeout=30)
        assert len(set(got)) == 1, f"round {round}: {sorted(set(got))}"
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
