"""Hostile servers on loopback, spoken to over raw sockets (werkzeug would tidy what they send):
trickled heads, bad bytes in status lines and headers, unusable redirects, Retry-After."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from archiver.capture.fetch import FetchOptions, retry_wait

from helpers import raw_records, run

Handler = Callable[[socket.socket], None] | bytes


class RawServer:
    """An HTTP server that answers each path with raw bytes, or hands the socket to a function."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.hits: dict[str, int] = {}
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                data = conn.recv(65536)
                if not data:
                    return
                request += data
            path = request.split(b" ")[1].decode("latin-1")
            self.hits[path] = self.hits.get(path, 0) + 1
            route = self.routes.get(path, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            with contextlib.suppress(OSError):  # the client hung up, as it should when time is up
                route(conn) if callable(route) else conn.sendall(route)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def server() -> Iterator[RawServer]:
    raw = RawServer()
    yield raw
    raw.close()


PAGE = b"<html><head><title>Story</title></head><body><h1>Story</h1><p>Text.</p></body></html>"


def ok(body: bytes = PAGE, extra: bytes = b"") -> bytes:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n" + extra
    return head + b"Content-Length: %d\r\n\r\n" % len(body) + body


def trickle(data: bytes, pause: float = 0.1) -> Callable[[socket.socket], None]:
    def send(conn: socket.socket) -> None:
        for byte in data:
            conn.sendall(bytes([byte]))
            time.sleep(pause)

    return send


def capture(archive_dir: Path, *args: str) -> tuple[int, list[dict], str]:
    result = run("capture", "--archive", str(archive_dir), "--json", *args)
    assert "Traceback" not in result.stderr
    return result.exit_code, [json.loads(line) for line in result.stdout.splitlines()], result.stderr


@pytest.mark.parametrize(
    "answer",
    [
        trickle(ok()),  # status line and headers a byte at a time, each within --timeout
        lambda conn: (conn.sendall(b"HTTP/1.1 200 OK\r\n"), trickle(b"X-Drip: " + b"a" * 200)(conn)),
    ],
    ids=["status-line", "one-endless-header"],
)
def test_max_time_bounds_a_trickled_head(server: RawServer, archive_dir: Path, answer: Handler) -> None:
    server.routes["/drip"] = answer
    started = time.monotonic()
    code, lines, stderr = capture(
        archive_dir, "--timeout", "2", "--max-time", "1", "--retries", "0", server.url("/drip")
    )
    assert time.monotonic() - started < 4
    assert code == 1 and "longer than --max-time (1s)" in stderr
    assert lines == [{"url": server.url("/drip"), "error": stderr.split("error: ", 1)[1].strip()}]


def test_retry_after_is_capped_by_max_time(server: RawServer, archive_dir: Path) -> None:
    answers = iter([b"HTTP/1.1 503 Busy\r\nRetry-After: 86400\r\nContent-Length: 0\r\n\r\n", ok()])
    server.routes["/busy"] = lambda conn: conn.sendall(next(answers))
    started = time.monotonic()
    code, lines, _ = capture(archive_dir, "--max-time", "1", "--retries", "1", server.url("/busy"))
    assert code == 0 and lines[0]["status"] == 200 and server.hits["/busy"] == 2
    assert time.monotonic() - started < 4


@pytest.mark.parametrize(
    ("value", "low", "high"),
    [
        ("7", 7, 7),
        (" 12 ", 12, 12),
        ("999999999", 30, 30),  # capped by --max-time
        ("Wed, 21 Oct 2015 07:28:00", 0, 0),  # no zone: read as UTC
        ("²", 2, 2),  # a superscript two is not a number of seconds: the backoff
        ("Â²", 2, 2),
        ("-5", 2, 2),
        ("1e9", 2, 2),
        ("soon", 2, 2),
    ],
)
def test_retry_after_seconds_or_http_date(value: str, low: float, high: float) -> None:
    wait = retry_wait(value, 2, FetchOptions(max_time=30, backoff=0.5))
    assert low <= wait <= high


def test_retry_after_http_date_counts_from_now() -> None:
    options = FetchOptions(max_time=30)
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    assert 15 <= retry_wait(soon, 0, options) <= 20
    past = format_datetime(datetime.now(UTC) - timedelta(days=1), usegmt=True)
    assert retry_wait(past, 0, options) == 0


RAW_LOCATION = b"HTTP/1.1 302 Found\r\nLocation: /caf\xc3\xa9/\xff story\r\nContent-Length: 0\r\n\r\n"
BAD_IPV6 = b"HTTP/1.1 301 Moved\r\nLocation: http://[::1/x\r\nContent-Length: 0\r\n\r\n"
STATUS_TEXT = (
    b"HTTP/1.1 200 Tr\xe8s bien \xe2\x9c\x93\r\nX-Name: caf\xc3\xa9 \xff\x01\r\nContent-Type: text/html\r\n"
)
SUPERSCRIPT = b"HTTP/1.1 503 Busy\r\nRetry-After: \xc2\xb2\r\nContent-Length: 0\r\n\r\n"


def test_bad_bytes_one_line_each_and_the_batch_goes_on(server: RawServer, archive_dir: Path) -> None:
    server.routes.update(
        {
            "/raw-location": RAW_LOCATION,
            "/caf%C3%A9/%FF%20story": ok(),
            "/ipv6": BAD_IPV6,
            "/status": STATUS_TEXT + b"Content-Length: %d\r\n\r\n" % len(PAGE) + PAGE,
            "/retry": SUPERSCRIPT,
            "/fine": ok(b"<p>fine</p>"),
        }
    )
    urls = [server.url(p) for p in ("/raw-location", "/ipv6", "/status", "/retry", "/fine")]
    code, lines, stderr = capture(archive_dir, "--retries", "1", *urls)
    by_url = {line["url"]: line for line in lines}
    assert sorted(by_url) == sorted(urls) and code == 0, stderr
    moved = by_url[server.url("/raw-location")]
    assert moved["status"] == 200 and moved["final_url"] == server.url("/caf%C3%A9/%FF%20story")
    assert by_url[server.url("/ipv6")]["status"] == 301
    assert "redirect not followed" in by_url[server.url("/ipv6")]["note"]
    assert by_url[server.url("/retry")]["status"] == 503 and server.hits["/retry"] == 2

    status = by_url[server.url("/status")]
    records = raw_records(archive_dir / status["warc_path"])  # the run's file holds every capture
    response = next(
        r
        for r in records
        if r.headers["WARC-Type"] == "response" and r.headers["WARC-Target-URI"] == server.url("/status")
    )
    assert response.block.startswith(STATUS_TEXT)  # as received, byte for byte
    assert response.payload == PAGE

    shown = run("history", "--archive", str(archive_dir), server.url("/status"))
    assert shown.exit_code == 0 and "Traceback" not in shown.stderr
    checked = run("verify", "--archive", str(archive_dir))
    assert checked.exit_code == 0, checked.stdout


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 2OO OK\r\n\r\n",
        b"\xff\xfe garbage\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(200)) + b"\r\n",
        b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"",
    ],
    ids=["status-code", "no-http", "many-headers", "long-header", "short-body", "bad-chunk", "hang-up"],
)
def test_malformed_responses_one_line(server: RawServer, archive_dir: Path, answer: bytes) -> None:
    server.routes["/bad"] = answer
    server.routes["/fine"] = ok()
    code, lines, stderr = capture(archive_dir, "--retries", "0", server.url("/bad"), server.url("/fine"))
    assert code == 1 and len(lines) == 2
    assert stderr.count("\n") == 1 and server.url("/bad") in stderr
    assert {line["url"] for line in lines} == {server.url("/bad"), server.url("/fine")}
