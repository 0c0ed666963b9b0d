"""Robustness: damaged, missing and read-only catalogues, stray files and forked chains in
warcs/, honest signature accounting. Real archives made by real captures over loopback."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from pytest_httpserver import HTTPServer

from archiver.archive.catalogue import INDEX_NAME, MIGRATIONS, SCHEMA_VERSION
from archiver.archive.folder import Archive
from archiver.record import COLUMNS

from helpers import rewrite_metadata, run, run_process

PAGE = (
    "<html><head><title>{t}</title></head><body><article><h1>{t}</h1>"
    "<p>{b}</p><p>Officials said the work would take 12 weeks.</p></article></body></html>"
)
PAGES = {
    "/a": ("Harbour plan", "The council approved the harbour plan on Tuesday."),
    "/b": ("Bridge opens", "The new bridge opens to traffic on Monday."),
    "/c": ("School budget", "The school budget grows by 4 percent next year."),
    "/d": ("Library hours", "The library will open on Sundays from March."),
}


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    http = HTTPServer(host="127.0.0.1", port=0)
    for path, (title, body) in PAGES.items():
        http.expect_request(path).respond_with_data(
            PAGE.format(t=title, b=body), content_type="text/html; charset=utf-8"
        )
    http.start()
    yield http
    http.clear()
    http.stop()


def capture(root: Path, *urls: str) -> list[dict]:
    result = run("capture", "--archive", str(root), "--json", "--concurrency", "1", *urls)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, server: HTTPServer) -> Path:
    """Three captures: /a, /b, then /a again (a revisit of the first)."""
    root = tmp_path_factory.mktemp("base") / "archive"
    for path in ("/a", "/b", "/a"):
        capture(root, server.url_for(path))
    return root


@pytest.fixture
def archive(base: Path, tmp_path: Path) -> Path:
    """A fresh copy of the base archive to break."""
    root = tmp_path / "archive"
    shutil.copytree(base, root)
    return root


def rows(root: Path) -> list[tuple]:
    db = sqlite3.connect(root / INDEX_NAME)
    try:
        return db.execute("SELECT * FROM captures ORDER BY seq, id").fetchall()
    finally:
        db.close()


def capture_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in (root / "warcs").rglob("*") if p.is_file())


def remove_catalogue(root: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        (root / f"{INDEX_NAME}{suffix}").unlink(missing_ok=True)


def one_line_error(result: Result | subprocess.CompletedProcess, *needles: str) -> str:
    """Exit 2 and a single `archiver: error:` line containing every needle; no traceback."""
    code = result.exit_code if isinstance(result, Result) else result.returncode
    lines = result.stderr.strip().splitlines()
    assert code == 2, (code, result.stdout, result.stderr)
    assert len(lines) == 1 and lines[0].startswith("archiver: error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def reader_commands(url: str, out: Path) -> list[list[str]]:
    return [["list"], ["history", url], ["show", url], ["diff", url], ["verify"], ["export", "-o", str(out)]]


# -- 1. a damaged catalogue ----------------------------------------------------------------


def scribble_pages(path: Path) -> None:
    """Overwrite everything after the first page: SQLite opens it, then finds it malformed."""
    data = bytearray(path.read_bytes())
    data[4096:] = b"Z" * (len(data) - 4096)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["garbage", "pages"])
def test_damaged_catalogue_is_one_line_then_reindex_moves_it_aside(
    archive: Path, server: HTTPServer, tmp_path: Path, damage: str
) -> None:
    before = rows(archive)
    # make the catalogue one file (no WAL), so damage to it is all the damage there is
    sqlite3.connect(archive / INDEX_NAME).execute("PRAGMA wal_checkpoint(TRUNCATE)").connection.close()
    index = archive / INDEX_NAME
    if damage == "garbage":
        index.write_bytes(b"garbage\n")
    else:
        scribble_pages(index)
    damaged = index.read_bytes()
    files = capture_files(archive)
    url = server.url_for("/a")
    commands = [
        *reader_commands(url, tmp_path / "x.wacz"),
        ["capture", url],
        ["import", str(archive / files[0])],
    ]
    for command in commands:
        message = one_line_error(
            run(*command, "--archive", str(archive)),
            f"the catalogue {index} is damaged (",
            "rebuild it with `archiver reindex`",
        )
        assert "Traceback" not in message
    assert capture_files(archive) == files  # nothing written, nothing removed
    one_line_error(run_process("list", "--archive", str(archive)), "is damaged")  # a real process too

    result = run("reindex", "--archive", str(archive))
    assert result.exit_code == 0, result.output
    assert "reindexed 3 captures" in result.stdout and "moved the damaged catalogue aside" in result.stderr
    aside = [p for p in archive.iterdir() if p.name.startswith(f"{INDEX_NAME}.damaged-")]
    assert [p.read_bytes() for p in aside if not p.name.endswith(("-wal", "-shm"))] == [damaged]
    assert rows(archive) == before
    assert run("verify", "--archive", str(archive)).exit_code == 0


def test_verify_reports_catalogue_pages_no_query_touches(archive: Path) -> None:
    """Damage in a part of the file the commands do not read: `verify` still says so."""
    db = sqlite3.connect(archive / INDEX_NAME)
    db.execute("CREATE TABLE padding (x)")
    db.executemany("INSERT INTO padding VALUES (?)", [("x" * 500,)] * 200)
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'padding'").fetchone()[0]
    db.close()
    data = bytearray((archive / INDEX_NAME).read_bytes())
    data[(page - 1) * 4096 : page * 4096] = b"Z" * 4096
    (archive / INDEX_NAME).write_bytes(bytes(data))
    result = run("verify", "--archive", str(archive), "--json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert [p["check"] for p in problems] == ["catalogue"] and "damaged" in problems[0]["message"]


# -- 2. a missing catalogue beside captures ------------------------------------------------


@pytest.mark.parametrize("how", ["deleted", "blank", "emptied"])
def test_missing_catalogue_never_starts_a_second_chain(
    archive: Path, server: HTTPServer, tmp_path: Path, how: str
) -> None:
    before = rows(archive)
    files = capture_files(archive)
    remove_catalogue(archive)
    if how == "blank":
        (archive / INDEX_NAME).write_bytes(b"")
    elif how == "emptied":  # a catalogue with its tables, but no rows: as bad as none
        Archive(archive, rebuild=True).close()
    url = server.url_for("/c")
    result = run("capture", "--archive", str(archive), url)
    if how == "emptied":
        assert result.exit_code == 1  # the URL failed (with its one-line reason); nothing else
        assert "its catalogue lists none" in result.stderr and "archiver reindex" in result.stderr
    else:
        one_line_error(result, f"{archive} has captures but no catalogue; rebuild it with `archiver reindex`")
        # (`diff URL` on a folder with no catalogue is cli.diff's business, not tested here)
        for command in (c for c in reader_commands(url, tmp_path / "x.wacz") if c[0] != "diff"):
            one_line_error(run(*command, "--archive", str(archive)), "has captures but no catalogue")
        one_line_error(
            run("import", str(archive / files[0]), "--archive", str(archive)), "has captures but no catalogue"
        )
    assert capture_files(archive) == files

    result = run("reindex", "--archive", str(archive))
    assert result.exit_code == 0 and result.stderr == "", result.output
    assert rows(archive) == before
    made = capture(archive, url)[0]
    after = Archive(archive, create=False).all()
    assert [c.seq for c in after] == [1, 2, 3, 4] and after[-1].id == made["id"]
    assert after[-1].prev_manifest_sha256 == after[-2].manifest_sha256
    assert run("verify", "--archive", str(archive)).exit_code == 0


def make_fork(archive: Path, server: HTTPServer, tmp_path: Path) -> str:
    """Bring in a capture made by a second chain (as an older archiver did after losing its
    catalogue): another seq 1. Returns its id."""
    other = tmp_path / "other"
    made = capture(other, server.url_for("/d"))[0]
    target = archive / made["warc_path"]
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(other / made["warc_path"], target)
    return made["id"]


def test_reindex_indexes_a_forked_chain_and_says_so(
    archive: Path, server: HTTPServer, tmp_path: Path
) -> None:
    first = rows(archive)[0][0]
    forked = make_fork(archive, server, tmp_path)
    result = run("reindex", "--archive", str(archive))
    assert result.exit_code == 1
    warnings = result.stderr.strip().splitlines()
    assert len(warnings) == 1 and warnings[0].startswith("archiver: warning: forked chain: seq 1")
    assert first in warnings[0] and forked in warnings[0] and "run `archiver verify`" in warnings[0]
    assert "reindexed 4 captures" in result.stdout
    assert sorted(row[1] for row in rows(archive)) == [1, 1, 2, 3]  # every capture is findable
    assert (
        json.loads(run("history", server.url_for("/d"), "--archive", str(archive), "--json").stdout)[
            "captures"
        ][0]["id"]
        == forked
    )
    report = json.loads(run("verify", "--archive", str(archive), "--json").stdout)
    assert any(p["check"] == "chain" and "seq 1 is also claimed" in p["message"] for p in report["problems"])
    # a writer continues the chain after its head; it never adds another fork
    made = capture(archive, server.url_for("/c"))[0]
    assert Archive(archive, create=False).get(made["id"]).seq == 4


def test_schema_2_catalogue_is_migrated_with_its_rows(archive: Path) -> None:
    before = rows(archive)
    db = sqlite3.connect(archive / INDEX_NAME, isolation_level=None)
    db.execute("ALTER TABLE captures RENAME TO newer")
    for index in ("captures_by_seq", "captures_by_article", "captures_by_payload"):
        db.execute(f"DROP INDEX {index}")
    for statement in (MIGRATIONS[1] + ";" + MIGRATIONS[2]).split(";"):
        if statement.strip() and "TABLE extracts" not in statement and "TABLE state" not in statement:
            db.execute(statement)
    old = ",".join(c for c in COLUMNS if c != "start_offset")  # schema 2's columns
    db.execute(f"INSERT INTO captures SELECT {old} FROM newer")
    db.execute("DROP TABLE newer")
    db.execute("PRAGMA user_version = 2")
    db.close()
    Archive(archive).close()
    assert rows(archive) == before
    db = sqlite3.connect(archive / INDEX_NAME)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
    db.close()


# -- 3. a read-only archive ----------------------------------------------------------------


def snapshot(root: Path, side_files: bool = False) -> dict[str, bytes]:
    """Every file of the archive (SQLite's -wal/-shm side files only if asked)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and (side_files or not p.name.endswith(("-wal", "-shm")))
    }


