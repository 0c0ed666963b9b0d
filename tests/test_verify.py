"""archiver verify: real archives made by real captures, tampered on disk, then verified."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from archiver.evidence import keys
from archiver.evidence.verify import verify
from archiver.record import canonical_json

from helpers import rewrite_metadata, run

PAGE = "<html><head><title>{t}</title></head><body><article><h1>{t}</h1><p>{b}</p></article></body></html>"


@dataclass
class Built:
    """A signed archive of real captures: ids in seq order, and the URLs captured."""

    root: Path
    ids: list[str]
    urls: dict[str, str]

    def path(self, seq: int) -> Path:
        return self.root / self.row(seq)["warc_path"]

    def row(self, seq: int) -> dict:
        with sqlite3.connect(self.root / "index.sqlite3") as db:
            db.row_factory = sqlite3.Row
            return dict(db.execute("SELECT * FROM captures WHERE seq = ?", (seq,)).fetchone())


def capture(root: Path, *urls: str) -> list[dict]:
    result = run("capture", "--archive", str(root), "--json", "--concurrency", "1", *urls)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def build_archive(root: Path, server: HTTPServer) -> Built:
    """Key, then seven captures: a story three times (the second a revisit), a redirect,
    a second story twice and a 404."""
    assert run("key", "init", "--archive", str(root)).exit_code == 0
    urls = {name: server.url_for(f"/{name}") for name in ("story", "old", "new", "other", "gone")}
    server.expect_oneshot_request("/story").respond_with_data(
        PAGE.format(t="Story", b="First."), content_type="text/html"
    )
    server.expect_oneshot_request("/story").respond_with_data(
        PAGE.format(t="Story", b="First."), content_type="text/html"
    )
    server.expect_oneshot_request("/story").respond_with_data(
        PAGE.format(t="Story", b="Edited!"), content_type="text/html"
    )
    server.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/new"})
    server.expect_request("/new").respond_with_data(
        PAGE.format(t="New", b="Moved."), content_type="text/html"
    )
    server.expect_request("/other").respond_with_data(
        PAGE.format(t="Other", b="x" * 5000), content_type="text/html; charset=utf-8"
    )
    server.expect_request("/gone").respond_with_data("not here", status=404)
    ids = []
    for url in (
        urls["story"],
        urls["story"],
        urls["old"],
        urls["story"],
        urls["other"],
        urls["other"],
        urls["gone"],
    ):
        ids += [c["id"] for c in capture(root, url)]
    return Built(root, ids, urls)


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    http = HTTPServer(host="127.0.0.1", port=0)
    http.start()
    yield http
    http.clear()
    http.stop()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory, server: HTTPServer) -> Built:
    return build_archive(tmp_path_factory.mktemp("pristine") / "archive", server)


@pytest.fixture
def built(pristine: Built, tmp_path: Path) -> Built:
    """A fresh copy of the pristine archive to tamper with."""
    root = tmp_path / "archive"
    shutil.copytree(pristine.root, root)
    return Built(root, pristine.ids, pristine.urls)


def verify_json(root: Path, *args: str) -> tuple[int, dict]:
    result = run("verify", "--archive", str(root), "--json", *args)
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else {}


def assert_problem(root: Path, capture: str, check: str | None = None, *args: str) -> list[dict]:
    """Verify must exit 1 and report a problem of `check` naming `capture`."""
    code, report = verify_json(root, *args)
    assert code == 1 and not report["ok"], report
    named = [
        p for p in report["problems"] if p["capture"] == capture and (check is None or p["check"] == check)
    ]
    assert named, report["problems"]
    return report["problems"]


def flip(path: Path, offset: int, mask: int = 0xFF) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= mask
    path.write_bytes(bytes(data))


def set_row(root: Path, capture_id: str, **values: object) -> None:
    with sqlite3.connect(root / "index.sqlite3") as db:
        for name, value in values.items():
            db.execute(f"UPDATE captures SET {name} = ? WHERE id = ?", (value, capture_id))


# -- untouched ---------------------------------------------------------------------------


def test_untouched_archive_passes_every_check(pristine: Built) -> None:
    code, report = verify_json(pristine.root)
    assert code == 0 and report["ok"] and report["problems"] == []
    checked = {c["check"]: c["checked"] for c in report["checks"]}
    assert checked["files"] == checked["catalogue"] == checked["manifests"] == 7
    assert checked["signatures"] == 7 and checked["chain"] == 8  # 7 links and the head
    assert checked["digests"] == 7 * 4 + 2  # warcinfo, request, response, metadata; +1 hop
    text = run("verify", "--archive", str(pristine.root))
    assert text.exit_code == 0 and "all good" in text.stdout and "signatures valid" in text.stdout


def test_untouched_selection_by_url_id_and_file(pristine: Built) -> None:
    code, report = verify_json(pristine.root, pristine.urls["story"])
    assert code == 0 and report["checks"][0]["checked"] == 3
    assert verify_json(pristine.root, pristine.ids[4][:20])[0] == 0
    assert verify_json(pristine.root, str(pristine.path(6)))[0] == 0
    code, _ = verify_json(pristine.root, "http://127.0.0.1:1/never-captured")
    assert code == 2


def test_pubkey_of_the_archive_passes(pristine: Built, tmp_path: Path) -> None:
    exported = run("key", "export", "--archive", str(pristine.root))
    assert exported.stdout.startswith("-----BEGIN PUBLIC KEY-----")
    (tmp_path / "archive.pem").write_text(exported.stdout)
    assert verify_json(pristine.root, "--pubkey", str(tmp_path / "archive.pem"))[0] == 0


def test_errors_exit_2_with_one_line(tmp_path: Path) -> None:
    result = run("verify", "--archive", str(tmp_path / "none"))
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "no archive" in result.stderr


# -- tampering ---------------------------------------------------------------------------


def members(path: Path) -> list[int]:
    """Offsets of the gzip members of a capture file."""
    from archiver.warc.scanner import scan_warc

    return [record.offset for record in scan_warc(path).records]


@pytest.mark.parametrize("where", ["gzip header", "warc header", "payload", "trailer", "last byte"])
def test_one_flipped_byte_is_found(built: Built, where: str) -> None:
    path = built.path(5)  # the "other" story: a response with a 5 KB payload
    starts = members(path)
    response = starts[2]
    offset = {
        "gzip header": response + 4,
        "warc header": response + 20,
        "payload": (response + starts[3]) // 2,
        "trailer": starts[3] - 6,
        "last byte": path.stat().st_size - 1,
    }[where]
    flip(path, offset)
    assert_problem(built.root, built.ids[4], "gzip")


def test_every_flipped_byte_of_a_capture_is_found(built: Built) -> None:
    """Every byte of a whole capture file, changed in turn: never a false pass."""
    path = built.path(3)
    original = path.read_bytes()
    missed = []
    for offset in range(len(original)):
        changed = bytearray(original)
        changed[offset] ^= 0xFF
        path.write_bytes(bytes(changed))
        report = verify(built.root, [built.ids[2]])
        if report.ok or not any(p.capture == built.ids[2] for p in report.problems):
            missed.append(offset)
    path.write_bytes(original)
    assert missed == []


def test_gzip_padding_flip_is_caught_by_the_file_digest(built: Built) -> None:
    """Some bit flips (unused padding bits at the end of a deflate stream) leave every record
    identical; only the file SHA-256 recorded at capture time notices them."""
    import zlib

    path = built.path(5)
    original = path.read_bytes()
    starts = members(path)
    for start, end in zip(starts, [*starts[1:], len(original)], strict=True):
        for bit in range(8):
            changed = bytearray(original)
            changed[end - 9] ^= 1 << bit  # the last deflate byte, before the 8-byte trailer
            try:
                same = zlib.decompress(changed[start:end], 31) == zlib.decompress(original[start:end], 31)
            except zlib.error:
                continue
            if same:
                path.write_bytes(bytes(changed))
                problems = assert_problem(built.root, built.ids[4], "catalogue")
                assert any("recorded when it was written" in p["message"] for p in problems)
                return
    pytest.skip("no member of this file has unused padding bits to flip")


def test_record_without_crlf_crlf_in_a_capture_file_is_found(built: Built) -> None:
    """The scanner reads short trailers leniently (other tools write them); archiver never
    does, so in a capture file one is a problem, even with every digest intact."""
    import gzip
    import hashlib

    from archiver.warc.deflate import gzip_member

    path, row = built.path(3), built.row(3)
    data = path.read_bytes()
    start, end = row["response_offset"], row["response_offset"] + row["response_length"]
    record = gzip.decompress(data[start:end])
    assert record.endswith(b"\r\n\r\n")
    shorter = gzip_member(record[:-2])  # the member header archiver's writer makes
    changed = data[:start] + shorter + data[end:]
    path.write_bytes(changed)
    moved = len(shorter) - row["response_length"]
    set_row(
        built.root,
        built.ids[2],
        response_length=len(shorter),
        metadata_offset=row["metadata_offset"] + moved,
        bytes=len(changed),
        warc_sha256=hashlib.sha256(changed).hexdigest(),
    )
    problems = assert_problem(built.root, built.ids[2], "gzip")
    assert [p["message"] for p in problems if p["check"] == "gzip"] == ["record is not followed by CRLF CRLF"]
    # and the record's bytes are no longer those its manifest signs
    assert [p["check"] for p in problems] == ["gzip", "manifests"]


def test_index_from_schema_1_is_migrated(tmp_path: Path) -> None:
    from archiver.archive.catalogue import MIGRATIONS, SCHEMA_VERSION
    from archiver.archive.folder import Archive

    root = tmp_path / "old"
    root.mkdir()
    with sqlite3.connect(root / "index.sqlite3") as db:
        for statement in MIGRATIONS[1].split(";"):
            db.execute(statement)
        db.execute("PRAGMA user_version = 1")
    archive = Archive(root)
    assert archive.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    columns = [row[1] for row in archive.db.execute("PRAGMA table_info(captures)")]
    assert "warc_sha256" in columns


def test_truncated_file(built: Built) -> None:
    path = built.path(2)
    path.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
    problems = assert_problem(built.root, built.ids[1], "gzip")
    assert any("truncated" in p["message"] for p in problems)


def test_deleted_capture_file(built: Built) -> None:
    built.path(4).unlink()
    problems = assert_problem(built.root, built.ids[3], "files")
    assert any("missing" in p["message"] for p in problems)


def test_capture_removed_from_the_middle_of_the_chain(built: Built) -> None:
    """File and catalogue row both gone: the next capture's prev link gives it away."""
    built.path(4).unlink()
    with sqlite3.connect(built.root / "index.sqlite3") as db:
        db.execute("DELETE FROM captures WHERE seq = 4")
    problems = assert_problem(built.root, built.ids[4], "chain")
    assert any("seq 4" in p["message"] for p in problems)
    run("reindex", "--archive", str(built.root))  # a rebuilt catalogue does not hide it
    assert_problem(built.root, built.ids[4], "chain")


