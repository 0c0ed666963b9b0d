"""The imported source files an archive keeps under `sources/`: each cited by a capture
manifest, with the SHA-256 the manifest cites, and none unknown."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from archiver.archive.layout import SOURCES
from archiver.evidence.findings import ProgressHook, Report, report_scan
from archiver.record import CaptureFile
from archiver.warc.scanner import FileScan, scan_warc


def check_sources(
    report: Report,
    root: Path,
    captures: Iterable[CaptureFile],
    on_disk: list[str],
    workers: int,
    progress: ProgressHook | None,
) -> None:
    """Check the sources the captures cite, and (in a full check) every file `on_disk` in
    sources/, each read whole once (in parallel) with the independent reader."""
    cited: dict[str, list[tuple[str, str]]] = {}
    for capture in captures:
        source = capture.manifest.get("source")
        if isinstance(source, dict):
            cited.setdefault(str(source.get("file")), []).append(
                (capture.facts["id"], str(source.get("sha256")))
            )
    base = (root / SOURCES).resolve()
    for name in [name for name in cited if not (root / name).resolve().is_relative_to(base)]:
        report.count("files")
        report.add(
            "files",
            "manifest cites a source file outside sources/ (not read)",
            capture=cited.pop(name)[0][0],
            path=name,
        )
    sources = sorted(set(cited) | set(on_disk))
    scans = _scan_all(root, sources, workers, progress)
    for relative in sources:
        report.count("files")
        citing = cited.get(relative, [])
        first = citing[0][0] if citing else None
        scan = scans.get(relative)
        if scan is None:
            report.add("files", "imported source file is missing", capture=first, path=relative)
            continue
        report_scan(report, scan, first, relative)
        if not citing:
            report.add("files", "file is not cited by any capture (unknown source file)", path=relative)
        for capture_id, digest in citing:
            if digest != scan.sha256:
                report.add(
                    "files",
                    "source file SHA-256 differs from the one its capture manifest records",
                    capture=capture_id,
                    path=relative,
                )


def _scan_all(
    root: Path, names: list[str], workers: int, progress: ProgressHook | None
) -> dict[str, FileScan]:
    """Scan files in parallel (zlib and hashlib release the GIL on large buffers), hashed whole."""
    sizes = {}
    for relative in names:
        try:
            sizes[relative] = (root / relative).stat().st_size
        except OSError:
            continue
    if progress:
        progress.start(sum(sizes.values()))
    advance = progress.advance if progress else None
    present = sorted(sizes, key=lambda name: -sizes[name])

    def work(relative: str) -> tuple[str, FileScan]:
        return relative, scan_warc(root / relative, file_sha256=True, advance=advance)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(pool.map(work, present))
