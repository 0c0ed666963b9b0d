"""archiver import: real WARCs from wget and WACZs from py-wacz and archiver, and bad input."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from test_verify import capture

from archiver.warc.scanner import scan_warc

from helpers import run

STORY = (
    "<html><head><title>Harbour plan</title></head><body><article><h1>Harbour plan</h1>"
    "<p>The council approved the harbour plan on Tuesday after a long debate.</p>"
    "<p>Critics said the costs were too high for the town.</p></article></body></html>"
)
WGET = shutil.which("wget")
needs_wget = pytest.mark.skipif(WGET is None, reason="wget is not installed")


@pytest.fixture(scope="module")
def site() -> Iterator[HTTPServer]:
    http = HTTPServer(host="127.0.0.1", port=0)
    http.expect_request("/story").respond_with_data(STORY, content_type="text/html; charset=utf-8")
    http.expect_request("/second").respond_with_data(
        STORY.replace("harbour", "bridge"), content_type="text/html"
    )
    http.expect_request("/style.css").respond_with_data("p {}", content_type="text/css")
    http.expect_request("/moved").respond_with_data("", status=301, headers={"Location": "/second"})
    http.start()
    yield http
    http.clear()
    http.stop()


def wget_warc(folder: Path, site: HTTPServer, compress: bool = True) -> Path:
    """A WARC written by wget itself: two pages, a stylesheet and a redirect."""
    folder.mkdir(parents=True, exist_ok=True)
    urls = [site.url_for(p) for p in ("/story", "/style.css", "/moved")]
    subprocess.run(
        [
            WGET or "wget",
            "-q",
            f"--warc-file={folder / 'site'}",
            "-O",
            "/dev/null",
            *([] if compress else ["--no-warc-compression"]),
            *urls,
        ],
        check=True,
        timeout=60,
        cwd=folder,
    )
    return folder / ("site.warc.gz" if compress else "site.warc")


@pytest.fixture(scope="module")
def wget_file(tmp_path_factory: pytest.TempPathFactory, site: HTTPServer) -> Path:
    if WGET is None:
        pytest.skip("wget is not installed")
    return wget_warc(tmp_path_factory.mktemp("wget"), site)


def import_json(root: Path, *files: Path) -> list[dict]:
    result = run("import", "--archive", str(root), "--json", *map(str, files))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def state(root: Path) -> tuple[list[str], list[tuple]]:
    """Every file of an archive and every catalogue row: to show nothing changed."""
    files = sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and not p.name.startswith("index.sqlite3")
    )
    with sqlite3.connect(root / "index.sqlite3") as db:
        rows = db.execute("SELECT * FROM captures ORDER BY seq").fetchall()
    return files, rows


@needs_wget
def test_wget_warc_becomes_captures(wget_file: Path, site: HTTPServer, tmp_path: Path) -> None:
    root = tmp_path / "archive"
    assert run("key", "init", "--archive", str(root)).exit_code == 0
    original = wget_file.read_bytes()
    [result] = import_json(root, wget_file)
    assert wget_file.read_bytes() == original
    assert not result["recompressed"]
    urls = sorted(c["url"] for c in result["captures"])
    assert urls == [site.url_for("/second"), site.url_for("/story")]  # no CSS, no redirect
    assert (root / result["source"]).read_bytes() == original  # kept byte for byte
    history = json.loads(run("history", "--archive", str(root), "--json", site.url_for("/story")).stdout)
    assert len(history["captures"]) == 1 and history["captures"][0]["status"] == 200

    verified = run("verify", "--archive", str(root), "--json")
    assert verified.exit_code == 0, verified.stdout
    assert run("reindex", "--archive", str(root)).exit_code == 0
    assert run("verify", "--archive", str(root)).exit_code == 0

    again = import_json(root, wget_file)[0]
    assert again["captures"] == [] and again["skipped_already_imported"] == 2


@needs_wget
def test_imported_and_own_captures_share_history_and_diff(
    wget_file: Path, site: HTTPServer, tmp_path: Path
) -> None:
    root = tmp_path / "archive"
    import_json(root, wget_file)
    site.clear()
    site.expect_request("/story").respond_with_data(
        STORY.replace("on Tuesday", "on Wednesday"), content_type="text/html; charset=utf-8"
    )
    capture(root, site.url_for("/story"))
    history = json.loads(run("history", "--archive", str(root), "--json", site.url_for("/story")).stdout)[
        "captures"
    ]
    assert [c["change"] for c in history] == ["first", "changed"]
    result = run("diff", "--archive", str(root), "--json", site.url_for("/story"))
    assert result.exit_code == 1 and "Wednesday" in result.stdout
    site.clear()
    site.expect_request("/story").respond_with_data(STORY, content_type="text/html; charset=utf-8")
    site.expect_request("/second").respond_with_data(
        STORY.replace("harbour", "bridge"), content_type="text/html"
    )
    site.expect_request("/style.css").respond_with_data("p {}", content_type="text/css")
    site.expect_request("/moved").respond_with_data("", status=301, headers={"Location": "/second"})


@needs_wget
@pytest.mark.parametrize("form", ["uncompressed", "one gzip stream"])
def test_unreadable_by_offset_is_recompressed_per_record(form: str, site: HTTPServer, tmp_path: Path) -> None:
    plain = wget_warc(tmp_path / "in", site, compress=False)
    given = plain if form == "uncompressed" else tmp_path / "in" / "whole.warc.gz"
    if form == "one gzip stream":
        given.write_bytes(gzip.compress(plain.read_bytes()))
    root = tmp_path / "archive"
    [result] = import_json(root, given)
    assert result["recompressed"]
    stored = root / result["source"]
    assert gzip.decompress(stored.read_bytes()) == plain.read_bytes()  # record bytes unchanged
    scan = scan_warc(stored)
    assert scan.offset_access and len(scan.records) == result["records"]
    manifest = json.loads(run("verify", "--archive", str(root), "--json").stdout)
    assert manifest["ok"], manifest
    metadata = next(
        r for r in scan_warc(root / result["captures"][0]["warc_path"]).records if r.type == "metadata"
    )
    source = json.loads(metadata.content or b"")["manifest"]["source"]
    assert source["recompressed"] and source["file"] == result["source"]
    assert source["original_sha256"] == hashlib.sha256(given.read_bytes()).hexdigest()


@needs_wget
def test_wacz_from_py_wacz_and_from_archiver(wget_file: Path, tmp_path: Path) -> None:
    made = tmp_path / "pywacz.wacz"
    subprocess.run(
        [str(Path(sys.executable).parent / "wacz"), "create", "-f", str(wget_file), "-o", str(made)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    first = tmp_path / "first"
    [result] = import_json(first, made)
    assert len(result["captures"]) == 2 and "!archive/" in result["file"]
    exported = tmp_path / "again.wacz"
    assert run("export", "--archive", str(first), "-o", str(exported)).exit_code == 0
    second = tmp_path / "second"
    results = import_json(second, exported)
    assert sum(len(r["captures"]) for r in results) == 2
    assert run("verify", "--archive", str(second)).exit_code == 0


def test_zip_escaping_its_folder_is_refused(tmp_path: Path, site: HTTPServer) -> None:
    root = tmp_path / "archive"
    capture(root, site.url_for("/story"))
    before = state(root)
    evil = tmp_path / "evil.wacz"
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr("archive/ok.warc.gz", b"")
        z.writestr("../../outside.warc.gz", b"WARC/1.1\r\n")
    result = run("import", "--archive", str(root), str(evil))
    assert result.exit_code == 2 and "escapes" in result.stderr
    assert result.stderr.count("\n") == 1
    assert state(root) == before and not (tmp_path / "outside.warc.gz").exists()


@needs_wget
@pytest.mark.parametrize(
    "damage", ["truncated", "not a warc", "payload changed", "length wrong", "empty", "bad package hash"]
)
def test_malformed_input_is_refused_and_archive_unchanged(
    damage: str, wget_file: Path, site: HTTPServer, tmp_path: Path
) -> None:
    root = tmp_path / "archive"
    capture(root, site.url_for("/story"))
    before = state(root)
    data = wget_file.read_bytes()
    plain = gzip.decompress(data)
    bad = tmp_path / "bad.warc.gz"
    if damage == "truncated":
        bad.write_bytes(data[: len(data) - 200])
    elif damage == "not a warc":
        bad.write_bytes(gzip.compress(b"<html>hello</html>"))
    elif damage == "payload changed":
        bad = tmp_path / "bad.warc"
        bad.write_bytes(plain.replace(b"approved", b"rejected"))
    elif damage == "length wrong":
        bad = tmp_path / "bad.warc"
        bad.write_bytes(plain.replace(b"Content-Length: ", b"Content-Length: 1", 1))
    elif damage == "empty":
        bad.write_bytes(b"")
    else:
        bad = tmp_path / "bad.wacz"
        with zipfile.ZipFile(bad, "w") as z:
            z.writestr("archive/site.warc.gz", data)
            z.writestr(
                "datapackage.json",
                json.dumps({"resources": [{"path": "archive/site.warc.gz", "hash": "sha256:" + "0" * 64}]}),
            )
    result = run("import", "--archive", str(root), str(bad))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("archiver: error: ") and result.stderr.count("\n") == 1
    assert str(bad.name) in result.stderr
    assert state(root) == before


@needs_wget
def test_tampered_source_is_found_by_verify(wget_file: Path, tmp_path: Path) -> None:
    root = tmp_path / "archive"
    run("key", "init", "--archive", str(root))
    [result] = import_json(root, wget_file)
    stored = root / result["source"]
    data = bytearray(stored.read_bytes())
    data[8] ^= 0x01  # a gzip header byte: decompresses the same, the file hash differs
    stored.write_bytes(bytes(data))
    report = json.loads(run("verify", "--archive", str(root), "--json").stdout)
    assert not report["ok"]
    assert {p["capture"] for p in report["problems"]} & {c["id"] for c in result["captures"]}


def repack(source: Path, target: Path, change: dict[str, bytes | None]) -> None:
    """Copy a zip, replacing entries (None: dropping them) and adding new ones."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            if info.filename not in change:
                new.writestr(info, old.read(info.filename))
        for name, data in change.items():
            if data is not None:
                new.writestr(
                    name,
                    data,
                    compress_type=zipfile.ZIP_STORED if name.endswith(".gz") else zipfile.ZIP_DEFLATED,
                )


