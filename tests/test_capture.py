"""Capture: real HTTP on loopback, real WARC files read back, real SQLite catalogue."""

from __future__ import annotations

import gzip
import itertools
import json
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import brotli
import pytest
from pytest_httpserver import HTTPServer
from warcio.archiveiterator import ArchiveIterator
from werkzeug import Request, Response

from archiver.archive.folder import Archive
from archiver.urls import canonicalize

from helpers import raw_records, run, run_process, sha256

PAGE = b"<html><head><title>Story</title></head><body><h1>Story</h1><p>Text 42.</p></body></html>"


def capture_json(archive_dir: Path, *urls: str, extra: tuple[str, ...] = ()) -> list[dict]:
    result = run("capture", "--archive", str(archive_dir), "--json", *extra, *urls)
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_records_round_trip_and_digests_recompute(httpserver: HTTPServer, archive_dir: Path) -> None:
    httpserver.expect_request("/story").respond_with_data(PAGE, content_type="text/html")
    url = httpserver.url_for("/story")
    first, second = capture_json(archive_dir, url)[0], capture_json(archive_dir, url)[0]
    assert first["status"] == 200 and first["unchanged"] is None and not first["revisit"]
    assert second["unchanged"] is True and second["revisit"] is True

    path = archive_dir / first["warc_path"]
    types = [r.headers["WARC-Type"] for r in raw_records(path)]
    assert types == ["warcinfo", "request", "response", "metadata"]
    revisit_types = [r.headers["WARC-Type"] for r in raw_records(archive_dir / second["warc_path"])]
    assert revisit_types == ["warcinfo", "request", "revisit", "metadata"]

    for capture in (first, second):
        for record in raw_records(archive_dir / capture["warc_path"]):
            assert record.headers["WARC-Block-Digest"] == sha256(record.block)
            if record.headers["WARC-Type"] == "response":
                assert record.headers["WARC-Payload-Digest"] == sha256(record.payload)
                assert record.payload == PAGE
                assert sha256(PAGE) == "sha256:" + capture["payload_sha256"]
            if record.headers["WARC-Type"] == "revisit":
                assert record.headers["WARC-Profile"].endswith("identical-payload-digest")
                assert record.headers["WARC-Payload-Digest"] == sha256(PAGE)
                assert record.headers["WARC-Refers-To-Target-URI"] == url
                assert record.headers["WARC-Refers-To"].startswith("<urn:uuid:")

    with open(path, "rb") as handle:
        records = {r.rec_type: r for r in ArchiveIterator(handle) if not r.content_stream().read(0)}
    with open(path, "rb") as handle:
        for record in ArchiveIterator(handle):
            if record.rec_type == "metadata":
                meta = json.loads(record.content_stream().read())
                assert meta["capture"]["url"] == url and meta["capture"]["status"] == 200
                assert meta["capture"]["payload_sha256"] == first["payload_sha256"]
                assert meta["manifest"]["prev"] is None
                assert [r["type"] for r in meta["manifest"]["records"]] == ["warcinfo", "request", "response"]
            if record.rec_type == "warcinfo":
                info = record.content_stream().read().decode()
                assert "software: archiver/" in info and "WARC File Format 1.1" in info
    assert set(records) == {"warcinfo", "request", "response", "metadata"}


