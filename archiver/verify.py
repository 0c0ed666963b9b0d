"""Check the evidence: gzip members, record digests, capture manifests, catalogue rows, the
manifest chain and signatures.

The WARC reader here is independent of warcio (which wrote the files): it walks gzip members
with zlib, splits records by their headers and hashes blocks and payloads while decompressing,
in one streaming pass per file.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import threading
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from . import keys
from .errors import ArchiverError

READ_SIZE = 1 << 20  # bytes read from disk at a time
MAX_OUT = 1 << 20  # decompressed bytes produced per zlib call
FIRST_FEED = 1 << 14  # compressed bytes fed to a fresh gzip member (grows while it lasts)
MAX_HEAD = 1 << 20  # longest WARC or HTTP header block accepted
KEEP_LIMIT = 16 << 20  # largest record content kept in memory (metadata, warcinfo)
SOURCES = "sources"  # imported files, kept as given (see ingest.py)
DIGEST_SIZES = {"sha1": 20, "sha224": 28, "sha256": 32, "sha384": 48, "sha512": 64, "md5": 16}


# zlib's gzip member header: magic, deflate, no flags, no time; then XFL (0, 2 or 4 by level)
# and the OS byte. Archiver's writers never vary it within a file.
ZLIB_GZIP_PREFIX = bytes.fromhex("1f8b080000000000")
ZLIB_XFL = (0, 2, 4)


# -- digests -----------------------------------------------------------------------------

def parse_digest(value: str) -> tuple[str, bytes] | None:
    """`algorithm:value` (hex, base32 or base64) as (hashlib name, raw bytes); None if unknown."""
    label, _, text = value.strip().partition(":")
    algorithm = label.lower().replace("-", "")
    size = DIGEST_SIZES.get(algorithm)
    if size is None or not text:
        return None
    for decode in (bytes.fromhex, _b32decode, _b64decode):
        try:
            raw = decode(text)
        except (ValueError, binascii.Error):
            continue
        if len(raw) == size:
            return algorithm, raw
    return None


def _b32decode(text: str) -> bytes:
    return base64.b32decode(text.upper() + "=" * (-len(text) % 8))


def _b64decode(text: str) -> bytes:
    return base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4),
                            validate=True)


# -- one pass over a WARC file -----------------------------------------------------------

@dataclass
class ScannedRecord:
    """A record as found in a file, with the outcome of recomputing its digests."""

    offset: int  # file offset of its gzip member (of the record itself when uncompressed)
    length: int | None  # bytes of its gzip member; None if it shares or spans members
    stream_offset: int  # position of the record in the decompressed stream
    stream_length: int
    headers: dict[str, str]
    block_digest: str  # the WARC-Block-Digest header, or sha256 computed when there is none
    block_ok: bool | None  # None: no digest header, or one of an unknown kind
    payload_digest: str | None  # the WARC-Payload-Digest header
    payload_ok: bool | None
    payload_sha256: str | None  # hex, of the payload as stored
    payload_length: int
    http_head: bytes = b""  # status line and headers of an HTTP record
    content: bytes | None = None  # the block, for records asked to be kept

    @property
    def type(self) -> str:
        return self.headers.get("warc-type", "")

    @property
    def record_id(self) -> str:
        return self.headers.get("warc-record-id", "")

    @property
    def target_uri(self) -> str:
        """WARC-Target-URI, without the angle brackets some writers (wget) put around it."""
        uri = self.headers.get("warc-target-uri", "")
        return uri[1:-1] if uri.startswith("<") and uri.endswith(">") else uri

    def where(self) -> str:
        return f"{self.type or 'record'} {self.record_id or '?'} at offset {self.offset}"


@dataclass
class FileScan:
    """What one pass over a WARC file found."""

    path: str
    size: int
    compressed: bool = False
    members: int = 0
    records: list[ScannedRecord] = field(default_factory=list)
    errors: list[tuple[int | None, str]] = field(default_factory=list)  # (file offset, message)
    offset_access: bool = True  # every record is alone in its own gzip member
    sha256: str | None = None  # of the file's bytes, when asked
    content_sha256: str | None = None  # of the decompressed stream, when asked


class _Stop(Exception):
    """The stream cannot be followed any further."""


class _Dechunker:
    """Feeds the body of a chunked transfer-encoded payload to a hash (some tools digest that)."""

    def __init__(self, sink: Any) -> None:
        self.sink, self.left, self.line, self.expect_crlf, self.done = sink, 0, bytearray(), False, False

    def feed(self, data: bytes) -> None:
        i, n = 0, len(data)
        while i < n and not self.done:
            if self.left:
                take = min(self.left, n - i)
                self.sink.update(data[i:i + take])
                i, self.left = i + take, self.left - take
                self.expect_crlf = not self.left
                continue
            end = data.find(b"\n", i)
            self.line += data[i:n if end < 0 else end]
            i = n if end < 0 else end + 1
            if end < 0:
                continue
            line, self.line = bytes(self.line).strip(), bytearray()
            if self.expect_crlf:
                self.expect_crlf = False
                continue
            try:
                self.left = int(line.split(b";")[0] or b"x", 16)
            except ValueError:
                self.done = True
                continue
            self.done = self.left == 0


class _Record:
    """A record being read: hashes its block (and payload) as the bytes go by."""

    def __init__(self, headers: dict[str, str], length: int, keep: bool, extra_sha256: bool) -> None:
        self.headers, self.length = headers, length
        self.block_claim = parse_digest(headers.get("warc-block-digest", ""))
        self.payload_claim = parse_digest(headers.get("warc-payload-digest", ""))
        self.block_hash = hashlib.new(self.block_claim[0] if self.block_claim else "sha256")
        self.http = headers.get("content-type", "").lower().startswith("application/http")
        self.http_buffer: bytearray | None = bytearray() if self.http else None
        self.http_head = b""
        self.payload_hashes: list[Any] = []
        self.payload_hash = None  # the one checked against the payload claim
        self.sha256_hash = None
        self.dechunked = None
        self.payload_length = 0
        separate_payload = self.http or (self.payload_claim is not None
                                         and self.payload_claim[0] != self.block_hash.name)
        if separate_payload:
            self.payload_hash = hashlib.new(self.payload_claim[0] if self.payload_claim else "sha256")
            self.payload_hashes.append(self.payload_hash)
        payload_name = self.payload_hash.name if self.payload_hash else self.block_hash.name
        if extra_sha256 and payload_name != "sha256":
            self.sha256_hash = hashlib.sha256()
            self.payload_hashes.append(self.sha256_hash)
        self.content = bytearray() if keep and length <= KEEP_LIMIT else None

    def feed(self, chunk: memoryview) -> None:
        self.block_hash.update(chunk)
        if self.content is not None:
            self.content += chunk
        if self.http_buffer is not None:
            chunk = self._http_head(chunk)
        if chunk:
            self.payload_length += len(chunk)
            for payload_hash in self.payload_hashes:
                payload_hash.update(chunk)
            if self.dechunked is not None:
                self.dechunked.feed(bytes(chunk))

    def _http_head(self, chunk: memoryview) -> memoryview:
        """Collect the HTTP status line and headers; return what follows them."""
        buffer = self.http_buffer
        assert buffer is not None
        old = len(buffer)
        buffer += chunk[:MAX_HEAD]
        end = buffer.find(b"\r\n\r\n", max(0, old - 3))
        if end < 0:
            if len(buffer) >= MAX_HEAD:
                self.http_buffer = None
            return chunk[len(chunk):]
        self.http_head = bytes(buffer[:end + 4])
        self.http_buffer = None
        if (self.payload_claim and b"chunked" in self.http_head.lower()
                and b"transfer-encoding" in self.http_head.lower()):
            self.dechunked = _Dechunker(hashlib.new(self.payload_claim[0]))
        return chunk[end + 4 - old:]

    def result(self, offset: int, stream_offset: int, stream_length: int) -> ScannedRecord:
        block_raw = self.block_hash.digest()
        block_ok = None if self.block_claim is None else block_raw == self.block_claim[1]
        block_digest = self.headers.get("warc-block-digest") or "sha256:" + block_raw.hex()
        if self.http and self.http_buffer is not None:  # no end of HTTP headers: no payload
            self.http_head = bytes(self.http_buffer)
        payload_raw = self.payload_hash.digest() if self.payload_hash else block_raw
        payload_ok = None
        if self.payload_claim is not None:
            payload_ok = payload_raw == self.payload_claim[1] or (
                self.dechunked is not None and self.dechunked.sink.digest() == self.payload_claim[1])
        payload_name = self.payload_hash.name if self.payload_hash else self.block_hash.name
        sha256 = (payload_raw.hex() if payload_name == "sha256"
                  else self.sha256_hash.hexdigest() if self.sha256_hash else None)
        if not self.http and self.payload_hash is None:
            self.payload_length = self.length
        if self.headers.get("warc-type") == "revisit":
            payload_ok, sha256 = None, None  # a revisit's payload lives in the record it refers to
        return ScannedRecord(
            offset=offset, length=None, stream_offset=stream_offset, stream_length=stream_length,
            headers=self.headers, block_digest=block_digest, block_ok=block_ok,
            payload_digest=self.headers.get("warc-payload-digest"), payload_ok=payload_ok,
            payload_sha256=sha256, payload_length=self.payload_length, http_head=self.http_head,
            content=bytes(self.content) if self.content is not None else None)


class _Parser:
    """Splits a decompressed WARC stream into records; told where gzip members begin and end."""

    HEAD, BLOCK, TRAILER = range(3)

    def __init__(self, scan: FileScan, keep_types: tuple[str, ...], extra_sha256: bool) -> None:
        self.scan, self.keep_types, self.extra_sha256 = scan, keep_types, extra_sha256
        self.state, self.buffer, self.position = self.HEAD, bytearray(), 0
        self.record: _Record | None = None
        self.remaining = 0
        self.record_start = self.member_offset = self.member_stream = 0
        self.member_records: list[ScannedRecord] = []
        self.start_offset = 0

    # members ----------------------------------------------------------------------------

    def member_start(self, offset: int) -> None:
        if self.state != self.HEAD or self.buffer:
            self.scan.offset_access = False  # a record runs on into this member
        self.member_offset, self.member_stream, self.member_records = offset, self.position, []

    def member_end(self, end: int) -> None:
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
                self.record.feed(view[i:i + take])
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
        piece = view[i:i + MAX_HEAD]
        old = len(self.buffer)
        self.buffer += piece
        end = self.buffer.find(b"\r\n\r\n", max(0, old - 3))
        if end < 0:
            if len(self.buffer) > MAX_HEAD:
                self._fail("no end of WARC headers within 1 MiB")
            return i + len(piece)
        self._begin(bytes(self.buffer[:end]))
        self.buffer.clear()
        return i + end + 4 - old

    def _begin(self, head: bytes) -> None:
        lines = head.decode("utf-8", "replace").split("\r\n")
        if not lines[0].startswith("WARC/"):
            self._fail(f"not a WARC record (starts with {lines[0][:20]!r})")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                self._fail(f"malformed WARC header line {line[:40]!r}")
            headers.setdefault(name.strip().lower(), value.strip())
        try:
            length = int(headers["content-length"])
            if length < 0:
                raise ValueError
        except (KeyError, ValueError):
            self._fail("WARC record without a valid Content-Length")
        keep = headers.get("warc-type", "") in self.keep_types
        self.record = _Record(headers, length, keep, self.extra_sha256)
        self.remaining = length
        self.state = self.BLOCK if length else self.TRAILER

    def _trailer(self, view: memoryview, i: int) -> int:
        need = 4 - len(self.buffer)
        self.buffer += view[i:i + need]
        if len(self.buffer) < 4:
            return len(view)
        if self.buffer != b"\r\n\r\n":
            self._fail("record is not followed by CRLF CRLF (wrong Content-Length?)")
        assert self.record is not None
        found = self.record.result(self.start_offset, self.record_start,
                                   self.position + i + need - self.record_start)
        self.scan.records.append(found)
        self.member_records.append(found)
        self.buffer.clear()
        self.state, self.record = self.HEAD, None
        return i + need

    def finish(self) -> None:
        if self.state != self.HEAD or self.buffer:
            self._fail("file ends inside a record (truncated)")

    def _fail(self, message: str) -> None:
        self.scan.errors.append((self.start_offset, message))
        raise _Stop


def scan_stream(handle: IO[bytes], name: str, size: int, *, strict_gzip: bool = False,
                file_sha256: bool = False, content_sha256: bool = False, extra_sha256: bool = True,
                keep_types: tuple[str, ...] = ("metadata", "warcinfo"),
                advance: Callable[[int], None] | None = None) -> FileScan:
    """Read a WARC stream (gzip or not) once, checking every member and record digest.
    `strict_gzip`: every gzip member header must be the one archiver's writer makes."""
    scan = FileScan(path=name, size=size)
    first = handle.read(READ_SIZE)
    scan.compressed = first[:2] == b"\x1f\x8b"
    whole = hashlib.sha256() if file_sha256 else None
    content = hashlib.sha256() if content_sha256 else None
    parser = _Parser(scan, keep_types, extra_sha256)
    sink = _ContentSink(parser, content)
    try:
        if scan.compressed:
            _walk_gzip(handle, first, scan, parser, sink, strict_gzip, whole, advance)
        else:
            _walk_plain(handle, first, parser, sink, whole, advance)
        parser.finish()
    except _Stop:
        scan.offset_access = False
    if not scan.records and not scan.errors:
        scan.errors.append((0, "no WARC records"))
    scan.sha256 = whole.hexdigest() if whole else None
    scan.content_sha256 = content.hexdigest() if content else None
    return scan


