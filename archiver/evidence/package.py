"""WACZ 1.1.1 export (the Webrecorder package format), signed when the archive has a key,
and the package check that `archiver verify FILE.wacz` runs.

A package holds the chosen captures' WARC files unchanged under `archive/` (plus the
originals of revisits and the sources of imported captures), `indexes/index.cdxj` (made by
cdxj-indexer, the indexer py-wacz uses), `pages/pages.jsonl` (one page per capture),
`datapackage.json` (SHA-256 and size of every file) and `datapackage-digest.json` (SHA-256 of
datapackage.json and, with a key, its anonymous signature per the WACZ signing spec: ECDSA
with SHA-256 over the `hash` string, raw r||s signature in base64, SPKI public key in base64).

A third party checks a package with the public key the archivist gave them:

    wacz validate -f FILE.wacz                           # structure and every file hash (py-wacz)
    archiver verify --pubkey archive.pem FILE.wacz       # also the package signature, every
                                                         # record digest and capture signature
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import zipfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from archiver import __version__
from archiver.errors import ArchiverError
from archiver.evidence import keys
from archiver.evidence.verify import (
    CaptureFile,
    Report,
    capture_in_scan,
    capture_metadata,
    check_signatures,
    report_scan,
)
from archiver.warc.scanner import read_record_at, scan_stream

WACZ_VERSION = "1.1.1"
SIGNING_SPEC_VERSION = "0.1.0"
SOFTWARE = f"archiver {__version__}"
COPY_CHUNK = 1 << 20
PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}


@dataclass
class ExportResult:
    """What `export` wrote."""

    path: Path
    captures: int
    warc_files: int
    bytes: int
    signed: bool
    public_key: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "captures": self.captures,
            "warc_files": self.warc_files,
            "bytes": self.bytes,
            "signed": self.signed,
            "public_key": self.public_key,
        }


def export(root: Path, urls: list[str], output: Path) -> ExportResult:
    """Write the captures of `urls` (all captures when empty) as a WACZ package at `output`."""
    from archiver.archive.folder import Archive

    archive = Archive(root, create=False)
    try:
        captures = _choose(archive, urls)
        files = _files(archive, captures)
    finally:
        archive.close()
    private_key = keys.load_private_key(root)
    temp = output.with_name(f".{output.name}.tmp")
    try:
        with zipfile.ZipFile(temp, "w", allowZip64=True) as package:
            resources = [_copy_into(package, f"archive/{name}", path) for name, path in files]
            resources.append(_write(package, "indexes/index.cdxj", _index(files)))
            resources.append(_write(package, "pages/pages.jsonl", _pages(captures)))
            created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            datapackage = _datapackage(resources, created, captures)
            package.writestr(_info("datapackage.json"), datapackage)
            package.writestr(
                _info("datapackage-digest.json"), _digest_file(datapackage, created, private_key)
            )
        os.replace(temp, output)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise ArchiverError(f"cannot write {output}: {exc.strerror or exc}") from None
    public = keys.public_der_b64(private_key.public_key()) if private_key else None
    return ExportResult(
        output, len(captures), len(files), output.stat().st_size, private_key is not None, public
    )


def _choose(archive: Any, urls: list[str]) -> list:
    """The captures to export, in seq order: all, or every capture of each URL."""
    from archiver.urls import canonicalize

    if not urls:
        chosen = archive.all()
    else:
        chosen = []
        for url in urls:
            found = archive.history(canonicalize(url))
            if not found:
                raise ArchiverError(f"no captures of {url} in {archive.root}")
            chosen += found
    if not chosen:
        raise ArchiverError(f"the archive {archive.root} has no captures to export")
    return sorted({c.id: c for c in chosen}.values(), key=lambda c: c.seq)


def _files(archive: Any, captures: list) -> list[tuple[str, Path]]:
    """(name in archive/, path) of each WARC the package needs: the captures' files, the
    originals their revisits point to, and the sources of imported captures."""
    wanted: dict[str, Path] = {}
    for capture in captures:
        chain = [capture]
        if capture.revisit and capture.refers_to:
            original = archive.get(capture.refers_to)
            if original is not None:
                chain.append(original)
        for item in chain:
            path = archive.root / item.warc_path
            wanted[path.name] = path
        source = _source_of(archive.root / capture.warc_path, capture.metadata_offset)
        if source:
            path = archive.root / source
            wanted[_safe_name("-".join(Path(source).parts[-2:]))] = path
    missing = [str(path) for path in wanted.values() if not path.is_file()]
    if missing:
        raise ArchiverError(f"cannot export: missing file {missing[0]} (run `archiver verify`)")
    return sorted(wanted.items())


def _source_of(path: Path, metadata_offset: int) -> str | None:
    """The imported source file a capture's manifest cites, if any."""
    try:
        record = read_record_at(path, metadata_offset)
        source = json.loads(record.content or b"")["manifest"].get("source")
    except (OSError, ValueError, KeyError, TypeError):
        raise ArchiverError(f"cannot read the metadata of {path} (run `archiver verify`)") from None
    return source.get("file") if isinstance(source, dict) else None