def test_two_capture_files_swapped(built: Built) -> None:
    first, second = built.path(5), built.path(6)
    a, b = first.read_bytes(), second.read_bytes()
    first.write_bytes(b)
    second.write_bytes(a)
    problems = assert_problem(built.root, built.ids[4], "manifests")
    assert any(p["capture"] == built.ids[5] for p in problems)


def test_two_captures_swapped_in_the_catalogue(built: Built) -> None:
    set_row(built.root, built.ids[1], seq=-1)
    set_row(built.root, built.ids[2], seq=2)
    set_row(built.root, built.ids[1], seq=3)
    problems = assert_problem(built.root, built.ids[1], "catalogue")
    assert any(p["capture"] == built.ids[2] and "seq" in p["message"] for p in problems)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("payload_sha256", "0" * 64),
        ("response_offset", 1),
        ("captured_at", "2001-01-01T00:00:00Z"),
        ("canonical_url", "http://example.com/"),
        ("signed", 0),
        ("prev_manifest_sha256", None),
    ],
)
def test_edited_catalogue_row(built: Built, column: str, value: object) -> None:
    set_row(built.root, built.ids[3], **{column: value})
    problems = assert_problem(built.root, built.ids[3], "catalogue")
    assert any(column in p["message"] for p in problems)


