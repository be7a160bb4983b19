"""The embedded SQLite broker: durable, leased, delayed and dead-lettered messages, across processes."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import dramatiq
import pytest
from dramatiq import Worker
from dramatiq.errors import BrokerConnectionError
from dramatiq.message import Message

from workers.brokers.sqlite import SQLiteBroker

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def queue_file(tmp_path):
    return tmp_path / "queue.db"


@pytest.fixture()
def sqlite_broker(queue_file):
    broker = SQLiteBroker(queue_file, visibility_timeout=1000, poll_interval=20)
    yield broker
    broker.close()


@pytest.fixture()
def sqlite_worker(sqlite_broker):
    worker = Worker(sqlite_broker, worker_timeout=100, worker_threads=2)
    worker.start()
    yield worker
    worker.stop()


def a_message(n=0, queue_name="default"):
    return Message(queue_name=queue_name, actor_name="record", args=(n,), kwargs={}, options={})


def an_actor(broker, fn, **options):
    return dramatiq.Actor(fn, broker=broker, actor_name=fn.__name__, queue_name="default", priority=0, options=options)


def next_message(consumer, seconds=3.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        message = next(consumer)
        if message is not None:
            return message
    return None


def wait_for(condition, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_sent_message_is_processed_by_a_worker(sqlite_broker, sqlite_worker):
    seen = []
    record = an_actor(sqlite_broker, seen.append)
    record.send(42)
    wait_for(lambda: seen == [42])
    sqlite_broker.join("default", timeout=5000)
    assert sqlite_broker.pending_count("default") == 0


def test_messages_survive_reopening_the_broker(queue_file):
    first = SQLiteBroker(queue_file)
    first.enqueue(a_message(7))
    first.close()

    second = SQLiteBroker(queue_file)
    message = next_message(second.consume("default"))
    assert message.args == (7,)
    second.close()


def test_a_failing_actor_is_retried_with_backoff_then_leaves_the_queue(sqlite_broker, sqlite_worker):
    # What failed for good is kept by the DeadLetters middleware, in the database (tests/test_pipeline.py).
    attempts = []

    def always_fails(n):
        attempts.append(time.monotonic())
        raise RuntimeError(f"boom {n}")

    an_actor(sqlite_broker, always_fails, max_retries=2, min_backoff=50, max_backoff=200).send(5)
    sqlite_broker.join("default", timeout=5000)

    assert len(attempts) == 3
    assert attempts[1] - attempts[0] >= 0.05
    assert sqlite_broker.pending_count("default") == 0


def test_a_nacked_message_is_not_delivered_again(sqlite_broker):
    consumer = sqlite_broker.consume("default")
    sqlite_broker.enqueue(a_message(3))
    consumer.nack(next_message(consumer))
    sqlite_broker.enqueue(a_message(4))

    assert next_message(consumer).args == (4,)
    assert sqlite_broker.pending_count("default") == 1


def test_delayed_messages_are_not_delivered_before_their_time(sqlite_broker):
    consumer = sqlite_broker.consume("default")
    sent_at = time.monotonic()
    sqlite_broker.enqueue(a_message(1), delay=500)

    message = next_message(consumer)
    assert time.monotonic() - sent_at >= 0.5
    assert message.args == (1,) and "eta" not in message.options


def test_messages_of_a_killed_consumer_are_delivered_again(queue_file, sqlite_broker):
    for n in range(5):
        sqlite_broker.enqueue(a_message(n))
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import time
            from workers.brokers.sqlite import SQLiteBroker
            consumer = SQLiteBroker({str(queue_file)!r}, visibility_timeout=1000).consume("default", prefetch=5)
            held = []
            while len(held) < 5:
                message = next(consumer)
                if message is not None:
                    held.append(message)
            print("holding", flush=True)
            time.sleep(60)
        """)],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()

    consumer = sqlite_broker.consume("default", prefetch=10)
    assert next(consumer) is None  # their leases are still live
    redelivered = [next_message(consumer) for _ in range(5)]
    assert sorted(message.args[0] for message in redelivered) == [0, 1, 2, 3, 4]


def test_two_consumers_never_get_the_same_leased_message(queue_file, sqlite_broker):
    for n in range(20):
        sqlite_broker.enqueue(a_message(n))
    other = SQLiteBroker(queue_file, visibility_timeout=1000, poll_interval=20)
    first, second = sqlite_broker.consume("default", prefetch=8), other.consume("default", prefetch=50)

    got_first = [next_message(first) for _ in range(8)]
    got_second = [next_message(second) for _ in range(12)]
    assert next(second) is None

    ids = [message.message_id for message in got_first + got_second]
    assert len(set(ids)) == 20
    other.close()


