"""Trusted time: a time-stamping authority on loopback (openssl ts -reply, with a CA made
here) signs the chain head; `verify --tsa-cert` checks the token offline, and a truncation
or rewrite after the timestamp is caught even by a plain `verify`."""

from __future__ import annotations

import contextlib
import http.server
import json
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from helpers import capture_stories, rewrite_metadata, run

OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="needs the openssl command for a test TSA")
CONFIG = """
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = .
serial = ./serial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
[ v3_tsa ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
[ req ]
distinguished_name = dn
[ dn ]
"""
PAGE = (
    "<html><head><title>{t}</title></head><body><article><h1>{t}</h1><p>{t} said.</p></article></body></html>"
)


def openssl(folder: Path, *args: str) -> None:
    subprocess.run([OPENSSL or "openssl", *args], cwd=folder, check=True, capture_output=True)


def make_ca(folder: Path, name: str) -> None:
    """A root CA and a TSA certificate it signs (extended key usage: time stamping)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ts.cnf").write_text(CONFIG)
    (folder / "serial").write_text("01\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl(
        folder,
        "req",
        "-x509",
        *ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-subj",
        f"/CN={name} root",
        "-days",
        "2",
        "-config",
        "ts.cnf",
        "-extensions",
        "v3_ca",
    )
    openssl(
        folder,
        "req",
        *ec,
        "-keyout",
        "tsa.key",
        "-out",
        "tsa.csr",
        "-subj",
        f"/CN={name} TSA",
        "-config",
        "ts.cnf",
    )
    openssl(
        folder,
        "x509",
        "-req",
        "-in",
        "tsa.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "tsa.crt",
        "-days",
        "2",
        "-extfile",
        "ts.cnf",
        "-extensions",
        "v3_tsa",
    )


@contextlib.contextmanager
def serve_tsa(*extra: str) -> Iterator[tuple[str, Path]]:
    """(URL of a TSA on 127.0.0.1 answering with `openssl ts -reply ... *extra`, its CA certificate)."""
    folder = Path(tempfile.mkdtemp(prefix="archiver-tsa-"))
    make_ca(folder, "Test")
    guard = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            query = self.rfile.read(int(self.headers["Content-Length"]))
            with guard:
                (folder / "q.tsq").write_bytes(query)
                openssl(
                    folder,
                    "ts",
                    "-reply",
                    "-config",
                    "ts.cnf",
                    "-queryfile",
                    "q.tsq",
                    "-signer",
                    "tsa.crt",
                    "-inkey",
                    "tsa.key",
                    *extra,
                    "-out",
                    "r.tsr",
                )
                reply = (folder / "r.tsr").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/tsa", folder / "ca.crt"
    finally:
        server.shutdown()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def tsa() -> Iterator[tuple[str, Path]]:
    with serve_tsa() as served:
        yield served


@pytest.fixture
def archive(httpserver: HTTPServer, tmp_path: Path) -> Path:
    return capture_stories(tmp_path / "archive", httpserver, PAGE)


def test_a_timestamp_verifies_offline_with_the_tsa_certificate(archive: Path, tsa: tuple[str, Path]) -> None:
    url, ca = tsa
    made = run("timestamp", "--archive", str(archive), "--tsa", url, "--json")
    assert made.exit_code == 0, made.output
    kept = json.loads(made.stdout)
    assert kept["head"].startswith("3:") and Path(kept["token"]).exists()
    result = run("verify", "--archive", str(archive), "--tsa-cert", str(ca), "--json")
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    assert result.exit_code == 0 and checks["timestamps"] == {
        **checks["timestamps"],
        "checked": 1,
        "problems": 0,
    }


def test_truncation_after_a_timestamp_is_caught(archive: Path, tsa: tuple[str, Path]) -> None:
    url, ca = tsa
    assert run("timestamp", "--archive", str(archive), "--tsa", url).exit_code == 0
    newest = sorted((archive / "warcs").rglob("*.warc.gz"))[-1]
    newest.unlink()
    assert run("reindex", "--archive", str(archive)).exit_code == 0
    for extra in ([], ["--tsa-cert", str(ca)]):
        result = run("verify", "--archive", str(archive), *extra)
        assert result.exit_code == 1 and "the chain ends at seq 2" in result.stdout


def test_a_rewrite_after_a_timestamp_is_caught(archive: Path, tsa: tuple[str, Path]) -> None:
    url, ca = tsa
    assert run("timestamp", "--archive", str(archive), "--tsa", url).exit_code == 0
    rewrite_metadata(archive, 3, lambda m: m["manifest"].update(captured_at="2019-01-01T00:00:00.000000Z"))
    result = run("verify", "--archive", str(archive), "--tsa-cert", str(ca))
    assert result.exit_code == 1 and "the chain was rewritten up to it" in result.stdout


def test_a_token_from_another_tsa_or_forged_fails(
    archive: Path, tsa: tuple[str, Path], tmp_path: Path
) -> None:
    url, _ = tsa
    made = json.loads(run("timestamp", "--archive", str(archive), "--tsa", url, "--json").stdout)
    make_ca(tmp_path / "other", "Other")
    result = run("verify", "--archive", str(archive), "--tsa-cert", str(tmp_path / "other" / "ca.crt"))
    assert result.exit_code == 1 and "does not verify with the TSA certificate given" in result.stdout
    note = Path(made["token"]).with_suffix(".json")
    note.write_text(json.dumps({**json.loads(note.read_text()), "head": "2:" + "0" * 64}))
    forged = run("verify", "--archive", str(archive), "--tsa-cert", str(tsa[1]))
    assert forged.exit_code == 1 and "does not verify" in forged.stdout


def test_an_unreachable_tsa_is_one_line(archive: Path) -> None:
    result = run("timestamp", "--archive", str(archive), "--tsa", "http://127.0.0.1:9/tsa")
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert not (archive / "timestamps").exists()


def test_a_tsa_sending_its_chain_out_of_der_order(archive: Path) -> None:
    """`openssl ts -reply -chain` lists the TSA certificate before its CA in the SignedData's
    certificate SET, which DER forbids and rfc3161-client refuses on its own
    (InvalidSetOrdering): archiver puts the SET in DER order, keeps the TSA's bytes, and the
    token verifies offline."""
    from rfc3161_client import decode_timestamp_response

    with serve_tsa("-chain", "ca.crt") as (url, ca), tempfile.TemporaryDirectory() as keep:
        kept_ca = Path(keep) / "ca.crt"
        shutil.copy(ca, kept_ca)
        made = run("timestamp", "--archive", str(archive), "--tsa", url, "--json")
        assert made.exit_code == 0, made.output
        token = Path(json.loads(made.stdout)["token"]).read_bytes()
        with pytest.raises(ValueError, match="InvalidSetOrdering"):
            decode_timestamp_response(token)  # the TSA's bytes, kept as sent
        result = run("verify", "--archive", str(archive), "--tsa-cert", str(kept_ca), "--json")
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    assert result.exit_code == 0, result.stdout
    assert checks["timestamps"]["checked"] == 1 and checks["timestamps"]["problems"] == 0