class _ContentSink:
    """Sends decompressed bytes to the parser (and to a hash of the whole stream)."""

    def __init__(self, parser: _Parser, content: Any) -> None:
        self.parser, self.content = parser, content

    def __call__(self, data: bytes) -> None:
        if self.content is not None:
            self.content.update(data)
        self.parser.feed(data)


def _walk_plain(handle: IO[bytes], first: bytes, parser: _Parser, sink: _ContentSink,
                whole: Any, advance: Callable[[int], None] | None) -> None:
    chunk = first
    while chunk:
        if whole is not None:
            whole.update(chunk)
        sink(chunk)
        if advance:
            advance(len(chunk))
        chunk = handle.read(READ_SIZE)


def _walk_gzip(handle: IO[bytes], first: bytes, scan: FileScan, parser: _Parser,
               sink: _ContentSink, strict: bool, whole: Any,
               advance: Callable[[int], None] | None) -> None:
    """Decompress member by member; `offset` is the file position of data[start]."""
    data, start, offset = first, 0, 0
    inflater: Any = None
    header: bytes | None = None
    feed = FIRST_FEED
    if whole is not None:
        whole.update(first)
    while True:
        if start >= len(data):
            if advance:
                advance(len(data))
            data, start = handle.read(READ_SIZE), 0
            if not data:
                break
            if whole is not None:
                whole.update(data)
        if inflater is None:
            if len(data) - start < 10:  # a member header split across reads
                more = handle.read(READ_SIZE)
                if whole is not None:
                    whole.update(more)
                if advance:
                    advance(start)
                data, start = data[start:] + more, 0
                if not more and len(data) < 10:
                    scan.errors.append((offset, "file ends inside a gzip member header (truncated)"))
                    raise _Stop
            if strict:
                header = _check_header(data[start:start + 10], header, offset, scan)
            inflater, feed = zlib.decompressobj(31), FIRST_FEED
            scan.members += 1
            parser.member_start(offset)
        piece = data[start:start + feed]
        try:
            out = inflater.decompress(piece, MAX_OUT)
            sink(out)
            while inflater.unconsumed_tail and not inflater.eof:
                sink(inflater.decompress(inflater.unconsumed_tail, MAX_OUT))
        except zlib.error as exc:
            scan.errors.append((parser.member_offset, f"gzip member does not decompress ({exc})"))
            raise _Stop from None
        if inflater.eof:
            used = len(piece) - len(inflater.unused_data)
            start, offset = start + used, offset + used
            parser.member_end(offset)
            inflater = None
        else:
            start, offset = start + len(piece), offset + len(piece)
            feed = min(feed * 2, READ_SIZE)
    if advance:
        advance(len(data))
    if inflater is not None:
        scan.errors.append((parser.member_offset, "file ends inside a gzip member (truncated)"))
        raise _Stop