@pytest.fixture(scope="module")
def signed_export(tmp_path_factory: pytest.TempPathFactory, site: HTTPServer) -> dict[str, Path]:
    """A package exported from a signed archive, and a capture made by a second archive with
    its own key (for forgeries)."""
    folder = tmp_path_factory.mktemp("signed")
    made = {"root": folder / "a", "package": folder / "a.wacz", "evil": folder / "evil"}
    for root in (made["root"], made["evil"]):
        assert run("key", "init", "--archive", str(root)).exit_code == 0
    capture(made["root"], site.url_for("/story"), site.url_for("/second"))
    capture(made["evil"], site.url_for("/story"))
    assert run("export", "--archive", str(made["root"]), "-o", str(made["package"])).exit_code == 0
    return made


def forged(made: dict[str, Path], target: Path) -> None:
    """A capture replaced by another archive's capture of the same page, datapackage.json
    updated, and the package re-signed with that archive's key."""
    from archiver.evidence import keys
    from archiver.evidence.export import _digest_file

    with zipfile.ZipFile(made["package"]) as z:
        datapackage = json.loads(z.read("datapackage.json"))
        created = json.loads(z.read("datapackage-digest.json"))["signedData"]["created"]
    victim = next(r for r in datapackage["resources"] if r["path"].startswith("archive/"))
    fake = next((made["evil"] / "warcs").rglob("*.warc.gz")).read_bytes()
    victim.update(hash="sha256:" + hashlib.sha256(fake).hexdigest(), bytes=len(fake))
    data = json.dumps(datapackage, indent=2).encode()
    repack(
        made["package"],
        target,
        {
            victim["path"]: fake,
            "datapackage.json": data,
            "datapackage-digest.json": _digest_file(data, created, keys.load_private_key(made["evil"])),
        },
    )


