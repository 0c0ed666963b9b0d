"""Reading archived HTTP responses back with warcio: by offset, or every page of a file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import ChunkedDataReader
from warcio.recordloader import ArcWarcRecord


@dataclass
class HttpResponse:
    """An archived HTTP response: status, headers and the payload as received (still encoded)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    target_uri: str
    date: str
    truncated: str | None = None  # WARC-Truncated: the record holds only the start of the payload

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)


def response_from_record(record: ArcWarcRecord) -> HttpResponse:
    """Turn a response or revisit record into an HttpResponse (revisits have an empty body);
    a `resource` record is a 200 answer of its WARC Content-Type."""
    http = record.http_headers
    status = int(http.get_statuscode() or 0) if http else 0
    headers = list(http.headers) if http else []
    if record.rec_type == "resource":
        status, headers = 200, [("Content-Type", record.rec_headers.get_header("Content-Type") or "")]
    body = record.raw_stream
    if http and "chunked" in (http.get_header("Transfer-Encoding") or "").lower():
        body = ChunkedDataReader(body)  # other tools (wget) store the chunk framing as sent
    return HttpResponse(
        status=status,
        headers=headers,
        body=body.read(),
        target_uri=record.rec_headers.get_header("WARC-Target-URI") or "",
        date=record.rec_headers.get_header("WARC-Date") or "",
        truncated=record.rec_headers.get_header("WARC-Truncated") if record.rec_type != "revisit" else None,
    )


def read_response(path: Path, offset: int) -> HttpResponse:
    """Read the response (or revisit) record at `offset` of `path`."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        for record in ArchiveIterator(handle):
            if record.rec_type not in ("response", "revisit", "resource"):
                raise ValueError(f"record at offset {offset} of {path.name} is {record.rec_type}")
            return response_from_record(record)
    raise ValueError(f"no record at offset {offset} of {path.name}")


def iter_responses(path: Path) -> Iterator[HttpResponse | None]:
    """Every response (and `resource`) record of a WARC file made by any tool, in order
    (None for each revisit, whose payload lives elsewhere)."""
    with open(path, "rb") as handle:
        for record in ArchiveIterator(handle):
            if record.rec_type in ("response", "resource"):
                yield response_from_record(record)
            elif record.rec_type == "revisit":
                yield None
