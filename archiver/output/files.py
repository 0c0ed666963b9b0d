"""Writing the files a user names (`diff --html FILE`, `export -o FILE`): a regular file is
replaced atomically (written beside it, fsynced, renamed), so a failure never leaves half a
report; a symlink is written through to its target and stays a symlink; a device, a pipe or
`-` (stdout) is written to as it is, never replaced by a regular file."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from archiver.errors import ArchiverError

CHUNK = 1 << 20


def write_output(target: Path, write: Callable[[BinaryIO], None]) -> int:
    """Run `write` on a binary file that becomes `target`; returns the bytes written."""
    if str(target) == "-":
        return _through(sys.stdout.buffer, write, target)
    path = Path(os.path.realpath(target))  # a symlink's target, however many links deep
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = stat.S_IFREG
    except OSError as exc:
        raise ArchiverError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        if not stat.S_ISREG(mode):  # a device or a pipe: write to it, never replace it
            with open(path, "wb") as handle:
                return _through(handle, write, target)
        return _atomic(path, write)
    except OSError as exc:
        raise ArchiverError(f"cannot write {target}: {exc.strerror or exc}") from None


def _through(stream: BinaryIO, write: Callable[[BinaryIO], None], target: Path) -> int:
    """Build the output in a temporary file (zip writers seek), then copy it to `stream`."""
    with tempfile.TemporaryFile() as spool:
        write(spool)
        size = spool.tell()
        spool.seek(0)
        try:
            shutil.copyfileobj(spool, stream, CHUNK)
            stream.flush()
        except OSError as exc:
            raise ArchiverError(f"cannot write {target}: {exc.strerror or exc}") from None
    return size


def _atomic(path: Path, write: Callable[[BinaryIO], None]) -> int:
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temp, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
            size = handle.tell()
        with contextlib.suppress(FileNotFoundError):  # a replaced file keeps its permissions
            os.chmod(temp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return size
