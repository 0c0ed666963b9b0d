"""The seams between the pipeline's parts: evidence is never overwritten, read commands write
nothing, the extraction cache cannot serve another decoding, everything untrusted printed
goes through the sanitizer, Ctrl-C stops a batch, and output files are written safely."""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter
from werkzeug import Request, Response

from archiver.archive.commit import link_new

from helpers import ROOT, run, run_process

UNSAFE = ("\x1b", "\x07", "\x9b", "\u202e", "\u2066")
PAGE = (
    "<html><head><title>{t}</title></head><body><article><h1>{t}</h1>"
    "<p>{b}</p><p>{b} Again.</p></article></body></html>"
)


def body(title: str, text: str = "The council met on Tuesday and voted for the plan.") -> str:
    return PAGE.format(t=title, b=text)


def foreign_warc(path: Path, pages: list[tuple[str, str]], date: str) -> Path:
    """A WARC as another tool writes it (warcio, sha1 digests): one response per (url, html)."""
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        for url, html in pages:
            http = StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
            )
            record = writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(html.encode()),
                http_headers=http,
                warc_headers_dict={"WARC-Date": date},
            )
            writer.write_record(record)
    return path


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of the archive but SQLite's -wal/-shm side files, and the folder names."""
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    folders = {p.relative_to(root).as_posix(): b"<dir>" for p in root.rglob("*") if p.is_dir()}
    return {k: v for k, v in {**files, **folders}.items() if not k.endswith(("-wal", "-shm"))}


# -- 1. evidence is never overwritten --------------------------------------------------------


