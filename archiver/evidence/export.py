"""WACZ 1.1.1 export (the Webrecorder package format), signed when the archive has a key
(the check of a package is package.py).

A package holds each chosen capture as a WARC file of its own under `archive/`, its bytes
exactly as stored (its range of the rolling file it was appended to), plus the originals of
revisits and the sources of imported captures; `indexes/index.cdxj` (made by
cdxj-indexer, the indexer py-wacz uses), `pages/pages.jsonl` (one page per capture),
`datapackage.json` (SHA-256 and size of every file) and `datapackage-digest.json` (SHA-256 of
datapackage.json and, with a key, its anonymous signature per the WACZ signing spec: ECDSA
P-384 (the only curve ReplayWeb.page imports) with SHA-256 over the `hash` string, raw r||s
signature in base64, SPKI public key in base64; `endorsedBy` is the archive key's signature
over that package key, see keys.package_key).

A third party checks a package with the public key the archivist gave them:

    wacz validate -f FILE.wacz                           # structure and every file hash (py-wacz)
    archiver verify --pubkey archive.pem FILE.wacz       # also the package signature, every
                                                         # record digest and capture signature
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from archiver import __version__
from archiver.archive.layout import SOURCES
from archiver.errors import ArchiverError
from archiver.evidence import keys
from archiver.evidence.package import resource_name
from archiver.output.files import write_output
from archiver.warc.scanner import Window, read_record_at

WACZ_VERSION = "1.1.1"
SIGNING_SPEC_VERSION = "0.1.0"
SOFTWARE = f"archiver {__version__}"
COPY_CHUNK = 1 << 20
Part = tuple[Path, int, int]  # a file, and the start and length of the bytes wanted from it
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
    signed_captures: int
    package_key: str | None = None  # the P-384 key ReplayWeb.page shows as the signer

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "captures": self.captures,
            "warc_files": self.warc_files,
            "bytes": self.bytes,
            "signed": self.signed,
            "public_key": self.public_key,
            "signed_captures": self.signed_captures,
            "package_key": self.package_key,
        }


def export(root: Path, urls: list[str], output: Path) -> ExportResult:
    """Write the captures of `urls` (all captures when empty) as a WACZ package at `output`
    (a file, a device or pipe, or "-" for stdout)."""
    from archiver.archive.folder import Archive

    with Archive(root, create=False) as archive:
        captures = _choose(archive, urls)
        files, copies = _files(archive, captures)
    _check_first(root, [] if not urls else [c.id for c in captures])
    private_key = keys.load_private_key(root)
    if private_key is None and keys.public_key_path(root).exists():
        raise ArchiverError(
            "the archive has a key but its private key is not here (set ARCHIVER_KEY_FILE); "
            "not writing an unsigned package of signed captures"
        )

    def write(handle: BinaryIO) -> None:
        with zipfile.ZipFile(handle, "w", allowZip64=True) as package:
            resources = [_copy_into(package, f"archive/{name}", path) for name, path in files]
            resources.append(_write(package, "indexes/index.cdxj", _index(files, copies)))
            resources.append(_write(package, "pages/pages.jsonl", _pages(captures)))
            created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            datapackage = _datapackage(resources, created, captures)
            package.writestr(_info("datapackage.json"), datapackage)
            package.writestr(
                _info("datapackage-digest.json"), _digest_file(datapackage, created, private_key)
            )

    size = write_output(output, write)
    public = keys.public_der_b64(private_key.public_key()) if private_key else None
    signed_captures = sum(1 for c in captures if c.signed)
    package_key = keys.public_der_b64(keys.package_key(private_key).public_key()) if private_key else None
    return ExportResult(
        output, len(captures), len(files), size, private_key is not None, public, signed_captures, package_key
    )


def export_capture(root: Path, capture_id: str, output: Path) -> ExportResult:
    """Write one capture as a standalone WARC file, its bytes exactly as stored (warcinfo,
    records, signed metadata record), a revisit's original after it so its payload is there;
    checked first like a package. `archiver verify --pubkey K FILE` checks it on its own."""
    from archiver.archive.folder import Archive

    with Archive(root, create=False) as archive:
        capture = archive.get(capture_id)
        if capture is None:
            raise ArchiverError(f"no capture with id {capture_id} in {archive.root}")
        chosen = [capture]
        original = archive.get(capture.refers_to) if capture.revisit and capture.refers_to else None
        chosen += [original] if original is not None else []
        parts = [(archive.capture_path(c), c.start_offset, c.bytes) for c in chosen]
    _check_first(root, [c.id for c in chosen])

    def write(handle: BinaryIO) -> None:
        for part in parts:
            _copy_range(part, handle.write)

    size = write_output(output, write)
    return ExportResult(output, len(chosen), 1, size, capture.signed, None, sum(c.signed for c in chosen))


def _check_first(root: Path, ids: list[str]) -> None:
    """Refuse to export what `verify` finds damaged or forged (no ids: the whole archive):
    a package signs what it holds."""
    from archiver.evidence.verify import verify

    found = verify(root, ids).problems
    if found:
        first = found[0]
        raise ArchiverError(
            f"cannot export: {len(found)} problem(s) in these captures, first: [{first.check}] "
            f"{first.capture or first.path or ''} {first.message} (run `archiver verify`)"
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


def _files(archive: Any, captures: list) -> tuple[list[tuple[str, Part]], set[str]]:
    """(name in archive/, part of a file) of each WARC the package needs: each capture (its
    range of its file), the originals its revisits point to, and the sources of imported
    captures (whole); and the names of imported captures, whose HTTP records are copies of
    their source's."""
    wanted: dict[str, Part] = {}
    copies: set[str] = set()
    by_id = {c.id: c for c in captures}
    for capture in captures:
        chain = [capture]
        if capture.revisit and capture.refers_to:
            original = by_id.get(capture.refers_to) or archive.get(capture.refers_to)
            if original is not None:
                chain.append(original)
        for item in chain:
            wanted[f"{item.id}.warc.gz"] = (archive.capture_path(item), item.start_offset, item.bytes)
        source = _source_of(archive.capture_path(capture), capture.metadata_offset)
        if source:
            path = archive.root / source
            if not path.resolve().is_relative_to((archive.root / SOURCES).resolve()):
                raise ArchiverError(
                    f"capture {capture.id} cites a source outside sources/ (run `archiver verify`)"
                )
            wanted[resource_name("-".join(Path(source).parts[-2:]))] = (path, 0, _size(path))
            copies.add(f"{capture.id}.warc.gz")
    missing = [str(path) for path, _, _ in wanted.values() if not path.is_file()]  # FIFOs, devices too
    if missing:
        raise ArchiverError(f"cannot export: missing file {missing[0]} (run `archiver verify`)")
    return sorted(wanted.items()), copies