def test_read_only_archive_in_process(
    archive: Path, server: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tests run as root, where permissions stop nothing: make the archive read-only in the
    archiver's eyes, and check that readers work and write nothing, writers refuse."""
    assert run("key", "init", "--archive", str(archive)).exit_code == 0
    sqlite3.connect(archive / INDEX_NAME).execute("PRAGMA wal_checkpoint(TRUNCATE)").connection.close()
    before = snapshot(archive)
    monkeypatch.setattr("archiver.archive.layout.is_read_only", lambda root, writer: True)
    url = server.url_for("/a")
    for command in reader_commands(url, tmp_path / "x.wacz"):
        result = run(*command, "--archive", str(archive))
        assert result.exit_code == 0, (command, result.output)
    assert snapshot(archive) == before  # no extraction cached, no lock file, nothing
    for command in (["capture", url], ["import", str(tmp_path / "x.wacz")], ["reindex"], ["key", "init"]):
        one_line_error(run(*command, "--archive", str(archive)), f"{archive} is read-only")
    assert snapshot(archive) == before


@pytest.fixture
def shared() -> Iterator[Path]:
    """A folder another user can reach (pytest's tmp_path is private to its owner)."""
    path = Path(tempfile.mkdtemp(prefix="archiver-ro-"))
    path.chmod(0o755)
    yield path
    subprocess.run(["chmod", "-R", "u+w", str(path)], check=False)
    shutil.rmtree(path, ignore_errors=True)


def other_user() -> list[str]:
    """The command prefix to run as a user the archive's permissions apply to: none when the
    tests do not run as root, else `setpriv` to nobody (skipped when that is impossible)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot test file permissions")
    prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    probe = subprocess.run([*prefix, sys.executable, "-c", "import archiver"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"user nobody cannot run archiver here: {probe.stderr[-200:]!r}")
    return prefix


def run_as(prefix: list[str], cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "archiver", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "HOME": str(cwd)},
    )


def make_read_only(root: Path) -> None:
    subprocess.run(["chmod", "-R", "a-w", str(root)], check=True)


@pytest.mark.parametrize("leftover_wal", [False, True])
def test_read_only_archive_for_another_user(shared: Path, server: HTTPServer, leftover_wal: bool) -> None:
    """chmod -R a-w, then every command as a user that permissions bind: readers work from a
    catalogue SQLite cannot write beside (immutable, or a private copy when a write-ahead
    log holds captures the main file lacks); writers refuse in one line."""
    prefix = other_user()
    made = shared / "made"
    for path in ("/a", "/b", "/a"):  # separate processes: each closes the catalogue cleanly
        done = run_process("capture", "--archive", str(made), server.url_for(path))
        assert done.returncode == 0, done.stderr
    root = shared / "archive"
    if leftover_wal:
        # the last capture only in the WAL, as a writer killed before its checkpoint leaves it
        holder = sqlite3.connect(made / INDEX_NAME)
        holder.execute("SELECT COUNT(*) FROM captures").fetchone()
        assert run_process("capture", "--archive", str(made), server.url_for("/c")).returncode == 0
        shutil.copytree(made, root, ignore=shutil.ignore_patterns("*-shm"))
        holder.close()
        in_main_file = sqlite3.connect(f"{(root / INDEX_NAME).as_uri()}?immutable=1", uri=True)
        assert in_main_file.execute("SELECT COUNT(*) FROM captures").fetchone()[0] == 3
        in_main_file.close()
        assert (root / f"{INDEX_NAME}-wal").stat().st_size > 0
    else:
        shutil.copytree(made, root)
        assert not (root / f"{INDEX_NAME}-wal").exists()
    expected = 4 if leftover_wal else 3
    out = shared / "out"
    out.mkdir(mode=0o777)
    out.chmod(0o777)
    make_read_only(root)
    before = snapshot(root, side_files=True)

    url = server.url_for("/a")
    listed = run_as(prefix, shared, "list", "--archive", str(root), "--json")
    assert listed.returncode == 0, listed.stderr
    assert sum(row["captures"] for row in json.loads(listed.stdout)) == expected
    for command in reader_commands(url, out / "x.wacz"):
        done = run_as(prefix, shared, *command, "--archive", str(root))
        assert done.returncode == 0, (command, done.stdout, done.stderr)
    verified = json.loads(run_as(prefix, shared, "verify", "--archive", str(root), "--json").stdout)
    assert verified["ok"] and verified["checks"][0]["checked"] == expected
    assert (out / "x.wacz").stat().st_size > 0
    for command in (["capture", url], ["import", str(out / "x.wacz")], ["reindex"], ["key", "init"]):
        one_line_error(run_as(prefix, shared, *command, "--archive", str(root)), f"{root} is read-only")
    assert snapshot(root, side_files=True) == before  # not a byte, not a file more or less
    if not prefix:
        return
    # a private key this user may not read (root's, mode 0600): export says so in one line
    subprocess.run(["chmod", "-R", "u+w", str(root)], check=True)
    assert run_process("key", "init", "--archive", str(root)).returncode == 0
    make_read_only(root)
    one_line_error(
        run_as(prefix, shared, "export", "-o", str(out / "y.wacz"), "--archive", str(root)), "archive-key.pem"
    )
    exported = run_as(prefix, shared, "key", "export", "--archive", str(root))
    assert (
        exported.returncode == 0
        and exported.stdout.encode() == (root / "keys" / "archive-key.pub.pem").read_bytes()
    )
    assert run_as(prefix, shared, "verify", "--archive", str(root)).returncode == 0


# -- 4. verify names a missing file --------------------------------------------------------


def test_verify_a_missing_file_says_so(archive: Path, tmp_path: Path) -> None:
    for target in ("/nonexistent.wacz", "missing.warc.gz", "old.warc", "some/dir/capture"):
        one_line_error(run("verify", "--archive", str(archive), target), f"no such file: {target}")
    one_line_error(
        run("verify", "--archive", str(tmp_path / "none"), "/nonexistent.wacz"),
        "no such file: /nonexistent.wacz",
    )
    one_line_error(run("verify", "--archive", str(archive), "20991231"), "no capture with id 20991231")
    one_line_error(run("verify", "--archive", str(archive), str(tmp_path)), "not a file")


# -- 5. reindex: stray files and a broken chain --------------------------------------------


@pytest.mark.parametrize(
    "junk",
    [
        b"junk\n",
        b"",
        gzip.compress(b"not a WARC record\r\n\r\n"),
        gzip.compress(b"WARC/1.1\r\nWARC-Type: resource\r\nContent-Length: 2\r\n\r\nhi\r\n\r\n"),
    ],
    ids=["text", "empty", "gzip-not-warc", "warc-without-metadata"],
)
def test_reindex_skips_a_stray_file_and_names_it(archive: Path, junk: bytes) -> None:
    before = rows(archive)
    stray = archive / "warcs" / "2026" / "11" / "29" / "junk.warc.gz"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(junk)
    result = run("reindex", "--archive", str(archive))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "archiver: warning: skipped warcs/2026/11/29/junk.warc.gz: not a capture file ("
    )
    assert "reindexed 3 captures" in result.stdout and "1 files skipped" in result.stdout
    assert rows(archive) == before
    assert stray.read_bytes() == junk  # kept: reindex never deletes


def test_reindex_skips_a_duplicate_copy_of_a_capture(archive: Path) -> None:
    """A second copy of a capture file: the one where its id puts it is indexed (whichever
    sorts first), the copy is named."""
    before = rows(archive)
    original = archive / before[0][8]
    copy = archive / "warcs" / "2001" / "01" / "01" / original.name
    copy.parent.mkdir(parents=True)
    shutil.copy(original, copy)
    result = run("reindex", "--archive", str(archive))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"archiver: warning: skipped warcs/2001/01/01/{original.name}: "
        f"capture {before[0][0]} is already in {before[0][8]} (a copy?)"
    )
    assert rows(archive) == before


@pytest.mark.parametrize(
    ("seq", "message"), [(2, "chain broken after seq 1 (seq 2 missing)"), (1, "chain broken before seq 2")]
)
def test_reindex_says_when_the_chain_is_broken(archive: Path, seq: int, message: str) -> None:
    (archive / rows(archive)[seq - 1][8]).unlink()
    result = run("reindex", "--archive", str(archive))
    assert result.exit_code == 1 and "reindexed 2 captures" in result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "run `archiver verify`" in lines[0]


def test_clean_reindex_is_silent(archive: Path) -> None:
    result = run("reindex", "--archive", str(archive))
    assert result.exit_code == 0 and result.stderr == "" and "reindexed 3 captures" in result.stdout


# -- 6. signatures: captures made before the key -------------------------------------------


@pytest.fixture
def half_signed(tmp_path: Path, server: HTTPServer) -> tuple[Path, Path]:
    """/a and /b captured before `key init`, /c and /a after; and the exported public key."""
    root = tmp_path / "half"
    capture(root, server.url_for("/a"), server.url_for("/b"))
    assert run("key", "init", "--archive", str(root)).exit_code == 0
    capture(root, server.url_for("/c"), server.url_for("/a"))
    pem = tmp_path / "archive.pem"
    pem.write_text(run("key", "export", "--archive", str(root)).stdout)
    return root, pem


def verify_json(root: Path, *args: str) -> tuple[int, dict]:
    result = run("verify", "--archive", str(root), "--json", *args)
    return result.exit_code, json.loads(result.stdout)


def test_unsigned_captures_before_the_key_are_counted_not_failed(half_signed: tuple[Path, Path]) -> None:
    root, pem = half_signed
    for args in ((), ("--pubkey", str(pem))):
        code, report = verify_json(root, *args)
        assert code == 0, report["problems"]
        assert report["unsigned_captures"] == report["unsigned_before_first_signed"] == 2
        signatures = next(c for c in report["checks"] if c["check"] == "signatures")
        assert signatures["checked"] == 2 and signatures["problems"] == 0
        text = run("verify", "--archive", str(root), *args)
        assert text.exit_code == 0
        row = next(line for line in text.stdout.splitlines() if "unsigned captures" in line)
        assert "made before the key existed" in row and " 2 " in row and "note" in row
    # a check of one pre-key article alone still knows signing began later in the chain
    articles = json.loads(run("list", "--archive", str(root), "--json").stdout)
    b_url = next(r["canonical_url"] for r in articles if r["canonical_url"].endswith("/b"))
    code, report = verify_json(root, "--pubkey", str(pem), b_url)
    assert code == 0 and report["unsigned_before_first_signed"] == 1, report


def test_signature_stripped_after_signing_began_fails_in_both_modes(half_signed: tuple[Path, Path]) -> None:
    root, pem = half_signed
    rewrite_metadata(root, 4, lambda metadata: metadata.pop("signature"))
    for args in ((), ("--pubkey", str(pem))):
        code, report = verify_json(root, *args)
        assert code == 1
        assert [p["message"] for p in report["problems"]] == [
            "capture is not signed although earlier ones are (signature removed?)"
        ]
        assert report["unsigned_before_first_signed"] == 2


def test_pubkey_on_an_archive_with_no_signed_capture_fails(
    tmp_path: Path, server: HTTPServer, half_signed: tuple[Path, Path]
) -> None:
    _, pem = half_signed
    root = tmp_path / "unkeyed"
    capture(root, server.url_for("/a"), server.url_for("/b"))
    code, report = verify_json(root)
    assert code == 0 and report["unsigned_captures"] == 2
    assert "no capture checked is signed" in run("verify", "--archive", str(root)).stdout
    code, report = verify_json(root, "--pubkey", str(pem))
    assert code == 1 and len(report["problems"]) == 1
    assert "none of the 2 captures checked is signed" in report["problems"][0]["message"]


def test_export_says_how_many_captures_are_signed(
    half_signed: tuple[Path, Path], tmp_path: Path, server: HTTPServer
) -> None:
    root, pem = half_signed
    result = run("export", "--archive", str(root), "-o", str(tmp_path / "all.wacz"))
    assert result.exit_code == 0 and "package signed; 2 of 4 captures signed" in result.stdout
    result = run("export", "--archive", str(root), "-o", str(tmp_path / "b.wacz"), server.url_for("/b"))
    assert "package signed; 0 of 1 captures signed" in result.stdout
    data = json.loads(
        run(
            "export", "--archive", str(root), "--json", "-o", str(tmp_path / "a.wacz"), server.url_for("/a")
        ).stdout
    )
    assert data["signed"] is True and data["captures"] == 2 and data["signed_captures"] == 1
    code, report = verify_json(root, "--pubkey", str(pem), str(tmp_path / "all.wacz"))
    assert code == 0 and report["unsigned_before_first_signed"] == 2


def test_reindex_sweeps_dead_temp_files_in_every_folder(archive: Path) -> None:
    """A killed import leaves its temporary file in the folder of the capture's own date."""
    old = archive / "warcs" / "2019" / "05" / "17"
    old.mkdir(parents=True)
    dead = old / ".20190517101010000-abcdef.warc.gz.999999999.tmp"  # no such process
    live = old / f".20190517101010000-fedcba.warc.gz.{os.getpid()}.tmp"  # a running writer's
    dead.write_bytes(b"partial")
    live.write_bytes(b"partial")
    assert run("reindex", "--archive", str(archive)).exit_code == 0
    assert not dead.exists() and live.exists()
