"""What a watched source lists: RSS/Atom feeds (feedparser), sitemaps and sitemap indexes
(`<loc>`, `<lastmod>`, `<news:news>`), or a plain page that is itself the article. Fetched
with conditional requests, so an unchanged feed costs a 304 and nothing else."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field, replace
from datetime import datetime
from urllib.parse import urljoin

import feedparser
import urllib3
from lxml import etree

from archiver.article.decode import decoded_prefix
from archiver.capture.fetch import FetchOptions, fetch
from archiver.errors import ArchiverError
from archiver.urls import canonicalize, check_url

MAX_SOURCE = 32 << 20  # decoded bytes of a feed or sitemap read
MAX_ITEMS = 1000  # items taken from one source per poll (a sitemap can list 50,000)
MAX_CHILD_SITEMAPS = 20  # of a sitemap index, the most recently modified
_SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
_NEWS_NS = "{http://www.google.com/schemas/sitemap-news/0.9}"


@dataclass
class Found:
    """An article a source lists: its URL, the catalogue key, a title and a lastmod (epoch)."""

    url: str
    key: str
    title: str | None = None
    lastmod: int | None = None


@dataclass
class Answer:
    """One conditional GET: status, the body decoded (empty for a 304) and the validators."""

    status: int
    url: str
    body: bytes
    content_type: str
    etag: str | None
    last_modified: str | None
    retry_after: str | None


@dataclass
class Poll:
    kind: str | None  # "feed", "sitemap" or "page"; None: not modified
    items: list[Found] = field(default_factory=list)
    validators: tuple[str | None, str | None] = (None, None)


def conditional_get(
    session: urllib3.PoolManager,
    url: str,
    options: FetchOptions,
    etag: str | None,
    last_modified: str | None,
    keep_body: bool = True,
) -> tuple[Answer, str]:
    """GET `url` with If-None-Match / If-Modified-Since; the answer and its payload digest."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    hops = fetch(session, url, replace(options, headers=headers, retries=0))
    final = hops[-1]
    try:
        raw = final.body.read() if keep_body and final.status == 200 else b""
        body = decoded_prefix(raw, final.headers, MAX_SOURCE) if raw else b""
    finally:
        for hop in hops:
            hop.body.close()
    answer = Answer(
        status=final.status,
        url=final.url,
        body=body,
        content_type=(final.header("Content-Type") or "").split(";")[0].strip().lower(),
        etag=final.header("ETag"),
        last_modified=final.header("Last-Modified"),
        retry_after=final.header("Retry-After"),
    )
    return answer, final.payload_sha256


def poll(
    session: urllib3.PoolManager,
    url: str,
    options: FetchOptions,
    validators: tuple[str | None, str | None],
) -> tuple[Poll, Answer]:
    """What the source at `url` lists now (kind None when it answered 304)."""
    answer, _ = conditional_get(session, url, options, *validators)
    if answer.status == 304 or answer.status >= 400:  # the caller says what a 4xx/5xx means
        return Poll(None, validators=validators), answer
    kind, items = read_source(answer, session, options)
    return Poll(kind, items[:MAX_ITEMS], (answer.etag, answer.last_modified)), answer


def read_source(
    answer: Answer, session: urllib3.PoolManager, options: FetchOptions
) -> tuple[str, list[Found]]:
    """The kind of a source's answer and the articles it lists; ArchiverError when it is none
    of a feed, a sitemap or a page."""
    head = answer.body[:2048].lstrip().lower()
    if b"<urlset" in answer.body[:4096] or b"<sitemapindex" in answer.body[:4096]:
        return "sitemap", _sitemap(answer, session, options)
    looks_html = b"<html" in head or b"<!doctype html" in head or answer.content_type == "text/html"
    if not looks_html or b"<rss" in head or b"<feed" in head:
        parsed = feedparser.parse(answer.body, sanitize_html=False, resolve_relative_uris=False)
        if parsed.get("version") or parsed.entries:
            return "feed", _feed_items(parsed, answer.url)
    if looks_html:
        return "page", [_found(answer.url, answer.url, None, None)]
    raise ArchiverError(
        f"{answer.url}: neither a feed, a sitemap nor a page ({answer.content_type or 'no type'})"
    )


def _found(base: str, link: str, title: str | None, lastmod: int | None) -> Found:
    url = check_url(urljoin(base, link.strip()))
    return Found(url, canonicalize(url), (title or "").strip() or None, lastmod)


def _feed_items(parsed: feedparser.FeedParserDict, base: str) -> list[Found]:
    found = []
    for entry in parsed.entries:
        link = entry.get("link")
        if not link:
            continue
        # dict.get: feedparser's own get maps a missing updated_parsed to published_parsed, warning
        stamp = dict.get(entry, "updated_parsed") or dict.get(entry, "published_parsed")
        try:
            found.append(_found(base, link, entry.get("title"), calendar.timegm(stamp) if stamp else None))
        except (ArchiverError, ValueError):
            continue  # a link no fetcher can take: skipped, the others count
    return found


def _xml(body: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True)
    root = etree.fromstring(body, parser)
    if root is None:
        raise ArchiverError("unreadable sitemap")
    return root


def _epoch(text: str | None) -> int | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return calendar.timegm(moment.timetuple())
    return int(moment.timestamp())


def _sitemap(answer: Answer, session: urllib3.PoolManager, options: FetchOptions) -> list[Found]:
    root = _xml(answer.body)
    if root.tag == f"{_SITEMAP_NS}sitemapindex" or root.tag == "sitemapindex":
        children = []
        for node in root.iter(f"{_SITEMAP_NS}sitemap", "sitemap"):
            loc = node.findtext(f"{_SITEMAP_NS}loc") or node.findtext("loc")
            if loc:
                lastmod = _epoch(node.findtext(f"{_SITEMAP_NS}lastmod") or node.findtext("lastmod"))
                children.append((lastmod or 0, loc.strip()))
        found: list[Found] = []
        for _, loc in sorted(children, reverse=True)[:MAX_CHILD_SITEMAPS]:
            try:
                child, _ = conditional_get(session, check_url(urljoin(answer.url, loc)), options, None, None)
            except ArchiverError:
                continue  # one child failing leaves the others
            if child.status == 200 and b"<urlset" in child.body[:4096]:
                found += _urls(_xml(child.body), child.url)
        return found
    return _urls(root, answer.url)


def _urls(root: etree._Element, base: str) -> list[Found]:
    found = []
    for node in root.iter(f"{_SITEMAP_NS}url", "url"):
        loc = node.findtext(f"{_SITEMAP_NS}loc") or node.findtext("loc")
        if not loc:
            continue
        news = node.find(f"{_NEWS_NS}news")
        title = news.findtext(f"{_NEWS_NS}title") if news is not None else None
        published = news.findtext(f"{_NEWS_NS}publication_date") if news is not None else None
        lastmod = _epoch(node.findtext(f"{_SITEMAP_NS}lastmod") or node.findtext("lastmod") or published)
        try:
            found.append(_found(base, loc, title, lastmod))
        except (ArchiverError, ValueError):
            continue
    return found
