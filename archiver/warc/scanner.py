"""An independent WARC reader for checking evidence: walks gzip members with its own inflater, splits
records by their headers and hashes blocks and payloads while decompressing, in one streaming
pass per file. It shares no code with warcio (which wrote the files), so a check made with it
does not inherit the writer's mistakes.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from archiver.warc import deflate
from archiver.warc.records import RecordDigests, ScannedRecord

READ_SIZE = 1 << 20  # bytes read from disk at a time
MAX_OUT = 1 << 20  # decompressed bytes produced per inflate call
FIRST_FEED = 1 << 14  # compressed bytes fed to a fresh gzip member (grows while it lasts)
MAX_HEAD = 1 << 20  # longest WARC or HTTP header block accepted


# The gzip member header zlib and ISA-L write: magic, deflate, no flags, no time; then XFL
# (0, 2 or 4) and the OS byte. Archiver's writers never vary it within a file.
GZIP_PREFIX = bytes.fromhex("1f8b080000000000")
GZIP_XFL = (0, 2, 4)


# -- one pass over a WARC file -----------------------------------------------------------


@dataclass
class FileScan:
    """What one pass over a WARC file found."""

    path: str
    size: int  # bytes scanned: the file's, or the range's when a range of it was scanned
    compressed: bool = False
    members: int = 0
    records: list[ScannedRecord] = field(default_factory=list)
    errors: list[tuple[int | None, str]] = field(default_factory=list)  # (file offset, message)
    offset_access: bool = True  # every record is alone in its own gzip member
    sha256: str | None = None  # of the file's (or range's) bytes, when asked
    start: int = 0  # file offset of the first byte scanned (a capture's range in a rolling file)
    content_sha256: str | None = None  # of the decompressed stream, when asked


class Readable(Protocol):
    """What the scanner reads from: a file, a zip entry, a hashing wrapper."""

    def read(self, size: int = -1, /) -> bytes: ...


class _Stop(Exception):
    """The stream cannot be followed any further."""


class _Parser:
    """Splits a decompressed WARC stream into records; told where gzip members begin and end."""

    HEAD, BLOCK, TRAILER = range(3)

    def __init__(self, scan: FileScan, keep_types: tuple[str, ...], extra_sha256: bool) -> None:
        self.scan, self.keep_types, self.extra_sha256 = scan, keep_types, extra_sha256
        self.state, self.buffer, self.position = self.HEAD, bytearray(), 0
        self.record: RecordDigests | None = None
        self.remaining = 0
        self.record_start = self.member_offset = self.member_stream = 0
        self.member_records: list[ScannedRecord] = []
        self.start_offset = 0
        self.capture_start: int | None = None  # set when a member opens with a warcinfo record
        self.opened = False

    # members ----------------------------------------------------------------------------

    def member_start(self, offset: int) -> None:
        if self.state != self.HEAD or self.buffer:
            self.scan.offset_access = False  # a record runs on into this member
        self.member_offset, self.member_stream, self.member_records = offset, self.position, []
        self.opened = False

    def member_end(self, end: int) -> None:
        if self.state == self.TRAILER:
            self._end_record(self.position)  # a short trailer (or none) ends with its gzip member
        if len(self.member_records) == 1 and self.state == self.HEAD and not self.buffer:
            self.member_records[0].length = end - self.member_offset
        elif self.member_records or self.state != self.HEAD or self.buffer:
            self.scan.offset_access = False

    # bytes ------------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        view, i, n = memoryview(data), 0, len(data)
        while i < n:
            if self.state == self.BLOCK:
                take = min(self.remaining, n - i)
                assert self.record is not None
                self.record.feed(view[i : i + take])
                i, self.remaining = i + take, self.remaining - take
                if not self.remaining:
                    self.state = self.TRAILER
            elif self.state == self.HEAD:
                i = self._head(view, i)
            else:
                i = self._trailer(view, i)
        self.position += n

    def _head(self, view: memoryview, i: int) -> int:
        if not self.buffer:
            self.record_start = self.position + i
            self.start_offset = self.member_offset if self.scan.compressed else self.record_start
            if self.scan.compressed and self.record_start != self.member_stream:
                self.scan.offset_access = False  # shares its member with the record before
        piece = view[i : i + MAX_HEAD]
        old = len(self.buffer)
        self.buffer += piece
        if self.buffer[:11].lower() == b"filedesc://":  # an ARC file's first record
            self._fail("an ARC file, not a WARC file (convert it to WARC first)")
        end = self.buffer.find(b"\r\n\r\n", max(0, old - 3))
        if end < 0:
            if len(self.buffer) > MAX_HEAD:
                self._fail("no end of WARC headers within 1 MiB")
            return i + len(piece)
        self._begin(bytes(self.buffer[:end]), bytes(self.buffer[: end + 4]))
        self.buffer.clear()
        return i + end + 4 - old

    def _begin(self, head: bytes, raw: bytes) -> None:
        lines = head.decode("utf-8", "replace").split("\r\n")
        if not lines[0].upper().startswith("WARC/"):  # the version line's case varies by writer
            self._fail(f"not a WARC record (starts with {lines[0][:20]!r})")
        headers: dict[str, str] = {}
        name = ""
        for line in lines[1:]:
            if line[:1] in (" ", "\t") and name:  # a folded header: continues the one before
                headers[name] = (headers[name] + " " + line.strip()).strip()
                continue
            name, sep, value = line.partition(":")
            name = name.strip().lower()
            if not sep:
                self._fail(f"malformed WARC header line {line[:40]!r}")
            if name in headers:
                name = ""  # the first of a repeated header counts; its continuation lines too
                continue
            headers[name] = value.strip()
        try:
            length = int(headers["content-length"])
            if length < 0:
                raise ValueError
        except (KeyError, ValueError):
            self._fail("WARC record without a valid Content-Length")
        kind = headers.get("warc-type", "")
        if self.record_start == self.member_stream:
            self.opened = True  # the member's first record is known: a capture's start or not
            if kind == "warcinfo" and self.scan.compressed:
                self.capture_start = self.member_offset  # a capture of a rolling file begins here
        keep = kind in self.keep_types
        self.record = RecordDigests(raw, headers, length, keep, self.extra_sha256)
        self.remaining = length
        self.state = self.BLOCK if length else self.TRAILER

    def _trailer(self, view: memoryview, i: int) -> int:
        """The CRLF CRLF after a block. Some tools write less (pywb's samples: one CRLF, or
        none before the next `WARC/` line): read, and `trailer` says how many bytes there were."""
        n = len(view)
        while i < n and view[i] in (10, 13):
            self.buffer.append(view[i])
            i += 1
            if self.buffer.endswith(b"\r\n\r\n") or len(self.buffer) > 8:
                if len(self.buffer) > 8:
                    self._fail("record is not followed by CRLF CRLF (wrong Content-Length?)")
                self._end_record(self.position + i)
                return i
        if i < n:
            if view[i] not in b"Ww":  # not the next record's version line
                self._fail("record is not followed by CRLF CRLF (wrong Content-Length?)")
            self._end_record(self.position + i)
        return i

    def _end_record(self, end: int) -> None:
        assert self.record is not None
        self.record.whole.update(self.buffer)
        found = self.record.result(self.start_offset, self.record_start, end - self.record_start)
        found.trailer = len(self.buffer)
        self.scan.records.append(found)
        self.member_records.append(found)
        self.buffer.clear()
        self.state, self.record = self.HEAD, None

    def finish(self) -> None:
        if self.state == self.TRAILER:
            self._end_record(self.position)  # the file ends in (or without) the last trailer
        if self.state != self.HEAD or self.buffer:
            self._fail("file ends inside a record (truncated)")

    def _fail(self, message: str) -> None:
        self.scan.errors.append((self.start_offset, message))
        raise _Stop


def scan_stream(
    handle: Readable,
    name: str,
    size: int,
    *,
    strict_gzip: bool = False,
    file_sha256: bool = False,
    content_sha256: bool = False,
    extra_sha256: bool = True,
    keep_types: tuple[str, ...] = ("metadata", "warcinfo"),
    advance: Callable[[int], None] | None = None,
    base: int = 0,
    on_capture: Callable[[FileScan], None] | None = None,
) -> FileScan:
    """Read a WARC stream (gzip or not) once, checking every member and record digest.
    `strict_gzip`: every gzip member header must be the one archiver's writer makes; `base`:
    the file offset the stream starts at (offsets reported are the file's); `on_capture`:
    hand each capture (a capture begins with a member opening with a warcinfo record) over
    as its own scan, with the SHA-256 of its bytes, the moment it ends, keeping none: a file
    of any number of captures in flat memory."""
    scan = FileScan(path=name, size=size, start=base)
    first = handle.read(READ_SIZE)
    scan.compressed = first[:2] == b"\x1f\x8b"
    whole = hashlib.sha256() if file_sha256 else None
    content = hashlib.sha256() if content_sha256 else None
    parser = _Parser(scan, keep_types, extra_sha256)
    sink = _ContentSink(parser, content)
    emitted = 0

    def emit(start: int, end: int, digest: str) -> None:
        nonlocal emitted
        assert on_capture is not None
        records = [r for r in scan.records if r.offset < end]  # the next one's warcinfo may be read
        if not records and not any(e[0] is None or e[0] < end for e in scan.errors):
            return  # nothing left after the last capture
        scan.records = [r for r in scan.records if r.offset >= end]
        parser.member_records = [r for r in parser.member_records if r.offset >= end]
        errors = [e for e in scan.errors if e[0] is None or e[0] < end] if end > start else []
        scan.errors = [e for e in scan.errors if e not in errors]
        emitted += len(records) + len(errors)
        part = FileScan(name, end - start, scan.compressed, records=records, errors=errors, start=start)
        part.offset_access, part.sha256 = all(r.length is not None for r in records), digest
        on_capture(part)

    cuts = _Cuts(base, emit) if on_capture is not None and scan.compressed else None
    try:
        if scan.compressed:
            _walk_gzip(handle, first, scan, parser, sink, strict_gzip, _Hashers(whole, cuts), advance, base)
        else:
            _walk_plain(handle, first, parser, sink, whole, advance)
        parser.finish()
    except _Stop:
        scan.offset_access = False
    if not scan.records and not scan.errors and not emitted:
        scan.errors.append((0, "no WARC records"))
    if cuts is not None:
        cuts.finish(base + size)
    if on_capture is not None and (scan.records or scan.errors):  # not gzip, or read nothing
        emit(base, base + size, scan.sha256 or "")
    scan.sha256 = whole.hexdigest() if whole else None
    scan.content_sha256 = content.hexdigest() if content else None
    return scan


class _Cuts:
    """SHA-256 of each capture's bytes in one pass: a capture begins at a member opening with
    a warcinfo record. Until a member's first record is read (its head may come in a later
    piece than its first bytes) its bytes are hashed both on and afresh: the cut then takes
    the hash as it was at the member's start."""

    def __init__(self, start: int, emit: Callable[[int, int, str], None]) -> None:
        self.start, self.hash, self.emit = start, hashlib.sha256(), emit
        self.deciding = False
        self.before: Any = None
        self.fresh: Any = None

    def member(self) -> None:
        self.before, self.fresh, self.deciding = self.hash.copy(), hashlib.sha256(), True

    def update(self, data: bytes) -> None:
        self.hash.update(data)
        if self.deciding:
            self.fresh.update(data)

    def cut(self, offset: int) -> None:
        if self.deciding and offset > self.start:
            self.emit(self.start, offset, self.before.hexdigest())
            self.start, self.hash = offset, self.fresh
        self.settle()

    def settle(self) -> None:
        self.deciding, self.before, self.fresh = False, None, None

    def finish(self, end: int) -> None:
        self.emit(self.start, end, self.hash.hexdigest())


