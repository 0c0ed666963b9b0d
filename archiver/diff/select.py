"""Choose the captures to compare, get their articles (extracted once, then cached), diff them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

from archiver.archive.folder import Archive
from archiver.article.cache import CACHE, cache_key
from archiver.article.extract import EXTRACTOR_VERSION, Article, extract_response
from archiver.diff.differ import diff_articles, holds_article
from archiver.diff.model import ArticleDiff
from archiver.errors import ArchiverError
from archiver.record import Capture
from archiver.urls import canonicalize
from archiver.warc.reader import HttpResponse, iter_responses

GONE = (404, 410)
TRUNCATED = "truncated record"  # the wall of a side whose payload was archived only in part
HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass
class Version:
    """One side of a comparison: capture facts and the article it holds."""

    info: dict  # id, captured_at, sha256, status
    article: Article
    url: str
    truncated: str | None = None  # WARC-Truncated of its response: only the payload's start is there


def _is_html(content_type: str | None, body: bytes) -> bool:
    if content_type:
        return content_type.split(";")[0].strip().lower() in HTML_TYPES
    return b"<html" in body[:4096].lower()


def _article(response: HttpResponse, content_type: str | None, label: str) -> Article:
    """The article of an archived response; a gone page (404/410) has none."""
    if response.status in GONE:
        return Article()
    if not _is_html(content_type, response.body):
        raise ArchiverError(
            f"{label} is not HTML ({content_type or 'no content type'}); only HTML captures can be compared"
        )
    return extract_response(response.body, response.headers, response.target_uri)


def capture_version(archive: Archive, capture: Capture) -> Version:
    """A catalogue capture as a Version, using the extraction cache."""
    info = {
        "id": capture.id,
        "captured_at": capture.captured_at,
        "sha256": capture.payload_sha256,
        "status": capture.status,
    }
    if capture.status in GONE:
        return Version(info, Article(), capture.url)
    response = archive.response(capture)
    key = cache_key(response.body, response.headers, response.target_uri, EXTRACTOR_VERSION)
    found = CACHE.get(key)
    if found is not None:
        return Version(info, Article.from_dict(found), capture.url, response.truncated)
    article = _article(response, capture.content_type, f"capture {capture.id}")
    CACHE.put(key, article.to_dict())
    return Version(info, article, capture.url, response.truncated)


def warc_pages(path: Path) -> dict[str, HttpResponse]:
    """The HTML pages in a WARC file made by any tool (e.g. `wget --warc-file`): the last
    response for each canonical URL."""
    try:
        pages: dict[str, HttpResponse] = {}
        revisits = 0
        for response in iter_responses(path):
            if response is None:
                revisits += 1
                continue
            interim = 100 <= response.status < 200 or 300 <= response.status < 400  # hops, not pages
            if response.status and not interim and _is_html(response.header("Content-Type"), response.body):
                pages[canonicalize(response.target_uri)] = response
    except ArchiverError:
        raise
    except Exception as exc:  # warcio raises many kinds on garbage
        raise ArchiverError(f"cannot read WARC {path}: {exc}") from None
    if not pages:
        hint = (
            (" (only revisit records: the page is stored in an earlier capture; compare capture ids instead)")
            if revisits
            else ""
        )
        raise ArchiverError(f"{path} holds no HTML response{hint}")
    return pages


def _warc_version(path: Path, pages: dict[str, HttpResponse], url: str | None) -> Version:
    """One page of a WARC file: the only one, or the one at `url` (the other side's)."""
    if len(pages) == 1:
        response = next(iter(pages.values()))
    elif url is not None and canonicalize(url) in pages:
        response = pages[canonicalize(url)]
    else:
        listed = ", ".join(list(pages)[:3]) + (", ..." if len(pages) > 3 else "")
        raise ArchiverError(
            f"{path} holds {len(pages)} HTML pages ({listed}); compare it with a "
            "capture or WARC of one of them"
        )
    info = {
        "id": path.name,
        "captured_at": response.date,
        "sha256": hashlib.sha256(response.body).hexdigest(),
        "status": response.status,
    }
    article = _article(response, response.header("Content-Type"), str(path))
    return Version(info, article, response.target_uri, response.truncated)


def _is_warc_file(target: str) -> bool:
    path = Path(target)
    return path.is_file() and (".warc" in path.name or path.suffix == ".gz")


def _capture(archive: Archive | None, target: str) -> Version:
    if archive is None:
        raise ArchiverError(f"{target} is neither a WARC file nor a capture id (no archive)")
    capture = archive.get(target)
    if capture is None:
        raise ArchiverError(f"no capture or WARC file named {target}")
    return capture_version(archive, capture)


def _two_targets(archive: Archive | None, first: str, second: str) -> tuple[Version, Version]:
    """Two capture ids or WARC files; a WARC file holding several pages gives the one at the
    other side's URL."""
    pages = {t: warc_pages(Path(t)) for t in (first, second) if _is_warc_file(t)}
    known = {t: _capture(archive, t) for t in (first, second) if t not in pages}
    for target in (first, second):
        if target in pages and len(pages[target]) == 1:
            known[target] = _warc_version(Path(target), pages[target], None)
    for target, other in ((first, second), (second, first)):
        if target not in known:
            hint = known[other].url if other in known else None
            if hint is None and other in pages:  # two multi-page files: a URL both hold
                shared = [u for u in pages[target] if u in pages[other]]
                hint = shared[0] if len(shared) == 1 else None
            known[target] = _warc_version(Path(target), pages[target], hint)
    return known[first], known[second]


def _history(archive: Archive, url: str) -> list[Capture]:
    _, captures = archive.article_captures(url)
    if not captures:
        raise ArchiverError(f"no captures of {url} in {archive.root}")
    return captures


def resolve_pair(
    archive: Archive | None, targets: tuple[str, ...], from_id: str | None, to_id: str | None
) -> tuple[Version, Version]:
    """The two versions the user asked for: URL (two latest, or --from/--to), or two ids/files."""
    if len(targets) == 2:
        return _two_targets(archive, targets[0], targets[1])
    if archive is None:
        raise ArchiverError("no archive found")
    if len(targets) == 1:
        captures = _history(archive, targets[0])
        if from_id or to_id:
            ids = {c.id for c in captures}
            picked = [archive.get(i) for i in (from_id or captures[0].id, to_id or captures[-1].id)]
            chosen = []
            for wanted, capture in zip((from_id, to_id), picked, strict=True):
                if capture is None or capture.id not in ids:
                    raise ArchiverError(f"{wanted} is not a capture of {targets[0]}")
                chosen.append(capture)
            return capture_version(archive, chosen[0]), capture_version(archive, chosen[1])
        if len(captures) < 2:
            raise ArchiverError(f"only one capture of {targets[0]}; capture it again to compare")
        latest = capture_version(archive, captures[-1])
        return _last_with_body(archive, captures[:-1], latest.article), latest
    if from_id and to_id:
        return _two_targets(archive, from_id, to_id)
    raise ArchiverError("give a URL, two capture ids or WARC files, or --from ID --to ID")


def diff_versions(before: Version, after: Version) -> ArticleDiff:
    """Diff two versions; a gone page (404/410) is only "body missing", not a new headline,
    byline and date (its error page has none of the article's). A truncated record (WARC-
    Truncated: the archiving tool kept only the payload's start) is reported as such in one
    line: its missing tail is no removal."""
    earlier, later = before.article, after.article
    if after.info.get("status") in GONE:
        later = replace(before.article, paragraphs=[], wall="not_found")
    if after.truncated:
        later = replace(before.article, paragraphs=[], wall=TRUNCATED)
    elif before.truncated:
        earlier = replace(after.article, paragraphs=[], wall=TRUNCATED)
    return diff_articles(earlier, later)


def _last_with_body(archive: Archive, captures: list[Capture], latest: Article) -> Version:
    """The latest of `captures` that holds the whole article (not a paywall, consent wall,
    error page or truncated record), else simply the latest: what the `latest` capture is
    best compared with."""
    for capture in reversed(captures):
        version = capture_version(archive, capture)
        if holds_article(version.article, latest) and not version.truncated:
            return version
    return capture_version(archive, captures[-1])


def timeline(archive: Archive, url: str) -> list[tuple[Version, Version, ArticleDiff]]:
    """Each capture after the first, diffed against the latest earlier capture that held the
    article (so a paywall or outage in between shows once, not as a removal and a re-adding)."""
    captures = _history(archive, url)
    if len(captures) < 2:
        raise ArchiverError(f"only one capture of {url}; capture it again to compare")
    versions = [capture_version(archive, c) for c in captures]
    steps, base = [], versions[0]
    for version in versions[1:]:
        step = diff_versions(base, version)
        steps.append((base, version, step))
        if not step.body_missing:
            base = version
    return steps


def latest_version(archive: Archive, target: str) -> Version:
    """A capture id, or the latest capture of a URL, as a Version (for `archiver show`)."""
    capture = archive.get(target) if "://" not in target else None
    if capture is None:
        capture = _history(archive, target)[-1]
    return capture_version(archive, capture)
