"""Fetch a page over HTTP(S) and store the exchange as a WARC 1.1 capture."""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import urljoin, urlsplit

import requests

from archiver import __version__
from archiver.archive.catalogue import Capture
from archiver.archive.folder import Archive, canonical_json, file_sha256, manifest_digest
from archiver.errors import ArchiverError
from archiver.evidence import keys
from archiver.urls import canonicalize, check_url
from archiver.warc.writer import SOFTWARE, CaptureWriter, RecordSpan, http_headers, make_record_id

REDIRECT_STATUSES = (301, 302, 303, 307, 308)
RETRY_STATUSES = (429, 503)
DEFAULT_USER_AGENT = f"archiver/{__version__} (news article archiver; python-requests)"
CHUNK = 1 << 16


@dataclass
class FetchOptions:
    """How pages are fetched."""

    timeout: float = 30.0  # seconds to connect, and with no data arriving
    max_time: float = 300.0  # seconds for the whole response, however it trickles in
    user_agent: str = DEFAULT_USER_AGENT
    max_size: int = 50 * 1024 * 1024
    retries: int = 2
    backoff: float = 0.5
    max_redirects: int = 10


@dataclass
class Hop:
    """One request/response exchange, the payload spooled as received (still encoded)."""

    url: str
    request_head: bytes
    started: datetime
    status: int
    reason: str
    protocol: str
    headers: list[tuple[str, str]]
    body: IO[bytes]
    body_length: int
    payload_sha256: str
    ended: datetime = field(default_factory=lambda: datetime.now(UTC))

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)


@dataclass
class CaptureResult:
    """What `capture` reports for one URL."""

    capture: Capture
    unchanged: bool | None  # None: first capture of this article

    def to_json(self) -> dict:
        c = self.capture
        return {
            "id": c.id,
            "url": c.url,
            "final_url": c.final_url,
            "canonical_url": c.canonical_url,
            "status": c.status,
            "captured_at": c.captured_at,
            "warc_path": c.warc_path,
            "payload_sha256": c.payload_sha256,
            "bytes": c.bytes,
            "revisit": c.revisit,
            "unchanged": self.unchanged,
        }


def new_session() -> requests.Session:
    """A requests session that neither decodes nor follows anything on its own."""
    session = requests.Session()
    session.trust_env = False
    return session


