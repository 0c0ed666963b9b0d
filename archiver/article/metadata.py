"""The article's metadata: headline, byline, dates and canonical URL, reconciled from
JSON-LD, <meta>, <h1>/<title> and the URL."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

if TYPE_CHECKING:
    from lxml.etree import _Element
    from lxml.html import HtmlElement

from archiver.article.html import clean, squash, text_of

log = logging.getLogger(__name__)

_ARTICLE_TYPE = re.compile(r"Article|BlogPosting|Report|LiveBlog", re.I)
_PUBLISHED_KEYS = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "published_time",
    "article.published",
    "publish-date",
    "publishdate",
    "pubdate",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.created",
    "dc.date",
    "date",
)
_MODIFIED_KEYS = (
    "article:modified_time",
    "og:article:modified_time",
    "datemodified",
    "og:updated_time",
    "modified_time",
    "article.updated",
    "dc.date.modified",
    "dcterms.modified",
    "last-modified",
)
_AUTHOR_KEYS = (
    "author",
    "article:author",
    "byl",
    "parsely-author",
    "sailthru.author",
    "dc.creator",
    "dcterms.creator",
    "citation_author",
)
_SITE_KEYS = ("og:site_name", "application-name", "twitter:site", "publisher")
_SECOND_LEVEL = {"co", "com", "net", "org", "gov", "ac", "edu", "gob", "gouv"}  # bbc.co.uk
_YEARS = (1900, 2100)  # plausible publication years
_LD_WRAPPER = re.compile(r"^\s*(?://\s*)?(?:<!\[CDATA\[|<!--)|(?://\s*)?(?:\]\]>|-->)?[\s;]*$")
_ISO_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?)?"
)


@dataclass
class Page:
    """What the page declares about itself, gathered in one pass over the tree."""

    meta: dict[str, list[str]]
    ld: dict[str, Any]
    ld_ids: dict[str, dict]
    site_names: list[str]


def read_page(tree: HtmlElement, url: str | None) -> Page:
    """Meta tags, the article's JSON-LD object and the names the site goes by."""
    meta: dict[str, list[str]] = {}
    for element in tree.iter("meta"):
        key = element.get("property") or element.get("name") or element.get("itemprop")
        value = clean(element.get("content"))
        if key and value:
            meta.setdefault(key.strip().lower(), []).append(value)
    nodes = list(_ld_nodes(tree))
    ld_ids = {node["@id"]: node for node in nodes if isinstance(node.get("@id"), str)}
    ld = next((n for n in nodes if _ARTICLE_TYPE.search(_ld_type(n))), None)
    ld = ld or next((n for n in nodes if isinstance(n.get("headline"), str)), {})
    site_names = [value for key in _SITE_KEYS for value in meta.get(key, [])]
    site_names += _ld_names(ld.get("publisher"), ld_ids)
    if url:
        site_names += _host_names(urlsplit(url).hostname or "")
    return Page(meta, ld, ld_ids, [name for name in site_names if name])


def _host_names(host: str) -> list[str]:
    """A host and its registrable label: "edition.cnn.com" -> "cnn", "bbc.co.uk" -> "bbc"."""
    labels = [label for label in host.lower().split(".")[:-1] if label != "www"]
    if len(labels) > 1 and labels[-1] in _SECOND_LEVEL:
        labels.pop()
    return [host, labels[-1]] if labels else [host]


def _ld_nodes(tree: HtmlElement) -> Iterator[dict]:
    """Every JSON-LD object on the page, ``@graph`` members and list items included."""
    for script in tree.iter("script"):
        if "ld+json" not in (script.get("type") or "").lower() or not script.text:
            continue
        try:
            data = json.loads(_LD_WRAPPER.sub("", script.text), strict=False)
        except (ValueError, RecursionError):
            continue
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                yield item
                stack.extend(v for k, v in item.items() if k in ("@graph", "mainEntity"))


def _ld_type(node: dict) -> str:
    kind = node.get("@type")
    return " ".join(k for k in kind if isinstance(k, str)) if isinstance(kind, list) else str(kind)


