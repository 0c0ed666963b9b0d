"""Adding captures to an archive: the one write path every writer (capture, import) takes.

A capture's exchange records are written to a spool (`Draft`) outside the lock; then a group
of captures is committed at once (`commit_group`): under the writer lock each metadata
record is chained and signed and each capture appended to the writer's rolling WARC file
(`Roll`), the file is fsynced once, and the group's catalogue rows appear in one transaction.
Files are only ever appended to, never rewritten, so evidence is never overwritten. A
journal (`.pending`: the file and its length before the group) lets the next writer cut back
what a commit killed half-way appended; that recovery, and the sweep of what dead writers
left, happen in write commands only.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, BinaryIO, cast

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
    fsync_dir,
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


SPOOL_MEMORY = 1 << 20  # bytes of a draft's records kept in memory before it spools to disk
WARC_SIZE = 1 << 30  # a rolling file is started afresh past this size (--warc-size)

_RESERVED: set[str] = set()  # ids of this process's drafts in flight
_RESERVED_LOCK = threading.Lock()
_committing = 0
_holding = threading.local()  # roots of the archives whose writer lock this thread holds


@contextlib.contextmanager
def writing(archive: Archive) -> Iterator[None]:
    """The writer lock, held once what a dead writer left has been finished or cleared
    (re-entered freely by the thread holding it: an import commits under its own hold)."""
    global _committing
    if archive.read_only or not archive.writer:
        raise ArchiverError(f"{archive.root} is read-only")
    root = str(archive.root.resolve())
    held: set[str] = _holding.__dict__.setdefault("roots", set())
    if root in held:  # this thread holds it already
        yield
        return
    with _RESERVED_LOCK:
        _committing += 1
    try:
        with lock.exclusive(archive.root):
            held.add(root)
            try:
                recover(archive, everywhere=archive.rebuild)
                yield
            finally:
                held.discard(root)
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
    """One capture being prepared outside the lock: its id and its exchange records, written
    to a spool (memory, then an anonymous file under warcs/, so a killed writer leaves
    nothing) until `commit_group` appends them to a rolling file. An import's drafts share
    one spool, one after the other."""

    def __init__(
        self,
        archive: Archive,
        moment: datetime,
        warcinfo: dict[str, str] | None = None,
        spool: BinaryIO | None = None,
    ) -> None:
        self.archive = archive
        with _RESERVED_LOCK:  # two drafts of one process never share an id
            self.capture_id = new_capture_id(moment, self._taken)
            _RESERVED.add(self.capture_id)
        self.own_spool = spool is None
        self.out: BinaryIO = spool or cast(
            BinaryIO,
            tempfile.SpooledTemporaryFile(SPOOL_MEMORY, mode="w+b", dir=str(archive.root / WARCS)),  # noqa: SIM115
        )
        self.out.seek(0, os.SEEK_END)
        self.begin = self.out.tell()
        self.writer = CaptureWriter(self.out)
        self.info = {"isPartOf": self.capture_id, **(warcinfo or {})}

    def _taken(self, capture_id: str) -> bool:
        """In the catalogue, a file's name, or the id of another draft being written."""
        return (
            capture_id in _RESERVED
            or self.archive.has_id(capture_id)
            or self.archive.warc_path_for(capture_id).exists()
        )

    def segment(self) -> Iterator[bytes]:
        """The exchange records' bytes, as written to the spool."""
        end = self.writer.spans[-1].offset + self.writer.spans[-1].length if self.writer.spans else self.begin
        self.out.seek(self.begin)
        left = end - self.begin
        while left > 0:
            chunk = self.out.read(min(left, 1 << 20))
            if not chunk:
                raise OSError(f"capture {self.capture_id}: its spooled records are short")
            left -= len(chunk)
            yield chunk
        self.out.seek(0, os.SEEK_END)

    def discard(self) -> None:
        if self.own_spool:
            self.out.close()
        with _RESERVED_LOCK:
            _RESERVED.discard(self.capture_id)

    def __enter__(self) -> Draft:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.discard()


@dataclass
class Pending:
    """A draft ready to commit: its facts and, for an import, the source its manifest cites."""

    draft: Draft
    facts: dict[str, Any]
    source: dict[str, Any] | None = None