def _safe_name(name: str) -> str:
    """A file name frictionless accepts as a resource name (lowercase letters, digits, -._)."""
    return re.sub(r"[^a-z0-9._-]+", "-", name.lower())


def _info(name: str, stored: bool = False) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, datetime.now(UTC).timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    return info


def _copy_into(package: zipfile.ZipFile, name: str, path: Path) -> dict[str, Any]:
    """Store a WARC uncompressed in the zip (so replay can seek), hashing it on the way."""
    digest, size = hashlib.sha256(), path.stat().st_size
    with (
        open(path, "rb") as source,
        package.open(_info(name, stored=True), "w", force_zip64=size > 1 << 31) as target,
    ):
        while chunk := source.read(COPY_CHUNK):
            digest.update(chunk)
            target.write(chunk)
    return _resource(name, digest.hexdigest(), size)


def _write(package: zipfile.ZipFile, name: str, data: bytes) -> dict[str, Any]:
    package.writestr(_info(name), data)
    return _resource(name, hashlib.sha256(data).hexdigest(), len(data))


def _resource(name: str, sha256: str, size: int) -> dict[str, Any]:
    return {"name": _safe_name(Path(name).name), "path": name, "hash": f"sha256:{sha256}", "bytes": size}


def _index(files: list[tuple[str, Path]]) -> bytes:
    """Sorted CDXJ lines for the response and revisit records of every file."""
    from cdxj_indexer.main import CDXJIndexer

    lines: list[str] = []
    for name, path in files:
        out = io.StringIO()
        CDXJIndexer(out, [str(path)], filename=name, records="response,revisit").process_all()
        lines += out.getvalue().splitlines(keepends=True)
    return "".join(sorted(set(lines))).encode()


def _pages(captures: list) -> bytes:
    """pages.jsonl: one page per capture, at the URL and time it was captured."""
    lines = [PAGES_HEADER] + [{"id": c.id, "url": c.url, "ts": c.captured_at} for c in captures]
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()


def _datapackage(resources: list[dict], created: str, captures: list) -> bytes:
    first = captures[0]
    package = {
        "profile": "data-package",
        "resources": resources,
        "wacz_version": WACZ_VERSION,
        "software": SOFTWARE,
        "created": created,
        "title": f"archiver export of {len(captures)} capture(s)",
    }
    if len({c.canonical_url for c in captures}) == 1:
        package["mainPageURL"], package["mainPageDate"] = first.url, first.captured_at
    return json.dumps(package, indent=2, ensure_ascii=False).encode()


def _digest_file(datapackage: bytes, created: str, private_key: Any) -> bytes:
    """datapackage-digest.json, with the anonymous signedData when there is a key."""
    digest = "sha256:" + hashlib.sha256(datapackage).hexdigest()
    data: dict[str, Any] = {"path": "datapackage.json", "hash": digest}
    if private_key is not None:
        data["signedData"] = {
            "hash": digest,
            "created": created,
            "software": SOFTWARE,
            "version": SIGNING_SPEC_VERSION,
            "signature": keys.sign_p1363(private_key, digest.encode()),
            "publicKey": keys.public_der_b64(private_key.public_key()),
        }
    return json.dumps(data, indent=2).encode()


# -- checking a package ------------------------------------------------------------------


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
    except (ValueError, zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
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
    key = public_key if public_key is not None else carried
    if key is None:
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
    if not keys.verify_signature(key, str(signed.get("hash")).encode(), str(signed.get("signature", ""))):
        report.add(
            "signatures",
            "package signature does not verify with "
            + (key_source if public_key is not None else "the key it carries"),
            **where,
        )
        return None
    return _Signer(keys.public_der_b64(key), public_key is not None)


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
    cited: dict[str, list[tuple[str, str]]] = {}
    for item in scanned:
        found = capture_metadata(item.scan) if item.scan.records else None
        manifest = found[0].get("manifest") if found else None
        source = manifest.get("source") if isinstance(manifest, dict) else None
        if isinstance(source, dict) and isinstance(source.get("file"), str):
            name = "archive/" + _safe_name("-".join(PurePosixPath(source["file"]).parts[-2:]))
            cited.setdefault(name, []).append((str(manifest.get("capture_id")), str(source.get("sha256"))))
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
