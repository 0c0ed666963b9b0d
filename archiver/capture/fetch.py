"""Fetch a page over HTTP(S), following redirects by hand so every hop is kept, each
payload spooled exactly as received (no content decoding), within --max-size and --max-time."""

from __future__ import annotations

import contextlib
import hashlib
import re
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import IO, Any
from urllib.parse import quote, urljoin, urlsplit

import urllib3
from urllib3 import exceptions as http_errors
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from archiver import __version__
from archiver.errors import ArchiverError
from archiver.urls import check_url

REDIRECT_STATUSES = (301, 302, 303, 307, 308)
RETRY_STATUSES = (429, 503)
DEFAULT_USER_AGENT = f"archiver/{__version__} (news article archiver; urllib3)"
CHUNK = 1 << 16
_URL_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))  # printable ASCII is kept as sent


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
    headers: dict[str, str] = field(default_factory=dict)  # extra request headers (watch's If-None-Match)
    warcinfo: dict[str, str] = field(default_factory=dict)  # extra warcinfo fields (watch --ignore-robots)


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
    head: bytes  # status line and headers as received (latin-1 round-trips http.client's str)
    ended: datetime = field(default_factory=lambda: datetime.now(UTC))
    note: str | None = None  # why a redirect was not followed

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)


_local = threading.local()  # the running exchange's _Deadline and bytes sent, per worker thread


class _Deadline:
    """--max-time for one exchange, headers included: a socket timeout only bounds each read,
    so a server trickling its status line or headers a byte at a time would hold a capture
    forever. When time is up the exchange's sockets are shut, which ends any blocked read."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)

    def __enter__(self) -> _Deadline:
        _local.deadline = self
        self._timer.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._timer.cancel()
        _local.deadline = None


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


def _watched(sock: socket.socket) -> socket.socket:
    deadline = getattr(_local, "deadline", None)
    if deadline is not None:
        deadline.watch(sock)  # the plain socket: shutting it ends TLS reads on top of it too
    return sock


def _sent(data: Any) -> None:
    """Keep the bytes of the request as they go to the socket: the request record's block."""
    sent = getattr(_local, "sent", None)
    if sent is not None:
        sent += data if isinstance(data, bytes | bytearray) else b""


class _WatchedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _watched(super()._new_conn())

    def send(self, data: Any) -> None:
        _sent(data)
        super().send(data)


class _WatchedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _watched(super()._new_conn())

    def send(self, data: Any) -> None:
        _sent(data)
        super().send(data)


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


def new_session() -> urllib3.PoolManager:
    """Connection pools (urllib3 itself: requests' layers cost more than the rest of an
    exchange) that neither decode nor follow anything on their own, read no proxy settings,
    and whose connections --max-time can cut."""
    manager = urllib3.PoolManager(num_pools=64, maxsize=32, retries=False)
    manager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
    return manager


def _fetch_error(url: str, exc: Exception, options: FetchOptions) -> ArchiverError:
    """Turn an HTTP client exception into a one-line message."""
    host = urlsplit(url).hostname or url
    text = str(exc)
    if isinstance(exc, http_errors.SSLError):
        return ArchiverError(f"{url}: TLS error talking to {host}")
    if isinstance(exc, http_errors.TimeoutError) and not isinstance(exc, http_errors.NewConnectionError):
        return ArchiverError(f"{url}: no answer within {options.timeout:g}s (--timeout)")
    if isinstance(exc, http_errors.LocationValueError | ValueError):
        return ArchiverError(f"invalid URL {url}")
    if "NameResolutionError" in text or "Name or service not known" in text or "getaddrinfo" in text:
        return ArchiverError(f"{url}: DNS lookup failed for {host}")
    if "Connection refused" in text or "ConnectionRefused" in text:
        return ArchiverError(f"{url}: connection refused by {host}")
    if isinstance(exc, http_errors.ProtocolError | http_errors.DecodeError) and "BadStatusLine" not in text:
        return ArchiverError(f"{url}: broken response from {host}")
    if "BadStatusLine" in text or "LineTooLong" in text or "got more than" in text:
        return ArchiverError(f"{url}: malformed response from {host}")
    return ArchiverError(f"{url}: connection failed to {host}")


def _too_slow(url: str, options: FetchOptions) -> ArchiverError:
    return ArchiverError(f"{url}: response took longer than --max-time ({options.max_time:g}s); not captured")


def _raw_chunks(raw: Any) -> Iterator[bytes]:
    """The payload as it arrives (no content decoding), in pieces as soon as they come, so a
    trickling server is noticed by --max-time."""
    if raw.chunked:
        yield from raw.read_chunked(CHUNK, decode_content=False)
        return
    while chunk := raw.read1(CHUNK, decode_content=False):
        yield chunk


def _exchange(session: urllib3.PoolManager, url: str, options: FetchOptions) -> Hop:
    """One request, its response read raw (no content decoding) up to max_size, the whole
    exchange within max_time."""
    with _Deadline(options.max_time) as deadline:
        try:
            hop = _read_exchange(session, url, options)
        except ArchiverError:
            if deadline.expired:
                raise _too_slow(url, options) from None
            raise
    if deadline.expired:  # http.client takes a head cut short by the shutdown as complete
        hop.body.close()
        raise _too_slow(url, options)
    return hop


