"""Rolling WARC files: a run appends its captures to one file, each capture its own range
(warcinfo, records, signed metadata record) with its own catalogue row; verify, reindex,
export and recovery work on those ranges, and kill -9 at any moment leaves an archive that
verifies, reindexes to the same rows and finishes when the command is run again."""

from __future__ import annotations

import hashlib
import http.server
import io
import itertools
import json
import random
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from interop import assert_standard_warc
from warcio.archiveiterator import ArchiveIterator

from helpers import run, run_process

PAGE = (
    "<html><head><title>Story {n}</title></head><body><article><h1>Story number {n}</h1>"
    "<p>The council said {n} people attended the meeting on Tuesday.</p>"
    "<p>Officials expect a final vote later this month, a spokesperson said.</p>"
    "<p>{pad}</p></article></body></html>"
)


class Site:
    """Article pages on 127.0.0.1; `delay` seconds before each answer (0: at once)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                time.sleep(site.delay)
                n = self.path.strip("/").split("/")[-1]
                body = PAGE.format(n=n, pad="word " * 2000).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def urls(self, count: int, prefix: str = "s") -> list[str]:
        return [f"http://127.0.0.1:{self.server.server_port}/{prefix}/{n}" for n in range(count)]


@pytest.fixture
def site() -> Iterator[Site]:
    served = Site()
    yield served
    served.server.shutdown()


def rows(root: Path) -> list[dict]:
    db = sqlite3.connect(f"{(root / 'index.sqlite3').as_uri()}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    found = [dict(r) for r in db.execute("SELECT * FROM captures ORDER BY seq")]
    db.close()
    return found


def verify_json(root: Path, *args: str) -> tuple[int, dict]:
    result = run("verify", "--archive", str(root), "--json", *args)
    return result.exit_code, json.loads(result.stdout)


def capture(root: Path, *args: str) -> list[dict]:
    result = run("capture", "--archive", str(root), "--json", *args)
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_a_run_appends_its_captures_to_one_file_each_a_range(site: Site, tmp_path: Path) -> None:
    root = tmp_path / "archive"
    made = capture(root, *site.urls(6))
    files = sorted((root / "warcs").rglob("*.warc.gz"))
    assert len(files) == 1 and {m["warc_path"] for m in made} == {files[0].relative_to(root).as_posix()}
    found = rows(root)
    ranges = sorted((r["start_offset"], r["bytes"]) for r in found)
    assert ranges[0][0] == 0
    for (start, length), (after, _) in itertools.pairwise(ranges):
        assert start + length == after  # the ranges tile the file: nothing between captures
    assert ranges[-1][0] + ranges[-1][1] == files[0].stat().st_size
    with open(files[0], "rb") as handle:  # each capture: warcinfo, request, response, metadata
        kinds = [r.rec_type for r in ArchiveIterator(handle)]
    assert kinds == ["warcinfo", "request", "response", "metadata"] * 6
    assert_standard_warc(files[0], tmp_path)
    code, report = verify_json(root)
    assert code == 0, report["problems"]
    assert {c["check"]: c["checked"] for c in report["checks"]}["manifests"] == 6
    before = rows(root)
    assert run("reindex", "--archive", str(root)).exit_code == 0
    assert rows(root) == before  # the catalogue is derived: the file says it all


def test_warc_size_rolls_to_a_new_file(site: Site, tmp_path: Path) -> None:
    root = tmp_path / "archive"
    capture(root, "--warc-size", "1K", "--concurrency", "1", *site.urls(3))
    files = sorted((root / "warcs").rglob("*.warc.gz"))
    assert len(files) == 3  # each capture passes 1 KB: the next one starts a new file
    assert verify_json(root)[0] == 0
    assert run("capture", "--archive", str(root), "--warc-size", "huge", site.urls(1)[0]).exit_code == 2


def test_export_capture_writes_one_standalone_warc(site: Site, tmp_path: Path) -> None:
    root = tmp_path / "archive"
    assert run("key", "init", "--archive", str(root)).exit_code == 0
    made = capture(root, *site.urls(3))
    again = capture(root, site.urls(3)[1])[0]  # unchanged: a revisit of the first capture
    assert again["revisit"]
    pem = tmp_path / "key.pem"
    pem.write_text(run("key", "export", "--archive", str(root)).stdout)
    alone = tmp_path / "one.warc.gz"
    result = run("export", "--archive", str(root), "--capture", made[1]["id"], "-o", str(alone))
    assert result.exit_code == 0, result.stderr
    row = next(r for r in rows(root) if r["id"] == made[1]["id"])
    data = (root / row["warc_path"]).read_bytes()
    assert alone.read_bytes() == data[row["start_offset"] : row["start_offset"] + row["bytes"]]
    assert_standard_warc(alone, tmp_path)
    checked = run("verify", "--archive", str(tmp_path / "none"), "--json", "--pubkey", str(pem), str(alone))
    assert checked.exit_code == 0, checked.stdout
    revisit = tmp_path / "revisit.warc.gz"
    assert run("export", "--archive", str(root), "--capture", again["id"], "-o", str(revisit)).exit_code == 0
    with open(revisit, "rb") as handle:  # the original follows, so the payload is in the file
        kinds = [r.rec_type for r in ArchiveIterator(handle)]
    assert kinds.count("revisit") == 1 and kinds.count("response") == 1 and kinds.count("metadata") == 2
    report = json.loads(run("verify", "--archive", str(tmp_path / "none"), "--json", str(revisit)).stdout)
    assert report["ok"] and {c["check"]: c["checked"] for c in report["checks"]}["manifests"] == 2
    assert (
        run("export", "--archive", str(root), "--capture", "ffff", "-o", str(tmp_path / "x")).exit_code == 2
    )


def test_bytes_a_killed_commit_appended_are_a_note_then_cut_off(site: Site, tmp_path: Path) -> None:
    root = tmp_path / "archive"
    capture(root, *site.urls(2))
    [path] = list((root / "warcs").rglob("*.warc.gz"))
    committed = path.stat().st_size
    donor = tmp_path / "donor"
    capture(donor, site.urls(1, "other")[0])
    [extra] = list((donor / "warcs").rglob("*.warc.gz"))
    with open(path, "ab") as handle:  # a group half-appended when its writer died
        handle.write(extra.read_bytes()[:-100])
    journal = {"roll": path.relative_to(root).as_posix(), "offset": committed}
    (root / ".pending").write_text(json.dumps(journal))
    code, report = verify_json(root)
    assert code == 0, report["problems"]
    assert any("appended by a writer that died" in note for note in report["notes"])
    capture(root, site.urls(3)[2])  # the next writer cuts them off before it appends
    assert not (root / ".pending").exists()
    code, report = verify_json(root)
    assert code == 0 and not report["notes"], report
    assert len(rows(root)) == 3


def _kill_at_random(args: list[str], seed: int, rounds: int, longest: float) -> None:
    """Run `archiver ARGS` and kill -9 it at a random moment, `rounds` times."""
    rng = random.Random(seed)
    for _ in range(rounds):
        proc = subprocess.Popen(
            [sys.executable, "-m", "archiver", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.05, longest))
        proc.kill()
        proc.wait()


def _assert_clean(root: Path) -> None:
    """verify passes (a killed commit is at most a note), reindex keeps every row, and no
    temporary or staging file is left once a write command ran."""
    if not (root / "index.sqlite3").exists():
        return
    code, report = verify_json(root)
    assert code == 0, report["problems"]
    before = rows(root)
    reindexed = run("reindex", "--archive", str(root))
    assert reindexed.exit_code == 0, reindexed.stderr
    assert rows(root) == before
    code, report = verify_json(root)
    assert code == 0 and not report["notes"], report
    assert not list(root.glob(".import-*")) and not (root / ".pending").exists()


def test_kill_9_at_random_points_of_a_rolling_batch(tmp_path: Path) -> None:
    slow = Site(delay=0.01)
    root = tmp_path / "archive"
    urls = slow.urls(40)
    listed = tmp_path / "urls.txt"
    listed.write_text("\n".join(urls) + "\n")
    args = ["capture", "--archive", str(root), "-i", str(listed), "--concurrency", "4"]
    try:
        for seed in range(3):
            _kill_at_random(args, seed, 4, 1.5)
            _assert_clean(root)
        finished = run_process(*args)
        assert finished.returncode == 0, finished.stderr
        _assert_clean(root)
        urls_kept = {r["url"] for r in rows(root)}
        assert urls_kept == set(urls)
    finally:
        slow.server.shutdown()


def _crawl(path: Path, pages: int) -> Path:
    """A WARC of `pages` HTML responses, as another tool writes one (one gzip member each)."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        for n in range(pages):
            body = PAGE.format(n=n, pad="filler " * 3000).encode()
            head = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            record = writer.create_warc_record(
                f"http://crawl.example/story/{n}",
                "response",
                payload=io.BytesIO(body),
                length=len(body),
                http_headers=head,
                warc_headers_dict={"WARC-Date": f"2024-01-01T00:{n // 60:02d}:{n % 60:02d}Z"},
            )
            writer.write_record(record)
    return path


