"""The WACZ package check `archiver verify FILE.wacz` (and `import`) runs: the file hashes
and sizes datapackage.json lists, the datapackage digest and its anonymous signature (WACZ
signing spec), and every WARC record inside, the package's own captures as members of its
chain, the imported sources they cite by their SHA-256."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from archiver.errors import ArchiverError
from archiver.evidence import keys
from archiver.evidence.findings import Report, report_scan
from archiver.evidence.signatures import check_signatures
from archiver.evidence.warcfile import capture_in_scan
from archiver.record import CaptureFile, find_metadata
from archiver.warc.scanner import scan_stream

COPY_CHUNK = 1 << 20


def resource_name(name: str) -> str:
    """A file name frictionless accepts as a resource name (lowercase letters, digits, -._)."""
    return re.sub(r"[^a-z0-9._-]+", "-", name.lower())


@dataclass
class _Signer:
    """Who signed a package: the key (base64 DER) its signature verifies with, and whether
    that key is the trusted one (--pubkey) rather than the one the package carries."""

    key: str
    trusted: bool


def check_package(path: Path, public_key: Any, key_source: str) -> Report:
    """File hashes and sizes, the datapackage digest and signature, and every WARC record
    inside: the package's own captures as members of its chain, the imported sources they
    cite by their SHA-256."""
    report = Report()
    report.count("package")
    where = {"path": str(path)}
    try:
        package = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        report.add("package", f"not a readable zip file ({_one_line(exc)})", **where)
        return report
    with package:
        names: dict[str, zipfile.ZipInfo] = {}
        for info in package.infolist():
            if info.is_dir():
                continue
            if info.filename in names:
                report.add(
                    "package",
                    "the zip holds more than one entry of this name",
                    path=f"{path}!{info.filename}",
                )
            names[info.filename] = info
        read = _read_datapackage(report, package, where)
        if read is None:
            return report
        datapackage, created, resources = read
        signer = _check_digest_file(report, package, datapackage, created, public_key, key_source, where)
        _check_resources(report, package, resources, names, path, public_key, key_source, signer)
    return report


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _read_json(report: Report, package: zipfile.ZipFile, name: str, where: dict) -> Any:
    """The parsed JSON of a package entry, or None (a problem reported) when it is unreadable."""
    try:
        return json.loads(package.read(name))
    except KeyError:
        report.add("package", f"the package has no {name}", **where)
    except (ValueError, RecursionError, zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        report.add("package", f"{name} is not readable JSON ({_one_line(exc)})", **where)
    return None


def _read_datapackage(
    report: Report, package: zipfile.ZipFile, where: dict
) -> tuple[bytes, Any, list[dict]] | None:
    data = _read_json(report, package, "datapackage.json", where)
    if data is None:
        return None
    resources = data.get("resources") if isinstance(data, dict) else None
    if not isinstance(resources, list) or not all(
        isinstance(r, dict) and isinstance(r.get("path"), str) for r in resources
    ):
        report.add("package", "datapackage.json has no list of resources each with a path", **where)
        return None
    return package.read("datapackage.json"), data.get("created"), resources


def _check_digest_file(
    report: Report,
    package: zipfile.ZipFile,
    datapackage: bytes,
    created: Any,
    public_key: Any,
    key_source: str,
    where: dict,
) -> _Signer | None:
    """datapackage-digest.json: the hash of datapackage.json and its signature; the signer
    when the signature verifies."""
    digest_file = _read_json(report, package, "datapackage-digest.json", where)
    if digest_file is None:
        return None
    if not isinstance(digest_file, dict):
        report.add("package", "datapackage-digest.json is not a JSON object", **where)
        return None
    digest = "sha256:" + hashlib.sha256(datapackage).hexdigest()
    if digest_file.get("hash") != digest:
        report.add("package", "datapackage.json does not match datapackage-digest.json", **where)
    signed = digest_file.get("signedData")
    if signed is None:
        if public_key is not None:
            report.add("signatures", "package is not signed", **where)
        return None
    report.count("signatures")
    if not isinstance(signed, dict):
        report.add("signatures", "signedData in datapackage-digest.json is not a JSON object", **where)
        return None
    if signed.get("created") != created:
        report.add("package", "signedData created differs from the created time in datapackage.json", **where)
    if "publicKey" not in signed and "domainCert" in signed:
        if public_key is not None:
            report.add(
                "signatures", f"package is signed with a domain certificate, not the {key_source}", **where
            )
        else:
            report.notes.append(
                "the package signature is in the domain-certificate form, which archiver does not check"
            )
        return None
    carried = _ec_key(signed.get("publicKey"))
    if carried is None:
        report.add("signatures", "package signature carries no readable public key", **where)
        return None
    if public_key is None:
        report.notes.append(
            "no --pubkey: the package signature was checked only against the "
            "public key it carries, which proves integrity, not authorship"
        )
    if signed.get("hash") != digest:
        report.add("signatures", "signed hash is not the digest of datapackage.json", **where)
        return None
    if not keys.verify_signature(carried, str(signed.get("hash")).encode(), str(signed.get("signature", ""))):
        report.add("signatures", "package signature does not verify with the key it carries", **where)
        return None
    owner = _owner(report, signed, carried, where)
    if owner is None:
        return None
    if public_key is not None and keys.fingerprint(public_key) not in {
        keys.fingerprint(owner),
        keys.fingerprint(carried),
    }:
        report.add(
            "signatures",
            f"package is signed by key {keys.fingerprint(owner)}, not the {key_source}",
            **where,
        )
        return None
    return _Signer(keys.public_der_b64(owner), public_key is not None)


def _owner(report: Report, signed: dict, carried: Any, where: dict) -> Any:
    """Whose package this is: the archive key that endorsed the package key (our P-384
    packages), else the package key itself (our older P-256 packages, others' packages);
    None when the endorsement does not verify."""
    endorsement = signed.get("endorsedBy")
    if endorsement is None:
        return carried
    endorser = _ec_key(endorsement.get("publicKey")) if isinstance(endorsement, dict) else None
    if endorser is None:
        report.add("signatures", "the package key's endorsement carries no readable public key", **where)
        return None
    if not keys.endorses(endorser, str(signed.get("publicKey")), endorsement):
        report.add("signatures", "the package key's endorsement does not verify", **where)
        return None
    return endorser


def _ec_key(text: Any) -> Any:
    """An elliptic-curve public key from base64 DER, or None."""
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        key = keys.load_public_der_b64(str(text or ""))
    except ArchiverError:
        return None
    return key if isinstance(key, ec.EllipticCurvePublicKey) else None


def _normal_key(text: Any) -> str:
    key = _ec_key(text)
    return keys.public_der_b64(key) if key is not None else str(text)


@dataclass
class _Scanned:
    name: str
    where: str
    scan: Any
    sha256: str


def _check_resources(
    report: Report,
    package: zipfile.ZipFile,
    resources: list[dict],
    names: dict[str, zipfile.ZipInfo],
    path: Path,
    public_key: Any,
    key_source: str,
    signer: _Signer | None,
) -> None:
    listed = {str(r["path"]): r for r in resources}
    for name in sorted(set(names) - set(listed) - {"datapackage.json", "datapackage-digest.json"}):
        report.add("package", "file is not listed in datapackage.json", path=f"{path}!{name}")
    scanned: list[_Scanned] = []
    for name, resource in sorted(listed.items()):
        report.count("files")
        where = f"{path}!{name}"
        if name not in names:
            report.add("files", "file listed in datapackage.json is missing", path=where)
            continue
        info, scan = names[name], None
        try:
            with package.open(info) as handle:
                hashing = _HashingReader(handle)
                if name.startswith("archive/") and ".warc" in name:
                    scan = scan_stream(hashing, where, info.file_size)
                hashing.drain()
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error, RuntimeError) as exc:
            report.add("package", f"cannot read the file from the zip ({_one_line(exc)})", path=where)
            continue
        sha256 = hashing.digest.hexdigest()
        if resource.get("hash") != "sha256:" + sha256:
            report.add("package", "file hash differs from datapackage.json", path=where)
        if "bytes" in resource and resource["bytes"] != info.file_size:
            report.add(
                "package",
                f"file size {info.file_size} differs from the bytes "
                f"{resource['bytes']!r} in datapackage.json",
                path=where,
            )
        if scan is not None:
            report_scan(report, scan, None, where)
            scanned.append(_Scanned(name, where, scan, sha256))
    captures = _package_captures(report, scanned, path)
    if signer is not None:
        capture_keys = {
            _normal_key(c.metadata["signature"].get("publicKey"))
            for c in captures
            if isinstance(c.metadata.get("signature"), dict)
        }
        if capture_keys - {signer.key}:
            report.add("signatures", "package signed by a different key than its captures", path=str(path))
    trusted = signer is not None and signer.trusted
    unkeyed = report.unsigned_unkeyed
    check_signatures(
        report,
        captures,
        public_key,
        key_source,
        require=public_key is not None and not trusted,
        path_of=lambda capture: capture.scan.path,
        location=str(path),
    )
    if trusted and report.unsigned_unkeyed > unkeyed:
        report.notes.append(
            f"{report.unsigned_unkeyed - unkeyed} capture(s) in {path.name} are "
            f"unsigned (made before the archive had a key); the package "
            f"signature, valid with the {key_source}, covers them"
        )


def _package_captures(report: Report, scanned: list[_Scanned], path: Path) -> list[CaptureFile]:
    """The package's own captures. WARCs cited as imported sources by a capture's manifest are
    checked against the SHA-256 it records, not as captures of this package's chain (a
    source from another archiver holds that archive's captures, with their own chain)."""
    citations: dict[str, tuple[str, str, str]] = {}  # file -> (source cited, capture id, sha256)
    for item in scanned:
        found = find_metadata(item.scan) if item.scan.records else None
        manifest = found[0].get("manifest") if found else None
        source = manifest.get("source") if isinstance(manifest, dict) else None
        if isinstance(manifest, dict) and isinstance(source, dict) and isinstance(source.get("file"), str):
            name = "archive/" + resource_name("-".join(PurePosixPath(source["file"]).parts[-2:]))
            citations[item.name] = (name, str(manifest.get("capture_id")), str(source.get("sha256")))
    # a source that is itself another archive's import cites files of that archive, not of this package
    sources = {name for name, _, _ in citations.values()}
    cited: dict[str, list[tuple[str, str]]] = {}
    for item_name, (name, capture_id, sha256) in citations.items():
        if item_name not in sources:
            cited.setdefault(name, []).append((capture_id, sha256))
    present = {item.name for item in scanned}
    for name, citing in sorted(cited.items()):
        if name not in present:
            report.count("files")
            report.add(
                "files",
                "imported source file cited by a capture is missing",
                capture=citing[0][0],
                path=f"{path}!{name}",
            )
    captures: list[CaptureFile] = []
    for item in scanned:
        if item.name not in cited:
            captures += capture_in_scan(report, item.scan, item.where)
            continue
        for capture_id, sha256 in cited[item.name]:
            if sha256 != item.sha256:
                report.add(
                    "files",
                    "source file SHA-256 differs from the one its capture manifest records",
                    capture=capture_id,
                    path=item.where,
                )
    return captures


class _HashingReader:
    """A read-only stream that hashes what is read through it."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle, self.digest = handle, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data

    def drain(self) -> None:
        while self.read(COPY_CHUNK):
            pass