def test_leases_are_renewed_while_a_slow_actor_runs(queue_file, sqlite_broker, sqlite_worker):
    calls, done = [], threading.Event()

    def slow(n):
        calls.append(n)
        time.sleep(1.5)
        done.set()

    an_actor(sqlite_broker, slow).send(1)
    wait_for(lambda: calls)
    rival = SQLiteBroker(queue_file, visibility_timeout=1000, poll_interval=20)
    rival_consumer = rival.consume("default")
    while not done.is_set():
        assert next(rival_consumer) is None
    sqlite_broker.join("default", timeout=5000)
    assert calls == [1]
    rival.close()


def test_missing_folders_of_the_queue_file_are_made(tmp_path):
    broker = SQLiteBroker(tmp_path / "missing" / "parent" / "queue.db")
    broker.enqueue(a_message())
    assert (tmp_path / "missing" / "parent" / "queue.db").exists()
    broker.close()


@pytest.mark.parametrize("unusable", ["a directory", "a file as its folder"])
def test_an_unusable_path_raises_a_connection_error_on_enqueue(tmp_path, unusable):
    if unusable == "a directory":
        path = tmp_path
    else:
        (tmp_path / "file").write_text("")
        path = tmp_path / "file" / "queue.db"
    broker = SQLiteBroker(path)
    with pytest.raises(BrokerConnectionError):
        broker.enqueue(a_message())
    with pytest.raises(BrokerConnectionError):
        broker.ping()


def test_senders_on_many_threads_each_return_once_their_own_message_is_in_the_file(queue_file, sqlite_broker):
    # Messages sent at the same moment share one commit; none may be answered before it is written.
    reader = SQLiteBroker(queue_file)
    missing, start = [], threading.Barrier(8)

    def send(n):
        start.wait()
        for i in range(40):
            message = sqlite_broker.enqueue(a_message(n * 100 + i))
            found = reader._connection().execute(
                "SELECT count(*) FROM dramatiq_messages WHERE message_id = ?", (message.message_id,)).fetchone()[0]
            if found != 1:
                missing.append(message.message_id)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert missing == []
    assert sqlite_broker.pending_count("default") == 320
    reader.close()


def test_a_send_returns_only_after_the_queue_log_is_synced_to_disk(queue_file, sqlite_broker, monkeypatch):
    sqlite_broker.enqueue(a_message())  # the file exists
    synced, real_fdatasync = [], os.fdatasync

    def spy(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fdatasync(fd)

    monkeypatch.setattr(os, "fdatasync", spy)
    sqlite_broker.enqueue(a_message(1))
    assert synced == [f"{queue_file}-wal"]


def test_every_sender_whose_message_shared_a_failed_commit_gets_the_error(queue_file, sqlite_broker, monkeypatch):
    sqlite_broker.enqueue(a_message())
    first_commit_started, let_it_fail, real_insert = threading.Event(), threading.Event(), sqlite_broker._insert
    commits = []

    def insert(rows):
        commits.append(len(rows))
        if len(commits) == 1:  # hold the first commit while others send, so they gather in one batch
            first_commit_started.set()
            let_it_fail.wait(5)
        elif len(commits) == 2:
            raise OSError("disk full")
        real_insert(rows)

    monkeypatch.setattr(sqlite_broker, "_insert", insert)
    outcomes = {}

    def send(n):
        try:
            sqlite_broker.enqueue(a_message(n))
            outcomes[n] = "sent"
        except BrokerConnectionError:
            outcomes[n] = "failed"

    first = threading.Thread(target=send, args=(0,))
    first.start()
    first_commit_started.wait(5)
    others = [threading.Thread(target=send, args=(n,)) for n in range(1, 6)]
    for t in others:
        t.start()
    wait_for(lambda: len(sqlite_broker._here.commits.batch.rows) == 5)
    let_it_fail.set()
    for t in [first, *others]:
        t.join()
    assert commits == [1, 5]
    assert outcomes == {0: "sent", 1: "failed", 2: "failed", 3: "failed", 4: "failed", 5: "failed"}
    assert sqlite_broker.pending_count("default") == 2


def test_a_queue_file_reached_through_a_symlink_is_synced_where_sqlite_keeps_its_log(tmp_path):
    (tmp_path / "disk").mkdir()
    (tmp_path / "queue.db").symlink_to(tmp_path / "disk" / "queue.db")
    broker = SQLiteBroker(tmp_path / "queue.db")
    broker.enqueue(a_message())
    broker.enqueue(a_message(1))
    assert broker.pending_count("default") == 2
    assert (tmp_path / "disk" / "queue.db.lock").exists()
    broker.close()