def iso(moment: datetime) -> str:
    """WARC-Date form: UTC, microseconds, Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _request_head(prepared: requests.PreparedRequest) -> bytes:
    parts = urlsplit(prepared.url or "")
    lines = [f"{prepared.method} {prepared.path_url} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{k}: {v}" for k, v in prepared.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")


def _fetch_error(url: str, exc: Exception, options: FetchOptions) -> ArchiverError:
    """Turn a requests exception into a one-line message."""
    host = urlsplit(url).hostname or url
    text = str(exc)
    if isinstance(exc, requests.exceptions.SSLError):
        return ArchiverError(f"{url}: TLS error talking to {host}")
    if isinstance(exc, requests.exceptions.Timeout):
        return ArchiverError(f"{url}: no answer within {options.timeout:g}s (--timeout)")
    if isinstance(
        exc,
        requests.exceptions.InvalidURL
        | requests.exceptions.MissingSchema
        | requests.exceptions.InvalidSchema,
    ):
        return ArchiverError(f"invalid URL {url}")
    if "NameResolutionError" in text or "Name or service not known" in text or "getaddrinfo" in text:
        return ArchiverError(f"{url}: DNS lookup failed for {host}")
    if "Connection refused" in text or "ConnectionRefused" in text:
        return ArchiverError(f"{url}: connection refused by {host}")
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError):
        return ArchiverError(f"{url}: broken response from {host}")
    return ArchiverError(f"{url}: connection failed to {host}")


def _raw_chunks(raw: Any) -> Iterator[bytes]:
    """The payload as it arrives (no content decoding), in pieces as soon as they come, so a
    trickling server is noticed by --max-time."""
    if raw.chunked:
        yield from raw.read_chunked(CHUNK, decode_content=False)
        return
    while chunk := raw.read1(CHUNK, decode_content=False):
        yield chunk


def _exchange(session: requests.Session, url: str, options: FetchOptions) -> Hop:
    """One request, its response read raw (no content decoding) up to max_size."""
    headers = {
        "User-Agent": options.user_agent,
        "Accept-Encoding": "gzip, deflate, br",
        "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
    }
    started = datetime.now(UTC)
    try:
        response = session.get(
            url, headers=headers, stream=True, allow_redirects=False, timeout=options.timeout
        )
    except requests.exceptions.RequestException as exc:
        raise _fetch_error(url, exc, options) from None
    spool = tempfile.SpooledTemporaryFile(max_size=1 << 20)  # noqa: SIM115 - handed to the Hop
    digest = hashlib.sha256()
    length = 0
    deadline = time.monotonic() + options.max_time
    try:
        for chunk in _raw_chunks(response.raw):
            if time.monotonic() > deadline:
                raise ArchiverError(
                    f"{url}: response took longer than --max-time ({options.max_time:g}s); not captured"
                )
            length += len(chunk)
            if length > options.max_size:
                raise ArchiverError(
                    f"{url}: response larger than --max-size ({options.max_size} bytes); not captured"
                )
            digest.update(chunk)
            spool.write(chunk)
    except (requests.exceptions.RequestException, OSError, Exception) as exc:
        spool.close()
        response.close()
        if isinstance(exc, ArchiverError):
            raise
        if "timed out" in str(exc).lower():
            raise ArchiverError(f"{url}: no data for {options.timeout:g}s (--timeout)") from None
        raise ArchiverError(f"{url}: connection broken while reading the response") from None
    response.close()
    spool.seek(0)
    raw = response.raw
    protocol = {10: "HTTP/1.0", 11: "HTTP/1.1"}.get(raw.version, "HTTP/1.1")
    header_list = []
    for name, value in raw.headers.items():
        if name.lower() == "transfer-encoding":  # payload stored de-chunked: say so, don't lie
            name = "X-Archiver-Transfer-Encoding"
        header_list.append((name, value))
    return Hop(
        url=url,
        request_head=_request_head(response.request),
        started=started,
        status=raw.status,
        reason=raw.reason or "",
        protocol=protocol,
        headers=header_list,
        body=spool,
        body_length=length,
        payload_sha256=digest.hexdigest(),
    )


def _exchange_with_retries(session: requests.Session, url: str, options: FetchOptions) -> Hop:
    """_exchange, retried with exponential backoff on connection errors and 429/503."""
    for attempt in range(options.retries + 1):
        last = attempt == options.retries
        try:
            hop = _exchange(session, url, options)
        except ArchiverError as exc:
            cause = exc.args[0]
            if last or "connection" not in cause or "refused" in cause or "DNS" in cause:
                raise
            time.sleep(options.backoff * 2**attempt)
            continue
        if hop.status not in RETRY_STATUSES or last:
            return hop
        hop.body.close()
        retry_after = hop.header("Retry-After") or ""
        wait = float(retry_after) if retry_after.isdigit() else options.backoff * 2**attempt
        time.sleep(min(wait, 30.0))
    raise AssertionError("unreachable")


def fetch(session: requests.Session, url: str, options: FetchOptions) -> list[Hop]:
    """Fetch `url`, following redirects by hand so every hop is recorded."""
    hops: list[Hop] = []
    current = check_url(url)
    while True:
        hop = _exchange_with_retries(session, current, options)
        hops.append(hop)
        location = hop.header("Location")
        if hop.status not in REDIRECT_STATUSES or not location:
            return hops
        if len(hops) > options.max_redirects:
            for h in hops:
                h.body.close()
            raise ArchiverError(f"{url}: too many redirects (more than {options.max_redirects})")
        current = check_url(urljoin(current, location))


def new_capture_id(moment: datetime) -> str:
    """Sortable capture id: UTC time to the millisecond, then 6 random hex digits."""
    return moment.strftime("%Y%m%d%H%M%S%f")[:17] + "-" + secrets.token_hex(3)


def capture_url(
    archive: Archive, url: str, options: FetchOptions, session: requests.Session | None = None
) -> CaptureResult:
    """Fetch `url` and add it to `archive` as one WARC file and one catalogue row."""
    hops = fetch(session or new_session(), url, options)
    try:
        return _store(archive, url, hops)
    finally:
        for hop in hops:
            hop.body.close()


def _store(archive: Archive, url: str, hops: list[Hop]) -> CaptureResult:
    """Write the exchange records to a temporary file, then, under the archive's writer
    lock, chain and sign the manifest, fsync, rename and index."""
    final = hops[-1]
    canonical = canonicalize(url)
    capture_id = new_capture_id(hops[0].started)
    path = archive.warc_path_for(capture_id)
    original = archive.original_with_payload(canonical, final.payload_sha256)
    temp = archive.temp_path_for(path)
    try:
        with open(temp, "wb") as out:
            writer = CaptureWriter(out)
            writer.warcinfo(path.name, {"isPartOf": capture_id})
            response = _write_exchanges(writer, hops, original)
            facts = _facts(capture_id, url, canonical, hops, response.record_id, original)
            with archive.writer_lock():
                prev, seq = archive.chain_state()
                history = archive.history(canonical)
                metadata, manifest_sha, signed = _write_metadata(
                    writer, facts, seq, prev, keys.load_private_key(archive.root)
                )
                out.flush()
                os.fsync(out.fileno())
                capture = Capture(
                    id=capture_id,
                    seq=seq,
                    url=url,
                    canonical_url=canonical,
                    final_url=final.url,
                    status=final.status,
                    content_type=final.header("Content-Type"),
                    captured_at=facts["captured_at"],
                    warc_path=archive.relative(path),
                    response_offset=response.offset,
                    response_length=response.length,
                    metadata_offset=metadata.offset,
                    metadata_length=metadata.length,
                    response_record_id=response.record_id,
                    payload_sha256=final.payload_sha256,
                    payload_length=final.body_length,
                    revisit=original is not None,
                    refers_to=original.id if original else None,
                    bytes=out.tell(),
                    manifest_sha256=manifest_sha,
                    prev_manifest_sha256=prev,
                    signed=signed,
                    warc_sha256=file_sha256(temp),
                )
                archive.commit_write(temp, path, capture)
    finally:
        temp.unlink(missing_ok=True)
    unchanged = history[-1].payload_sha256 == final.payload_sha256 if history else None
    return CaptureResult(capture, unchanged)


def _write_exchanges(writer: CaptureWriter, hops: list[Hop], original: Capture | None) -> RecordSpan:
    """A request and a response record per hop (a revisit for an unchanged final payload);
    returns the final response's span."""
    for index, hop in enumerate(hops):
        date = iso(hop.started)
        response_id = make_record_id()
        writer.request(hop.url, date, hop.request_head, response_id)
        status = http_headers(f"{hop.status} {hop.reason}".strip(), hop.headers, hop.protocol)
        if index == len(hops) - 1 and original is not None:
            span = writer.revisit(
                hop.url,
                date,
                response_id,
                status,
                hop.payload_sha256,
                original.response_record_id,
                original.final_url,
                original.captured_at,
            )
        else:
            span = writer.response(
                hop.url, date, response_id, status, hop.body, hop.body_length, hop.payload_sha256
            )
    return span


