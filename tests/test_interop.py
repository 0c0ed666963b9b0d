"""WARC 1.1 and WACZ 1.1.1 as independent readers from PyPI see them: every WARC the suite
writes (capture, import, export) passes `warcio check` and `fastwarc check -p`."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from interop import BIN, assert_standard_warc, pywb_get
from pytest_httpserver import HTTPServer
from test_import import WGET, import_json, site, wget_warc  # noqa: F401 (the module fixture)
from test_verify import Built, build_archive
from warcio.archiveiterator import ArchiveIterator

from helpers import run

needs_wget = pytest.mark.skipif(WGET is None, reason="wget is not installed")


def test_captures_pass_independent_checks(httpserver: HTTPServer, tmp_path: Path) -> None:
    built: Built = build_archive(tmp_path / "archive", httpserver)  # a revisit, a redirect, a 404
    paths = sorted((built.root / "warcs").rglob("*.warc.gz"))
    assert len(paths) == 7
    for path in paths:
        assert_standard_warc(path, tmp_path)
    with open(built.path(2), "rb") as handle:
        [revisit] = [r for r in ArchiveIterator(handle) if r.rec_type == "revisit"]
    headers = revisit.rec_headers
    assert headers.get_header("WARC-Profile") == (
        "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
    )
    assert headers.get_header("WARC-Truncated") == "length"  # the header block is kept, no body
    assert headers.get_header("WARC-Refers-To-Date") and headers.get_header("WARC-Refers-To-Target-URI")

    exported = tmp_path / "all.wacz"
    assert run("export", "--archive", str(built.root), "-o", str(exported)).exit_code == 0
    with zipfile.ZipFile(exported) as package:
        datapackage = json.loads(package.read("datapackage.json"))
        for name in package.namelist():
            if name.startswith("archive/"):
                (tmp_path / Path(name).name).write_bytes(package.read(name))
                assert_standard_warc(tmp_path / Path(name).name, tmp_path)
    assert "mainPageURL" not in datapackage and "mainPageUrl" not in datapackage  # several articles
    one = tmp_path / "one.wacz"
    assert run("export", "--archive", str(built.root), "-o", str(one), built.urls["story"]).exit_code == 0
    with zipfile.ZipFile(one) as package:
        datapackage = json.loads(package.read("datapackage.json"))
    assert datapackage["mainPageUrl"] == built.urls["story"] and "mainPageURL" not in datapackage
    assert datapackage["mainPageDate"] == built.row(1)["captured_at"]


def replay(collection_files: list[Path], index: bytes | None, url: str, stamp: str, tmp: Path) -> dict:
    """What pywb serves for `url` at `stamp` from a collection of these files (indexed by
    pywb itself unless an index is given)."""
    folder = tmp / "pywb"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    subprocess.run([str(BIN / "wb-manager"), "init", "coll"], cwd=folder, check=True, capture_output=True)
    if index is None:
        command = [str(BIN / "wb-manager"), "add", "coll", *map(str, collection_files)]
        subprocess.run(command, cwd=folder, check=True, capture_output=True)
    else:
        for path in collection_files:
            shutil.copy(path, folder / "collections" / "coll" / "archive" / path.name)
        (folder / "collections" / "coll" / "indexes" / "index.cdxj").write_bytes(index)
    return pywb_get(f"/coll/{stamp}id_/{url}", folder)


def stamp_of(captured_at: str) -> str:
    return captured_at[:19].replace("-", "").replace("T", "").replace(":", "")


@needs_wget
def test_imported_page_replays_in_pywb_not_our_metadata(site: HTTPServer, tmp_path: Path) -> None:  # noqa: F811
    given = wget_warc(tmp_path / "in", site)
    root = tmp_path / "archive"
    [result] = import_json(root, given)
    story = next(c for c in result["captures"] if c["url"].endswith("/story"))
    served = replay([root / story["warc_path"]], None, story["url"], stamp_of(story["captured_at"]), tmp_path)
    assert served["status"] == 200 and served["type"].startswith("text/html")
    assert "<h1>Harbour plan</h1>" in served["body"] and '"manifest"' not in served["body"]


@needs_wget
def test_imported_captures_and_their_export_pass_independent_checks(site: HTTPServer, tmp_path: Path) -> None:  # noqa: F811
    folder = tmp_path / "in"
    folder.mkdir()
    story = site.url_for("/story")
    command = [WGET or "wget", "-q", f"--warc-file={folder / 'twice'}", "-O", "/dev/null", story, story]
    subprocess.run([*command, site.url_for("/second")], check=True, timeout=60, cwd=folder)
    root = tmp_path / "archive"
    [result] = import_json(root, folder / "twice.warc.gz")
    assert len(result["captures"]) == 3
    for capture in result["captures"]:
        assert_standard_warc(root / capture["warc_path"], tmp_path)
    exported = tmp_path / "again.wacz"
    assert run("export", "--archive", str(root), "-o", str(exported)).exit_code == 0
    files = []
    with zipfile.ZipFile(exported) as package:
        pages = [json.loads(line) for line in package.read("pages/pages.jsonl").splitlines()[1:]]
        index = package.read("indexes/index.cdxj")
        for name in package.namelist():
            if name.startswith("archive/"):
                files.append(tmp_path / Path(name).name)
                files[-1].write_bytes(package.read(name))
                assert_standard_warc(files[-1], tmp_path)
    seen = [(p["url"], p["ts"]) for p in pages]
    assert len(seen) == len(set(seen)) and {url for url, _ in seen} == {story, site.url_for("/second")}
    located = [json.loads(line.split(b" ", 2)[2]) for line in index.splitlines()]
    # each archived response indexed once: in the source file, not again in the capture's copy
    pages_indexed = sorted(e["url"] for e in located if e["url"].startswith("http"))  # not wget's log
    assert pages_indexed == sorted([story, story, site.url_for("/second")])
    assert len({(e["filename"], e["offset"]) for e in located}) == len(located)
    served = replay(files, index, story, stamp_of(pages[0]["ts"]), tmp_path)
    assert served["status"] == 200 and "<h1>Harbour plan</h1>" in served["body"]
