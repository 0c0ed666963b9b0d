"""Adding captures to an archive: the one write path every writer (capture, import) takes.

A capture is written to a temporary file beside its final name (`Draft`), outside the lock
when the writer can; then, under the writer lock, its metadata record is chained and signed,
the file fsynced and published with a hard link, which fails rather than replace an existing
file, so evidence is never overwritten, and only then does the catalogue row appear. A
journal (`.pending`) lets the next writer finish a commit killed half-way; that recovery,
and the sweep of dead writers' temporary files, happen in write commands only.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from archiver.archive import lock
from archiver.archive.catalogue import insert_capture
from archiver.archive.folder import Archive
from archiver.archive.layout import (
    IMPORT_JOURNAL,
    JOURNAL_NAME,
    SOURCES,
    WARCS,
    dead_staging,
    dead_temps,
    file_sha256,
    fsync_dir,
    temp_path_for,
    warc_files,
)
from archiver.errors import ArchiverError
from archiver.record import (
    METADATA_TARGET,
    Capture,
    build_manifest,
    make_row,
    metadata_payload,
    new_capture_id,
    read_capture_file,
)
from archiver.warc.writer import CaptureWriter

_FINAL_NAME = re.compile(r"\d{17}-[0-9a-f]{6}\.warc\.gz")
_TEMP_NAME = re.compile(r".+\.tmp")  # under warcs/, where only writers' temporary files end so
NO_LINKS = (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK)


_RESERVED: set[str] = set()  # ids of this process's drafts in flight
_RESERVED_LOCK = threading.Lock()
_committing = 0


@contextlib.contextmanager
def writing(archive: Archive) -> Iterator[None]:
    """The writer lock, held once what a dead writer left has been finished or cleared."""
    global _committing
    if archive.read_only or not archive.writer:
        raise ArchiverError(f"{archive.root} is read-only")
    with _RESERVED_LOCK:
        _committing += 1
    try:
        with lock.exclusive(archive.root):
            recover(archive, everywhere=archive.rebuild)
            yield
    finally:
        with _RESERVED_LOCK:
            _committing -= 1


def commits_in_flight() -> int:
    """How many threads of this process are committing (or waiting to): an interrupted
    batch lets them finish, so nothing is left published but not indexed."""
    with _RESERVED_LOCK:
        return _committing


def chain_state(archive: Archive) -> tuple[str | None, int]:
    """(manifest digest of the chain head, next sequence number), under the writer lock.
    An empty catalogue beside capture files would start a second chain at seq 1: refused."""
    seq = archive.next_seq()
    if seq == 1 and not archive.rebuild:
        for path in warc_files(archive.root):
            try:
                read_capture_file(path)
            except ValueError:  # a stray file is not a capture; reindex reports it
                continue
            raise ArchiverError(
                f"{archive.root} has capture files but its catalogue lists none "
                f"(e.g. {archive.relative(path)}); rebuild it with `archiver reindex`"
            )
    return archive.chain_head(), seq


class Draft:
    """One capture being written: its id, its temporary file and a record writer on it.
    Discarded (the temporary file removed) unless committed."""

    def __init__(self, archive: Archive, moment: datetime, warcinfo: dict[str, str] | None = None) -> None:
        self.archive = archive
        with _RESERVED_LOCK:  # two drafts of one process never share an id or a temporary file
            self.capture_id = new_capture_id(moment, self._taken)
            _RESERVED.add(self.capture_id)
        self.path = archive.warc_path_for(self.capture_id)
        self.temp = temp_path_for(self.path)
        self.out = open(self.temp, "xb")  # noqa: SIM115 (closed by commit or discard)
        self.writer = CaptureWriter(self.out)
        self.writer.warcinfo(self.path.name, {"isPartOf": self.capture_id, **(warcinfo or {})})

    def _taken(self, capture_id: str) -> bool:
        """In the catalogue, published, or the id of another draft still being written."""
        path = self.archive.warc_path_for(capture_id)
        return (
            capture_id in _RESERVED
            or self.archive.has_id(capture_id)
            or path.exists()
            or temp_path_for(path).exists()
        )

    def park(self) -> None:
        """Close the file until commit: an import holds a draft per page of a file at once."""
        self.out.close()

    def commit(
        self,
        facts: dict[str, Any],
        sign: Callable[[bytes], dict] | None,
        source: dict[str, Any] | None = None,
    ) -> Capture:
        """Under the writer lock: chain and sign the manifest, write the metadata record,
        fsync, publish the file and index it."""
        if self.out.closed:
            self.out = open(self.temp, "ab")  # noqa: SIM115 (closed below)
            self.writer.resume(self.out)
        prev, seq = chain_state(self.archive)
        if sign is None and self.archive.has_signed():
            raise ArchiverError(
                f"{self.archive.root}: earlier captures are signed but the archive's key is missing "
                "(restore keys/archive-key.pub.pem and the private key); not adding an unsigned capture"
            )
        manifest = build_manifest(facts, seq, prev, self.writer.spans, source)
        data = metadata_payload(facts, manifest, sign)
        response_id = facts["response_record_id"]
        meta = self.writer.metadata(METADATA_TARGET + self.capture_id, facts["fetch_end"], response_id, data)
        response = next(s for s in self.writer.spans if s.record_id == response_id)
        self.out.flush()
        os.fsync(self.out.fileno())
        size = self.out.tell()
        self.out.close()
        row = make_row(
            data,
            warc_path=self.archive.relative(self.path),
            response=(response.offset, response.length),
            metadata_span=(meta.offset, meta.length),
            size=size,
            warc_sha256=file_sha256(self.temp),
        )
        publish(self.archive, self.temp, self.path, row)
        return row

    def discard(self) -> None:
        self.out.close()
        self.temp.unlink(missing_ok=True)
        with _RESERVED_LOCK:
            _RESERVED.discard(self.capture_id)

    def __enter__(self) -> Draft:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.discard()


def publish(archive: Archive, temp: Path, final: Path, capture: Capture) -> None:
    """Under the writer lock: make a fully written, fsynced file visible at `final` (never
    replacing a file there), then index it. The journal lets the next writer finish this."""
    taken = archive.db.execute("SELECT id FROM captures WHERE seq = ?", (capture.seq,)).fetchone()
    if taken is not None:  # never fork the chain, whatever went wrong before
        raise ArchiverError(
            f"cannot add capture {capture.id}: seq {capture.seq} is already capture {taken[0]}"
        )
    journal = archive.root / JOURNAL_NAME
    names = {"final": archive.relative(final), "temp": archive.relative(temp)}
    _atomic_write(journal, json.dumps(names).encode())
    try:
        link_new(temp, final)
    except FileExistsError:
        journal.unlink(missing_ok=True)
        raise ArchiverError(
            f"cannot add capture {capture.id}: {final} already exists; evidence is never replaced"
        ) from None
    temp.unlink(missing_ok=True)
    fsync_dir(final.parent)
    with archive.catalogue.transaction() as db:
        insert_capture(db, capture)
    journal.unlink(missing_ok=True)


def link_new(source: Path, target: Path) -> None:
    """Give `source`'s bytes the name `target`, which must not exist (FileExistsError):
    a hard link, or on file systems without them an O_EXCL copy."""
    try:
        os.link(source, target)
        return
    except OSError as exc:
        if exc.errno not in NO_LINKS:
            raise
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "wb") as out, open(source, "rb") as data:
        shutil.copyfileobj(data, out, 1 << 20)
        out.flush()
        os.fsync(out.fileno())


def begin_import(archive: Archive, source: Path) -> Path:
    """Note, durably, that `source` is about to be kept in sources/ ahead of the captures
    that will cite it; if the writer dies before the first of them is published, the next
    write command removes it (until then it is nobody's evidence)."""
    journal = archive.root / IMPORT_JOURNAL
    _atomic_write(
        journal, json.dumps({"source": archive.relative(source), "seq": archive.next_seq()}).encode()
    )
    return journal


def _recover_import(archive: Archive) -> None:
    journal = archive.root / IMPORT_JOURNAL
    if not journal.exists():
        return
    try:
        noted = json.loads(journal.read_bytes())
        name, first_seq = str(noted["source"]), int(noted["seq"])
    except (ValueError, RecursionError, KeyError, TypeError, OSError):
        journal.unlink(missing_ok=True)  # not even JSON: written by no import of ours
        return
    source = archive.root / name
    if not source.resolve().is_relative_to((archive.root / SOURCES).resolve()):
        raise ArchiverError(
            f"{journal} names {name!r}, not a source of this archive; check and remove it by hand"
        )
    cited = any(_cites(archive, capture, name) for capture in archive.all() if capture.seq >= first_seq)
    if not cited:
        source.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            source.parent.rmdir()
    journal.unlink(missing_ok=True)


def _cites(archive: Archive, capture: Capture, name: str) -> bool:
    try:
        cited = read_capture_file(archive.capture_path(capture)).manifest.get("source")
    except (ValueError, OSError, ArchiverError):
        return False
    return isinstance(cited, dict) and cited.get("file") == name


def recover(archive: Archive, everywhere: bool = False) -> None:
    """Finish or clear what a killed writer left: a published but unindexed file gets indexed
    (or, unreadable, kept aside out of the chain), temporary files and staging folders of
    dead processes are removed: once per opened archive in today's folder (where a writer
    that just died was writing), `everywhere` for a rebuild."""
    if everywhere or not archive.swept:  # once per opened archive: all of warcs/ (imports
        archive.swept = True  # write into past days' folders too)
        folder = archive.root / WARCS
        for temp in dead_temps(folder.rglob(".*.tmp")):
            temp.unlink(missing_ok=True)
        for staging in dead_staging(archive.root):
            shutil.rmtree(staging, ignore_errors=True)
    journal = archive.root / JOURNAL_NAME
    if journal.exists():
        pending, final = _journal_paths(archive, journal)
        _finish_commit(archive, pending, final)
        journal.unlink(missing_ok=True)
    _recover_import(archive)


def _finish_commit(archive: Archive, pending: Path | None, final: Path | None) -> None:
    """A commit killed half-way: its temporary file goes, a published file gets indexed."""
    if pending is not None:
        pending.unlink(missing_ok=True)
    if final is not None and final.exists() and archive.by_path(archive.relative(final)) is None:
        try:
            capture = read_capture_file(final).row(archive.relative(final))
        except (ValueError, KeyError, TypeError):  # keep the evidence, out of the chain
            _set_aside(final)
        else:
            with archive.catalogue.transaction() as db:
                insert_capture(db, capture)


def _journal_paths(archive: Archive, journal: Path) -> tuple[Path | None, Path | None]:
    """The temporary and final file a commit journal names, relative to the archive (so a
    moved archive recovers too). A journal naming anything but a capture file and its
    temporary file under warcs/ is not one archiver wrote: refused, nothing touched."""
    try:
        names = json.loads(journal.read_bytes())
        temp, final = names.get("temp"), names.get("final")
    except (ValueError, RecursionError, AttributeError, OSError):
        return None, None  # not even JSON: no commit of ours began with it
    paths: list[Path | None] = []
    for name, pattern in ((temp, _TEMP_NAME), (final, _FINAL_NAME)):
        if not name:
            paths.append(None)
            continue
        path = (
            Path(str(name)) if Path(str(name)).is_absolute() else archive.root / str(name)
        )  # older journals
        inside = ".." not in path.parts and path.parent.resolve().is_relative_to(
            (archive.root / WARCS).resolve()
        )
        if not inside or not pattern.fullmatch(path.name):
            raise ArchiverError(
                f"{journal} names {name!r}, not a capture file of this archive; "
                "check and remove it by hand (nothing was changed)"
            )
        paths.append(path)
    return paths[0], paths[1]


def _set_aside(path: Path) -> None:
    """Rename an unreadable file to NAME.unreadable[-N], never over another file."""
    for number in range(1000):
        aside = path.with_name(path.name + ".unreadable" + (f"-{number}" if number else ""))
        try:
            link_new(path, aside)
        except FileExistsError:
            continue
        path.unlink()
        return
    raise ArchiverError(f"cannot set {path} aside: too many unreadable copies")


def _atomic_write(path: Path, data: bytes) -> None:
    temp = path.with_name(path.name + ".tmp")
    with open(temp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
