"""The writer lock: one writer at a time appends to an archive, across processes. Readers
that need the archive still (verify lists files and reads the catalogue) take it shared,
without creating anything, and never wait forever."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from archiver.archive.layout import LOCK_NAME
from archiver.errors import ArchiverError
from archiver.output.console import say

READ_ONLY_ERRORS = (errno.EROFS, errno.EACCES, errno.EPERM)
POLL = 0.05
SAY_AFTER = 2.0  # seconds of waiting before telling the user why nothing happens


@contextlib.contextmanager
def exclusive(root: Path) -> Iterator[None]:
    """Exclusive right to append to the archive; waits for another writer (saying so)."""
    try:
        handle = open(root / LOCK_NAME, "a+b")  # noqa: SIM115 (closed below)
    except OSError as exc:
        if exc.errno in READ_ONLY_ERRORS:
            raise ArchiverError(f"{root} is read-only") from None
        raise ArchiverError(f"cannot lock {root}: {exc.strerror or exc}") from None
    with handle:
        _acquire(handle, fcntl.LOCK_EX, root, timeout=None)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def shared(root: Path, timeout: float) -> Iterator[bool]:
    """Hold writers off while reading, if the lock file exists and can be opened; yields
    whether the archive is held still. Creates nothing; gives up after `timeout` seconds
    (the read goes on without it, and says so)."""
    try:
        handle = open(root / LOCK_NAME, "rb")  # noqa: SIM115 (closed below)
    except OSError:  # no writer ever ran here, or the lock is unreadable: nothing to wait for
        yield False
        return
    with handle:
        held = _acquire(handle, fcntl.LOCK_SH, root, timeout=timeout)
        try:
            yield held
        finally:
            if held:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _acquire(handle: IO[bytes], mode: int, root: Path, timeout: float | None) -> bool:
    """flock; True once held. Without a timeout it blocks (a waiting writer takes the lock
    the instant it is free), saying why after a while; with one it polls and gives up."""
    try:
        fcntl.flock(handle, mode | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        pass
    if timeout is None:
        notice = threading.Timer(SAY_AFTER, _say_waiting, (root,))
        notice.daemon = True
        notice.start()
        try:
            fcntl.flock(handle, mode)
        finally:
            notice.cancel()
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(POLL)
        try:
            fcntl.flock(handle, mode | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            continue
    return False


def _say_waiting(root: Path) -> None:
    say("", f"waiting for another archiver writing to {root}...")
