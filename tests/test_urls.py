"""One article, one key: share/tracking parameters, scheme-less URLs, URL lists, the page's own
canonical URL joining captures fetched under other URLs; tables that never cut ids or URLs."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from test_hostile import RawServer, capture, ok, server  # noqa: F401 - the fixture

from archiver.output.tables import history_table
from archiver.urls import canonicalize, check_url, url_list

from helpers import run


@pytest.mark.parametrize(
    "query",
    [
        "utm_source=tw&utm_medium=social&utm_whatever=1",
        "fbclid=IwAR0",
        "gclid=abc",
        "CMP=share_btn_tw",
        "xtor=RSS-3208",
        "ref_src=twsrc%5Etfw",
        "mod=hp_lead_pos1",
        "ns_mchannel=social&ns_source=twitter&ns_campaign=bbc_news",
        "WT.mc_id=tmg_share_tw",
        "ref=home",
        "INTCMP=x&_ga=1.2&mc_cid=3",
    ],
)
def test_share_and_tracking_parameters_leave_the_key(query: str) -> None:
    assert canonicalize(f"https://news.example/2026/story?id=7&{query}&page=2") == (
        "https://news.example/2026/story?id=7&page=2"
    )


def test_scheme_less_urls_mean_https() -> None:
    assert check_url("example.com/story") == "https://example.com/story"
    assert check_url("localhost:8080/a?b=1") == "https://localhost:8080/a?b=1"
    assert canonicalize("Example.com/story?utm_source=x") == canonicalize("https://example.com/story")
    for not_a_host in ("not a url", "javascript:alert(1)", "mailto:a@b.example"):
        with pytest.raises(Exception, match="unsupported URL scheme"):
            check_url(not_a_host)


def test_scheme_less_capture_is_fetched_over_https(server: RawServer, archive_dir: Path) -> None:  # noqa: F811
    code, lines, stderr = capture(
        archive_dir, "--retries", "0", "--timeout", "0.5", f"127.0.0.1:{server.port}/story"
    )
    assert code == 1 and f"https://127.0.0.1:{server.port}/story: " in stderr  # a TLS hello unanswered
    assert lines[0]["url"] == f"https://127.0.0.1:{server.port}/story"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-32"])
def test_url_list_with_a_byte_order_mark(encoding: str) -> None:
    listing = "http://a.example/1\r\n# note\n\n  http://a.example/2  \n".encode(encoding)
    assert url_list(listing) == ["http://a.example/1", "http://a.example/2"]


def test_two_urls_on_a_line_fail_that_line_only(
    server: RawServer,  # noqa: F811
    archive_dir: Path,
    tmp_path: Path,
) -> None:
    server.routes["/a"] = server.routes["/b"] = server.routes["/c"] = ok()
    listing = tmp_path / "urls.txt"
    good, pair, last = server.url("/a"), f"{server.url('/b')} {server.url('/c')}", server.url("/c")
    listing.write_bytes(b"\xef\xbb\xbf" + f"{good}\n{pair}\n{last}\n\xff\n".encode("latin-1"))
    result = run("capture", "--archive", str(archive_dir), "--json", "-i", str(listing))
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert {line["url"] for line in lines if "id" in line} == {good, last}
    errors = {line["url"]: line["error"] for line in lines if "error" in line}
    assert "two URLs on one line" in errors[pair] and len(errors) == 2
    assert result.stderr.count("\n") == 2


def page(canonical: str | None = None, og: str | None = None, text: str = "Story") -> bytes:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    meta = f'<meta property="og:url" content="{og}">' if og else ""
    return f"<html><head>{meta}{link}</head><body><h1>{text}</h1><p>{text}.</p></body></html>".encode()


def test_page_canonical_joins_short_links_and_amp(server: RawServer, archive_dir: Path) -> None:  # noqa: F811
    story = server.url("/2026/story")
    server.routes["/2026/story"] = ok(page(canonical=story))
    server.routes["/amp/story"] = ok(page(canonical="/2026/story?utm_source=amp"))
    server.routes["/og/story"] = ok(page(og=story))
    server.routes["/s/x1"] = b"HTTP/1.1 301 Moved\r\nLocation: /amp/story\r\nContent-Length: 0\r\n\r\n"
    fetched = [server.url(p) for p in ("/s/x1", "/amp/story", "/og/story", "/2026/story")]
    code, lines, _ = capture(archive_dir, *fetched)
    assert code == 0 and {line["canonical_url"] for line in lines} == {story}

    for name in (server.url("/s/x1"), server.url("/amp/story"), story):
        shown = run("history", "--archive", str(archive_dir), "--json", name)
        rows = json.loads(shown.stdout)["captures"]
        assert sorted(row["url"] for row in rows) == sorted(fetched)
    table = run("history", "--archive", str(archive_dir), server.url("/s/x1")).stdout
    assert all(url in table for url in fetched)


def test_a_page_cannot_file_itself_under_a_strangers_story(
    server: RawServer,  # noqa: F811
    archive_dir: Path,
) -> None:
    elsewhere = f"http://localhost:{server.port}"
    server.routes["/copy"] = ok(page(canonical=server.url("/original"), text="Copy"))
    server.routes["/original"] = ok(page(canonical=server.url("/original")))
    server.routes["/claims"] = ok(page(canonical="https://other.example/story"))
    first = capture(archive_dir, f"{elsewhere}/copy", f"{elsewhere}/claims")[1]
    assert {line["canonical_url"] for line in first} == {f"{elsewhere}/copy", f"{elsewhere}/claims"}
    capture(archive_dir, server.url("/original"))
    syndicated = capture(archive_dir, f"{elsewhere}/copy")[1][0]  # names a story we hold: joins it
    assert syndicated["canonical_url"] == server.url("/original")


def test_tables_fold_ids_and_urls_instead_of_cutting() -> None:
    url = "https://news.example/" + "/".join(f"section-{i}" for i in range(8)) + "/story.html"
    capture_id = "20261204202344831-8cae26"
    row = {
        "id": capture_id,
        "captured_at": "2026-12-04T20:23:44Z",
        "status": 200,
        "bytes": 1234,
        "payload_sha256": "ab" * 32,
        "change": "first",
        "url": url,
    }
    for width in (40, 80, 250):
        console = Console(width=width, record=True, force_terminal=False)
        history_table(console, url, [row])
        text = console.export_text(styles=False)
        assert "…" not in text and capture_id in re.sub(r"\s", "", text), text
        assert url in re.sub(r"\s", "", text)


def test_progress_bar_never_shares_a_line_with_results(server: RawServer, tmp_path: Path) -> None:  # noqa: F811
    for i in range(12):
        server.routes[f"/p{i}"] = ok(page(text=f"Story {i}"))
    for i in range(3):
        server.routes[f"/gone{i}"] = b""
    main, child = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "archiver", "capture", "--archive", str(tmp_path / "a"), "--retries", "0"]
        + [server.url(f"/p{i}") for i in range(12)]
        + [server.url(f"/gone{i}") for i in range(3)],  # no such route: the server hangs up
        stdin=subprocess.DEVNULL,
        stdout=child,
        stderr=child,
        env={**os.environ, "COLUMNS": "100", "TERM": "xterm"},
    )
    os.close(child)
    output = b""
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        output += data
    assert process.wait(timeout=60) == 1
    text = re.sub(r"\x1b\[[0-9;]*m", "", output.decode("utf-8", "replace"))  # colours only
    results = [m.start() for m in re.finditer(r"200 http://|archiver: error: ", text)]
    assert len(results) == 15 and "Traceback" not in text
    for start in results:  # each result starts a fresh line: after a newline or a line erase
        before = text[:start]
        assert before == "" or before.endswith(("\n", "\r")) or re.search(r"\x1b\[[0-9;]*[KJ]$", before), (
            repr(text[max(0, start - 40) : start + 20])
        )
