"""The queue writer: one process that commits the embedded queue's new messages for every sender."""

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading

import pytest
from dramatiq.errors import ConnectionFailed

from tests.conftest import SAMPLES
from tests.test_sqlite_broker import REPO, a_message, wait_for
from workers.brokers.sqlite import SQLiteBroker
from workers.brokers.sqlite_writer import FAILED, socket_path

HAZARD = json.loads((SAMPLES / "hazard.json").read_text())["valid"][0]


@pytest.fixture()
def queue_file(tmp_path):
    return tmp_path / "queue.db"


@pytest.fixture()
def writer(queue_file, base_env):
    process = start_writer(queue_file, base_env)
    yield process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


def start_writer(queue_file, env):
    process = subprocess.Popen([sys.executable, "-m", "minqing", "queue-writer"],
                               env={**os.environ, **env, "MINQING_BROKER_URL": f"sqlite:///{queue_file}"},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_for(lambda: os.path.exists(socket_path(str(queue_file))) or process.poll() is not None, 30)
    return process


@pytest.fixture()
def broker(queue_file):
    broker = SQLiteBroker(queue_file)
    yield broker
    broker.close()


def test_a_send_returns_only_once_the_writer_has_committed_the_message(writer, broker):
    os.kill(writer.pid, signal.SIGSTOP)
    try:
        sent = threading.Event()
        threading.Thread(target=lambda: (broker.enqueue(a_message(1)), sent.set()), daemon=True).start()
        assert not sent.wait(0.5), "the send returned while the writer could not have committed it"
    finally:
        os.kill(writer.pid, signal.SIGCONT)
    assert sent.wait(10)
    assert broker.pending_count("default") == 1


def test_messages_from_many_threads_and_processes_are_each_committed_once(writer, broker, queue_file, base_env):
    sender = ("import sys; from tests.test_sqlite_broker import a_message; "
              "from workers.brokers.sqlite import SQLiteBroker; b = SQLiteBroker(sys.argv[1]); "
              "[b.enqueue(a_message(n)) for n in range(50)]")
    others = [subprocess.Popen([sys.executable, "-c", sender, str(queue_file)], cwd=REPO) for _ in range(2)]
    threads = [threading.Thread(target=lambda: [broker.enqueue(a_message(n)) for n in range(25)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [other.wait(60) for other in others] == [0, 0]
    assert broker.pending_count("default") == 200
    assert writer.poll() is None


def test_senders_write_the_file_themselves_once_the_writer_is_killed(writer, broker):
    broker.enqueue(a_message(1))
    writer.kill()
    writer.wait()
    broker.enqueue(a_message(2))  # its socket is dead: written directly, no error
    assert broker.pending_count("default") == 2


def test_a_writer_that_could_not_commit_fails_the_send(queue_file, broker):
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(socket_path(str(queue_file)))
    listener.listen()

    def refuse():
        connection, _ = listener.accept()
        connection.recv(1 << 16)
        connection.sendall(FAILED)

    threading.Thread(target=refuse, daemon=True).start()
    with pytest.raises(ConnectionFailed):
        broker.enqueue(a_message(1))
    listener.close()


def test_a_second_writer_leaves_the_queue_to_the_first(writer, queue_file, base_env):
    second = start_writer(queue_file, base_env)
    assert second.wait(30) == 0
    assert "already listens" in second.stdout.read()
    assert writer.poll() is None


def test_a_stopped_writer_removes_its_socket(writer, queue_file):
    writer.send_signal(signal.SIGTERM)
    assert writer.wait(10) == 0
    assert not os.path.exists(socket_path(str(queue_file)))


def test_serve_runs_a_writer_and_restarts_it_when_it_dies(base_env, tmp_path):
    from tests.conftest import LiveServer

    server = LiveServer(base_env, tmp_path, with_worker=False)
    try:
        queue = os.path.join(base_env["MINQING_DATA_DIR"], "queue.db")
        first = wait_for_writer(queue)
        assert server.post("/api/v1/hazard-reports", json=HAZARD).status_code == 202
        os.kill(first, signal.SIGKILL)
        assert server.post("/api/v1/hazard-reports", json=HAZARD).status_code == 202  # written by gunicorn itself
        assert wait_for_writer(queue, other_than=first) != first
        broker = SQLiteBroker(queue)
        assert broker.pending_count(base_env["MINQING_QUEUE"]) == 2
        broker.close()
    finally:
        server.stop()


def test_a_writer_that_cannot_open_the_queue_exits_with_an_error(tmp_path, base_env):
    (tmp_path / "file").write_text("")
    writer = start_writer(tmp_path / "file" / "queue.db", base_env)
    assert writer.wait(30) == 1
    assert "cannot open the queue" in writer.stdout.read()


def wait_for_writer(queue: str, other_than: int | None = None) -> int:
    """The pid of the process listening as the writer of `queue`, once there is one."""
    found = []

    def listening():
        with socket.socket(socket.AF_UNIX) as probe:
            try:
                probe.connect(socket_path(queue))
            except OSError:
                return False
            pid = struct.unpack("3i", probe.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0]
        found.append(pid)
        return pid != other_than

    wait_for(listening, 30)
    return found[-1]