def _ld_names(value: Any, ids: dict[str, dict]) -> list[str]:
    """Names in a JSON-LD person/organisation value: string, object, ``@id`` ref or a list."""
    if isinstance(value, list):
        return [name for item in value for name in _ld_names(item, ids)]
    if isinstance(value, dict) and "name" not in value:
        value = ids.get(str(value.get("@id")), value)
    if isinstance(value, dict):
        value = value.get("name")
        if isinstance(value, list):
            return [clean(v) for v in value if isinstance(v, str)]
    return [clean(value)] if isinstance(value, str) and clean(value) else []


def ld_str(page: Page, key: str) -> str | None:
    value = page.ld.get(key)
    if not isinstance(value, str):
        return None
    return clean(value) or None


def first_meta(page: Page, keys: tuple[str, ...]) -> str | None:
    return next((page.meta[key][0] for key in keys if key in page.meta), None)


# headline -----------------------------------------------------------------------

_REGEX_NS = {"re": "http://exslt.org/regular-expressions"}
_H1_TEXT_XPATH = (
    ".//text()[not(ancestor-or-self::*[re:test(@class, "
    "'kicker|dachzeile|overline|eyebrow|topline|supertitle|rubric"
    "|visually-hidden|sr-only|screen-reader', 'i')])]|.//br"
)
_LOGO_XPATH = (
    "boolean(descendant-or-self::*[re:test(concat(@class, ' ', @id), "
    "'logo|brand|masthead|site-?(?:name|title)', 'i')] or .//img)"
)
_TITLE_SEPARATOR = re.compile(r"(\s+(?:[|\-–—·•»:/]{1,2}|::)\s+|\s*[|｜_]\s*(?=\S))")
_HARD_SEPARATOR = re.compile(r"\s*(?:\||｜|::|»|//)\s*$")  # what follows is never the headline
_MIN_SITE_IN_TEXT = 5  # shorter names ("time", "vox") inside longer text are just words
_MAX_SITE_NAME = 40  # longer "site names" in meta tags are titles put in the wrong field
_MIN_HEADLINE = 15  # characters; a shorter unconfirmed h1 of < 3 words is a section name


def find_headline(tree: HtmlElement, page: Page) -> str:
    """The article's ``<h1>``, checked against og/twitter/JSON-LD titles and ``<title>``.

    An h1 (or one span of it) that a title confirms wins, then the first h1 that looks like a
    headline rather than the site's logo or a section name; pages without one fall back to
    og:title, JSON-LD, twitter:title, ``<title>``, with the site's name stripped.
    """
    titles = [
        *page.meta.get("og:title", [])[:1],
        ld_str(page, "headline") or "",
        *page.meta.get("twitter:title", [])[:1],
        clean(tree.findtext(".//title")),
    ]
    titles = [title for title in titles if title]
    references = {squash(t) for t in titles} | {squash(_strip_site(t, page)) for t in titles}
    sites = _site_keys(page)
    h1s = [
        h1
        for h1 in tree.iter("h1")
        if not _is_site(_h1_text(h1), sites) and not h1.xpath(_LOGO_XPATH, namespaces=_REGEX_NS)
    ]
    texts = [text for text in map(_h1_text, h1s) if text]
    parts = [text for h1 in h1s for text in map(_h1_text, h1.iterchildren()) if text]
    for text in texts + parts:
        if squash(text) in references:
            return text
    for text in texts:  # a title that contains the h1, e.g. kicker + ": " + h1
        key = squash(text)
        if len(key) > 10 and any(key in ref for ref in references):
            return text
    for text in texts:
        if len(text) >= _MIN_HEADLINE or len(text.split()) >= 3:  # not "Politics"
            return text
    return _strip_site(titles[0], page) if titles else ""


