"""The signing key lives outside the archive: a copy of the folder never carries it, a
capture without it is refused rather than left unsigned, and older archives keep working."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from archiver.evidence import keys

from helpers import run

PAGE = (
    "<html><head><title>A signed story</title></head><body><article><h1>A signed story</h1>"
    "<p>It was signed.</p></article></body></html>"
)


@pytest.fixture
def site(httpserver: HTTPServer) -> str:
    httpserver.expect_request("/s").respond_with_data(PAGE, content_type="text/html")
    return httpserver.url_for("/s")


def test_the_archive_keeps_only_the_public_key(tmp_path: Path, site: str) -> None:
    root = tmp_path / "archive"
    made = run("key", "init", "--archive", str(root))
    assert made.exit_code == 0 and "outside the archive" in made.stdout
    assert sorted(p.name for p in (root / "keys").iterdir()) == [
        "archive-key.pub.pem",
        "archive-key.since.json",
    ]
    private = keys.private_key_path(root)
    assert not private.is_relative_to(root) and stat.S_IMODE(private.stat().st_mode) == 0o600
    assert json.loads(run("capture", "--archive", str(root), "--json", site).stdout)["id"]
    copy = tmp_path / "handed-over"
    shutil.copytree(root, copy)
    assert not [p for p in copy.rglob("*.pem") if "pub" not in p.name]
    assert run("verify", "--archive", str(copy)).exit_code == 0


def test_a_capture_without_the_private_key_is_refused(
    tmp_path: Path, site: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "archive"
    run("key", "init", "--archive", str(root))
    monkeypatch.setenv("ARCHIVER_KEYS", str(tmp_path / "elsewhere"))
    result = run("capture", "--archive", str(root), site)
    assert result.exit_code == 1 and "whose private key is not here" in result.stderr
    assert not list((root / "warcs").rglob("*.warc.gz"))  # nothing unsigned was added


def test_a_key_file_of_ones_choosing(tmp_path: Path, site: str, monkeypatch: pytest.MonkeyPatch) -> None:
    root, key_file = tmp_path / "archive", tmp_path / "secret" / "newsroom.pem"
    result = run("key", "init", "--archive", str(root), "--key-file", str(key_file))
    assert result.exit_code == 0 and key_file.exists(), result.output
    monkeypatch.setenv("ARCHIVER_KEY_FILE", str(key_file))
    assert run("capture", "--archive", str(root), site).exit_code == 0
    assert json.loads(run("verify", "--archive", str(root), "--json").stdout)["ok"]
    other = tmp_path / "other"
    run("key", "init", "--archive", str(other), "--key-file", str(tmp_path / "other.pem"))
    monkeypatch.setenv("ARCHIVER_KEY_FILE", str(tmp_path / "other.pem"))
    wrong = run("capture", "--archive", str(root), site)
    assert wrong.exit_code == 1 and "is not the key of the archive" in wrong.stderr


def test_an_older_archive_with_its_key_inside_still_signs(tmp_path: Path, site: str) -> None:
    root = tmp_path / "archive"
    run("key", "init", "--archive", str(root))
    shutil.move(keys.private_key_path(root), keys.legacy_private_key_path(root))
    result = run("capture", "--archive", str(root), site)
    assert result.exit_code == 0, result.stderr
    assert json.loads(run("verify", "--archive", str(root), "--json").stdout)["ok"]


def test_an_import_refused_for_its_key_leaves_no_source(
    tmp_path: Path, site: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The signing key is checked before anything is kept: no uncited file in sources/."""
    root, other = tmp_path / "archive", tmp_path / "other"
    run("capture", "--archive", str(other), site)
    warc = next((other / "warcs").rglob("*.warc.gz"))
    run("key", "init", "--archive", str(root))
    run("capture", "--archive", str(root), site)
    monkeypatch.setenv("ARCHIVER_KEYS", str(tmp_path / "elsewhere"))
    result = run("import", "--archive", str(root), str(warc))
    assert result.exit_code == 2 and "private key is not here" in result.stderr
    assert not (root / "sources").exists() or not any((root / "sources").rglob("*.*"))
    assert run("verify", "--archive", str(root)).exit_code == 0


def test_a_source_kept_by_an_import_killed_before_its_captures_is_removed(tmp_path: Path, site: str) -> None:
    """The state an import killed between keeping its source and publishing its first capture
    leaves; the next write command removes the uncited source, verify is clean again."""
    root = tmp_path / "archive"
    run("capture", "--archive", str(root), site)
    kept = root / "sources" / "20260101000000000-abcdef" / "crawl.warc.gz"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(next((root / "warcs").rglob("*.warc.gz")).read_bytes())
    (root / ".pending-import").write_text(
        json.dumps({"source": "sources/20260101000000000-abcdef/crawl.warc.gz", "seq": 2})
    )
    assert run("verify", "--archive", str(root)).exit_code == 1  # an unknown source, reported
    assert run("reindex", "--archive", str(root)).exit_code == 0
    assert not kept.exists() and not (root / ".pending-import").exists()
    assert run("verify", "--archive", str(root)).exit_code == 0


def test_a_signed_archive_without_its_public_key_takes_no_unsigned_capture(tmp_path: Path, site: str) -> None:
    root = tmp_path / "archive"
    run("key", "init", "--archive", str(root))
    run("capture", "--archive", str(root), site)
    keys.public_key_path(root).unlink()
    result = run("capture", "--archive", str(root), site)
    assert result.exit_code == 1 and "earlier captures are signed" in result.stderr
    assert len(list((root / "warcs").rglob("*.warc.gz"))) == 1


def test_export_refuses_damaged_evidence_and_a_missing_key(
    tmp_path: Path, site: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "archive"
    run("key", "init", "--archive", str(root))
    run("capture", "--archive", str(root), site)
    monkeypatch.setenv("ARCHIVER_KEYS", str(tmp_path / "elsewhere"))
    unsigned = run("export", "--archive", str(root), "-o", str(tmp_path / "a.wacz"))
    assert unsigned.exit_code == 2 and "private key is not here" in unsigned.stderr
    monkeypatch.delenv("ARCHIVER_KEYS")
    monkeypatch.setenv("ARCHIVER_KEYS", str(Path(keys.private_key_path(root)).parents[1]))
    import sqlite3

    from test_anchor import _rewrite_member

    warc_path, offset = (
        sqlite3.connect(root / "index.sqlite3")
        .execute("SELECT warc_path, response_offset FROM captures")
        .fetchone()
    )
    _rewrite_member(root / warc_path, offset, b"It was signed.", b"It was forged.")  # same length
    assert run("reindex", "--archive", str(root)).exit_code == 0  # the forger keeps the catalogue in step
    result = run("export", "--archive", str(root), "-o", str(tmp_path / "b.wacz"))
    assert result.exit_code == 2 and "cannot export" in result.stderr and not (tmp_path / "b.wacz").exists()


def test_id_prefixes_are_no_patterns(tmp_path: Path, site: str) -> None:
    root = tmp_path / "archive"
    run("capture", "--archive", str(root), site)
    for pattern in ("%", "_", "2026%"):
        result = run("show", "--archive", str(root), pattern)
        assert result.exit_code == 2 and "ambiguous" not in result.stderr
