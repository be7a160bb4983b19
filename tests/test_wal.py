"""Every SQLite file we open (queue, store, rate limits) survives openers racing on a fresh file."""

import threading

from dramatiq.message import Message
from sqlalchemy import text

from workers.brokers.sqlite import SQLiteBroker
from minqing.store.engine import make_engine
from workers.rate_limits.sqlite import SQLiteBackend


def race(opener, rounds=60, openers=8):
    errors = []
    for round_ in range(rounds):
        start = threading.Barrier(openers)

        def open_it():
            start.wait()
            try:
                opener(round_)
            except Exception as e:  # noqa: BLE001 - the test reports every failure
                errors.append(e)

        threads = [threading.Thread(target=open_it) for _ in range(openers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return errors


def test_store_engines_racing_on_a_fresh_file_all_connect(tmp_path):
    def connect(round_):
        engine = make_engine(f"sqlite:///{tmp_path}/store-{round_}.db")
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        engine.dispose()

    assert race(connect) == []


def test_rate_limit_stores_racing_on_a_fresh_file_all_count(tmp_path):
    def count(round_):
        SQLiteBackend(tmp_path / f"limits-{round_}.db").incr(f"k{round_}", 1, 100, 60_000)

    assert race(count) == []


def test_queue_senders_racing_on_a_fresh_file_all_get_in(tmp_path):
    # A worker's consumer threads and the first sender race to switch a new file to WAL.
    def send(round_):
        broker = SQLiteBroker(tmp_path / f"fresh-{round_}.db")
        try:
            broker.enqueue(Message(queue_name="default", actor_name="record", args=(round_,), kwargs={}, options={}))
        finally:
            broker.close()

    assert race(send, rounds=10) == []
    assert sum(SQLiteBroker(tmp_path / f"fresh-{r}.db").pending_count("default") for r in range(10)) == 80