def test_same_millisecond_captures_never_replace_each_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Second-precision WARC dates and a random part that collides: both captures kept."""
    monkeypatch.setattr("archiver.record.secrets.token_hex", lambda n: "abcdef")
    root = tmp_path / "archive"
    pages = [(f"http://news.example/story-{n}", body(f"Story number {n} headline")) for n in range(3)]
    warc = foreign_warc(tmp_path / "crawl.warc.gz", pages, "2019-05-01T10:00:00Z")
    result = run("import", "--archive", str(root), "--json", str(warc))
    assert result.exit_code == 0, result.output
    captures = json.loads(result.stdout)[0]["captures"]
    ids = [c["id"] for c in captures]
    assert len(ids) == len(set(ids)) == 3
    for capture in captures:
        assert (root / capture["warc_path"]).is_file()
    assert run("verify", "--archive", str(root)).exit_code == 0
    rows = sqlite3.connect(root / "index.sqlite3").execute("SELECT id, url FROM captures").fetchall()
    assert sorted(url for _, url in rows) == sorted(url for url, _ in pages)


def test_publishing_refuses_an_existing_file(tmp_path: Path) -> None:
    evidence, new = tmp_path / "evidence.warc.gz", tmp_path / "new.tmp"
    evidence.write_bytes(b"the original")
    new.write_bytes(b"something else")
    with pytest.raises(FileExistsError):
        link_new(new, evidence)
    assert evidence.read_bytes() == b"the original"


# -- 2. read commands never write -------------------------------------------------------------


@pytest.fixture
def old_archive(tmp_path: Path, httpserver: HTTPServer) -> tuple[Path, str]:
    """An archive of two captures, with a dead writer's leftovers and a schema-3 catalogue
    (as an older archiver left it)."""
    root, url = tmp_path / "archive", httpserver.url_for("/story")
    for title in ("First headline of the story", "Second headline of the story"):
        httpserver.clear()
        httpserver.expect_request("/story").respond_with_data(body(title), content_type="text/html")
        assert run("capture", "--archive", str(root), url).exit_code == 0
    db = sqlite3.connect(root / "index.sqlite3", isolation_level=None)
    db.execute("DROP TABLE IF EXISTS extracts")
    db.execute(
        "CREATE TABLE extracts (payload_sha256 TEXT NOT NULL, extractor_version TEXT NOT NULL, "
        "article TEXT NOT NULL, PRIMARY KEY (payload_sha256, extractor_version))"
    )
    db.execute("PRAGMA user_version = 3")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    day = next((root / "warcs").rglob("*.warc.gz")).parent
    dead = 2**22 + 12345  # beyond pid_max: no such process
    (day / f".20260101000000000-000000.warc.gz.{dead}.tmp").write_bytes(b"half a capture")
    (root / f".import-{dead}-cafe").mkdir()
    (root / ".pending").write_text(json.dumps({"temp": str(day / f".x.warc.gz.{dead}.tmp"), "final": ""}))
    return root, url


def test_read_commands_write_nothing(old_archive: tuple[Path, str], tmp_path: Path) -> None:
    root, url = old_archive
    before = snapshot(root)
    commands = [["list"], ["history", url], ["show", url], ["diff", url], ["diff", url, "--json"]]
    commands += [["verify"], ["verify", url], ["export", "-o", str(tmp_path / "out.wacz")]]
    for command in commands:
        result = run(*command, "--archive", str(root))
        assert result.exit_code in (0, 1), (command, result.output)
    assert snapshot(root) == before  # no migration, recovery, cache entry or lock file
    assert sqlite3.connect(root / "index.sqlite3").execute("PRAGMA user_version").fetchone()[0] == 3
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob("archiver-catalogue-*"))


def test_verify_reports_a_dead_writers_leftovers(old_archive: tuple[Path, str]) -> None:
    root, _ = old_archive
    result = run("verify", "--archive", str(root), "--json")
    notes = json.loads(result.stdout)["notes"]
    left = [note for note in notes if note.startswith("left by a writer that died")]
    assert len(left) == 3, notes  # the temporary file, the staging folder, the journal
    assert result.exit_code == 0  # leftovers are not damage to the evidence
    assert run("reindex", "--archive", str(root)).exit_code == 0  # a write command clears them
    assert not [p for p in root.rglob("*.tmp")] and not (root / ".pending").exists()
    assert not list(root.glob(".import-*"))


# -- 3. the extraction cache is keyed by what extraction depends on --------------------------


def test_same_bytes_under_another_charset_are_decoded_afresh(httpserver: HTTPServer, tmp_path: Path) -> None:
    """One payload (not valid UTF-8), declared windows-1252, later windows-1251: a revisit of
    the same bytes whose text differs; neither decoding may be shown for the other."""
    root, url = tmp_path / "archive", httpserver.url_for("/story")
    page = body("Caf\xe9 owners protest the new rules", "The caf\xe9 owners said the rules were unfair.")
    ids, expected = [], {"windows-1252": "Café", "windows-1251": "Cafй"}
    for charset in expected:
        httpserver.clear()
        httpserver.expect_request("/story").respond_with_data(
            page.encode("latin-1"), content_type=f"text/html; charset={charset}"
        )
        result = run("capture", "--archive", str(root), "--json", url)
        ids.append(json.loads(result.stdout)["id"])
        shown = json.loads(run("show", "--archive", str(root), "--json", ids[-1]).stdout)
        assert shown["headline"] == expected[charset] + " owners protest the new rules"
    assert json.loads(run("capture", "--archive", str(root), "--json", url).stdout)["revisit"]
    again = json.loads(run("show", "--archive", str(root), "--json", ids[0]).stdout)  # from the cache
    assert again["headline"].startswith("Café ")


# -- 4. one sanitizer for everything printed -----------------------------------------------------


def test_hostile_page_text_and_urls_print_as_plain_text(httpserver: HTTPServer, tmp_path: Path) -> None:
    root = tmp_path / "archive"
    hostile = "Pwned \x1b]0;owned\x07\x1b[2J\x9b31m \u202eheadline\u2066 for you"
    path = "/news/\u202egnp.story"
    httpserver.expect_request(path).respond_with_data(
        body(hostile, f"Text {hostile}."), content_type="text/html"
    )
    url = httpserver.url_for(path)
    outputs = [run("capture", "--archive", str(root), url)]
    commands = (
        ["list"],
        ["history", url],
        ["show", url],
        ["verify"],
        ["show", url, "--json"],
        ["list", "--json"],
    )
    outputs += [run(*c, "--archive", str(root)) for c in commands]
    for result in outputs:
        assert result.exit_code == 0, result.output
        for char in UNSAFE:
            assert char not in result.stdout and char not in result.stderr
    assert "Pwned" in outputs[3].stdout and "headline" in outputs[3].stdout
    assert "\u202e" in json.loads(outputs[5].stdout)["headline"]  # JSON keeps the data, escaped


def test_forged_record_ids_in_a_warc_print_as_plain_text(tmp_path: Path) -> None:
    warc = foreign_warc(
        tmp_path / "f.warc.gz",
        [("http://news.example/a", body("A story headline here"))],
        "2020-01-01T00:00:00Z",
    )
    import gzip

    data = gzip.decompress(warc.read_bytes()).replace(
        b"WARC-Record-ID: <urn:uuid:", b"WARC-Record-ID: <urn:\x1b[2J\x1b[32m:"
    )
    data = data.replace(b"headline here", b"headline HERE")  # digests no longer match
    forged = tmp_path / "forged.warc"
    forged.write_bytes(data)
    result = run("verify", "--archive", str(tmp_path / "none"), str(forged))
    assert result.exit_code == 1
    assert "\x1b" not in result.stdout and "urn:" in result.stdout


# -- 5. Ctrl-C stops a batch at once ------------------------------------------------------------


@pytest.fixture
def slow_site() -> Iterator[HTTPServer]:
    """Two fast pages, and slow ones that trickle for 20 s."""
    server = HTTPServer(host="127.0.0.1", threaded=True)

    def slow(request: Request) -> Response:
        def trickle() -> Iterator[bytes]:
            yield b"<html><head><title>Slow page headline</title></head><body><p>"
            for _ in range(200):
                time.sleep(0.1)
                yield b"x"

        return Response(trickle(), content_type="text/html")

    for n in range(2):
        server.expect_request(f"/fast{n}").respond_with_data(
            body(f"Fast story {n} headline"), content_type="text/html"
        )
    server.expect_request("/slow", query_string=None).respond_with_handler(slow)
    for n in range(10):
        server.expect_request(f"/slow{n}").respond_with_handler(slow)
    server.start()
    yield server
    server.clear()
    server.stop()


def test_ctrl_c_stops_a_batch_within_a_second(slow_site: HTTPServer, tmp_path: Path) -> None:
    root = tmp_path / "archive"
    urls = [slow_site.url_for(f"/fast{n}") for n in range(2)] + [
        slow_site.url_for(f"/slow{n}") for n in range(10)
    ]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "archiver",
            "capture",
            "--archive",
            str(root),
            "--concurrency",
            "4",
            "--json",
            *urls,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and committed(root) < 2:
        time.sleep(0.05)
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    started = time.monotonic()
    out, err = process.communicate(timeout=10)
    assert time.monotonic() - started < 2.0  # GRACE 0.5 s, process exit; a second on an idle machine
    assert process.returncode == 130, err
    reported = [json.loads(line) for line in out.splitlines()]
    captured = [r for r in reported if "id" in r]
    assert {r["url"] for r in captured} == set(urls[:2])
    assert "interrupted: 2 of 12 URLs captured" in err
    assert committed(root) == 2  # nothing half-written became a capture
    assert run_process("verify", "--archive", str(root)).returncode == 0


def committed(root: Path) -> int:
    """Captures in the catalogue, read as any reader would while a writer runs."""
    if not (root / "index.sqlite3").exists():
        return 0
    db = sqlite3.connect(f"{(root / 'index.sqlite3').as_uri()}?mode=ro", uri=True)
    try:
        return int(db.execute("SELECT COUNT(*) FROM captures").fetchone()[0])
    except sqlite3.OperationalError:  # the schema is being made
        return 0
    finally:
        db.close()


# -- 6. output files -------------------------------------------------------------------------


@pytest.fixture
def two_captures(httpserver: HTTPServer, tmp_path: Path) -> tuple[Path, str]:
    root, url = tmp_path / "archive", httpserver.url_for("/s")
    for title in ("The first headline of it", "The second headline of it"):
        httpserver.clear()
        httpserver.expect_request("/s").respond_with_data(body(title), content_type="text/html")
        run("capture", "--archive", str(root), url)
    return root, url


def test_html_report_through_a_symlink_keeps_the_symlink(
    two_captures: tuple[Path, str], tmp_path: Path
) -> None:
    root, url = two_captures
    target, link = tmp_path / "real.html", tmp_path / "link.html"
    target.write_text("old")
    link.symlink_to(target)
    assert run("diff", "--archive", str(root), url, "--html", str(link)).exit_code == 1
    assert link.is_symlink() and "<!DOCTYPE html>" in target.read_text()


@pytest.mark.skipif(not Path("/dev/full").exists() or os.geteuid() != 0, reason="needs /dev/full and root")
def test_html_report_to_a_device_is_written_through(two_captures: tuple[Path, str]) -> None:
    root, url = two_captures
    result = run("diff", "--archive", str(root), url, "--html", "/dev/full")
    assert result.exit_code == 2 and "No space left on device" in result.stderr
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_export_to_a_pipe_and_to_stdout(two_captures: tuple[Path, str], tmp_path: Path) -> None:
    root, _ = two_captures
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    assert run("export", "--archive", str(root), "-o", str(fifo)).exit_code == 0
    reader.join(10)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert zipfile.ZipFile(io.BytesIO(received[0])).read("datapackage.json")
    command = [sys.executable, "-m", "archiver", "export", "--archive", str(root), "-o", "-"]
    result = subprocess.run(command, capture_output=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0 and zipfile.ZipFile(io.BytesIO(result.stdout)).read("datapackage.json")
    assert b"wrote" not in result.stdout and b"wrote -:" in result.stderr  # the package alone on stdout


def test_reading_a_current_archive_writes_nothing(two_captures: tuple[Path, str], tmp_path: Path) -> None:
    """The extraction cache lives in the user's cache folder, never in the archive."""
    root, url = two_captures
    sqlite3.connect(root / "index.sqlite3").execute("PRAGMA wal_checkpoint(TRUNCATE)").connection.close()
    before = snapshot(root)
    for command in (
        ["show", url],
        ["diff", url],
        ["diff", url, "--all"],
        ["diff", url, "--html", str(tmp_path / "r.html")],
    ):
        assert run(*command, "--archive", str(root)).exit_code in (0, 1)
    assert snapshot(root) == before
    assert list(Path(os.environ["ARCHIVER_CACHE"]).glob("extracts.sqlite3"))  # the cache was used


