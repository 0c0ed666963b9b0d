"""Choose the captures to compare, get their articles (extracted once, then cached), diff them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path

from .diff import ArticleDiff, diff_articles
from .errors import ArchiverError
from .extract import EXTRACTOR_VERSION, Article, extract_response
from .store import Archive, Capture
from .urls import canonicalize
from .warc import HttpResponse, scan_records

GONE = (404, 410)
HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass
class Version:
    """One side of a comparison: capture facts and the article it holds."""

    info: dict  # id, captured_at, sha256, status
    article: Article
    url: str


def _is_html(content_type: str | None, body: bytes) -> bool:
    if content_type:
        return content_type.split(";")[0].strip().lower() in HTML_TYPES
    return b"<html" in body[:4096].lower()


def _article(response: HttpResponse, content_type: str | None, label: str) -> Article:
    """The article of an archived response; a gone page (404/410) has none."""
    if response.status in GONE:
        return Article()
    if not _is_html(content_type, response.body):
        raise ArchiverError(f"{label} is not HTML ({content_type or 'no content type'}); "
                            "only HTML captures can be compared")
    return extract_response(response.body, response.headers, response.target_uri)


def capture_version(archive: Archive, capture: Capture) -> Version:
    """A catalogue capture as a Version, using the extraction cache."""
    info = {"id": capture.id, "captured_at": capture.captured_at,
            "sha256": capture.payload_sha256, "status": capture.status}
    cached = archive.cached_extract(capture.payload_sha256, EXTRACTOR_VERSION)
    if cached is not None and capture.status not in GONE:
        return Version(info, Article.from_dict(cached), capture.url)
    article = _article(archive.response(capture), capture.content_type, f"capture {capture.id}")
    if capture.status not in GONE:
        archive.store_extract(capture.payload_sha256, EXTRACTOR_VERSION, article.to_dict())
    return Version(info, article, capture.url)


def warc_version(path: Path) -> Version:
    """The last HTML response in a WARC file made by any tool (e.g. `wget --warc-file`)."""
    from .warc import read_response

    try:
        records = scan_records(path, read_types=())
    except Exception as exc:  # warcio raises many kinds on garbage
        raise ArchiverError(f"cannot read WARC {path}: {exc}") from None
    chosen: HttpResponse | None = None
    for record in records:
        if record.rec_type != "response":
            continue
        response = read_response(path, record.offset)
        if response.status and _is_html(response.header("Content-Type"), response.body):
            chosen = response
    if chosen is None:
        raise ArchiverError(f"{path} holds no HTML response")
    info = {"id": path.name, "captured_at": chosen.date,
            "sha256": hashlib.sha256(chosen.body).hexdigest(), "status": chosen.status}
    return Version(info, _article(chosen, chosen.header("Content-Type"), str(path)),
                   chosen.target_uri)


def _capture_or_file(archive: Archive | None, target: str) -> Version:
    path = Path(target)
    if path.is_file() and (".warc" in path.name or path.suffix == ".gz"):
        return warc_version(path)
    if archive is None:
        raise ArchiverError(f"{target} is neither a WARC file nor a capture id (no archive)")
    capture = archive.get(target)
    if capture is None:
        raise ArchiverError(f"no capture or WARC file named {target}")
    return capture_version(archive, capture)


def _history(archive: Archive, url: str) -> list[Capture]:
    captures = archive.history(canonicalize(url))
    if not captures:
        raise ArchiverError(f"no captures of {url} in {archive.root}")
    return captures


def resolve_pair(archive: Archive | None, targets: tuple[str, ...], from_id: str | None,
                 to_id: str | None) -> tuple[Version, Version]:
    """The two versions the user asked for: URL (two latest, or --from/--to), or two ids/files."""
    if len(targets) == 2:
        return _capture_or_file(archive, targets[0]), _capture_or_file(archive, targets[1])
    if archive is None:
        raise ArchiverError("no archive found")
    if len(targets) == 1:
        captures = _history(archive, targets[0])
        if from_id or to_id:
            ids = {c.id for c in captures}
            picked = [archive.get(i) for i in (from_id or captures[0].id, to_id or captures[-1].id)]
            for wanted, capture in zip((from_id, to_id), picked, strict=True):
                if capture is None or capture.id not in ids:
                    raise ArchiverError(f"{wanted} is not a capture of {targets[0]}")
            return capture_version(archive, picked[0]), capture_version(archive, picked[1])
        if len(captures) < 2:
            raise ArchiverError(f"only one capture of {targets[0]}; capture it again to compare")
        return capture_version(archive, captures[-2]), capture_version(archive, captures[-1])
    if from_id and to_id:
        return _capture_or_file(archive, from_id), _capture_or_file(archive, to_id)
    raise ArchiverError("give a URL, two capture ids or WARC files, or --from ID --to ID")


def diff_versions(before: Version, after: Version) -> ArticleDiff:
    """Diff two versions; a gone page (404/410) is only "body missing", not a new headline,
    byline and date (its error page has none of the article's)."""
    later = after.article
    if after.info.get("status") in GONE:
        later = replace(before.article, paragraphs=[])
    return diff_articles(before.article, later)


def timeline(archive: Archive, url: str) -> list[tuple[Version, Version, ArticleDiff]]:
    """Every consecutive pair of an article's captures, diffed."""
    captures = _history(archive, url)
    if len(captures) < 2:
        raise ArchiverError(f"only one capture of {url}; capture it again to compare")
    versions = [capture_version(archive, c) for c in captures]
    return [(a, b, diff_versions(a, b)) for a, b in pairwise(versions)]


def latest_version(archive: Archive, target: str) -> Version:
    """A capture id, or the latest capture of a URL, as a Version (for `archiver show`)."""
    capture = archive.get(target) if "://" not in target else None
    if capture is None:
        capture = _history(archive, target)[-1]
    return capture_version(archive, capture)
