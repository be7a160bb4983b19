"""Processes starting together on empty data dirs, each reading the secret key: run as
`python -m tests.key_race DIR ROUNDS STARTS`, it prints one JSON line a round (the keys each start got).

A small parent of its own (only `minqing.settings` imported), so its forks are cheap: forking the test
runner itself, hundreds of megabytes by then, took minutes for the same rounds."""

from __future__ import annotations

import json
import multiprocessing
import sys
from pathlib import Path

from minqing.settings import load_settings


def _start(data_dir, barrier, keys):
    barrier.wait()
    try:
        keys.put(load_settings({"MINQING_DATA_DIR": data_dir}).secret_key)
    except Exception as error:  # a refusal is an answer too: the test shows it
        keys.put(f"error: {error}")


def main(root: str, rounds: int, starts: int) -> None:
    context = multiprocessing.get_context("fork")
    for n in range(rounds):
        data_dir = Path(root) / f"var{n}"
        barrier, keys = context.Barrier(starts), context.Queue()
        processes = [context.Process(target=_start, args=(str(data_dir), barrier, keys)) for _ in range(starts)]
        for process in processes:
            process.start()
        got = [keys.get(timeout=60) for _ in processes]
        for process in processes:
            process.join(timeout=30)
        print(json.dumps({"dir": str(data_dir), "keys": got}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