class Roll:
    """The WARC file a writer appends its captures to, one after another (each with its own
    warcinfo, records and signed metadata record), started afresh past `max_size` bytes, as
    Heritrix and Browsertrix roll theirs. Only the writer that made it appends to it, and only
    under the writer lock; `close` when done."""

    def __init__(self, archive: Archive, max_size: int = WARC_SIZE) -> None:
        self.archive, self.max_size = archive, max_size
        self.path: Path | None = None
        self.out: IO[bytes] | None = None

    def next_path(self, first: str) -> Path:
        """The file to append to now: this one, or once it is full (or there is none yet) a new
        one named for the capture `first` to go in it (a capture alone in its file is
        `<capture-id>.warc.gz`). Not made yet: the journal names it first."""
        if self.out is not None and self.path is not None and self.out.tell() < self.max_size:
            return self.path
        return self.archive.warc_path_for(first)

    def open(self, path: Path) -> IO[bytes]:
        """The file `next_path` named, open for appending (a new one made empty, never over
        another file)."""
        if self.out is not None and self.path == path:
            return self.out
        self.close()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.out = path, open(path, "xb")  # noqa: SIM115 (closed by close)
        fsync_dir(path.parent)
        return self.out

    def close(self) -> None:
        if self.out is not None:
            self.out.close()
        self.path = self.out = None


def commit_group(
    archive: Archive, roll: Roll, items: list[Pending], sign: Callable[[bytes], dict] | None
) -> list[tuple[Capture, str | None]]:
    """Add `items` to the archive at once: under one writer lock, chain and sign each
    manifest, append each capture to `roll`, fsync once, index all in one transaction. All
    or nothing: on any failure the file is cut back and the catalogue is as it was. Returns
    each capture's row with the payload digest of its article's capture before it (None for
    a first capture)."""
    if not items:
        return []
    with writing(archive):
        prev, seq = chain_state(archive)
        if sign is None and archive.has_signed():
            raise ArchiverError(
                f"{archive.root}: earlier captures are signed but the archive's key is missing "
                "(restore keys/archive-key.pub.pem and the private key); not adding an unsigned capture"
            )
        taken = archive.db.execute("SELECT id FROM captures WHERE seq = ?", (seq,)).fetchone()
        if taken is not None:  # never fork the chain, whatever went wrong before
            raise ArchiverError(f"cannot add captures: seq {seq} is already capture {taken[0]}")
        path = roll.next_path(items[0].draft.capture_id)
        begin = roll.out.tell() if roll.out is not None and roll.path == path else 0
        name = archive.relative(path)
        journal = archive.root / JOURNAL_NAME
        _atomic_write(journal, json.dumps({"roll": name, "offset": begin}).encode())
        try:
            out = roll.open(path)
            rows = []
            for item in items:
                latest = archive.history(item.facts["canonical_url"])
                row = _append(name, path, out, item, seq, prev, sign)
                rows.append((row, latest[-1].payload_sha256 if latest else None))
                prev, seq = row.manifest_sha256, seq + 1
            out.flush()
            os.fsync(out.fileno())
            with archive.catalogue.transaction() as db:
                for row, _ in rows:
                    insert_capture(db, row)
        except BaseException:
            _cut(archive, path, begin)
            roll.close()  # the next group starts a new file
            journal.unlink(missing_ok=True)
            raise
        journal.unlink(missing_ok=True)
    return rows


def _append(
    name: str,
    path: Path,
    out: IO[bytes],
    item: Pending,
    seq: int,
    prev: str | None,
    sign: Callable[[bytes], dict] | None,
) -> Capture:
    """Write one capture at the end of `out`: its warcinfo (naming the file it is in), its
    spooled exchange records, and its metadata record with the chained, signed manifest."""
    draft, facts = item.draft, item.facts
    start = out.tell()
    head = io.BytesIO()
    info = CaptureWriter(head).warcinfo(path.name, draft.info)
    shift = start + head.tell() - draft.begin
    exchanges = [replace(span, offset=span.offset + shift) for span in draft.writer.spans]
    manifest = build_manifest(facts, seq, prev, [replace(info, offset=start), *exchanges], item.source)
    data = metadata_payload(facts, manifest, sign)
    tail = io.BytesIO()
    meta = CaptureWriter(tail).metadata(
        METADATA_TARGET + draft.capture_id, facts["fetch_end"], facts["response_record_id"], data
    )
    digest = hashlib.sha256(head.getvalue())
    out.write(head.getvalue())
    for chunk in draft.segment():
        digest.update(chunk)
        out.write(chunk)
    meta = replace(meta, offset=out.tell())
    digest.update(tail.getvalue())
    out.write(tail.getvalue())
    response = next(s for s in exchanges if s.record_id == facts["response_record_id"])
    return make_row(
        data,
        warc_path=name,
        response=(response.offset, response.length),
        metadata_span=(meta.offset, meta.length),
        size=out.tell() - start,
        warc_sha256=digest.hexdigest(),
        start=start,
    )


