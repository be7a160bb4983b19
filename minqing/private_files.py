"""Folders and files only minqing's own user may open: folders 0700, files 0600.

The modes are given when each is made, so they do not depend on the umask of whichever process (serve,
worker, scheduler, a one-off command) happens to make it first.
"""

from __future__ import annotations

import os
from pathlib import Path


def private_dir(path) -> Path:
    """`path`, made with any missing parents as 0700 folders; folders that exist are left as they are."""
    path = Path(path)
    missing, folder = [], path
    while not folder.is_dir() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:  # another process made it meanwhile
            pass
    return path


def private_file(path) -> None:
    """Make `path` an empty 0600 file unless it exists. SQLite gives a database's -wal and -shm files the
    database's own mode, so a database made this way first keeps all three private."""
    private_dir(Path(path).parent)
    try:  # O_EXCL: an existing file is not opened at all, so one this user may only read stays usable
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def open_private(path, mode: str = "ab"):
    """`open(path, mode)` for appending or writing, creating the file 0600 if it is new (lock files)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    return os.fdopen(os.open(path, flags, 0o600), mode)