def test_unknown_file_in_warcs(built: Built) -> None:
    stray = built.path(1).with_name("20200101000000000-abcdef.warc.gz")
    shutil.copy(built.path(1), stray)
    problems = assert_problem(built.root, "20200101000000000-abcdef", "files")
    assert any("not in the catalogue" in p["message"] for p in problems)


def resign(built: Built, seq: int, private_key: object) -> None:
    """Re-sign a capture's manifest with `private_key`, the file and catalogue otherwise in
    step (only the signature is wrong)."""

    def sign(metadata: dict) -> None:
        metadata["signature"] = keys.sign(private_key, canonical_json(metadata["manifest"]))

    rewrite_metadata(built.root, seq, sign)


def test_signature_made_with_another_key(built: Built) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    resign(built, 3, ec.generate_private_key(ec.SECP256R1()))
    problems = assert_problem(built.root, built.ids[2], "signatures")
    assert [p["check"] for p in problems] == ["signatures"]
    assert "another key" in problems[0]["message"]


def test_whole_archive_resigned_with_a_new_key_fails_the_given_pubkey(built: Built, tmp_path: Path) -> None:
    """An attacker who replaces the archive key and re-signs everything passes a check with
    the archive's own key, not one with the key the archivist published before."""
    from cryptography.hazmat.primitives.asymmetric import ec

    published = tmp_path / "published.pem"
    published.write_text(run("key", "export", "--archive", str(built.root)).stdout)
    attacker = ec.generate_private_key(ec.SECP256R1())
    for seq in range(1, 8):
        resign(built, seq, attacker)
    keys.public_key_path(built.root).write_bytes(keys.public_pem(attacker.public_key()))
    keys.private_key_path(built.root).unlink(missing_ok=True)  # outside the archive now: nothing to remove
    keys.since_path(built.root).unlink()  # signed by the old key: it would give the swap away
    assert verify_json(built.root)[0] == 0
    problems = assert_problem(built.root, built.ids[0], "signatures", "--pubkey", str(published))
    assert len(problems) == 7