def _source_of(path: Path, metadata_offset: int) -> str | None:
    """The imported source file a capture's manifest cites, if any."""
    try:
        record = read_record_at(path, metadata_offset)
        source = json.loads(record.content or b"")["manifest"].get("source")
    except (OSError, ValueError, RecursionError, KeyError, TypeError):
        raise ArchiverError(f"cannot read the metadata of {path} (run `archiver verify`)") from None
    return source.get("file") if isinstance(source, dict) else None


def _info(name: str, stored: bool = False) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, datetime.now(UTC).timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    return info


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _copy_range(part: Part, write: Callable[[bytes], Any]) -> None:
    """Send a part of a file to `write`, chunk by chunk (a file cut short is an error)."""
    path, start, length = part
    with open(path, "rb") as source:
        source.seek(start)
        while length > 0:
            chunk = source.read(min(COPY_CHUNK, length))
            if not chunk:
                raise ArchiverError(
                    f"cannot export: {path} ends before the capture it holds (run `archiver verify`)"
                )
            length -= len(chunk)
            write(chunk)


def _copy_into(package: zipfile.ZipFile, name: str, part: Part) -> dict[str, Any]:
    """Store a WARC uncompressed in the zip (so replay can seek), hashing it on the way."""
    digest, size = hashlib.sha256(), part[2]
    with package.open(_info(name, stored=True), "w", force_zip64=size > 1 << 31) as target:

        def write(chunk: bytes) -> None:
            digest.update(chunk)
            target.write(chunk)

        _copy_range(part, write)
    return _resource(name, digest.hexdigest(), size)


def _write(package: zipfile.ZipFile, name: str, data: bytes) -> dict[str, Any]:
    package.writestr(_info(name), data)
    return _resource(name, hashlib.sha256(data).hexdigest(), len(data))


def _resource(name: str, sha256: str, size: int) -> dict[str, Any]:
    return {"name": resource_name(Path(name).name), "path": name, "hash": f"sha256:{sha256}", "bytes": size}


def _index(files: list[tuple[str, Part]], copies: set[str]) -> bytes:
    """Sorted CDXJ lines for the response, revisit and resource records of every file, each record once:
    an imported page is indexed in its source file, not again in its capture file's copy."""
    from cdxj_indexer.main import CDXJIndexer

    lines: list[str] = []
    for name, (path, start, length) in files:
        if name in copies:
            continue
        out = io.StringIO()
        indexer = CDXJIndexer(out, [], filename=name, records="response,revisit,resource")
        with open(path, "rb") as handle:
            handle.seek(start)
            indexer.process_one(Window(handle, length), out, name)
        lines += out.getvalue().splitlines(keepends=True)
    return "".join(sorted(set(lines))).encode()


def _pages(captures: list) -> bytes:
    """pages.jsonl: each page once, at the URL and time it was captured (an import of a crawl
    that fetched a URL twice in one second has two captures, but one page to replay)."""
    pages: dict[tuple[str, str], dict[str, str]] = {}
    for c in captures:
        pages.setdefault((c.url, c.captured_at), {"id": c.id, "url": c.url, "ts": c.captured_at})
    lines = [PAGES_HEADER, *pages.values()]
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
        package["mainPageUrl"], package["mainPageDate"] = first.url, first.captured_at
    return json.dumps(package, indent=2, ensure_ascii=False).encode()


def _digest_file(datapackage: bytes, created: str, private_key: Any) -> bytes:
    """datapackage-digest.json, with the anonymous signedData when there is a key."""
    digest = "sha256:" + hashlib.sha256(datapackage).hexdigest()
    data: dict[str, Any] = {"path": "datapackage.json", "hash": digest}
    if private_key is not None:
        signing = keys.package_key(private_key)
        public = keys.public_der_b64(signing.public_key())
        data["signedData"] = {
            "hash": digest,
            "created": created,
            "software": SOFTWARE,
            "version": SIGNING_SPEC_VERSION,
            "signature": keys.sign_p1363(signing, digest.encode()),
            "publicKey": public,
            "endorsedBy": keys.endorse(private_key, public),
        }
    return json.dumps(data, indent=2).encode()