def _open(session: urllib3.PoolManager, url: str, headers: dict[str, str], options: FetchOptions) -> Any:
    """Send the request and read the response head. A kept-alive connection the server had
    already closed fails before any answer: the request goes once more, on a new one (the
    request record keeps the bytes of the attempt that was answered)."""
    for attempt in (1, 2):
        _local.sent = bytearray()
        try:
            return session.urlopen(
                "GET",
                url,
                headers=headers,
                preload_content=False,
                decode_content=False,
                redirect=False,
                retries=False,
                timeout=urllib3.Timeout(connect=options.timeout, read=options.timeout),
            )
        except http_errors.ProtocolError as exc:
            dropped = any(isinstance(arg, ConnectionError) for arg in exc.args)  # RemoteDisconnected too
            if attempt == 2 or not dropped:
                _local.sent = None
                raise _fetch_error(url, exc, options) from None
        except (http_errors.HTTPError, ValueError, OSError) as exc:
            _local.sent = None
            raise _fetch_error(url, exc, options) from None
    raise AssertionError("unreachable")


def _read_exchange(session: urllib3.PoolManager, url: str, options: FetchOptions) -> Hop:
    headers = {
        "User-Agent": options.user_agent,
        "Accept-Encoding": "gzip, deflate, br",
        "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
        "Connection": "keep-alive",
        **options.headers,
    }
    started = datetime.now(UTC)
    response = _open(session, url, headers, options)
    request_head, _local.sent = bytes(_local.sent), None
    spool = tempfile.SpooledTemporaryFile(max_size=1 << 20)  # noqa: SIM115 - handed to the Hop
    digest = hashlib.sha256()
    length = 0
    deadline = time.monotonic() + options.max_time
    try:
        for chunk in _raw_chunks(response):
            if options.cancel is not None and options.cancel.is_set():
                raise KeyboardInterrupt
            if time.monotonic() > deadline:
                raise _too_slow(url, options)
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
    response.release_conn()  # drained: the connection serves the next request
    spool.seek(0)
    raw = response
    protocol = {10: "HTTP/1.0", 11: "HTTP/1.1"}.get(raw.version, "HTTP/1.1")
    header_list = []
    for name, value in raw.headers.items():
        if name.lower() == "transfer-encoding":  # payload stored de-chunked: say so, don't lie
            name = "X-Archiver-Transfer-Encoding"
        header_list.append((name, value))
    reason = raw.reason or ""
    head = "".join(f"{k}: {v}\r\n" for k, v in header_list)
    return Hop(
        url=url,
        request_head=request_head,
        started=started,
        status=raw.status,
        reason=reason,
        protocol=protocol,
        headers=header_list,
        body=spool,
        body_length=length,
        payload_sha256=digest.hexdigest(),
        head=f"{protocol} {raw.status} {reason}".rstrip().encode("latin-1", "replace")
        + b"\r\n"
        + head.encode("latin-1", "replace")
        + b"\r\n",
    )


def retry_wait(retry_after: str | None, attempt: int, options: FetchOptions) -> float:
    """Seconds before the next try: Retry-After as delta-seconds or an HTTP-date, else
    exponential backoff; never past --max-time (a server cannot park a capture for days)."""
    value = (retry_after or "").strip()
    wait = options.backoff * 2**attempt
    if re.fullmatch(r"[0-9]{1,12}", value):  # ASCII digits only: "²".isdigit() is true too
        wait = int(value)
    elif value:
        try:
            from email.utils import parsedate_to_datetime  # rare: loaded when a server asks

            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            when = None
        if when is not None:
            when = when if when.tzinfo else when.replace(tzinfo=UTC)
            wait = (when - datetime.now(UTC)).total_seconds()
    return max(0.0, min(wait, options.max_time))


def _pause(seconds: float, options: FetchOptions) -> None:
    """Sleep, but wake for Ctrl-C in a batch."""
    if options.cancel is None:
        time.sleep(seconds)
    elif options.cancel.wait(seconds):
        raise KeyboardInterrupt


def _exchange_with_retries(session: urllib3.PoolManager, url: str, options: FetchOptions) -> Hop:
    """_exchange, retried with exponential backoff on connection errors and 429/503."""
    for attempt in range(options.retries + 1):
        last = attempt == options.retries
        try:
            hop = _exchange(session, url, options)
        except ArchiverError as exc:
            cause = exc.args[0]
            if last or "connection" not in cause or "refused" in cause or "DNS" in cause:
                raise
            _pause(options.backoff * 2**attempt, options)
            continue
        if hop.status not in RETRY_STATUSES or last:
            return hop
        hop.body.close()
        _pause(retry_wait(hop.header("Retry-After"), attempt, options), options)
    raise AssertionError("unreachable")


def _location_url(location: str) -> str:
    """A Location value as a URL: its raw bytes (http.client hands them over as latin-1)
    percent-encoded where not printable ASCII, as browsers do."""
    try:
        raw = location.strip().encode("latin-1")
    except UnicodeEncodeError:
        raw = location.strip().encode("utf-8")
    return quote(raw, safe=_URL_SAFE)


def fetch(session: urllib3.PoolManager, url: str, options: FetchOptions) -> list[Hop]:
    """Fetch `url`, following redirects by hand so every hop is recorded. A redirect to
    something that is no fetchable URL ends the capture at that response, with a note."""
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
        try:
            current = check_url(urljoin(current, _location_url(location)))
        except (ArchiverError, ValueError):
            hop.note = f"redirect not followed: unusable Location {location!r}"
            return hops
