"""archiver export: real WACZ packages, checked by py-wacz's validator, pywb and our verify."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from interop import pywb_get
from pytest_httpserver import HTTPServer
from test_verify import Built, build_archive, capture

from helpers import run

WACZ_TOOL = Path(sys.executable).parent / "wacz"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    http = HTTPServer(host="127.0.0.1", port=0)
    http.start()
    yield build_archive(tmp_path_factory.mktemp("wacz") / "archive", http)
    http.clear()
    http.stop()


@pytest.fixture(scope="module")
def package(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("out") / "all.wacz"
    result = run("export", "--archive", str(built.root), "-o", str(path))
    assert result.exit_code == 0 and "signed" in result.stdout
    return path


def wacz_validate(path: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(WACZ_TOOL), "validate", "-f", str(path), *extra], capture_output=True, text=True, timeout=120
    )


def test_layout_and_py_wacz_validation(package: Path, built: Built) -> None:
    with zipfile.ZipFile(package) as z:
        names = z.namelist()
        assert {
            "indexes/index.cdxj",
            "pages/pages.jsonl",
            "datapackage.json",
            "datapackage-digest.json",
        } <= set(names)
        warcs = [n for n in names if n.startswith("archive/")]
        assert len(warcs) == 7 and all(n.endswith(".warc.gz") for n in warcs)
        assert all(z.getinfo(n).compress_type == zipfile.ZIP_STORED for n in warcs)
        datapackage = json.loads(z.read("datapackage.json"))
        assert datapackage["wacz_version"] == "1.1.1" and datapackage["profile"] == "data-package"
        for resource in datapackage["resources"]:
            assert resource["hash"] == "sha256:" + hashlib.sha256(z.read(resource["path"])).hexdigest()
            assert resource["bytes"] == z.getinfo(resource["path"]).file_size
        files = {p.name: p for p in (built.root / "warcs").rglob("*.warc.gz")}
        for name in warcs:  # the capture files, unchanged
            assert z.read(name) == files[Path(name).name].read_bytes()
        pages = [json.loads(line) for line in z.read("pages/pages.jsonl").splitlines()]
        assert pages[0]["format"] == "json-pages-1.0" and len(pages) == 8
        assert {p["id"] for p in pages[1:]} == set(built.ids)
    done = wacz_validate(package)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "is valid" in done.stdout


def wabac_verifies(digest_file: dict) -> bool:
    """ReplayWeb.page's check of an anonymous WACZ signature (wabac.js src/wacz/certutils.ts,
    verifyWACZSignature, and waczimporter.ts loadDigestData), redone with `cryptography`: the
    signedData hash must be the digest file's hash of datapackage.json; WebCrypto imports the
    base64 SPKI `publicKey` with namedCurve P-384 (another curve throws); ECDSA with SHA-256
    over the UTF-8 `hash` string, the base64 `signature` taken as IEEE P1363 r||s (WebCrypto
    takes no DER: any other length is false)."""
    signed = digest_file.get("signedData")
    if digest_file.get("path") != "datapackage.json" or not signed or signed["hash"] != digest_file["hash"]:
        return False
    key = serialization.load_der_public_key(base64.b64decode(signed["publicKey"]))
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP384R1):
        raise ValueError("WebCrypto importKey(spki, P-384) fails on this key")
    raw = base64.b64decode(signed["signature"])
    if len(raw) != 96:
        return False
    der = encode_dss_signature(int.from_bytes(raw[:48], "big"), int.from_bytes(raw[48:], "big"))
    try:
        key.verify(der, signed["hash"].encode("utf-8"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def test_replayweb_page_verifies_the_package_signature(package: Path, built: Built) -> None:
    """Signed per the WACZ signing spec as wabac checks it: P-384, SHA-256 over the hash string,
    raw r||s; the package key is endorsed by the archive key `key export` publishes."""
    with zipfile.ZipFile(package) as z:
        digest_file = json.loads(z.read("datapackage-digest.json"))
        datapackage = z.read("datapackage.json")
    signed = digest_file["signedData"]
    assert set(signed) == {"hash", "created", "software", "version", "signature", "publicKey", "endorsedBy"}
    assert digest_file["hash"] == signed["hash"] == "sha256:" + hashlib.sha256(datapackage).hexdigest()
    assert signed["created"] == json.loads(datapackage)["created"]
    assert wabac_verifies(digest_file)
    forged = {**digest_file, "signedData": {**signed, "hash": "sha256:" + "0" * 64}}
    forged["hash"] = forged["signedData"]["hash"]
    assert not wabac_verifies(forged)

    published = serialization.load_pem_public_key(
        run("key", "export", "--archive", str(built.root)).stdout.encode()
    )
    assert isinstance(published, ec.EllipticCurvePublicKey)
    endorsement = signed["endorsedBy"]
    assert base64.b64decode(endorsement["publicKey"]) == published.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    published.verify(  # the archive key (P-256, DER signature) signs the package key
        base64.b64decode(endorsement["signature"]),
        b"archiver WACZ package key\n" + signed["publicKey"].encode(),
        ec.ECDSA(hashes.SHA256()),
    )


WEBCRYPTO_CHECK = """
const digestData = JSON.parse(require("fs").readFileSync(0, "utf8"));
const { hash, signature, publicKey } = digestData.signedData;
const subtle = require("crypto").webcrypto.subtle;
(async () => {
  const key = await subtle.importKey("spki", Buffer.from(publicKey, "base64"),
    { name: "ECDSA", namedCurve: "P-384" }, true, ["verify"]);
  const valid = await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key,
    Buffer.from(signature, "base64"), new TextEncoder().encode(hash));
  process.stdout.write(valid ? "valid" : "invalid");
})().catch((e) => { process.stdout.write("error " + e); });
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js for WebCrypto")
def test_webcrypto_verifies_the_package_signature_as_wabac_calls_it(package: Path) -> None:
    """The very WebCrypto calls of wabac's verifyWACZSignature (importKey spki P-384, verify
    ECDSA SHA-256 over the encoded hash string), run by Node: no reimplementation between."""
    with zipfile.ZipFile(package) as z:
        digest_file = z.read("datapackage-digest.json")
    done = subprocess.run(["node", "-e", WEBCRYPTO_CHECK], input=digest_file, capture_output=True, timeout=60)
    assert done.stdout == b"valid", done.stdout + done.stderr
    forged = json.loads(digest_file)
    forged["signedData"]["hash"] = "sha256:" + "0" * 64
    done = subprocess.run(
        ["node", "-e", WEBCRYPTO_CHECK], input=json.dumps(forged).encode(), capture_output=True, timeout=60
    )
    assert done.stdout == b"invalid", done.stdout + done.stderr


