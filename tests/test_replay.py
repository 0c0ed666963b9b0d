"""Our WARCs replay in pywb (the Webrecorder replay system), revisits included."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from pytest_httpserver import HTTPServer

from helpers import run

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.skipif(not (BIN / "wayback").exists(), reason="pywb is not installed")
def test_captures_replay_in_pywb(httpserver: HTTPServer, archive_dir: Path, tmp_path: Path) -> None:
    page = b"<html><body><h1>Replay me</h1><p>Figure: 42.</p></body></html>"
    httpserver.expect_request("/story").respond_with_data(page, content_type="text/html")
    url = httpserver.url_for("/story")
    assert run("capture", "--archive", str(archive_dir), url).exit_code == 0
    time.sleep(1.1)  # a distinct 14-digit timestamp for the revisit
    assert run("capture", "--archive", str(archive_dir), url).exit_code == 0

    site = tmp_path / "pywb"
    site.mkdir()
    subprocess.run([BIN / "wb-manager", "init", "coll"], cwd=site, check=True, capture_output=True)
    warcs = [str(p) for p in sorted((archive_dir / "warcs").rglob("*.warc.gz"))]
    subprocess.run([BIN / "wb-manager", "add", "coll", *warcs], cwd=site, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [BIN / "wayback", "-p", str(port), "-b", "127.0.0.1"],
        cwd=site,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}/coll"
        for _ in range(100):
            try:
                cdx = requests.get(f"{base}/cdx", params={"url": url, "output": "json"}, timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        lines = [line for line in cdx.text.splitlines() if line]
        assert len(lines) == 2  # the response and the revisit; metadata records stay out of the way
        assert '"warc/revisit"' in lines[1]
        for line in lines:
            timestamp = requests.compat.json.loads(line)["timestamp"]
            replay = requests.get(f"{base}/{timestamp}id_/{url}", timeout=10)
            assert replay.status_code == 200 and replay.content == page
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(site, ignore_errors=True)
