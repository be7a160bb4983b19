"""The public reads' kept answers (functions/read_cache.py): reused while nothing changed, and while one
request makes a fresh answer the others are given the one before instead of each making their own."""

import threading

import pytest

from functions import read_cache
from functions.read_cache import ReadCache


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """Time that moves only when told: an answer made costs no time, and reuse is then by token alone."""

    class Clock:
        now = 1000.0

        def monotonic(self):
            return self.now

    clock = Clock()
    monkeypatch.setattr(read_cache, "time", clock)
    return clock


def test_an_answer_is_kept_until_a_tally_changes():
    cache, made = ReadCache(), []

    def make():
        made.append(1)
        return f"answer {len(made)}"

    assert cache.get("tallies", 1, make)[0] == "answer 1"
    assert cache.get("tallies", 1, make)[0] == "answer 1"
    # Changed, and the answer cost nothing to make: made again at once.
    assert cache.get("tallies", 2, make)[0] == "answer 2"
    assert len(made) == 2


def test_a_costly_answer_is_kept_a_while_though_tallies_change(clock):
    cache = ReadCache()

    def costly():
        clock.now += 1.0  # a second to make: reused for 20 s of changes
        return "costly"

    cache.get("tallies", 1, costly)
    clock.now += 18  # 19 s after it was begun
    assert cache.get("tallies", 2, lambda: "fresh")[0] == "costly"
    clock.now += 2  # 21 s
    assert cache.get("tallies", 2, lambda: "fresh")[0] == "fresh"


def test_readers_arriving_while_a_fresh_answer_is_made_get_the_one_before_and_make_none():
    cache = ReadCache()
    cache.get("tallies", 1, lambda: "old")
    started, release, made = threading.Event(), threading.Event(), []

    def slow():
        made.append("slow")
        started.set()
        release.wait(10)
        return "new"

    maker = threading.Thread(target=lambda: made.append(cache.get("tallies", 2, slow)[0]))
    maker.start()
    assert started.wait(10)
    others = [cache.get("tallies", 2, lambda: made.append("again") or "again")[0] for _ in range(5)]
    release.set()
    maker.join(10)
    assert others == ["old"] * 5
    assert made == ["slow", "new"]
    assert cache.get("tallies", 2, lambda: "unused")[0] == "new"


def test_a_failed_make_leaves_the_next_reader_to_make_it():
    cache = ReadCache()
    cache.get("tallies", 1, lambda: "old")

    def failing():
        raise RuntimeError("database gone")

    try:
        cache.get("tallies", 2, failing)
    except RuntimeError:
        pass
    assert cache.get("tallies", 2, lambda: "new")[0] == "new"
