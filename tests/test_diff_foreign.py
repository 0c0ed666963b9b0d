"""Diffing WARC files made by other tools: chunked payloads, several pages in one file."""

from __future__ import annotations

import http.server
import shutil
import subprocess
import threading
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest

from helpers import run

ARTICLE = resources.files("archiver").joinpath("samples/article-v1.html").read_bytes()
OTHER = ARTICLE.replace(b"Mayor Sends New Year", b"Council Rejects New Year").replace(
    b"$42 million", b"$12 million"
)

needs_wget = pytest.mark.skipif(shutil.which("wget") is None, reason="wget is not installed")


@pytest.fixture(scope="module")
def chunked_site() -> Iterator[str]:
    """A server answering /a.html and /b.html with Transfer-Encoding: chunked, as many news
    servers do."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            page = ARTICLE if self.path.startswith("/a") else OTHER
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(page), 500):
                piece = page[i : i + 500]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def wget_warc(folder: Path, name: str, *urls: str) -> Path:
    subprocess.run(
        ["wget", "-q", f"--warc-file={folder / name}", "-O", "/dev/null", *urls], check=True, timeout=60
    )
    return folder / f"{name}.warc.gz"


@needs_wget
def test_chunked_wget_warc_is_read_dechunked(chunked_site: str, tmp_path: Path) -> None:
    first = wget_warc(tmp_path, "one", f"{chunked_site}/a.html")
    second = wget_warc(tmp_path, "two", f"{chunked_site}/a.html")
    shown = run("diff", "--archive", str(tmp_path / "none"), "--json", str(first), str(second))
    assert shown.exit_code == 0
    report = shown.stdout
    assert "Mayor Sends New Year" in report and "1f4" not in report  # no chunk-size garbage


@needs_wget
def test_multi_page_warc_picks_the_page_at_the_other_sides_url(chunked_site: str, tmp_path: Path) -> None:
    both = wget_warc(tmp_path, "both", f"{chunked_site}/a.html", f"{chunked_site}/b.html")
    only_b = wget_warc(tmp_path, "b", f"{chunked_site}/b.html")
    result = run("diff", "--archive", str(tmp_path / "none"), str(both), str(only_b))
    assert result.exit_code == 0 and "no changes" in result.stdout  # b.html against b.html
    both_again = wget_warc(tmp_path, "both2", f"{chunked_site}/a.html", f"{chunked_site}/b.html")
    ambiguous = run("diff", "--archive", str(tmp_path / "none"), str(both), str(both_again))
    assert ambiguous.exit_code == 2 and "holds 2 HTML pages" in ambiguous.stderr


@needs_wget
def test_different_urls_are_compared_with_a_warning(chunked_site: str, tmp_path: Path) -> None:
    a = wget_warc(tmp_path, "a", f"{chunked_site}/a.html")
    b = wget_warc(tmp_path, "b", f"{chunked_site}/b.html")
    result = run("diff", "--archive", str(tmp_path / "none"), str(a), str(b))
    assert result.exit_code == 1 and "comparing different URLs" in result.stderr


def test_archiver_captures_chunked_responses(chunked_site: str, tmp_path: Path) -> None:
    archive = tmp_path / "archives"
    assert run("capture", "--archive", str(archive), f"{chunked_site}/a.html").exit_code == 0
    shown = run("show", "--archive", str(archive), "--json", f"{chunked_site}/a.html")
    assert '"Mayor Sends New Year’s Letter to Rival City – Here’s What It Said"' in shown.stdout


def test_missing_warc_file_is_named(tmp_path: Path) -> None:
    result = run("diff", str(tmp_path / "gone.warc.gz"), str(tmp_path / "also.warc.gz"))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"archiver: error: no such file: {tmp_path / 'gone.warc.gz'}"