def _check_header(header: bytes, first: bytes | None, offset: int, scan: FileScan) -> bytes:
    """A member header must be one zlib writes, the same for every member of the file."""
    if first is None and header[:8] == ZLIB_GZIP_PREFIX and header[8] in ZLIB_XFL:
        return header
    if header != first:
        scan.errors.append((offset, f"gzip member header {header.hex()} is not the one archiver "
                                    f"writes{f' ({first.hex()})' if first else ''}"))
        raise _Stop
    return header


def scan_warc(path: Path, **options: Any) -> FileScan:
    """scan_stream over a file on disk."""
    try:
        with open(path, "rb") as handle:
            return scan_stream(handle, str(path), os.fstat(handle.fileno()).st_size, **options)
    except OSError as exc:
        return FileScan(path=str(path), size=0, errors=[(None, f"cannot read: {exc.strerror}")])


def read_record_at(path: Path, offset: int) -> ScannedRecord:
    """The one record in the gzip member at `offset` (content kept)."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        inflater = zlib.decompressobj(31)
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
        except (_Stop, zlib.error) as exc:
            message = scan.errors[-1][1] if scan.errors else str(exc)
            raise ValueError(f"no readable record at offset {offset} of {path.name}: {message}") from None
    if len(scan.records) != 1:
        raise ValueError(f"no single record at offset {offset} of {path.name}")
    return scan.records[0]


# -- findings ----------------------------------------------------------------------------

CHECKS = {
    "gzip": "gzip members decompress",
    "digests": "record digests recompute",
    "manifests": "manifests match their records",
    "catalogue": "catalogue rows match the files",
    "files": "no file missing, none unknown",
    "chain": "manifest chain unbroken, in order",
    "signatures": "signatures valid",
    "package": "package hashes and signature",
}


@dataclass
class Problem:
    """One thing found wrong: which check, which capture, file and record, and what."""

    check: str
    message: str
    capture: str | None = None
    path: str | None = None
    record: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {"check": self.check, "capture": self.capture, "path": self.path,
                "record": self.record, "message": self.message}


@dataclass
class Report:
    """Counts per check and the problems found."""

    checked: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    bytes: int = 0
    chain_head: str | None = None

    def count(self, check: str, amount: int = 1) -> None:
        self.checked[check] = self.checked.get(check, 0) + amount

    def add(self, check: str, message: str, **where: str | None) -> None:
        self.problems.append(Problem(check, message, **where))

    def failed(self, check: str) -> int:
        return sum(1 for p in self.problems if p.check == check)

    @property
    def ok(self) -> bool:
        return not self.problems

    def rows(self) -> list[tuple[str, int, int]]:
        """(check description, units checked, problems) for the checks that ran."""
        names = [name for name in CHECKS if name in self.checked or self.failed(name)]
        return [(CHECKS[name], self.checked.get(name, 0), self.failed(name)) for name in names]

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "bytes": self.bytes, "chain_head": self.chain_head,
                "checks": [{"check": name, "description": CHECKS[name],
                            "checked": self.checked.get(name, 0), "problems": self.failed(name)}
                           for name in CHECKS if name in self.checked or self.failed(name)],
                "problems": [p.to_json() for p in self.problems], "notes": self.notes}


class ProgressHook(Protocol):
    """Told the total bytes to read, then each amount read (from worker threads)."""

    def start(self, total: int) -> None: ...

    def advance(self, amount: int) -> None: ...


def report_scan(report: Report, scan: FileScan, capture: str | None, path: str) -> None:
    """Turn a file scan's read and digest failures into problems."""
    if scan.compressed:
        report.count("gzip")
    report.bytes += scan.size
    for offset, message in scan.errors:
        check = "gzip" if "gzip" in message or "truncated" in message else "digests"
        where = f"offset {offset}" if offset is not None else None
        report.add(check, message, capture=capture, path=path, record=where)
    for record in scan.records:
        report.count("digests")
        if record.block_ok is False:
            report.add("digests", "block digest does not match the record's content",
                       capture=capture, path=path, record=record.where())
        if record.payload_ok is False:
            report.add("digests", "payload digest does not match the record's payload",
                       capture=capture, path=path, record=record.where())


