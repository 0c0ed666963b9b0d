"""One WARC record as the independent reader finds it: its block and payload digests
recomputed (and its HTTP head, a little of its payload, and for small metadata the whole
block kept) as the block streams past."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from archiver.warc.digests import parse_digest

MAX_HEAD = 1 << 20  # longest WARC or HTTP header block accepted
KEEP_LIMIT = 16 << 20  # largest record content kept in memory (metadata, warcinfo)
SNIFF_SIZE = 512  # payload bytes kept of every record


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


class Dechunker:
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


class RecordDigests:
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
        self.dechunked: Dechunker | None = None
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
            self.dechunked = Dechunker(hashlib.new(self.payload_claim[0]))
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