@pytest.mark.parametrize(
    "damage",
    ["datapackage edited", "warc missing", "unlisted file", "forged and re-signed", "digest file a list"],
)
def test_import_refuses_a_package_that_fails_the_check(
    damage: str, signed_export: dict[str, Path], tmp_path: Path
) -> None:
    package = signed_export["package"]
    bad = tmp_path / "bad.wacz"
    with zipfile.ZipFile(package) as z:
        warc = next(n for n in z.namelist() if n.startswith("archive/"))
        datapackage = z.read("datapackage.json")
    if damage == "datapackage edited":
        repack(
            package, bad, {"datapackage.json": datapackage.replace(b"archiver export", b"archiver exp0rt")}
        )
    elif damage == "warc missing":
        repack(package, bad, {warc: None})
    elif damage == "unlisted file":
        repack(package, bad, {"archive/extra.warc.gz": zipfile.ZipFile(package).read(warc)})
    elif damage == "forged and re-signed":
        forged(signed_export, bad)
        # each part verifies on its own: only the package check as a whole catches it
        with zipfile.ZipFile(bad) as z:
            assert all(
                r["hash"] == "sha256:" + hashlib.sha256(z.read(r["path"])).hexdigest()
                for r in json.loads(z.read("datapackage.json"))["resources"]
            )
    else:
        repack(package, bad, {"datapackage-digest.json": b"[1, 2]"})
    root = tmp_path / "new" / "archive"  # a folder that does not exist yet
    result = run("import", "--archive", str(root), str(bad))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("archiver: error: ") and result.stderr.count("\n") == 1
    assert "refused" in result.stderr and "bad.wacz" in result.stderr
    assert not root.exists()  # nothing left behind: no catalogue, no warcs/
    # the untouched package imports
    assert run("import", "--archive", str(tmp_path / "good"), str(package)).exit_code == 0


def test_refused_warc_leaves_no_new_archive_folder(tmp_path: Path) -> None:
    bad = tmp_path / "bad.warc.gz"
    bad.write_bytes(gzip.compress(b"<html>hello</html>"))
    root = tmp_path / "fresh"
    result = run("import", "--archive", str(root), str(bad))
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert not root.exists()