# -- the archive -------------------------------------------------------------------------

@dataclass
class CaptureFile:
    """What a capture's own WARC file says about it."""

    scan: FileScan
    metadata: dict[str, Any]
    metadata_record: ScannedRecord
    manifest_sha256: str

    @property
    def manifest(self) -> dict[str, Any]:
        return self.metadata["manifest"]

    @property
    def facts(self) -> dict[str, Any]:
        return self.metadata["capture"]


def capture_metadata(scan: FileScan) -> tuple[dict[str, Any], ScannedRecord] | None:
    """The archiver metadata record of a scanned capture file, if it has one."""
    for record in scan.records:
        if record.type == "metadata" and record.content is not None and \
                record.headers.get("content-type", "").startswith("application/json"):
            try:
                data = json.loads(record.content)
            except ValueError:
                continue
            if isinstance(data, dict) and isinstance(data.get("manifest"), dict) \
                    and isinstance(data.get("capture"), dict):
                return data, record
    return None


class Verifier:
    """Verifies an archive, or some of its captures, against its files and catalogue."""

    def __init__(self, root: Path, public_key: Any, key_source: str,
                 progress: ProgressHook | None = None, workers: int | None = None) -> None:
        from .store import Archive

        self.archive = Archive(root, create=False)
        self.root = self.archive.root
        self.public_key, self.key_source = public_key, key_source
        self.progress = progress
        self.workers = workers or min(4, os.cpu_count() or 1)
        self.report = Report()
        self.disk: dict[str, list[str]] = {}
        self.rows: list = []
        self.head: str | None = None

    # selection ------------------------------------------------------------------------

    def run(self, targets: Iterable[str]) -> Report:
        """Verify the captures named by URL, id or file (no targets: the whole archive)."""
        targets = list(targets)
        with self._still():
            self.disk = {folder: self._files_on_disk(folder) for folder in ("warcs", SOURCES)}
            self.rows = self.archive.all()
            self.head = self.archive.chain_state()[0]
        chosen = {row.id: row for target in targets for row in self._resolve(target, self.rows)}
        if not targets:
            self._verify(self.rows, full=True)
        else:
            self._verify(sorted(chosen.values(), key=lambda row: row.seq), full=False)
        self.archive.close()
        return self.report

    def _still(self) -> contextlib.ExitStack:
        """The writer lock, to hold writers off while files are listed and the catalogue read
        (so a capture committed meanwhile raises no false alarm); none on a read-only archive."""
        stack = contextlib.ExitStack()
        with contextlib.suppress(OSError):
            stack.enter_context(self.archive.writer_lock())
        return stack

    def _resolve(self, target: str, rows: list) -> list:
        from .urls import canonicalize

        path = Path(target)
        if path.is_file():
            relative = self._relative(path)
            found = [row for row in rows if row.warc_path == relative]
            if not found:
                raise ArchiverError(f"{target} is not a capture file of the archive {self.root}")
            return found
        if "://" not in target:
            capture = self.archive.get(target)
            if capture is not None:
                return [capture]
            raise ArchiverError(f"no capture with id {target} in {self.root}")
        found = self.archive.history(canonicalize(target))
        if not found:
            raise ArchiverError(f"no captures of {target} in {self.root}")
        return found

    def _relative(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return ""

    # the work -------------------------------------------------------------------------

    def _verify(self, rows: list, full: bool) -> None:
        by_path = {row.warc_path: row for row in rows}
        paths = sorted(set(by_path) | (set(self.disk["warcs"]) if full else set()))
        scans = self._scan_all([(path, True) for path in paths])
        files: dict[int, CaptureFile] = {}
        for relative in paths:
            capture = self._check_capture_file(relative, by_path.get(relative), scans.get(relative))
            if capture is None:
                continue
            seq = capture.manifest["seq"]
            if seq in files:
                self.report.add("chain", f"seq {seq} is also claimed by capture "
                                f"{files[seq].facts['id']}", capture=capture.facts["id"], path=relative)
            else:
                files[seq] = capture
        self._check_sources(files, full)
        self._check_revisits(rows)
        self._check_chain(files, full)
        self._check_signatures(files)

    def _files_on_disk(self, folder: str) -> list[str]:
        base = self.root / folder
        return [self._relative(p) for p in base.rglob("*")
                if p.is_file() and not p.name.startswith(".")] if base.is_dir() else []

    def _scan_all(self, jobs: list[tuple[str, bool]]) -> dict[str, FileScan]:
        """Scan files in parallel (zlib and hashlib release the GIL on large buffers);
        strict jobs are capture files, the others imported sources (hashed whole)."""
        sizes = {}
        for relative, _ in jobs:
            try:
                sizes[relative] = (self.root / relative).stat().st_size
            except OSError:
                continue
        if self.progress:
            self.progress.start(sum(sizes.values()))
        advance = self.progress.advance if self.progress else None
        present = sorted((job for job in jobs if job[0] in sizes), key=lambda job: -sizes[job[0]])

        def work(job: tuple[str, bool]) -> tuple[str, FileScan]:
            relative, strict = job
            return relative, scan_warc(self.root / relative, strict_gzip=strict,
                                       file_sha256=not strict, advance=advance)

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            return dict(pool.map(work, present))

    # one capture file -----------------------------------------------------------------

    def _check_capture_file(self, relative: str, row: Any,
                            scan: FileScan | None) -> CaptureFile | None:
        report = self.report
        name_id = Path(relative).name.removesuffix(".warc.gz")
        capture_id = row.id if row is not None else name_id
        where = {"capture": capture_id, "path": relative}
        report.count("files")
        if row is not None:
            report.count("catalogue")
        if scan is None:
            report.add("files", "capture file is missing", **where)
            return None
        if row is None:
            report.add("files", "file is not in the catalogue (unknown capture file)", **where)
        report_scan(report, scan, capture_id, relative)
        if not scan.records:
            return None
        if not scan.offset_access and not scan.errors:
            report.add("gzip", "records are not each in their own gzip member", **where)
        found = capture_metadata(scan)
        report.count("manifests")
        if found is None:
            if not scan.errors:  # else the read failure is the problem already reported
                report.add("manifests", "no archiver metadata record with a manifest", **where)
            return None
        metadata, record = found
        from .store import manifest_digest

        try:
            capture = CaptureFile(scan, metadata, record, manifest_digest(metadata["manifest"]))
            self._check_manifest(capture, relative, where)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            report.add("manifests", f"metadata record is malformed ({exc!r})", **where)
            return None
        if row is not None:
            self._check_row(capture, row, relative, where)
        return capture

    def _check_manifest(self, capture: CaptureFile, relative: str, where: dict) -> None:
        report, manifest, facts = self.report, capture.manifest, capture.facts
        records = capture.scan.records
        index = records.index(capture.metadata_record)
        listed = [(r.type, r.record_id, r.block_digest, r.payload_digest) for r in records[:index]]
        claimed = [(r["type"], r["id"], r["block_digest"], r["payload_digest"])
                   for r in manifest["records"]]
        if listed != claimed:
            report.add("manifests", _list_difference(claimed, listed), **where)
        if index != len(records) - 1:
            report.add("manifests", "records follow the metadata record", **where)
        if capture.metadata.get("manifest_sha256") != capture.manifest_sha256:
            report.add("manifests", "manifest_sha256 does not match the manifest", **where,
                       record=capture.metadata_record.where())
        if manifest["capture_id"] != facts["id"] or Path(relative).name != f"{facts['id']}.warc.gz":
            report.add("manifests", f"file holds capture {manifest['capture_id']}", **where)
        for key in ("url", "canonical_url", "final_url", "captured_at"):
            if manifest[key] != facts[key]:
                report.add("manifests", f"manifest {key} differs from the capture facts", **where)
        response = next((r for r in records if r.record_id == facts["response_record_id"]), None)
        if response is None or response.type not in ("response", "revisit"):
            report.add("manifests", "the response record named by the metadata is not in the file",
                       **where)
            return
        if response.target_uri != manifest["final_url"]:
            report.add("manifests", "response WARC-Target-URI differs from the manifest's final_url",
                       **where, record=response.where())
        stored = response.payload_sha256 if response.type == "response" else \
            (response.payload_digest or "").removeprefix("sha256:")
        if stored != facts["payload_sha256"]:
            report.add("manifests", "payload SHA-256 differs from the capture facts",
                       **where, record=response.where())

    def _check_row(self, capture: CaptureFile, row: Any, relative: str, where: dict) -> None:
        facts, manifest = capture.facts, capture.manifest
        response = next(r for r in capture.scan.records if r.record_id == facts["response_record_id"])
        expected = {
            "id": facts["id"], "seq": manifest["seq"], "url": facts["url"],
            "canonical_url": facts["canonical_url"], "final_url": facts["final_url"],
            "status": facts["status"], "content_type": facts.get("content_type"),
            "captured_at": facts["captured_at"], "warc_path": relative,
            "response_offset": response.offset, "response_length": response.length,
            "metadata_offset": capture.metadata_record.offset,
            "metadata_length": capture.metadata_record.length,
            "response_record_id": facts["response_record_id"],
            "payload_sha256": facts["payload_sha256"], "payload_length": facts["payload_length"],
            "revisit": facts.get("revisit_of") is not None, "refers_to": facts.get("revisit_of"),
            "bytes": capture.scan.size, "manifest_sha256": capture.manifest_sha256,
            "prev_manifest_sha256": manifest["prev"], "signed": "signature" in capture.metadata,
        }
        for name, value in expected.items():
            actual = getattr(row, name)
            if actual != value:
                self.report.add("catalogue", f"catalogue {name} is {actual!r}, the file says {value!r}",
                                **where)

    # across captures ------------------------------------------------------------------

    def _check_sources(self, files: dict[int, CaptureFile], full: bool) -> None:
        """Imported source files: each cited by a manifest, with the SHA-256 it cites."""
        cited: dict[str, list[tuple[str, str]]] = {}
        for capture in files.values():
            source = capture.manifest.get("source")
            if isinstance(source, dict):
                cited.setdefault(str(source.get("file")), []).append(
                    (capture.facts["id"], str(source.get("sha256"))))
        sources = sorted(set(cited) | (set(self.disk[SOURCES]) if full else set()))
        scans = self._scan_all([(path, False) for path in sources])
        for relative in sources:
            self.report.count("files")
            citing = cited.get(relative, [])
            first = citing[0][0] if citing else None
            scan = scans.get(relative)
            if scan is None:
                self.report.add("files", "imported source file is missing", capture=first, path=relative)
                continue
            report_scan(self.report, scan, first, relative)
            if not citing:
                self.report.add("files", "file is not cited by any capture (unknown source file)",
                                path=relative)
            for capture_id, digest in citing:
                if digest != scan.sha256:
                    self.report.add("files", "source file SHA-256 differs from the one its capture "
                                    "manifest records", capture=capture_id, path=relative)

    def _check_revisits(self, rows: list) -> None:
        by_id = {row.id: row for row in self.rows}
        for row in rows:
            if not row.revisit:
                continue
            original = by_id.get(row.refers_to or "")
            if original is None:
                self.report.add("catalogue", f"revisit refers to capture {row.refers_to}, which is "
                                "not in the catalogue", capture=row.id, path=row.warc_path)
            elif original.payload_sha256 != row.payload_sha256:
                self.report.add("catalogue", f"revisit payload differs from its original {original.id}",
                                capture=row.id, path=row.warc_path)

    def _check_chain(self, files: dict[int, CaptureFile], full: bool) -> None:
        """Every manifest's `prev` is the digest of the manifest one seq before it."""
        report = self.report
        for seq in sorted(files):
            capture = files[seq]
            where = {"capture": capture.facts["id"], "path": self._relative(Path(capture.scan.path))}
            report.count("chain")
            prev = capture.manifest["prev"]
            if seq == 1:
                if prev is not None:
                    report.add("chain", "first capture of the chain has a prev link", **where)
                continue
            before = files.get(seq - 1)
            before_digest = before.manifest_sha256 if before else self._manifest_digest_of(seq - 1, full)
            if before_digest is None:
                known = next((row.id for row in self.rows if row.seq == seq - 1), None)
                report.add("chain", f"cannot check the link to capture {known} (seq {seq - 1}): its "
                           "file is missing or unreadable" if known else f"capture seq {seq - 1} "
                           "before it is gone from files and catalogue (removed from the chain?)",
                           **where)
            elif prev != before_digest:
                report.add("chain", f"prev link does not match the manifest of capture seq {seq - 1} "
                                    "(captures removed, inserted or reordered)", **where)
        if full:
            self._check_head(files)

    def _manifest_digest_of(self, seq: int, full: bool) -> str | None:
        """For a partial check: the manifest digest of the capture at `seq`, read from its file."""
        if full:
            return None
        from .store import manifest_digest

        rows = [row for row in self.rows if row.seq == seq]
        if not rows:
            return None
        try:
            record = read_record_at(self.root / rows[0].warc_path, rows[0].metadata_offset)
            return manifest_digest(json.loads(record.content or b"")["manifest"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _check_head(self, files: dict[int, CaptureFile]) -> None:
        head = self.head
        last = files[max(files)] if files else None
        expected = last.manifest_sha256 if last else None
        self.report.count("chain")
        self.report.chain_head = expected
        if head != expected:
            self.report.add("chain", f"catalogue chain head {head} is not the manifest digest of the "
                                     f"last capture ({expected}): captures removed from the end?",
                            capture=last.facts["id"] if last else None)

    def _check_signatures(self, files: dict[int, CaptureFile]) -> None:
        check_signatures(self.report, list(files.values()), self.public_key, self.key_source,
                         require=self.key_source.startswith("--pubkey"),
                         path_of=lambda c: self._relative(Path(c.scan.path)))


def check_signatures(report: Report, captures: list[CaptureFile], public_key: Any, key_source: str,
                     require: bool, path_of: Callable[[CaptureFile], str]) -> None:
    """Each signed manifest verifies with the trusted key (or, without one, with the key it
    carries); once signing has begun, every later capture is signed."""
    from .store import canonical_json

    embedded_keys: set[str] = set()
    signed_seen = False
    for capture in sorted(captures, key=lambda c: c.manifest["seq"]):
        where = {"capture": capture.facts["id"], "path": path_of(capture),
                 "record": capture.metadata_record.where()}
        signature = capture.metadata.get("signature")
        if not isinstance(signature, dict):
            if require or signed_seen:
                report.count("signatures")
                report.add("signatures", "capture is not signed" + (
                    " although earlier ones are (signature removed?)" if signed_seen else ""), **where)
            continue
        signed_seen = True
        report.count("signatures")
        data = canonical_json(capture.manifest)
        key = public_key
        if key is None:
            embedded_keys.add(signature.get("publicKey", ""))
            try:
                key = keys.load_public_der_b64(signature.get("publicKey", ""))
            except ArchiverError:
                report.add("signatures", "signature carries no readable public key", **where)
                continue
        if not keys.verify_signature(key, data, signature.get("signature", "")):
            other = public_key is not None and signature.get("publicKey") != keys.public_der_b64(public_key)
            report.add("signatures", "signature does not verify with " + (
                f"{key_source} (made with another key)" if other else key_source
                if public_key is not None else "the key it carries"), **where)
    if public_key is None and captures and embedded_keys:
        report.notes.append("no archive key or --pubkey: signatures were checked only against the "
                            "public keys they carry, which proves integrity, not authorship")
        if len(embedded_keys) > 1:
            report.add("signatures", f"captures are signed with {len(embedded_keys)} different keys")


def _list_difference(claimed: list[tuple], listed: list[tuple]) -> str:
    """Say how a file's records differ from its manifest's list."""
    if len(claimed) != len(listed):
        return f"manifest lists {len(claimed)} records, the file has {len(listed)} before the metadata"
    for number, (want, have) in enumerate(zip(claimed, listed, strict=True)):
        if want != have:
            labels = ("type", "record id", "block digest", "payload digest")
            what = next(label for label, a, b in zip(labels, want, have, strict=True) if a != b)
            return f"record {number + 1} ({have[0]} {have[1]}): {what} differs from the manifest"
    return "records differ from the manifest"


# -- entry points ------------------------------------------------------------------------

def trusted_key(root: Path | None, pubkey_pem: bytes | None) -> tuple[Any, str]:
    """The key signatures must verify with: --pubkey, else the archive's own, else none."""
    if pubkey_pem is not None:
        return keys.load_public_key(pubkey_pem), "--pubkey key"
    if root is not None:
        public = keys.public_key_path(root)
        if public.exists():
            return keys.load_public_key(public.read_bytes()), "the archive key"
        private = keys.load_private_key(root)
        if private is not None:
            return private.public_key(), "the archive key"
    return None, "no key"


def verify(root: Path, targets: Iterable[str], pubkey_pem: bytes | None = None,
           progress: ProgressHook | None = None) -> Report:
    """Verify an archive (or the captures named by URL, capture id or file), or WACZ packages
    and WARC files outside any archive. Raises ArchiverError when it cannot start."""
    targets = list(targets)
    outside = [t for t in targets if _outside_archive(root, t)]
    inside = [t for t in targets if t not in outside]
    report = Report()
    if inside or not targets:
        public_key, source = trusted_key(root, pubkey_pem)
        report = Verifier(root, public_key, source, progress).run(inside)
    for target in outside:
        public_key, source = trusted_key(None, pubkey_pem)
        if target.lower().endswith(".wacz"):
            from .wacz import check_package

            _merge(report, check_package(Path(target), public_key, source))
        else:
            _merge(report, check_file(Path(target), public_key, source))
    return report


def _outside_archive(root: Path, target: str) -> bool:
    """A WACZ package, or a file that is not one of the archive's capture files."""
    path = Path(target)
    if not path.is_file():
        return False
    if path.suffix.lower() == ".wacz":
        return True
    try:
        path.resolve().relative_to((Path(root) / "warcs").resolve())
    except ValueError:
        return True
    return False


def _merge(into: Report, other: Report) -> None:
    for name, amount in other.checked.items():
        into.count(name, amount)
    into.problems += other.problems
    into.notes += [note for note in other.notes if note not in into.notes]
    into.bytes += other.bytes


def check_file(path: Path, public_key: Any, key_source: str) -> Report:
    """A WARC file on its own: gzip members, digests, and any archiver manifest in it."""
    report = Report()
    scan = scan_warc(path)
    report_scan(report, scan, None, str(path))
    captures = capture_in_scan(report, scan, str(path))
    check_signatures(report, captures, public_key, key_source, require=public_key is not None,
                     path_of=lambda capture: str(path))
    return report


def capture_in_scan(report: Report, scan: FileScan, where: str) -> list[CaptureFile]:
    """The archiver capture in a WARC outside the archive, its manifest checked against its
    records (there is no catalogue or chain to compare with)."""
    from .store import manifest_digest

    found = capture_metadata(scan) if scan.records else None
    if found is None:
        return []
    metadata, record = found
    report.count("manifests")
    try:
        capture = CaptureFile(scan, metadata, record, manifest_digest(metadata["manifest"]))
        listed = [(r.type, r.record_id, r.block_digest, r.payload_digest)
                  for r in scan.records[:scan.records.index(record)]]
        claimed = [(r["type"], r["id"], r["block_digest"], r["payload_digest"])
                   for r in capture.manifest["records"]]
    except (KeyError, TypeError, ValueError) as exc:
        report.add("manifests", f"metadata record is malformed ({exc!r})", path=where)
        return []
    if listed != claimed:
        report.add("manifests", _list_difference(claimed, listed), capture=capture.facts.get("id"),
                   path=where)
    return [capture]


# -- terminal ----------------------------------------------------------------------------

class BarProgress:
    """A byte-counting rich progress bar on stderr, shown only on a terminal and for large jobs."""

    MIN_BYTES = 64 << 20

    def __init__(self) -> None:
        from rich import progress as bars
        from rich.console import Console

        console = Console(stderr=True)
        self.bar = bars.Progress(bars.TextColumn("verifying"), bars.BarColumn(),
                                 bars.DownloadColumn(), bars.TransferSpeedColumn(),
                                 bars.TimeRemainingColumn(), console=console, transient=True,
                                 disable=not console.is_terminal)
        self.task = self.bar.add_task("verify", total=0)
        self.total = 0
        self.lock = threading.Lock()

    def start(self, total: int) -> None:
        self.total += total
        self.bar.update(self.task, total=self.total)
        if self.total >= self.MIN_BYTES and not self.bar.live.is_started:
            self.bar.start()

    def advance(self, amount: int) -> None:
        with self.lock:
            self.bar.advance(self.task, amount)

    def stop(self) -> None:
        self.bar.stop()


def render(console: Any, report: Report) -> None:
    """The table of checks, then each problem with its capture, file and record."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="Verification", title_justify="left", box=box.SIMPLE_HEAD)
    for name in ("check", "checked", "problems", "result"):
        table.add_column(name)
    for description, checked, failed in report.rows():
        table.add_row(description, str(checked), str(failed),
                      "[red]FAIL[/]" if failed else "[green]ok[/]")
    console.print(table)
    for problem in report.problems:
        where = " ".join(part for part in (
            f"capture {problem.capture}" if problem.capture else "",
            problem.path or "", f"({problem.record})" if problem.record else "") if part)
        console.print(f"[red]problem[/] {escape(f'[{problem.check}] {where}: {problem.message}')}",
                      highlight=False, soft_wrap=True)
    for note in report.notes:
        console.print(f"note: {note}", highlight=False, soft_wrap=True)
    from .listing import human_size

    size = human_size(report.bytes)
    console.print(f"[green]all good[/]: {size} verified" if report.ok else
                  f"[red]{len(report.problems)} problem(s) found[/] in {size}", highlight=False)
