"""Fetch a page over HTTP(S), following redirects by hand so every hop is kept, each
payload spooled exactly as received (no content decoding), within --max-size and --max-time."""

from __future__ import annotations

import hashlib
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import urljoin, urlsplit

import requests

from archiver import __version__
from archiver.errors import ArchiverError
from archiver.urls import check_url

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
    cancel: threading.Event | None = field(default=None, compare=False)  # set: abandon the fetch


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


def new_session() -> requests.Session:
    """A requests session that neither decodes nor follows anything on its own."""
    session = requests.Session()
    session.trust_env = False
    return session


def _request_head(prepared: requests.PreparedRequest) -> bytes:
    parts = urlsplit(prepared.url or "")
    lines = [f"{prepared.method} {prepared.path_url} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{k}: {v if isinstance(v, str) else v.decode('latin-1')}" for k, v in prepared.headers.items()]
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
            if options.cancel is not None and options.cancel.is_set():
                raise KeyboardInterrupt
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
    except BaseException as exc:
        spool.close()
        response.close()
        if isinstance(exc, ArchiverError | KeyboardInterrupt) or not isinstance(exc, Exception):
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