def test_html_report_replacing_a_file_keeps_its_permissions(
    two_captures: tuple[Path, str], tmp_path: Path
) -> None:
    root, url = two_captures
    report = tmp_path / "private.html"
    report.write_text("old")
    report.chmod(0o600)
    run("diff", "--archive", str(root), url, "--html", str(report))
    assert stat.S_IMODE(report.stat().st_mode) == 0o600 and "<!DOCTYPE html>" in report.read_text()


def test_a_journal_naming_files_outside_the_archive_is_refused(
    two_captures: tuple[Path, str], tmp_path: Path
) -> None:
    root, url = two_captures
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    (root / ".pending").write_text(json.dumps({"temp": str(precious), "final": "../elsewhere.warc.gz"}))
    result = run("capture", "--archive", str(root), url)
    assert result.exit_code == 1 and "not a capture file of this archive" in result.stderr
    assert precious.read_text() == "keep me" and len(result.stderr.strip().splitlines()) == 1


def test_a_catalogue_row_pointing_outside_warcs_is_refused(two_captures: tuple[Path, str]) -> None:
    root, url = two_captures
    with sqlite3.connect(root / "index.sqlite3") as db:
        db.execute("UPDATE captures SET warc_path = '../../../../../../etc/passwd' WHERE seq = 2")
    result = run("show", "--archive", str(root), url)
    assert result.exit_code == 2 and "outside warcs/" in result.stderr and "root:" not in result.stderr