def _cut(archive: Archive, path: Path, keep: int) -> None:
    """Cut a rolling file back to its first `keep` bytes (or what its captures in the
    catalogue hold, if more), dropping what a failed or killed commit appended; a file left
    empty goes. Nothing the catalogue lists is ever cut."""
    committed = max((c.start_offset + c.bytes for c in archive.in_file(archive.relative(path))), default=0)
    keep = max(keep, committed)
    with contextlib.suppress(FileNotFoundError):
        if keep == 0:
            path.unlink()
            return
        with open(path, "r+b") as handle:
            if os.fstat(handle.fileno()).st_size > keep:
                handle.truncate(keep)
                os.fsync(handle.fileno())


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
        cited = archive.capture_file(capture).manifest.get("source")
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
    for name in (JOURNAL_NAME, IMPORT_JOURNAL):  # a journal a killed writer was writing (under
        (archive.root / f"{name}.tmp").unlink(missing_ok=True)  # the lock we hold): never begun
    journal = archive.root / JOURNAL_NAME
    if journal.exists():
        roll, offset = _journal_roll(archive, journal)
        if roll is not None:
            _cut(archive, roll, offset)
        else:  # a journal of an archiver that published one file per capture
            pending, final = _journal_paths(archive, journal)
            _finish_commit(archive, pending, final)
        journal.unlink(missing_ok=True)
    _recover_import(archive)


def _finish_commit(archive: Archive, pending: Path | None, final: Path | None) -> None:
    """A commit killed half-way: its temporary file goes, a published file gets indexed."""
    if pending is not None:
        pending.unlink(missing_ok=True)
    if final is not None and final.exists() and not archive.in_file(archive.relative(final)):
        try:
            capture = read_capture_file(final).row(archive.relative(final))
        except (ValueError, KeyError, TypeError):  # keep the evidence, out of the chain
            _set_aside(final)
        else:
            with archive.catalogue.transaction() as db:
                insert_capture(db, capture)


def _journal_roll(archive: Archive, journal: Path) -> tuple[Path | None, int]:
    """The rolling file a group commit was appending to, and its length before; (None, 0)
    for a journal of the older form."""
    try:
        noted = json.loads(journal.read_bytes())
        name, offset = noted["roll"], noted["offset"]
    except (ValueError, RecursionError, TypeError, KeyError, OSError):
        return None, 0
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0 or not isinstance(name, str):
        raise ArchiverError(f"{journal} is not a journal archiver wrote; check and remove it by hand")
    return _inside(archive, journal, name, _FINAL_NAME), offset


def _inside(archive: Archive, journal: Path, name: str, pattern: re.Pattern[str]) -> Path:
    """A path a journal names: a file under warcs/ named as `pattern` says, else refused."""
    path = Path(name) if Path(name).is_absolute() else archive.root / name  # older journals
    inside = ".." not in path.parts and path.parent.resolve().is_relative_to((archive.root / WARCS).resolve())
    if not inside or not pattern.fullmatch(path.name):
        raise ArchiverError(
            f"{journal} names {name!r}, not a capture file of this archive; "
            "check and remove it by hand (nothing was changed)"
        )
    return path


def _journal_paths(archive: Archive, journal: Path) -> tuple[Path | None, Path | None]:
    """The temporary and final file a commit journal names, relative to the archive (so a
    moved archive recovers too). A journal naming anything but a capture file and its
    temporary file under warcs/ is not one archiver wrote: refused, nothing touched."""
    try:
        names = json.loads(journal.read_bytes())
        temp, final = names.get("temp"), names.get("final")
    except (ValueError, RecursionError, AttributeError, OSError):
        return None, None  # not even JSON: no commit of ours began with it
    paths = [
        _inside(archive, journal, str(name), pattern) if name else None
        for name, pattern in ((temp, _TEMP_NAME), (final, _FINAL_NAME))
    ]
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