def _facts(
    capture_id: str, url: str, canonical: str, hops: list[Hop], response_id: str, original: Capture | None
) -> dict:
    """The capture's facts, as stored in its metadata record."""
    final = hops[-1]
    return {
        "id": capture_id,
        "url": url,
        "canonical_url": canonical,
        "final_url": final.url,
        "status": final.status,
        "reason": final.reason,
        "content_type": final.header("Content-Type"),
        "captured_at": iso(hops[0].started),
        "fetch_start": iso(hops[0].started),
        "fetch_end": iso(final.ended),
        "redirects": [
            {"url": h.url, "status": h.status, "location": h.header("Location")} for h in hops[:-1]
        ],
        "payload_sha256": final.payload_sha256,
        "payload_length": final.body_length,
        "response_record_id": response_id,
        "revisit_of": original.id if original else None,
        "software": SOFTWARE,
    }


def _write_metadata(
    writer: CaptureWriter, facts: dict, seq: int, prev: str | None, private_key: object | None
) -> tuple[RecordSpan, str, bool]:
    """The metadata record: facts, the manifest chained to `prev`, and its signature."""
    manifest = {
        "capture_id": facts["id"],
        "seq": seq,
        "url": facts["url"],
        "canonical_url": facts["canonical_url"],
        "final_url": facts["final_url"],
        "captured_at": facts["captured_at"],
        "prev": prev,
        "records": [
            {
                "type": s.rec_type,
                "id": s.record_id,
                "block_digest": s.block_digest,
                "payload_digest": s.payload_digest,
            }
            for s in writer.spans
        ],
    }
    data: dict = {"capture": facts, "manifest": manifest, "manifest_sha256": manifest_digest(manifest)}
    if private_key is not None:
        data["signature"] = keys.sign(private_key, canonical_json(manifest))
    span = writer.metadata(
        f"urn:archiver:capture:{facts['id']}", facts["fetch_end"], facts["response_record_id"], data
    )
    return span, data["manifest_sha256"], "signature" in data
