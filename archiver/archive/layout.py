"""Where things live in an archive folder, and what may be written there: the paths of
capture files and imported sources, writers' temporary files, and read-only detection.

    ARCHIVE/index.sqlite3            the catalogue (rebuildable from warcs/)
    ARCHIVE/warcs/YYYY/MM/DD/ID.warc.gz   one capture each: the evidence
    ARCHIVE/sources/IMPORT-ID/NAME   files brought in by `archiver import`, as given
    ARCHIVE/keys/                    the archive's public key
    ARCHIVE/.lock, .pending          the writer lock and the commit journal
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

INDEX_NAME = "index.sqlite3"
WARCS = "warcs"
SOURCES = "sources"
LOCK_NAME = ".lock"
JOURNAL_NAME = ".pending"
IMPORT_JOURNAL = ".pending-import"  # a source kept before the captures that cite it
STAGING_PREFIX = ".import-"


def warc_path_for(root: Path, capture_id: str) -> Path:
    """warcs/YYYY/MM/DD/<capture-id>.warc.gz; ids start with the UTC time."""
    return root / WARCS / capture_id[0:4] / capture_id[4:6] / capture_id[6:8] / f"{capture_id}.warc.gz"


def relative(root: Path, path: Path) -> str:
    """`path` as the catalogue names it: relative to the archive folder, POSIX form."""
    return path.resolve().relative_to(root.resolve()).as_posix()


def warc_files(root: Path) -> list[Path]:
    """Every capture file candidate under warcs/: regular files, not temporary ones (a FIFO or
    a symlink out of the archive is never opened; `verify` reports them)."""
    return sorted(
        p
        for p in (root / WARCS).rglob("*.warc.gz")
        if not p.name.startswith(".") and p.is_file() and not p.is_symlink()
    )


def has_capture_files(root: Path) -> bool:
    """Whether warcs/ holds any *.warc.gz file (stops at the first)."""
    warcs = Path(root) / WARCS
    return warcs.is_dir() and any(not p.name.startswith(".") for p in warcs.rglob("*.warc.gz"))


def is_read_only(root: Path, writer: bool) -> bool:
    """True when this process cannot write the archive: a read-only mount (even for root),
    or no write permission on the folder or catalogue (or, for a writer, on warcs/)."""
    root = Path(root)
    with contextlib.suppress(OSError):
        if os.statvfs(root).f_flag & os.ST_RDONLY:
            return True
    paths = [root, root / INDEX_NAME] + ([root / WARCS] if writer else [])
    return not all(os.access(path, os.W_OK) for path in paths if path.exists())


def dead_temps(temps: Iterable[Path]) -> Iterator[Path]:
    """Those temporary files (`.<name>.<pid>.tmp`, as writers before rolling files made them)
    whose writing process no longer runs."""
    for temp in temps:
        pid = temp.name.rsplit(".", 2)[-2]
        if pid.isdigit() and not _alive(int(pid)):
            yield temp


def staging_folder(root: Path, token: str) -> Path:
    """Where an import stages its inputs: named for this process, like temporary files."""
    return root / f"{STAGING_PREFIX}{os.getpid()}-{token}"


def dead_staging(root: Path) -> Iterator[Path]:
    """Import staging folders whose process no longer runs."""
    for folder in root.glob(f"{STAGING_PREFIX}*"):
        pid = folder.name.removeprefix(STAGING_PREFIX).split("-")[0]
        if folder.is_dir() and pid.isdigit() and not _alive(int(pid)):
            yield folder


def leftovers(root: Path) -> list[Path]:
    """What writers that died left behind: temporary files, import staging folders and an
    unfinished commit journal. Write commands clear them; `verify` only reports them."""
    found = list(dead_temps((root / WARCS).rglob(".*.tmp"))) if (root / WARCS).is_dir() else []
    found += list(dead_staging(root))
    found += [
        p
        for p in (
            root / JOURNAL_NAME,
            root / f"{JOURNAL_NAME}.tmp",
            root / IMPORT_JOURNAL,
            root / f"{IMPORT_JOURNAL}.tmp",
        )
        if p.exists()
    ]
    return sorted(found)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def fsync_dir(folder: Path) -> None:
    """Make a rename or new file in `folder` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
