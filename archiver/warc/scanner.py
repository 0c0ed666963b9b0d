"""An independent WARC reader for checking evidence: walks gzip members with zlib, splits
records by their headers and hashes blocks and payloads while decompressing, in one streaming
pass per file. It shares no code with warcio (which wrote the files), so a check made with it
does not inherit the writer's mistakes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

READ_SIZE = 1 << 20  # bytes read from disk at a time
MAX_OUT = 1 << 20  # decompressed bytes produced per zlib call
FIRST_FEED = 1 << 14  # compressed bytes fed to a fresh gzip member (grows while it lasts)
MAX_HEAD = 1 << 20  # longest WARC or HTTP header block accepted
KEEP_LIMIT = 16 << 20  # largest record content kept in memory (metadata, warcinfo)
SNIFF_SIZE = 512  # payload bytes kept of every record
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
    return base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True)


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
    trailer: int = 4  # bytes of CR/LF after the block (WARC says CRLF CRLF: 4)
    payload_start: bytes = b""  # the first bytes of the payload (to sniff HTML without a Content-Type)
    record_sha256: str = ""  # hex, of the record's exact bytes as stored (headers, block, trailer)

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


class Readable(Protocol):
    """What the scanner reads from: a file, a zip entry, a hashing wrapper."""

    def read(self, size: int = -1, /) -> bytes: ...


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
                self.sink.update(data[i : i + take])
                i, self.left = i + take, self.left - take
                self.expect_crlf = not self.left
                continue
            end = data.find(b"\n", i)
            self.line += data[i : n if end < 0 else end]
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

    def __init__(
        self, head: bytes, headers: dict[str, str], length: int, keep: bool, extra_sha256: bool
    ) -> None:
        self.headers, self.length = headers, length
        self.whole = hashlib.sha256(head)  # the record's exact bytes: headers, block, trailer
        self.block_claim = parse_digest(headers.get("warc-block-digest", ""))
        self.payload_claim = parse_digest(headers.get("warc-payload-digest", ""))
        self.block_hash = hashlib.new(self.block_claim[0] if self.block_claim else "sha256")
        self.http = headers.get("content-type", "").lower().startswith("application/http")
        self.http_buffer: bytearray | None = bytearray() if self.http else None
        self.http_head = b""
        self.payload_hashes: list[Any] = []
        self.payload_hash = None  # the one checked against the payload claim
        self.sha256_hash = None
        self.dechunked: _Dechunker | None = None
        self.payload_length = 0
        self.payload_start = bytearray()
        separate_payload = self.http or (
            self.payload_claim is not None and self.payload_claim[0] != self.block_hash.name
        )
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
        self.whole.update(chunk)
        if self.content is not None:
            self.content += chunk
        if self.http_buffer is not None:
            chunk = self._http_head(chunk)
        if chunk:
            if self.payload_length < SNIFF_SIZE:
                self.payload_start += chunk[: SNIFF_SIZE - self.payload_length]
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
            return chunk[len(chunk) :]
        self.http_head = bytes(buffer[: end + 4])
        self.http_buffer = None
        if (
            self.payload_claim
            and b"chunked" in self.http_head.lower()
            and b"transfer-encoding" in self.http_head.lower()
        ):
            self.dechunked = _Dechunker(hashlib.new(self.payload_claim[0]))
        return chunk[end + 4 - old :]

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
                self.dechunked is not None and self.dechunked.sink.digest() == self.payload_claim[1]
            )
        payload_name = self.payload_hash.name if self.payload_hash else self.block_hash.name
        sha256 = (
            payload_raw.hex()
            if payload_name == "sha256"
            else self.sha256_hash.hexdigest()
            if self.sha256_hash
            else None
        )
        if not self.http and self.payload_hash is None:
            self.payload_length = self.length
        if self.headers.get("warc-type") == "revisit":
            payload_ok, sha256 = None, None  # a revisit's payload lives in the record it refers to
        return ScannedRecord(
            offset=offset,
            length=None,
            stream_offset=stream_offset,
            stream_length=stream_length,
            headers=self.headers,
            block_digest=block_digest,
            block_ok=block_ok,
            payload_digest=self.headers.get("warc-payload-digest"),
            payload_ok=payload_ok,
            payload_sha256=sha256,
            payload_length=self.payload_length,
            http_head=self.http_head,
            content=bytes(self.content) if self.content is not None else None,
            payload_start=bytes(self.payload_start),
            record_sha256=self.whole.hexdigest(),
        )


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
        keep = headers.get("warc-type", "") in self.keep_types
        self.record = _Record(raw, headers, length, keep, self.extra_sha256)
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
) -> FileScan:
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
) -> None:
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
                header = _check_header(data[start : start + 10], header, offset, scan)
            inflater, feed = zlib.decompressobj(31), FIRST_FEED
            scan.members += 1
            parser.member_start(offset)
        piece = data[start : start + feed]
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
