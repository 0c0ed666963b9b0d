"""`archiver report`: the evidence page of two captures, self-contained and printable, with
every digest, the key's fingerprint, the verdict of verification and the checks to rerun."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from helpers import run

ARTICLE = (
    "<html><head><title>{h}</title></head><body><article><h1>{h}</h1>"
    "<p>The council approved the budget of {n} million dollars on Tuesday.</p>"
    "<p>The mayor said the vote was a victory for the city.</p></article></body></html>"
)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def signed(httpserver: HTTPServer, tmp_path: Path) -> tuple[Path, str]:
    root, url = tmp_path / "archive", httpserver.url_for("/budget")
    assert run("key", "init", "--archive", str(root)).exit_code == 0
    for n, headline in ((12, "Council approves budget"), (15, "Council approves bigger budget")):
        httpserver.clear()
        httpserver.expect_request("/budget").respond_with_data(
            ARTICLE.format(h=headline, n=n), content_type="text/html"
        )
        assert run("capture", "--archive", str(root), url).exit_code == 0
    return root, url


def test_report_carries_the_edits_and_the_evidence(signed: tuple[Path, str], tmp_path: Path) -> None:
    root, url = signed
    page = tmp_path / "evidence.html"
    result = run("report", "--archive", str(root), url, "-o", str(page), "--json")
    assert result.exit_code == 0, result.output
    html = page.read_text()
    rows = (
        sqlite3.connect(root / "index.sqlite3")
        .execute("SELECT id, manifest_sha256, warc_sha256 FROM captures")
        .fetchall()
    )
    for capture_id, manifest, warc in rows:
        assert capture_id in html and manifest in html and warc in html
    facts = json.loads(page.with_suffix(".json").read_text())
    assert facts["verified"] and facts["key_fingerprint"].startswith("sha256:")
    assert facts["key_fingerprint"] in html and "wacz validate -f evidence.wacz" in html
    whys = [why for change in facts["diff"]["changes"] for why in change["why"]]
    assert any("12" in why and "15" in why for why in whys), whys  # the number edit, with its why
    assert any(why in html for why in whys)
    assert "<script" not in html and "default-src 'none'" in html and "Both captures verify" in html


def test_report_of_damaged_evidence_says_so(signed: tuple[Path, str], tmp_path: Path) -> None:
    root, url = signed
    newest = sorted((root / "warcs").rglob("*.warc.gz"))[-1]
    data = bytearray(newest.read_bytes())
    data[-40] ^= 0xFF  # inside the last gzip member: the metadata record no longer reads
    newest.write_bytes(bytes(data))
    page = tmp_path / "evidence.html"
    result = run("report", "--archive", str(root), url, "-o", str(page))
    assert result.exit_code in (1, 2)
    if result.exit_code == 1:
        assert "Verification found" in page.read_text()
    else:
        assert result.stderr.startswith("archiver: error:") and not page.exists()


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (Debian package chromium; .ci/run installs it)")
def test_report_renders_and_prints_in_chromium(signed: tuple[Path, str], tmp_path: Path) -> None:
    root, url = signed
    page, pdf = tmp_path / "evidence.html", tmp_path / "evidence.pdf"
    assert run("report", "--archive", str(root), url, "-o", str(page)).exit_code == 0
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert "Evidence of edits" in dom.stdout and "Check it yourself" in dom.stdout
    subprocess.run(
        [CHROMIUM, *flags, f"--print-to-pdf={pdf}", page.as_uri()], capture_output=True, timeout=120
    )
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 5000
