"""Round trips: an archive holding an article and non-HTML answers (a 404, a 204, a PDF)
served on loopback, exported, imported into a fresh archive, exported again, re-imported:
`verify --pubkey` is clean at every step, and each package passes py-wacz and wabac's check."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from pytest_httpserver import HTTPServer
from test_verify import capture
from test_wacz import wabac_verifies, wacz_validate

from helpers import run

PAGE = "<html><head><title>{t}</title></head><body><article><h1>{t}</h1><p>{b}</p></article></body></html>"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def serve(server: HTTPServer) -> list[str]:
    server.expect_request("/story").respond_with_data(
        PAGE.format(t="Council votes", b="The council voted 7 to 2 for the plan."), content_type="text/html"
    )
    server.expect_request("/gone").respond_with_data(
        PAGE.format(t="Not found", b="This story is gone."), status=404, content_type="text/html"
    )
    server.expect_request("/empty").respond_with_data(b"", status=204)
    server.expect_request("/report.pdf").respond_with_data(PDF, content_type="application/pdf")
    return [server.url_for(p) for p in ("/story", "/gone", "/empty", "/report.pdf")]


def keyed(root: Path) -> Path:
    """A fresh archive with a key; its public key exported as a third party receives it."""
    assert run("key", "init", "--archive", str(root)).exit_code == 0
    pem = root.parent / f"{root.name}.pem"
    pem.write_text(run("key", "export", "--archive", str(root)).stdout)
    return pem


def verified(target: Path, pem: Path, archive: Path | None = None) -> dict:
    """`verify --pubkey` of an archive (or of a package outside any archive): clean."""
    if archive is None:
        result = run("verify", "--archive", str(target), "--json", "--pubkey", str(pem))
    else:
        result = run("verify", "--archive", str(archive), "--json", "--pubkey", str(pem), str(target))
    report = json.loads(result.stdout)
    assert result.exit_code == 0 and report["ok"], report["problems"]
    return {c["check"]: c["checked"] for c in report["checks"]}


def exported(root: Path, pem: Path, name: str) -> Path:
    package = root.parent / f"{name}.wacz"
    assert run("export", "--archive", str(root), "-o", str(package)).exit_code == 0
    verified(package, pem, archive=root.parent / "none")
    done = wacz_validate(package)
    assert done.returncode == 0, done.stdout + done.stderr
    with zipfile.ZipFile(package) as z:
        assert wabac_verifies(json.loads(z.read("datapackage-digest.json")))
    return package


def test_export_import_export_verifies_at_every_step(httpserver: HTTPServer, tmp_path: Path) -> None:
    first = tmp_path / "first"
    first_pem = keyed(first)
    made = capture(first, *serve(httpserver))
    assert {c["status"] for c in made} >= {200, 404, 204}
    assert verified(first, first_pem)["manifests"] == 4
    package = exported(first, first_pem, "first")

    second = tmp_path / "second"
    second_pem = keyed(second)
    assert run("import", "--archive", str(second), str(package)).exit_code == 0
    imported = verified(second, second_pem)["manifests"]
    assert imported == 4  # the 204 and the PDF too
    again = exported(second, second_pem, "second")

    third = tmp_path / "third"
    third_pem = keyed(third)
    assert run("import", "--archive", str(third), str(again)).exit_code == 0
    assert verified(third, third_pem)["manifests"] == imported
    exported(third, third_pem, "third")
    for root in (first, second, third):  # the PDF is kept byte for byte at every step
        assert any(PDF in path.read_bytes() or _holds(path, PDF) for path in root.rglob("*.warc.gz"))


def _holds(path: Path, data: bytes) -> bool:
    import gzip

    try:
        return data in gzip.decompress(path.read_bytes())
    except (OSError, EOFError):
        return False