def test_warcio_check_passes(httpserver: HTTPServer, archive_dir: Path) -> None:
    httpserver.expect_request("/a").respond_with_data(PAGE, content_type="text/html")
    url = httpserver.url_for("/a")
    capture_json(archive_dir, url, url)  # second is a revisit
    paths = sorted((archive_dir / "warcs").rglob("*.warc.gz"))
    warcio = Path(sys.executable).parent / "warcio"
    checked = subprocess.run([str(warcio), "check", "-v", *map(str, paths)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "digest pass" in checked.stdout and "fail" not in checked.stdout.lower()


def test_redirect_hops_each_recorded(httpserver: HTTPServer, archive_dir: Path) -> None:
    httpserver.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/mid"})
    httpserver.expect_request("/mid").respond_with_data("", status=302, headers={"Location": "/new"})
    httpserver.expect_request("/new").respond_with_data(PAGE, content_type="text/html")
    result = capture_json(archive_dir, httpserver.url_for("/old"))[0]
    assert result["final_url"] == httpserver.url_for("/new") and result["status"] == 200
    records = raw_records(archive_dir / result["warc_path"])
    pairs = [(r.headers["WARC-Type"], r.headers.get("WARC-Target-URI")) for r in records[1:-1]]
    assert pairs == [
        (kind, httpserver.url_for(p)) for p in ("/old", "/mid", "/new") for kind in ("request", "response")
    ]
    meta = json.loads(records[-1].block)
    assert [hop["status"] for hop in meta["capture"]["redirects"]] == [301, 302]


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_encoded_payload_kept_raw(httpserver: HTTPServer, archive_dir: Path, encoding: str) -> None:
    encoded = gzip.compress(PAGE) if encoding == "gzip" else brotli.compress(PAGE)
    httpserver.expect_request("/enc").respond_with_data(
        encoded, content_type="text/html", headers={"Content-Encoding": encoding}
    )
    result = capture_json(archive_dir, httpserver.url_for("/enc"))[0]
    response = next(
        r for r in raw_records(archive_dir / result["warc_path"]) if r.headers["WARC-Type"] == "response"
    )
    assert response.payload == encoded  # exactly the bytes on the wire
    assert result["payload_sha256"] == sha256(encoded).split(":")[1]
    with open(archive_dir / result["warc_path"], "rb") as handle:
        record = next(r for r in ArchiveIterator(handle) if r.rec_type == "response")
        assert record.content_stream().read() == PAGE  # still readable by standard tools
    archive = Archive(archive_dir)
    assert archive.response(archive.get(result["id"])).body == encoded


def test_http_errors_are_archived(httpserver: HTTPServer, archive_dir: Path) -> None:
    httpserver.expect_request("/gone").respond_with_data("gone", status=410)
    result = run("capture", "--archive", str(archive_dir), httpserver.url_for("/gone"))
    assert result.exit_code == 0
    assert "410" in result.stdout
    rows = Archive(archive_dir).history(canonicalize(httpserver.url_for("/gone")))
    assert [r.status for r in rows] == [410]


def test_dedup_keeps_unchanged_captures_small(httpserver: HTTPServer, archive_dir: Path) -> None:
    body = PAGE + b"<!--" + b"x" * 200_000 + b"-->"
    httpserver.expect_request("/big").respond_with_data(body, content_type="text/html")
    url = httpserver.url_for("/big")
    results = [capture_json(archive_dir, url)[0] for _ in range(20)]
    assert [r["revisit"] for r in results] == [False] + [True] * 19
    total = sum(p.stat().st_size for p in (archive_dir / "warcs").rglob("*.warc.gz"))
    first = results[0]["bytes"]
    assert total < first + 19 * 4096  # each revisit costs a few KB, not the body again


def test_same_article_twice_in_one_batch_is_captured_once(httpserver: HTTPServer, archive_dir: Path) -> None:
    httpserver.expect_request("/twice").respond_with_data(PAGE, content_type="text/html")
    url = httpserver.url_for("/twice")
    results = capture_json(archive_dir, url, url + "?utm_source=feed", url)
    assert len(results) == 1 and results[0]["unchanged"] is None


def test_changed_payload_is_stored_again(httpserver: HTTPServer, archive_dir: Path) -> None:
    url = httpserver.url_for("/news")
    httpserver.expect_oneshot_request("/news").respond_with_data(PAGE, content_type="text/html")
    httpserver.expect_oneshot_request("/news").respond_with_data(
        PAGE + b"<p>update</p>", content_type="text/html"
    )
    first, second = capture_json(archive_dir, url)[0], capture_json(archive_dir, url)[0]
    assert second["unchanged"] is False and not second["revisit"]
    assert first["payload_sha256"] != second["payload_sha256"]
    history = json.loads(run("history", "--archive", str(archive_dir), url, "--json").stdout)
    assert [c["change"] for c in history["captures"]] == ["first", "changed"]


def refused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/x"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/file", "unsupported URL scheme (ftp:)"),
        ("file:///etc/passwd", "unsupported URL scheme (file:)"),
        ("javascript:alert(1)", "unsupported URL scheme (javascript:)"),
        ("data:text/html,hi", "unsupported URL scheme (data:)"),
        ("http://[bad/", "invalid URL"),
        ("not a url", "unsupported URL scheme (no scheme)"),
    ],
)
def test_bad_urls_one_line_error(archive_dir: Path, url: str, message: str) -> None:
    result = run("capture", "--archive", str(archive_dir), url)
    assert result.exit_code == 1
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_refused_connection(archive_dir: Path) -> None:
    result = run("capture", "--archive", str(archive_dir), "--retries", "0", refused_url())
    assert result.exit_code == 1 and "connection refused" in result.stderr