def test_diff_all_html_writes_a_timeline_page(two_captures: tuple[Path, str], tmp_path: Path) -> None:
    root, url = two_captures
    page = tmp_path / "timeline.html"
    result = run("diff", "--archive", str(root), url, "--all", "--html", str(page))
    assert result.exit_code == 1
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>") and "1 edit: headline" in html and "<script" not in html


def test_a_capture_published_but_not_indexed_is_a_note_not_tampering(two_captures: tuple[Path, str]) -> None:
    """kill -9 between publishing a file and writing its row: verify says what happened and
    the next write command finishes it."""
    root, url = two_captures
    db = sqlite3.connect(root / "index.sqlite3", isolation_level=None)
    rows = db.execute("SELECT id, warc_path, manifest_sha256 FROM captures ORDER BY seq").fetchall()
    db.execute("DELETE FROM captures WHERE id = ?", (rows[-1][0],))
    db.execute("UPDATE state SET value = ? WHERE key = 'chain_head'", (rows[-2][2],))
    db.close()
    (root / ".pending").write_text(json.dumps({"final": rows[-1][1], "temp": ""}))
    result = run("verify", "--archive", str(root), "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 0, report["problems"]
    assert any("published by a writer that died before indexing it" in n for n in report["notes"])
    assert run("reindex", "--archive", str(root)).exit_code == 0
    assert len(json.loads(run("history", "--archive", str(root), "--json", url).stdout)["captures"]) == 2
    assert run("verify", "--archive", str(root)).exit_code == 0


def test_diff_of_a_damaged_capture_warns_in_every_output(
    two_captures: tuple[Path, str], tmp_path: Path
) -> None:
    """Its extraction is cached, so the diff itself still works: it must say the evidence fails."""
    root, url = two_captures
    assert run("diff", "--archive", str(root), url).exit_code == 1  # fills the extraction cache
    newest = sorted((root / "warcs").rglob("*.warc.gz"))[-1]
    data = bytearray(newest.read_bytes())
    data[-30] ^= 0x01  # the metadata record's gzip member: the evidence no longer holds
    newest.write_bytes(bytes(data))
    plain = run("diff", "--archive", str(root), url)
    assert (
        "fails verification" in plain.stderr
        and len([ln for ln in plain.stderr.splitlines() if "fails" in ln]) == 1
    )
    as_json = json.loads(run("diff", "--archive", str(root), url, "--json").stdout)
    assert as_json["warnings"] and "fails verification" in as_json["warnings"][0]
    page = tmp_path / "r.html"
    run("diff", "--archive", str(root), url, "--html", str(page))
    assert "fails verification" in page.read_text()
    timeline = json.loads(run("diff", "--archive", str(root), url, "--all", "--json").stdout)
    assert timeline[-1]["warnings"]


def test_an_import_dated_in_the_future_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    warc = foreign_warc(
        tmp_path / "f.warc.gz", [("http://news.example/f", body("From the future"))], "9999-12-31T00:00:00Z"
    )
    result = run("import", "--archive", str(root), str(warc))
    assert result.exit_code == 2 and "in the future" in result.stderr