def test_signature_stripped_after_signed_captures(built: Built) -> None:
    rewrite_metadata(built.root, 6, lambda metadata: metadata.pop("signature"))
    problems = assert_problem(built.root, built.ids[5], "signatures")
    assert "not signed" in problems[0]["message"]


def test_file_outside_the_archive(pristine: Built, tmp_path: Path) -> None:
    copy = tmp_path / "copy.warc.gz"
    shutil.copy(pristine.path(1), copy)
    assert verify_json(pristine.root, str(copy))[0] == 0
    row = pristine.row(1)
    flip(copy, row["response_offset"] + row["response_length"] // 2)  # inside the response's deflate data
    assert verify_json(pristine.root, str(copy))[0] == 1


def test_no_false_alarm_while_capturing(built: Built, server: HTTPServer) -> None:
    """Captures committed by another process while verify runs are not reported."""
    import subprocess
    import sys

    urls = [built.urls["other"]] * 6
    writer = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "archiver",
            "capture",
            "--archive",
            str(built.root),
            "--concurrency",
            "2",
            *urls,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    runs = 0
    while writer.poll() is None or runs == 0:
        report = verify(built.root, [])
        assert report.ok, [p.to_json() for p in report.problems]
        runs += 1
    assert writer.wait(timeout=60) == 0, writer.stderr.read() if writer.stderr else ""
    assert verify(built.root, []).ok