def test_the_package_key_is_the_same_for_every_export(package: Path, built: Built, tmp_path: Path) -> None:
    """Derived from the archive key: a verifier who noted it once recognises the next package."""
    again = tmp_path / "again.wacz"
    assert run("export", "--archive", str(built.root), "-o", str(again)).exit_code == 0
    keys_of = []
    for path in (package, again):
        with zipfile.ZipFile(path) as z:
            keys_of.append(json.loads(z.read("datapackage-digest.json"))["signedData"]["publicKey"])
    assert keys_of[0] == keys_of[1]
    told = run("export", "--archive", str(built.root), "--json", "-o", str(tmp_path / "third.wacz"))
    assert json.loads(told.stdout)["package_key"] == keys_of[0]  # what ReplayWeb.page shows


def sign_p256(package: Path, target: Path, private_key: ec.EllipticCurvePrivateKey) -> None:
    """Re-sign a package as archiver did before P-384 (and as others do): the P-256 key itself
    in signedData, raw r||s over the hash string, no endorsement."""
    with zipfile.ZipFile(package) as z:
        digest_file = json.loads(z.read("datapackage-digest.json"))
        created = json.loads(z.read("datapackage.json"))["created"]
    der = private_key.sign(digest_file["hash"].encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    digest_file["signedData"] = {
        "hash": digest_file["hash"],
        "created": created,
        "software": "someone else 1.0",
        "signature": base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode(),
        "publicKey": base64.b64encode(
            private_key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        ).decode(),
    }
    rewrite(package, target, {"datapackage-digest.json": json.dumps(digest_file).encode()})


def test_older_p256_packages_still_verify_and_import(package: Path, built: Built, tmp_path: Path) -> None:
    from archiver.evidence import keys

    old = tmp_path / "old.wacz"
    sign_p256(package, old, keys.load_private_key(built.root))
    pem = tmp_path / "archive.pem"
    pem.write_text(run("key", "export", "--archive", str(built.root)).stdout)
    for extra in ((), ("--pubkey", str(pem))):
        result = run("verify", "--archive", str(tmp_path / "none"), "--json", *extra, str(old))
        assert result.exit_code == 0, problems_of(result)
    fresh = tmp_path / "fresh"
    assert run("key", "init", "--archive", str(fresh)).exit_code == 0
    assert run("import", "--archive", str(fresh), str(old)).exit_code == 0
    assert run("verify", "--archive", str(fresh)).exit_code == 0


def test_others_p256_package_verifies_pinned_and_imports(tmp_path: Path, httpserver: HTTPServer) -> None:
    """Another tool's package of unsigned captures, signed with its own P-256 key."""
    httpserver.expect_request("/a").respond_with_data("<html><p>a</p></html>", content_type="text/html")
    root = tmp_path / "theirs"
    capture(root, httpserver.url_for("/a"))
    unsigned, signed = tmp_path / "unsigned.wacz", tmp_path / "signed.wacz"
    assert run("export", "--archive", str(root), "-o", str(unsigned)).exit_code == 0
    theirs = ec.generate_private_key(ec.SECP256R1())
    sign_p256(unsigned, signed, theirs)
    pem = tmp_path / "theirs.pem"
    pem.write_bytes(
        theirs.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    result = run("verify", "--archive", str(tmp_path / "none"), "--json", "--pubkey", str(pem), str(signed))
    assert result.exit_code == 0, problems_of(result)
    other = tmp_path / "other.pem"
    other.write_bytes(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    result = run("verify", "--archive", str(tmp_path / "none"), "--json", "--pubkey", str(other), str(signed))
    assert result.exit_code == 1
    assert any("package is signed by key sha256:" in p["message"] for p in problems_of(result))
    assert run("import", "--archive", str(tmp_path / "mine"), str(signed)).exit_code == 0


def test_a_forged_endorsement_is_caught(package: Path, built: Built, tmp_path: Path) -> None:
    """An attacker re-signs the package with their own P-384 key and keeps the archive key's
    endorsement (of the real package key): wabac shows their key, verify refuses it."""
    from archiver.evidence import keys

    with zipfile.ZipFile(package) as z:
        digest_file = json.loads(z.read("datapackage-digest.json"))
    theirs = ec.generate_private_key(ec.SECP384R1())
    digest_file["signedData"]["publicKey"] = keys.public_der_b64(theirs.public_key())
    digest_file["signedData"]["signature"] = keys.sign_p1363(theirs, digest_file["hash"].encode())
    assert wabac_verifies(digest_file)
    forged = tmp_path / "forged.wacz"
    rewrite(package, forged, {"datapackage-digest.json": json.dumps(digest_file).encode()})
    pem = tmp_path / "archive.pem"
    pem.write_text(run("key", "export", "--archive", str(built.root)).stdout)
    for extra in ((), ("--pubkey", str(pem))):
        result = run("verify", "--archive", str(tmp_path / "none"), "--json", *extra, str(forged))
        assert result.exit_code == 1
        assert "the package key's endorsement does not verify" in [p["message"] for p in problems_of(result)]
    refused = run("import", "--archive", str(tmp_path / "mine"), str(forged))
    assert refused.exit_code == 2 and "endorsement does not verify" in refused.stderr


def test_third_party_verify_with_pubkey(package: Path, built: Built, tmp_path: Path) -> None:
    pem = tmp_path / "archive.pem"
    pem.write_text(run("key", "export", "--archive", str(built.root)).stdout)
    result = run("verify", "--archive", str(tmp_path / "none"), "--json", "--pubkey", str(pem), str(package))
    report = json.loads(result.stdout)
    assert result.exit_code == 0 and report["ok"], report
    checked = {c["check"]: c["checked"] for c in report["checks"]}
    assert checked["signatures"] == 8 and checked["manifests"] == 7  # package + 7 captures

    other = tmp_path / "other.pem"
    other.write_bytes(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    result = run(
        "verify", "--archive", str(tmp_path / "none"), "--json", "--pubkey", str(other), str(package)
    )
    assert result.exit_code == 1
    assert len(json.loads(result.stdout)["problems"]) == 8


def rewrite(package: Path, target: Path, change: dict[str, bytes]) -> None:
    with zipfile.ZipFile(package) as source, zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            out.writestr(info, change.get(info.filename, source.read(info.filename)))


def test_tampered_package_is_found(package: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(package) as z:
        name = next(n for n in z.namelist() if n.startswith("archive/"))
        data = bytearray(z.read(name))
        pages = z.read("pages/pages.jsonl")
    data[len(data) // 2] ^= 0xFF
    for index, change in enumerate(({name: bytes(data)}, {"pages/pages.jsonl": pages + b"{}\n"})):
        changed = tmp_path / f"changed{index}.wacz"
        rewrite(package, changed, change)
        result = run("verify", "--archive", str(tmp_path), "--json", str(changed))
        assert result.exit_code == 1, result.stdout
        assert wacz_validate(changed).returncode == 1


def test_pywb_replays_the_package(package: Path, built: Built, tmp_path: Path) -> None:
    """pywb serves the package's WARCs through the package's own index (pywb runs in a child
    process: it monkey-patches threads with gevent)."""
    collection = tmp_path / "collections" / "news"
    (collection / "archive").mkdir(parents=True)
    (collection / "indexes").mkdir()
    with zipfile.ZipFile(package) as z:
        for name in z.namelist():
            if name.startswith("archive/") or name == "indexes/index.cdxj":
                (collection / name).write_bytes(z.read(name))
    row = built.row(6)  # a revisit: pywb resolves it to the payload of capture 5
    stamp = row["captured_at"][:19].replace("-", "").replace("T", "").replace(":", "")
    response = pywb_get(f"/news/{stamp}id_/{built.urls['other']}", tmp_path)
    assert response["status"] == 200 and response["type"].startswith("text/html")
    assert "x" * 5000 in response["body"] and "<h1>Other</h1>" in response["body"]


def test_export_one_url_brings_revisit_originals(built: Built, tmp_path: Path) -> None:
    path = tmp_path / "story.wacz"
    result = run("export", "--archive", str(built.root), "--json", "-o", str(path), built.urls["story"])
    assert result.exit_code == 0 and json.loads(result.stdout)["captures"] == 3
    with zipfile.ZipFile(path) as z:
        pages = [json.loads(line) for line in z.read("pages/pages.jsonl").splitlines()[1:]]
        assert [p["id"] for p in pages] == [built.ids[0], built.ids[1], built.ids[3]]
        index = z.read("indexes/index.cdxj").decode().splitlines()
    assert len(index) == 3 and sum('"warc/revisit"' in line for line in index) == 1
    assert wacz_validate(path).returncode == 0


def test_unsigned_archive_exports_unsigned(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a").respond_with_data("<html><p>a</p></html>", content_type="text/html")
    root = tmp_path / "plain"
    capture(root, httpserver.url_for("/a"))
    path = tmp_path / "plain.wacz"
    assert "unsigned" in run("export", "--archive", str(root), "-o", str(path)).stdout
    with zipfile.ZipFile(path) as z:
        assert "signedData" not in json.loads(z.read("datapackage-digest.json"))
    assert wacz_validate(path).returncode == 0
    assert run("verify", "--archive", str(root), str(path)).exit_code == 0


def test_export_errors(built: Built, tmp_path: Path) -> None:
    result = run(
        "export", "--archive", str(built.root), "-o", str(tmp_path / "x.wacz"), "http://127.0.0.1:1/never"
    )
    assert result.exit_code == 2 and "no captures" in result.stderr
    assert not (tmp_path / "x.wacz").exists()


def problems_of(result) -> list[dict]:
    return json.loads(result.stdout)["problems"]


def test_package_signed_by_another_key_than_its_captures(package: Path, tmp_path: Path) -> None:
    from archiver.evidence import keys
    from archiver.evidence.export import _digest_file

    with zipfile.ZipFile(package) as z:
        datapackage = z.read("datapackage.json")
        created = json.loads(z.read("datapackage-digest.json"))["signedData"]["created"]
    other = tmp_path / "other"
    keys.init_key(other)
    resigned = tmp_path / "resigned.wacz"
    rewrite(
        package,
        resigned,
        {"datapackage-digest.json": _digest_file(datapackage, created, keys.load_private_key(other))},
    )
    result = run("verify", "--archive", str(tmp_path / "none"), "--json", str(resigned))
    assert result.exit_code == 1
    assert [p["message"] for p in problems_of(result)] == [
        "package signed by a different key than its captures"
    ]


@pytest.mark.parametrize(
    "change",
    [
        "digest file a list",
        "resources of strings",
        "datapackage a list",
        "garbage public key",
        "signedData a string",
    ],
)
def test_malformed_package_json_is_a_problem_not_a_traceback(
    change: str, package: Path, tmp_path: Path
) -> None:
    with zipfile.ZipFile(package) as z:
        digest_file = json.loads(z.read("datapackage-digest.json"))
    if change == "digest file a list":
        edit = {"datapackage-digest.json": b"[1, 2]"}
    elif change == "resources of strings":
        edit = {"datapackage.json": b'{"resources": ["x"]}'}
    elif change == "datapackage a list":
        edit = {"datapackage.json": b"[]"}
    elif change == "garbage public key":
        digest_file["signedData"]["publicKey"] = "garbage"
        edit = {"datapackage-digest.json": json.dumps(digest_file).encode()}
    else:
        digest_file["signedData"] = "signed"
        edit = {"datapackage-digest.json": json.dumps(digest_file).encode()}
    changed = tmp_path / "changed.wacz"
    rewrite(package, changed, edit)
    result = run("verify", "--archive", str(tmp_path / "none"), "--json", str(changed))
    assert result.exit_code == 1, result.output
    assert problems_of(result) and not result.stderr


def test_created_time_and_sizes_are_checked(package: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(package) as z:
        digest_file = json.loads(z.read("datapackage-digest.json"))
        datapackage = json.loads(z.read("datapackage.json"))
    digest_file["signedData"]["created"] = "2020-01-01T00:00:00Z"
    changed = tmp_path / "created.wacz"
    rewrite(package, changed, {"datapackage-digest.json": json.dumps(digest_file).encode()})
    result = run("verify", "--archive", str(tmp_path / "none"), "--json", str(changed))
    assert result.exit_code == 1
    assert [p["message"] for p in problems_of(result)] == [
        "signedData created differs from the created time in datapackage.json"
    ]

    datapackage["resources"][0]["bytes"] += 1
    changed = tmp_path / "bytes.wacz"
    rewrite(package, changed, {"datapackage.json": json.dumps(datapackage).encode()})
    result = run("verify", "--archive", str(tmp_path / "none"), "--json", str(changed))
    assert result.exit_code == 1
    assert any(
        p["message"].startswith("file size ")
        and p["path"].endswith("!" + datapackage["resources"][0]["path"])
        for p in problems_of(result)
    )


def test_extra_and_missing_files(package: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(package) as z:
        name = next(n for n in z.namelist() if n.startswith("archive/"))
    extra, missing = tmp_path / "extra.wacz", tmp_path / "missing.wacz"
    rewrite(package, extra, {})
    with zipfile.ZipFile(extra, "a") as z:
        z.writestr("notes.txt", b"hello")
    with zipfile.ZipFile(package) as source, zipfile.ZipFile(missing, "w") as out:
        for info in source.infolist():
            if info.filename != name:
                out.writestr(info, source.read(info.filename))
    for changed, message in (
        (extra, "file is not listed in datapackage.json"),
        (missing, "file listed in datapackage.json is missing"),
    ):
        result = run("verify", "--archive", str(tmp_path / "none"), "--json", str(changed))
        assert result.exit_code == 1 and message in [p["message"] for p in problems_of(result)]


def test_pubkey_covers_captures_made_before_the_key(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a").respond_with_data("<html><p>a</p></html>", content_type="text/html")
    root = tmp_path / "early"
    capture(root, httpserver.url_for("/a"))
    assert run("key", "init", "--archive", str(root)).exit_code == 0
    path, pem = tmp_path / "early.wacz", tmp_path / "archive.pem"
    assert run("export", "--archive", str(root), "-o", str(path)).exit_code == 0
    pem.write_text(run("key", "export", "--archive", str(root)).stdout)
    result = run("verify", "--archive", str(tmp_path / "none"), "--json", "--pubkey", str(pem), str(path))
    report = json.loads(result.stdout)
    assert result.exit_code == 0 and report["ok"], report
    assert any("unsigned" in note and "package signature" in note for note in report["notes"])

    other = tmp_path / "other"  # a package not signed with the given key: nothing ties them
    assert run("key", "init", "--archive", str(other)).exit_code == 0
    pem.write_text(run("key", "export", "--archive", str(other)).stdout)
    result = run("verify", "--archive", str(tmp_path / "none"), "--json", "--pubkey", str(pem), str(path))
    found = [p for p in problems_of(result) if p["message"].startswith("none of the 1 captures")]
    assert result.exit_code == 1 and found and found[0]["path"] == str(path)


def test_reexport_of_an_imported_signed_package(tmp_path: Path, httpserver: HTTPServer) -> None:
    """The second archive's package holds the first archive's capture files as imported
    sources: checked by their digests, not as captures of the second archive's chain."""
    httpserver.expect_request("/a").respond_with_data("<html><p>a</p></html>", content_type="text/html")
    httpserver.expect_request("/b").respond_with_data("<html><p>b</p></html>", content_type="text/html")
    first, second = tmp_path / "first", tmp_path / "second"
    for root in (first, second):
        assert run("key", "init", "--archive", str(root)).exit_code == 0
    capture(first, httpserver.url_for("/a"))
    capture(second, httpserver.url_for("/b"))
    exported, again = tmp_path / "first.wacz", tmp_path / "second.wacz"
    assert run("export", "--archive", str(first), "-o", str(exported)).exit_code == 0
    assert run("import", "--archive", str(second), str(exported)).exit_code == 0
    capture(second, httpserver.url_for("/b"))
    assert run("export", "--archive", str(second), "-o", str(again)).exit_code == 0
    pem = tmp_path / "second.pem"
    pem.write_text(run("key", "export", "--archive", str(second)).stdout)
    for extra in ((), ("--pubkey", str(pem))):
        result = run("verify", "--archive", str(tmp_path / "none"), "--json", *extra, str(again))
        report = json.loads(result.stdout)
        assert result.exit_code == 0 and report["ok"], report["problems"]
        assert {c["check"]: c["checked"] for c in report["checks"]}["manifests"] == 3

    with zipfile.ZipFile(again) as z:  # a source changed inside the package is still found
        source = next(
            n
            for n in z.namelist()
            if n.startswith("archive/")
            and z.getinfo(n).file_size
            and n not in {f"archive/{p.name}" for p in (second / "warcs").rglob("*.warc.gz")}
        )
        data = bytearray(z.read(source))
    data[8] ^= 0x01  # gzip header: decompresses the same, only the file's SHA-256 differs
    with zipfile.ZipFile(again) as z:
        datapackage = json.loads(z.read("datapackage.json"))
    for resource in datapackage["resources"]:
        if resource["path"] == source:
            resource["hash"] = "sha256:" + hashlib.sha256(bytes(data)).hexdigest()
    changed = tmp_path / "changed.wacz"
    rewrite(again, changed, {source: bytes(data), "datapackage.json": json.dumps(datapackage).encode()})
    result = run("verify", "--archive", str(tmp_path / "none"), "--json", str(changed))
    assert "source file SHA-256 differs from the one its capture manifest records" in [
        p["message"] for p in problems_of(result)
    ]