def test_kill_9_at_random_points_of_an_import(tmp_path: Path) -> None:
    crawl = _crawl(tmp_path / "crawl.warc.gz", 150)
    root = tmp_path / "archive"
    args = ["import", "--archive", str(root), str(crawl)]
    for seed in range(3):
        _kill_at_random(args, seed + 10, 4, 2.0)
        _assert_clean(root)
        if (root / "index.sqlite3").exists():
            assert len(rows(root)) in (0, 150)  # all or nothing
    finished = run_process(*args)
    assert finished.returncode == 0, finished.stderr
    _assert_clean(root)
    assert len(rows(root)) == 150
    sources = [p for p in (root / "sources").rglob("*") if p.is_file()]
    assert len(sources) == 1  # one source kept, the one its captures cite


def test_capture_folder_copied_verifies(site: Site, tmp_path: Path) -> None:
    root = tmp_path / "archive"
    capture(root, *site.urls(4))
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    assert verify_json(copy)[0] == 0


class Trickle:
    """A file read back a few bytes per call, as pipes and zip members may answer: every
    member boundary falls between two reads somewhere."""

    def __init__(self, path: Path, step: int) -> None:
        self.handle, self.step = open(path, "rb"), step  # noqa: SIM115 (closed by the test)

    def read(self, size: int = -1, /) -> bytes:
        return self.handle.read(min(self.step, size) if size >= 0 else self.step)


@pytest.mark.parametrize("step", [7, 64, 333])
def test_each_captures_sha256_in_one_pass_whatever_the_reads(site: Site, tmp_path: Path, step: int) -> None:
    """The scanner hashes each capture of a rolling file apart in its one pass; a capture's
    first gzip member split across reads must still count wholly towards that capture."""
    from archiver.warc.scanner import scan_stream

    root = tmp_path / "archive"
    capture(root, *site.urls(5))
    [path] = list((root / "warcs").rglob("*.warc.gz"))
    data = path.read_bytes()
    expected = {
        r["start_offset"]: hashlib.sha256(
            data[r["start_offset"] : r["start_offset"] + r["bytes"]]
        ).hexdigest()
        for r in rows(root)
    }
    assert expected == {r["start_offset"]: r["warc_sha256"] for r in rows(root)}
    parts = []
    reader = Trickle(path, step)
    scan_stream(reader, str(path), len(data), strict_gzip=True, on_capture=parts.append)
    reader.handle.close()
    assert {p.start: p.sha256 for p in parts} == expected
    assert [len(p.records) for p in parts] == [4] * 5 and not any(p.errors for p in parts)