def _h1_text(h1: _Element) -> str:
    """Text of an h1 without kicker/topic labels and screen-reader-only snippets; a line
    break is a space ("Council approves<br>bridge plan")."""
    pieces = h1.xpath(_H1_TEXT_XPATH, namespaces=_REGEX_NS)
    return clean("".join(piece if isinstance(piece, str) else " " for piece in pieces))


def _strip_site(title: str, page: Page) -> str:
    """Drop title segments that name the site, and anything after a " | " or " :: "."""
    pieces = _TITLE_SEPARATOR.split(title)  # segment, separator, segment, ...
    segments, separators = pieces[::2], pieces[1::2]
    sites = _site_keys(page)
    first, last = 0, len(segments) - 1
    while first < last and _is_site(segments[first], sites):
        first += 1
    while last > first and (_is_site(segments[last], sites) or _HARD_SEPARATOR.match(separators[last - 1])):
        last -= 1
    return "".join(pieces[2 * first : 2 * last + 1]).strip() or title


def _site_keys(page: Page) -> list[str]:
    keys = (squash(site.removeprefix("www.").removeprefix("@")) for site in page.site_names)
    return [key for key in keys if 2 < len(key) <= _MAX_SITE_NAME]


def _is_site(text: str, sites: list[str]) -> bool:
    """Whether a short text names the site: "CNN", "CNN Politics", "Gazette", "nzz.ch"."""
    key = squash(text)
    return bool(key) and any(
        (key in site and 2 * len(key) >= len(site))
        or (len(site) >= _MIN_SITE_IN_TEXT and site in key and len(key) <= 2 * len(site) + 5)
        for site in sites
    )


# authors ------------------------------------------------------------------------

_BYLINE_PREFIX = re.compile(
    r"^(?:(?:written |reported |words )?by|von|par|por|di|door|av|af|autor(?:in)?|auteur|author)"
    r"\b\s*:?\s*",
    re.I,
)
_AUTHOR_SPLIT = re.compile(
    r"\s*(?:[,;&|/]\s*(?:(?:and|und|et|y|e|avec|with)\s+)?|\s\(?(?:and|und|et|y|e|avec|with)\s)\s*",
    re.I,
)
_DATE_TAIL = re.compile(  # "Jo Doe 04.05.2022", "Jo Doe May 4, 2022", "Jo Doe4 May" -> "Jo Doe"
    r"(?:\s*(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\.?)?\s*\d.*$", re.I
)
_URL_START = re.compile(r"\s*(?:https?:|www\.)", re.I)
_NOT_A_NAME = re.compile(r"https?:|www\.|@|\.com\b|^\W*$|\d|[{}\[\]<>=]|\"\s*:")  # ...|JSON, markup
_BYLINE_XPATHS = (  # tried in order; the first that yields names wins
    "//*[@itemprop='author' and not(self::meta)]//*[@itemprop='name' and not(self::meta)]",
    "//*[(@itemprop='author' or @rel='author') and not(self::meta or self::link)]",
    "(//*[contains(@class, 'byline') or contains(@class, 'author') or contains(@class, 'autor')]"
    "[not(self::script or self::style or self::template)]"  # a class="author-schema" JSON-LD
    "[string-length(normalize-space()) > 2])[1]",  # the first only: sidebars name other authors
    "//address",
)
_BYLINE_MAX = 120  # longer "author" elements are bios, not bylines
_NAME_MAX = 60


def find_authors(tree: HtmlElement, page: Page) -> list[str]:
    """Author names from JSON-LD, then meta tags, then byline markup.

    A source naming only the site itself ("CNN", "tagesschau.de") gives way to the next one;
    the site's name is dropped from a list that also names people.
    """
    sites = _site_keys(page)
    fallback: list[str] = []
    for candidates in _author_sources(tree, page):
        names = author_names(candidates)
        people = [name for name in names if not _is_site(name, sites)]
        if people:
            return people
        fallback = fallback or names
    return fallback