class _Hashers:
    """The hashes of compressed bytes a walk feeds: the whole file's and each capture's."""

    def __init__(self, whole: Any, cuts: _Cuts | None) -> None:
        self.whole, self.cuts = whole, cuts

    def update(self, data: bytes) -> None:
        if self.whole is not None:
            self.whole.update(data)
        if self.cuts is not None:
            self.cuts.update(data)


class _ContentSink:
    """Sends decompressed bytes to the parser (and to a hash of the whole stream)."""

    def __init__(self, parser: _Parser, content: Any) -> None:
        self.parser, self.content = parser, content

    def __call__(self, data: bytes) -> None:
        if self.content is not None:
            self.content.update(data)
        self.parser.feed(data)


def _walk_plain(
    handle: Readable,
    first: bytes,
    parser: _Parser,
    sink: _ContentSink,
    whole: Any,
    advance: Callable[[int], None] | None,
) -> None:
    chunk = first
    while chunk:
        if whole is not None:
            whole.update(chunk)
        sink(chunk)
        if advance:
            advance(len(chunk))
        chunk = handle.read(READ_SIZE)


def _walk_gzip(
    handle: Readable,
    first: bytes,
    scan: FileScan,
    parser: _Parser,
    sink: _ContentSink,
    strict: bool,
    whole: Any,
    advance: Callable[[int], None] | None,
    base: int,
) -> None:
    """Decompress member by member; `offset` is the file position of data[start]. The bytes
    are hashed as they are consumed, so a capture's hash can start at its first member."""
    data, start, offset = first, 0, base
    inflater: Any = None
    header: bytes | None = None
    feed = FIRST_FEED
    cuts = whole.cuts
    try:
        while True:
            if start >= len(data):
                if advance:
                    advance(len(data))
                data, start = handle.read(READ_SIZE), 0
                if not data:
                    break
            if inflater is None:
                while len(data) - start < 10:  # a member header split across reads
                    more = handle.read(READ_SIZE)
                    if advance:
                        advance(start)
                    data, start = data[start:] + more, 0
                    if not more:
                        scan.errors.append((offset, "file ends inside a gzip member header (truncated)"))
                        raise _Stop
                if strict:
                    header = _check_header(data[start : start + 10], header, offset, scan)
                inflater, feed = deflate.inflater(), FIRST_FEED
                scan.members += 1
                parser.member_start(offset)
                if cuts is not None:
                    cuts.member()
            piece = data[start : start + feed]
            try:
                out = inflater.decompress(piece, MAX_OUT)
                sink(out)
                while inflater.unconsumed_tail and not inflater.eof:
                    sink(inflater.decompress(inflater.unconsumed_tail, MAX_OUT))
            except deflate.ERRORS as exc:
                scan.errors.append((parser.member_offset, f"gzip member does not decompress ({exc})"))
                raise _Stop from None
            if cuts is not None and cuts.deciding:  # does this member begin a capture?
                if parser.capture_start is not None:
                    cuts.cut(parser.capture_start)
                    parser.capture_start = None
                elif parser.opened or inflater.eof:
                    cuts.settle()
            if inflater.eof:
                used = len(piece) - len(inflater.unused_data)
                whole.update(piece[:used])
                start, offset = start + used, offset + used
                parser.member_end(offset)
                inflater = None
            else:
                whole.update(piece)
                start, offset = start + len(piece), offset + len(piece)
                feed = min(feed * 2, READ_SIZE)
    except _Stop:
        whole.update(data[start:])  # the file's hash still covers every byte
        while rest := handle.read(READ_SIZE):
            whole.update(rest)
        raise
    if advance:
        advance(len(data))
    if inflater is not None:
        scan.errors.append((parser.member_offset, "file ends inside a gzip member (truncated)"))
        raise _Stop


