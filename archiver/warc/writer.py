"""WARC 1.1 writing with SHA-256 digests (warcio underneath), one gzip member per record."""

from __future__ import annotations

import hashlib
import io
import json
import socket
from dataclasses import dataclass
from typing import IO, BinaryIO

from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archiver import __version__
from archiver.warc import deflate

SOFTWARE = f"archiver/{__version__}"
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
REVISIT_PROFILES = (
    REVISIT_PROFILE,
    "http://netpreserve.org/warc/1.0/revisit/identical-payload-digest",
    "http://netpreserve.org/warc/1.1/revisits/identical-payload-digest",
)


class Sha256Digester:
    """warcio digester that writes `sha256:` + lowercase hex (the IIPC recommendation)."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def update(self, data: bytes) -> None:
        self._hash.update(data)

    def __str__(self) -> str:
        return "sha256:" + self._hash.hexdigest()


class GzipMember:
    """One gzip member per record (so records can be read by offset), with the fast deflate
    of deflate.py: warcio's own wrapper uses zlib at level 9, many times slower."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.compressor = deflate.compressor()
        self.sha256 = hashlib.sha256()  # of the record's exact bytes, WARC headers included

    def write(self, data: bytes) -> None:
        self.sha256.update(data)
        self.out.write(self.compressor.compress(data))

    def flush(self) -> None:
        self.out.write(self.compressor.flush())


class Sha256WARCWriter(WARCWriter):
    """warcio's WARCWriter, with SHA-256 instead of its hard-coded SHA-1, writing each
    record as its own gzip member. warcinfo and metadata records get no WARC-Payload-Digest:
    WARC 1.1 says they have no payload (warcio would digest them; `fastwarc check` refuses
    that); a revisit's payload digest is the original's, set by the caller."""

    NO_PAYLOAD_DIGEST_TYPES = ("warcinfo", "metadata", "revisit")

    def __init__(self, out: BinaryIO) -> None:
        super().__init__(out, gzip=False, warc_version="WARC/1.1")

    def write_record(self, record: ArcWarcRecord, params: object = None) -> None:
        self.member = GzipMember(self.out)
        self._write_warc_record(self.member, record)

    @staticmethod
    def _create_digester() -> Sha256Digester:
        return Sha256Digester()


@dataclass
class RecordSpan:
    """Where a written record sits in its file, and what identifies it."""

    rec_type: str
    record_id: str
    offset: int
    length: int
    block_digest: str
    payload_digest: str | None
    record_sha256: str  # hex, of the record's exact bytes: the manifest signs WARC headers too


class CaptureWriter:
    """Writes one capture's records, one gzip member each, remembering their spans."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.writer = Sha256WARCWriter(out)
        self.spans: list[RecordSpan] = []

    def _write(self, record: ArcWarcRecord) -> RecordSpan:
        start = self.out.tell()
        self.writer.write_record(record)
        headers = record.rec_headers
        span = RecordSpan(
            rec_type=record.rec_type,
            record_id=headers.get_header("WARC-Record-ID"),
            offset=start,
            length=self.out.tell() - start,
            block_digest=headers.get_header("WARC-Block-Digest"),
            payload_digest=headers.get_header("WARC-Payload-Digest"),
            record_sha256=self.writer.member.sha256.hexdigest(),
        )
        self.spans.append(span)
        return span

    def warcinfo(self, filename: str, extra: dict[str, str] | None = None) -> RecordSpan:
        info = {
            "software": SOFTWARE,
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "hostname": socket.gethostname(),
            **(extra or {}),
        }
        return self._write(self.writer.create_warcinfo_record(filename, info))

    def request(self, uri: str, date: str, head: bytes, concurrent_to: str) -> RecordSpan:
        """A request record; `head` is the request line and headers as sent."""
        record = self.writer.create_warc_record(
            uri,
            "request",
            payload=io.BytesIO(head),
            length=len(head),
            warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": concurrent_to},
        )
        return self._write(record)

    def response(
        self,
        uri: str,
        date: str,
        record_id: str,
        http_headers: StatusAndHeaders,
        body: IO[bytes],
        body_length: int,
        payload_sha256: str,
    ) -> RecordSpan:
        """A response record holding the payload bytes exactly as received."""
        record = self.writer.create_warc_record(
            uri,
            "response",
            payload=body,
            length=body_length,
            http_headers=http_headers,
            warc_headers_dict=_exchange_headers(record_id, date, payload_sha256),
        )
        return self._write(record)

    def revisit(
        self,
        uri: str,
        date: str,
        record_id: str,
        http_headers: StatusAndHeaders,
        payload_sha256: str,
        original: tuple[str, str, str],
    ) -> RecordSpan:
        """An identical-payload-digest revisit record (WARC 1.1 §6.7.2): the HTTP headers
        only, the body left out, hence `WARC-Truncated: length`; `original` is the (record
        id, target URI, date) of the record holding the payload."""
        refers_to, refers_to_uri, refers_to_date = original
        record = self.writer.create_warc_record(
            uri,
            "revisit",
            http_headers=http_headers,
            warc_headers_dict={
                **_exchange_headers(record_id, date, payload_sha256),
                "WARC-Profile": REVISIT_PROFILE,
                "WARC-Refers-To": refers_to,
                "WARC-Refers-To-Target-URI": refers_to_uri,
                "WARC-Refers-To-Date": refers_to_date,
                "WARC-Truncated": "length",
            },
        )
        return self._write(record)

    def metadata(self, uri: str, date: str, concurrent_to: str, data: dict) -> RecordSpan:
        """A JSON metadata record about the capture."""
        payload = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        record = self.writer.create_warc_record(
            uri,
            "metadata",
            payload=io.BytesIO(payload),
            length=len(payload),
            warc_content_type="application/json",
            warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": concurrent_to},
        )
        return self._write(record)


def _exchange_headers(record_id: str, date: str, payload_sha256: str) -> dict[str, str]:
    return {"WARC-Record-ID": record_id, "WARC-Date": date, "WARC-Payload-Digest": "sha256:" + payload_sha256}


def make_record_id() -> str:
    """A fresh `<urn:uuid:...>` record id."""
    return Sha256WARCWriter._make_warc_id()


def http_headers(status_line: str, headers: list[tuple[str, str]], protocol: str) -> StatusAndHeaders:
    """warcio's representation of an HTTP status line and header list."""
    return StatusAndHeaders(status_line, headers, protocol=protocol)