def test_tls_failure(httpserver: HTTPServer, archive_dir: Path) -> None:
    """https:// to a server that speaks plain HTTP: the TLS handshake fails."""
    url = f"https://127.0.0.1:{httpserver.port}/"
    result = run("capture", "--archive", str(archive_dir), "--retries", "0", url)
    assert result.exit_code == 1 and "TLS error talking to 127.0.0.1" in result.stderr


def test_dns_failure(archive_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_host(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)  # no DNS traffic leaves the machine
    result = run("capture", "--archive", str(archive_dir), "http://no-such-host.example/")
    assert result.exit_code == 1 and "DNS lookup failed for no-such-host.example" in result.stderr


def test_timeout(httpserver: HTTPServer, archive_dir: Path) -> None:
    def slow(request: Request) -> Response:
        time.sleep(1.5)
        return Response(PAGE)

    httpserver.expect_request("/slow").respond_with_handler(slow)
    result = run(
        "capture",
        "--archive",
        str(archive_dir),
        "--timeout",
        "0.3",
        "--retries",
        "0",
        httpserver.url_for("/slow"),
    )
    assert result.exit_code == 1 and "no answer within 0.3s" in result.stderr


def test_max_time_stops_a_trickling_response(httpserver: HTTPServer, archive_dir: Path) -> None:
    def trickle(request: Request) -> Response:
        def body():
            for _ in range(40):
                time.sleep(0.1)
                yield b"<p>drip</p>"

        return Response(body(), content_type="text/html")

    httpserver.expect_request("/drip").respond_with_handler(trickle)
    started = time.monotonic()
    result = run(
        "capture",
        "--archive",
        str(archive_dir),
        "--timeout",
        "2",
        "--max-time",
        "0.5",
        "--retries",
        "0",
        httpserver.url_for("/drip"),
    )
    assert result.exit_code == 1 and "longer than --max-time (0.5s)" in result.stderr
    assert time.monotonic() - started < 2.5


def test_too_many_redirects(httpserver: HTTPServer, archive_dir: Path) -> None:
    httpserver.expect_request("/loop").respond_with_data("", status=302, headers={"Location": "/loop"})
    result = run("capture", "--archive", str(archive_dir), httpserver.url_for("/loop"))
    assert result.exit_code == 1 and "too many redirects" in result.stderr
    assert not list((archive_dir / "warcs").rglob("*.warc.gz"))


def test_max_size(httpserver: HTTPServer, archive_dir: Path) -> None:
    httpserver.expect_request("/huge").respond_with_data(b"x" * 100_000)
    result = run("capture", "--archive", str(archive_dir), "--max-size", "10000", httpserver.url_for("/huge"))
    assert result.exit_code == 1 and "larger than --max-size" in result.stderr


def test_retries_on_503_then_success(httpserver: HTTPServer, archive_dir: Path) -> None:
    httpserver.expect_oneshot_request("/busy").respond_with_data(
        "busy", status=503, headers={"Retry-After": "0"}
    )
    httpserver.expect_oneshot_request("/busy").respond_with_data(PAGE, content_type="text/html")
    assert capture_json(archive_dir, httpserver.url_for("/busy"))[0]["status"] == 200


def test_mixed_batch_exit_codes_and_input_file(
    httpserver: HTTPServer, archive_dir: Path, tmp_path: Path
) -> None:
    httpserver.expect_request("/ok").respond_with_data(PAGE, content_type="text/html")
    listing = tmp_path / "urls.txt"
    listing.write_text(f"# comment\n{httpserver.url_for('/ok')}\n\nftp://nope/\n")
    result = run("capture", "--archive", str(archive_dir), "-i", str(listing))
    assert result.exit_code == 1 and "200" in result.stdout and "ftp:" in result.stderr
    result = run("capture", "--archive", str(archive_dir), "-i", "-", input=httpserver.url_for("/ok") + "\n")
    assert result.exit_code == 0
    assert run("capture", "--archive", str(archive_dir)).exit_code == 2  # usage error


def test_archive_env_and_list(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/e").respond_with_data(PAGE, content_type="text/html")
    home = tmp_path / "home"
    done = run_process(
        "capture", httpserver.url_for("/e") + "?utm_source=x#top", env={"ARCHIVER_HOME": str(home)}
    )
    assert done.returncode == 0, done.stderr
    listed = json.loads(run_process("list", "--json", env={"ARCHIVER_HOME": str(home)}).stdout)
    assert [row["canonical_url"] for row in listed] == [httpserver.url_for("/e")]
    assert listed[0]["captures"] == 1


def test_canonicalize() -> None:
    assert (
        canonicalize("HTTP://Example.COM:80/a/../b?utm_source=x&b=2&a=1&fbclid=9#frag")
        == "http://example.com/b?a=1&b=2"
    )
    assert canonicalize("https://ex.com:443/story?id=3&gclid=z") == "https://ex.com/story?id=3"
    assert canonicalize("https://ex.com/x") != canonicalize("https://ex.com/y")


def index_rows(archive_dir: Path) -> list[tuple]:
    db = sqlite3.connect(archive_dir / "index.sqlite3")
    try:
        return db.execute("SELECT * FROM captures ORDER BY seq").fetchall()
    finally:
        db.close()


def test_reindex_reproduces_catalogue(httpserver: HTTPServer, archive_dir: Path) -> None:
    httpserver.expect_request("/r").respond_with_data(PAGE, content_type="text/html")
    httpserver.expect_request("/s").respond_with_data("missing", status=404)
    capture_json(archive_dir, httpserver.url_for("/r"), httpserver.url_for("/s"))
    capture_json(archive_dir, httpserver.url_for("/r"))
    before = index_rows(archive_dir)
    (archive_dir / "index.sqlite3").unlink()
    for suffix in ("-wal", "-shm"):
        (archive_dir / f"index.sqlite3{suffix}").unlink(missing_ok=True)
    result = run("reindex", "--archive", str(archive_dir))
    assert result.exit_code == 0 and "3 captures" in result.stdout
    assert index_rows(archive_dir) == before


def test_two_processes_at_once(httpserver: HTTPServer, archive_dir: Path, tmp_path: Path) -> None:
    for i in range(12):
        httpserver.expect_request(f"/p{i}").respond_with_data(
            PAGE + str(i).encode(), content_type="text/html"
        )
    lists = []
    for n in range(2):
        listing = tmp_path / f"urls{n}.txt"
        listing.write_text("\n".join(httpserver.url_for(f"/p{i}") for i in range(12)))
        lists.append(listing)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "archiver",
                "capture",
                "--archive",
                str(archive_dir),
                "-i",
                str(listing),
                "--json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for listing in lists
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert len(out.splitlines()) == 12
    rows = Archive(archive_dir).all()
    assert [r.seq for r in rows] == list(range(1, 25))
    assert all((archive_dir / r.warc_path).exists() for r in rows)
    for previous, row in itertools.pairwise(rows):
        assert row.prev_manifest_sha256 == previous.manifest_sha256  # one unbroken chain
    by_id = {r.id: r for r in rows}
    for row in rows:  # each URL's first capture holds the payload; revisits point at one that does
        first = min((r for r in rows if r.canonical_url == row.canonical_url), key=lambda r: r.seq)
        assert not first.revisit
        if row.revisit:
            original = by_id[row.refers_to]
            assert not original.revisit and original.payload_sha256 == row.payload_sha256


def test_killed_capture_leaves_archive_consistent(archive_dir: Path, tmp_path: Path) -> None:
    """SIGKILL a capture of a large page at many moments; the archive must stay consistent."""
    import http.server
    import threading

    big = PAGE + bytes(range(256)) * 40_000  # ~10 MB, incompressible-ish: writing takes a while

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = big + self.path.encode()  # a new payload each time: no revisit shortcut
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for attempt, delay in enumerate([0.05, 0.15, 0.25, 0.35, 0.45, 0.6, 0.8, 1.0]):
            url = f"http://127.0.0.1:{server.server_port}/k{attempt}"
            proc = subprocess.Popen(
                [sys.executable, "-m", "archiver", "capture", "--archive", str(archive_dir), url],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(delay)
            proc.kill()
            proc.wait()
            assert_consistent(archive_dir)
        url = f"http://127.0.0.1:{server.server_port}/final"
        assert run_process("capture", "--archive", str(archive_dir), url).returncode == 0
        assert_consistent(archive_dir)
        assert not [p for p in (archive_dir / "warcs").rglob("*.tmp")]  # recovery cleaned up
        before = index_rows(archive_dir)
        assert run("reindex", "--archive", str(archive_dir)).exit_code == 0
        assert index_rows(archive_dir) == before  # no orphan WARC outside the index
    finally:
        server.shutdown()


def assert_consistent(archive_dir: Path) -> None:
    if not (archive_dir / "index.sqlite3").exists():
        return
    for row in Archive(archive_dir).all():
        path = archive_dir / row.warc_path
        assert path.exists(), f"index row {row.id} without its file"
        records = raw_records(path)
        assert records[-1].headers["WARC-Type"] == "metadata"
        for record in records:
            assert record.headers["WARC-Block-Digest"] == sha256(record.block)


def test_commit_interrupted_after_rename_is_finished_by_next_writer(
    httpserver: HTTPServer, archive_dir: Path
) -> None:
    """The state a writer killed between rename and index commit leaves: the WARC in place,
    the journal naming it, no row. The next writer indexes it and the chain stays whole."""
    httpserver.expect_request("/j").respond_with_data(PAGE, content_type="text/html")
    first = capture_json(archive_dir, httpserver.url_for("/j"))[0]
    archive = Archive(archive_dir)
    final = archive_dir / first["warc_path"]
    with archive.transaction() as db:
        db.execute("DELETE FROM captures WHERE id = ?", (first["id"],))
        db.execute("DELETE FROM state")
    (archive_dir / ".pending").write_text(json.dumps({"final": str(final), "temp": str(final) + ".x.tmp"}))
    second = capture_json(archive_dir, httpserver.url_for("/j"))[0]
    rows = Archive(archive_dir).all()
    assert [r.id for r in rows] == [first["id"], second["id"]]
    assert rows[1].prev_manifest_sha256 == rows[0].manifest_sha256
    assert not (archive_dir / ".pending").exists()


def test_page_text_with_brackets_is_printed_literally(httpserver: HTTPServer, archive_dir: Path) -> None:
    page = (
        "<html><head><title>[red]x[/red]</title></head><body><article><h1>[Exclusive] A "
        "[bold]story[/bold]</h1><p>First [x] paragraph here.</p><p>Second one.</p>"
        "<p>Third one.</p></article></body></html>"
    )
    httpserver.expect_request("/b").respond_with_data(page, content_type="text/html")
    url = httpserver.url_for("/b") + "?tag=[1]"
    captured = run("capture", "--archive", str(archive_dir), url)
    assert captured.exit_code == 0 and "?tag=[1]" in captured.stdout
    shown = run("show", "--archive", str(archive_dir), url)
    assert "[Exclusive] A [bold]story[/bold]" in shown.stdout and "First [x] paragraph" in shown.stdout


def test_unreadable_file_left_by_a_killed_writer_is_kept_aside(
    httpserver: HTTPServer, archive_dir: Path
) -> None:
    """Recovery never deletes evidence and never lets an unindexed file fork the chain."""
    httpserver.expect_request("/k").respond_with_data(PAGE, content_type="text/html")
    first = capture_json(archive_dir, httpserver.url_for("/k"))[0]
    final = (archive_dir / first["warc_path"]).with_name("20260101000000000-abcdef.warc.gz")
    final.write_bytes(b"not a warc at all")
    (archive_dir / ".pending").write_text(json.dumps({"final": str(final), "temp": ""}))
    second = capture_json(archive_dir, httpserver.url_for("/k"))[0]
    assert not final.exists() and Path(f"{final}.unreadable").read_bytes() == b"not a warc at all"
    rows = Archive(archive_dir).all()
    assert [r.id for r in rows] == [first["id"], second["id"]] and [r.seq for r in rows] == [1, 2]


def test_history_by_the_url_a_story_moved_to(httpserver: HTTPServer, archive_dir: Path) -> None:
    httpserver.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/new"})
    httpserver.expect_request("/new").respond_with_data(PAGE, content_type="text/html")
    capture_json(archive_dir, httpserver.url_for("/old"))
    moved = json.loads(
        run("history", "--archive", str(archive_dir), "--json", httpserver.url_for("/new")).stdout
    )
    assert moved["url"] == httpserver.url_for("/old") and len(moved["captures"]) == 1


def test_unicode_urls_read_as_text_in_tables(httpserver: HTTPServer, archive_dir: Path) -> None:
    httpserver.expect_request("/café").respond_with_data(PAGE, content_type="text/html")
    url = httpserver.url_for("/café")
    assert run("capture", "--archive", str(archive_dir), url).exit_code == 0
    assert "/café" in run("list", "--archive", str(archive_dir)).stdout
    assert "/café" in run("history", "--archive", str(archive_dir), url).stdout
    listed = json.loads(run("list", "--archive", str(archive_dir), "--json").stdout)
    assert listed[0]["canonical_url"].endswith("/caf%C3%A9")  # JSON keeps the canonical key