def _check_header(header: bytes, first: bytes | None, offset: int, scan: FileScan) -> bytes:
    """A member header must be one archiver writes, the same for every member of the file."""
    if first is None and header[:8] == GZIP_PREFIX and header[8] in GZIP_XFL:
        return header
    if header != first:
        scan.errors.append(
            (
                offset,
                f"gzip member header {header.hex()} is not the one archiver "
                f"writes{f' ({first.hex()})' if first else ''}",
            )
        )
        raise _Stop
    return header


def scan_warc(path: Path, **options: Any) -> FileScan:
    """scan_stream over a file on disk; anything but a regular file (a FIFO, a device) is
    refused before it is opened, so no check ever blocks on one."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return FileScan(path=str(path), size=0, errors=[(None, "not a regular file")])
        with open(path, "rb") as handle:
            return scan_stream(handle, str(path), os.fstat(handle.fileno()).st_size, **options)
    except OSError as exc:
        return FileScan(path=str(path), size=0, errors=[(None, f"cannot read: {exc.strerror}")])


class Window:
    """At most `left` bytes of a file, from where it is positioned."""

    def __init__(self, handle: Readable, left: int) -> None:
        self.handle, self.left = handle, left

    def read(self, size: int = -1, /) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        data = self.handle.read(size) if size else b""
        self.left -= len(data)
        return data


def scan_range(path: Path, start: int, length: int, **options: Any) -> FileScan:
    """scan_stream over `length` bytes of a file from `start`: one capture of a rolling WARC
    file (a file shorter than that reads as truncated)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return FileScan(path=str(path), size=0, start=start, errors=[(None, "not a regular file")])
        with open(path, "rb") as handle:
            handle.seek(start)
            return scan_stream(Window(handle, length), str(path), length, base=start, **options)
    except OSError as exc:
        return FileScan(path=str(path), size=0, start=start, errors=[(None, f"cannot read: {exc.strerror}")])


def read_record_at(path: Path, offset: int) -> ScannedRecord:
    """The one record in the gzip member at `offset` (content kept)."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        inflater = deflate.inflater()
        scan = FileScan(path=str(path), size=0, compressed=True)
        parser = _Parser(scan, ("metadata", "warcinfo", "response", "revisit", "request"), True)
        parser.member_start(offset)
        try:
            while not inflater.eof:
                chunk = handle.read(FIRST_FEED)
                if not chunk:
                    raise ValueError(f"truncated gzip member at offset {offset} of {path.name}")
                parser.feed(inflater.decompress(chunk))
            parser.finish()
        except (_Stop, *deflate.ERRORS) as exc:
            message = scan.errors[-1][1] if scan.errors else str(exc)
            raise ValueError(f"no readable record at offset {offset} of {path.name}: {message}") from None
    if len(scan.records) != 1:
        raise ValueError(f"no single record at offset {offset} of {path.name}")
    return scan.records[0]