def _author_sources(tree: HtmlElement, page: Page) -> Iterator[list[str]]:
    """Raw author strings, most trustworthy source first, each read only when needed."""
    yield _ld_names(page.ld.get("author"), page.ld_ids)
    yield next((page.meta[key][:1] for key in _AUTHOR_KEYS if key in page.meta), [])
    for xpath in _BYLINE_XPATHS:
        texts = (text_of(element) for element in tree.xpath(xpath))  # not the scripts inside
        yield [text for text in texts if 2 < len(text) <= _BYLINE_MAX][:10]


def author_names(candidates: list[str]) -> list[str]:
    """Clean, split and de-duplicate raw author strings (a JSON object among them, as some
    sites put in <meta name="author">, gives its names)."""
    names: list[str] = []
    for candidate in candidates:
        if _URL_START.match(candidate):
            continue  # a profile link, not a name
        if candidate.lstrip().startswith(("{", "[")):
            names += author_names(_ld_names(_json_or_none(candidate), {}))
            continue
        for name in _AUTHOR_SPLIT.split(_BYLINE_PREFIX.sub("", clean(candidate))):
            name = _DATE_TAIL.sub("", _BYLINE_PREFIX.sub("", name)).strip(' .:-–—()"“”')
            plausible = 1 < len(name) <= _NAME_MAX and not _NOT_A_NAME.search(name)
            if plausible and not any(_same_person(name, seen) for seen in names):
                names.append(name)
    return names


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _same_person(name: str, seen: str) -> bool:
    """Same name up to case, or ``name`` adds a role to it ("Jo Doe Staff Writer")."""
    name, seen = name.casefold(), seen.casefold()
    return name == seen or name.startswith(seen + " ")


# dates and URL ------------------------------------------------------------------


def _iso(value: str | None) -> str | None:
    """ISO 8601 form of a date string (date-only stays date-only), None if unreadable."""
    if not value:
        return None
    match = _ISO_DATE.search(value)
    try:
        if match:
            text = re.sub(r"\s+", "", match.group().replace(" ", "T", 1).replace(",", "."))
            stamp = datetime.fromisoformat(text)
        else:
            stamp = parsedate_to_datetime(value)
    except (ValueError, TypeError, IndexError):
        return None
    if not _YEARS[0] <= stamp.year <= _YEARS[1]:
        return None  # "0001-01-01": a CMS placeholder, not a date
    return stamp.date().isoformat() if match and len(text) == 10 else stamp.isoformat("T", "seconds")


def find_dates(page: Page) -> tuple[str | None, str | None]:
    published = _iso(ld_str(page, "datePublished")) or _iso(first_meta(page, _PUBLISHED_KEYS))
    modified = _iso(ld_str(page, "dateModified")) or _iso(first_meta(page, _MODIFIED_KEYS))
    return published, modified


_URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-](0?[1-9]|1[0-2])[/-](0?[1-9]|[12]\d|3[01])(?:/|[^\d])")


def url_date(url: str | None) -> str | None:
    """The date in an article URL (/2024/05/17/...)."""
    match = _URL_DATE.search(url or "")
    if not match:
        return None
    year, month, day = (int(part) for part in match.groups())
    return f"{year:04d}-{month:02d}-{day:02d}"


def guess_published(tree: HtmlElement, url: str | None) -> str | None:
    """htmldate's cheap (non-extensive) search, for pages without date metadata. What it
    finds may be page furniture (a "generated at" footer), so the result is marked guessed."""
    import htmldate

    try:
        return htmldate.find_date(tree, extensive_search=False, original_date=True, url=url)
    except Exception:  # third-party heuristics on arbitrary markup
        log.debug("htmldate failed on %s", url, exc_info=True)
        return None


def find_canonical(tree: HtmlElement, page: Page, url: str | None) -> str | None:
    hrefs = [
        link.get("href")
        for link in tree.iter("link")
        if "canonical" in (link.get("rel") or "").lower().split()
    ]
    for href in [*hrefs, *page.meta.get("og:url", [])]:
        absolute = urljoin(url or "", clean(href))
        if urlsplit(absolute).scheme in ("http", "https"):
            return absolute
    return None
