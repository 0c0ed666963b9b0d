"""Independent WARC readers from PyPI (warcio, fastwarc) run on the files the suite writes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

BIN = Path(sys.executable).parent


def revisit_ids(path: Path) -> set[str]:
    with open(path, "rb") as handle:
        return {
            r.rec_headers.get_header("WARC-Record-ID")
            for r in ArchiveIterator(handle)
            if r.rec_type == "revisit"
        }


def assert_standard_warc(path: Path, tmp: Path) -> None:
    """warcio check and `fastwarc check -p` pass: every block and payload digest holds, and no
    record without a payload (warcinfo, metadata) claims one. A revisit's payload digest is its
    original's (WARC 1.1 §6.7.2), which fastwarc cannot see: those alone may fail there."""
    warcio = subprocess.run([str(BIN / "warcio"), "check", "-v", str(path)], capture_output=True, text=True)
    assert warcio.returncode == 0 and "fail" not in warcio.stdout.lower(), warcio.stdout + warcio.stderr
    out = tmp / (path.name + ".fastwarc.txt")
    subprocess.run(
        [str(BIN / "fastwarc"), "check", "-q", "-p", "-o", str(out), str(path)],
        capture_output=True,
        timeout=60,
    )
    results = dict(line.split(": ", 1) for line in out.read_text().splitlines() if ": " in line)
    assert results, f"fastwarc read no records of {path}"
    revisits = revisit_ids(path)
    for record_id, status in results.items():
        if record_id in revisits:
            assert status.startswith("OK"), (record_id, status)
        else:
            assert status in ("OK, PAYLOAD_OK", "OK, PAYLOAD_NO_DIGEST", "OK"), (path, record_id, status)
    with open(path, "rb") as handle:
        for record in ArchiveIterator(handle):
            if record.rec_type in ("warcinfo", "metadata"):
                assert record.rec_headers.get_header("WARC-Payload-Digest") is None, record.rec_type


PYWB_GET = """
import json, sys
from pywb.apps.frontendapp import FrontEndApp
from werkzeug.test import Client
response = Client(FrontEndApp()).get(sys.argv[1])
print(json.dumps({"status": response.status_code, "type": response.headers.get("Content-Type"),
                  "body": response.get_data().decode("utf-8", "replace")}))
"""


def pywb_get(path: str, cwd: Path) -> dict:
    """pywb's answer to `path` from the collections under `cwd` (in a child process: pywb
    monkey-patches threads with gevent)."""
    done = subprocess.run(
        [sys.executable, "-c", PYWB_GET, path], cwd=cwd, capture_output=True, text=True, timeout=60
    )
    return json.loads(done.stdout.splitlines()[-1])
