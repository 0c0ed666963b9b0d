"""Article extraction: headline, byline, dates, canonical URL and body paragraphs from HTML.

``decode_html`` turns a captured HTTP body into text, ``extract_article`` pulls the article out of
that text and ``extract_response`` chains the two. The page is parsed once with lxml; metadata is
read from that tree (JSON-LD, ``<meta>``, ``<h1>``/``<title>``) and the body comes from one
trafilatura pass over it. Publisher churn that sits inside the body (related-story boxes,
"Read more:" links, sign-up prompts, ad labels...) is then dropped so the differ only sees the
article. lxml, trafilatura, htmldate, charset-normalizer and brotli are imported lazily to keep
the CLI start-up fast.
"""

from __future__ import annotations

import codecs
import json
import logging
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

if TYPE_CHECKING:
    from lxml.etree import _Element
    from lxml.html import HtmlElement

EXTRACTOR_VERSION = "2"

log = logging.getLogger(__name__)


@dataclass
class Article:
    """The article a page carries, stripped of the page around it."""

    headline: str = ""
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    modified: str | None = None
    canonical_url: str | None = None
    paragraphs: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Article:
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__ if k in data})


# --------------------------------------------------------------------------- decoding

_META_SCAN_BYTES = 8192  # how far into the body to look for <meta charset>
_DETECT_BYTES = 65536  # how much of an undeclared body charset detection reads
_MIN_HIGH_BYTES_TO_DETECT = 20  # fewer non-ASCII bytes than this: detection is a coin toss
_META_CHARSET = re.compile(rb"<meta\b[^>]{0,300}?charset\s*=\s*[\"']?\s*([\w:.+-]+)", re.I)
_GZIP_MAGIC = b"\x1f\x8b"
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# WHATWG decodes these labels with a superset; Python's strict originals lose characters.
_SUPERSETS = {
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc_kr": "cp949",
    "shift_jis": "cp932",
    "big5": "big5hkscs",
}
_LABEL_ALIASES = {
    "windows-874": "cp874",
    "x-sjis": "shift_jis",
    "x-gbk": "gbk",
    "x-mac-roman": "mac_roman",
    "unicode-1-1-utf-8": "utf-8",
}


def decode_html(body: bytes, headers: list[tuple[str, str]]) -> str:
    """Text of an HTTP response body: Content-Encoding undone, then the charset applied.

    Charset order: byte-order mark, Content-Type header, ``<meta charset>`` /
    ``<meta http-equiv>`` in the first 8 KB, charset-normalizer detection, UTF-8. A declared
    legacy charset loses to a body that is (nearly all) valid non-ASCII UTF-8, the common
    mislabelling. Never raises: undecodable bytes become U+FFFD.
    """
    data = _undo_content_encoding(body, _header_tokens(headers, "content-encoding"))
    return _to_text(data, _header_charset(headers))


def _header_values(headers: list[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in headers if key.strip().lower() == name]


def _header_tokens(headers: list[tuple[str, str]], name: str) -> list[str]:
    """Comma-separated tokens of every ``name`` header, lower-cased, in order."""
    return [
        token.strip().lower()
        for value in _header_values(headers, name)
        for token in value.split(",")
        if token.strip()
    ]


def _header_charset(headers: list[tuple[str, str]]) -> str | None:
    for value in reversed(_header_values(headers, "content-type")):
        match = re.search(r"charset\s*=\s*[\"']?([\w:.+-]+)", value, re.I)
        if match:
            return match.group(1)
    return None


def _gunzip(data: bytes) -> bytes:
    """gzip, with concatenated members and a truncated tail salvaged."""
    parts = []
    while True:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        parts.append(inflater.decompress(data))
        data = inflater.unused_data
        if not inflater.eof or not data.startswith(_GZIP_MAGIC):
            return b"".join(parts)


def _inflate(data: bytes) -> bytes:
    """HTTP "deflate": zlib-wrapped as the RFC says, or raw as some servers send it."""
    try:
        return zlib.decompressobj(zlib.MAX_WBITS).decompress(data)
    except zlib.error:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        out = inflater.decompress(data)
        if not inflater.eof:
            raise ValueError("raw deflate stream incomplete") from None
        return out


def _unbrotli(data: bytes) -> bytes:
    import brotli

    return brotli.decompress(data)


def _identity(data: bytes) -> bytes:
    return data


_DECODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": _gunzip,
    "x-gzip": _gunzip,
    "deflate": _inflate,
    "br": _unbrotli,
    "identity": _identity,
}


def _undo_content_encoding(body: bytes, codings: list[str]) -> bytes:
    """Undo the codings, last applied first; the raw body if any step fails or is unknown.

    An unlabelled body that starts with the gzip magic number is gunzipped too.
    """
    if not codings and body.startswith(_GZIP_MAGIC):
        codings = ["gzip"]
    data = body
    try:
        for coding in reversed(codings):
            data = _DECODERS[coding](data)
    except Exception:  # zlib.error, EOFError, brotli's own error class, unknown coding...
        log.debug("content-encoding %s failed, keeping raw body", codings)
        return body
    return data


def _codec(label: str | None, *, from_meta: bool = False) -> str | None:
    """Python codec for a charset label (WHATWG supersets applied), None if unusable."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    try:
        name = codecs.lookup(_LABEL_ALIASES.get(label, label)).name
        b"".decode(name)  # rejects bytes-to-bytes codecs such as hex or rot13
    except LookupError:
        return None
    if from_meta and name.startswith(("utf-16", "utf-32")):
        return "utf-8"  # a meta tag readable as ASCII cannot be UTF-16 (WHATWG)
    return _SUPERSETS.get(name, name)


def _utf8_text(data: bytes) -> str | None:
    """The body as UTF-8 if it is that, allowing a stray bad byte per 20 multi-byte characters."""
    text = data.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    absorbed = len(data) - len(text)  # bytes swallowed by multi-byte characters
    return text if bad == 0 or absorbed >= 20 * bad else None


def _detect(data: bytes) -> str | None:
    """Best charset guess for a body that is neither declared nor UTF-8."""
    if sum(byte > 0x7F for byte in data[:_DETECT_BYTES]) < _MIN_HIGH_BYTES_TO_DETECT:
        return "cp1252"  # the web's legacy default; too little evidence for anything else
    from charset_normalizer import from_bytes

    results = from_bytes(data[:_DETECT_BYTES])
    best = results.best()
    if best is None:
        return None
    near = {match.encoding for match in results if match.chaos <= best.chaos + 0.05}
    return "cp1252" if "cp1252" in near else best.encoding


def _to_text(data: bytes, header_label: str | None) -> str:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data.decode(codec, "replace")
    declared = _codec(header_label)
    if declared is None:
        match = _META_CHARSET.search(data[:_META_SCAN_BYTES])
        declared = _codec(match.group(1).decode("ascii"), from_meta=True) if match else None
    if declared and declared.startswith(("utf-16", "utf-32")):
        return data.decode(declared, "replace")
    if data.isascii():
        return data.decode("ascii")
    text = _utf8_text(data)
    if text is not None:
        return text
    return data.decode(declared or _detect(data) or "utf-8", "replace")


# --------------------------------------------------------------------------- parsing

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_MARKUP = re.compile(r"<(?:!doctype|html|head|body|meta|title|div|p|article|h1|main)\b", re.I)
_BINARY_SHARE = 0.05  # control/replacement characters above this share mean "not text"


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    junk = len(_CONTROL_CHARS.findall(sample)) + sample.count("\ufffd")
    return junk > _BINARY_SHARE * len(sample)


def _parse(html: str) -> HtmlElement | None:
    """The lxml tree of an HTML document; None for empty, binary or non-HTML input."""
    if not html or _looks_binary(html) or not _MARKUP.search(html):
        return None
    from lxml import etree
    from lxml import html as lxml_html

    text = _CONTROL_CHARS.sub("", _XML_DECLARATION.sub("", html, count=1))
    parser = lxml_html.HTMLParser(collect_ids=False, remove_comments=True, remove_pis=True)
    try:
        return lxml_html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError):
        return None


# --------------------------------------------------------------------------- text helpers

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\xad"))


def _clean(text: str | None) -> str:
    """Whitespace-normalised text: runs of any whitespace become one space."""
    return " ".join(text.translate(_INVISIBLE).split()) if text else ""


def _text(element: _Element) -> str:
    """Normalised text of an element, line breaks read as spaces (mutates ``<br>``/``<lb>``)."""
    for brk in element.iter("br", "lb"):
        brk.tail = " " + (brk.tail or "")
    return _clean("".join(element.itertext()))


def _squash(text: str) -> str:
    """Comparison key: case-folded letters and digits only."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


# --------------------------------------------------------------------------- metadata

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
_ISO_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?)?"
)


@dataclass
class _Page:
    """What the page declares about itself, gathered in one pass over the tree."""

    meta: dict[str, list[str]]
    ld: dict[str, Any]
    ld_ids: dict[str, dict]
    site_names: list[str]


def _read_page(tree: HtmlElement, url: str | None) -> _Page:
    meta: dict[str, list[str]] = {}
    for element in tree.iter("meta"):
        key = element.get("property") or element.get("name") or element.get("itemprop")
        value = _clean(element.get("content"))
        if key and value:
            meta.setdefault(key.strip().lower(), []).append(value)
    nodes = list(_ld_nodes(tree))
    ld_ids = {node["@id"]: node for node in nodes if isinstance(node.get("@id"), str)}
    ld = next((n for n in nodes if _ARTICLE_TYPE.search(_ld_type(n))), None)
    ld = ld or next((n for n in nodes if isinstance(n.get("headline"), str)), {})
    site_names = [value for key in _SITE_KEYS for value in meta.get(key, [])]
    site_names += _ld_names(ld.get("publisher"), ld_ids)
    if url:
        site_names.append(urlsplit(url).hostname or "")
    return _Page(meta, ld, ld_ids, [name for name in site_names if name])


def _ld_nodes(tree: HtmlElement) -> Iterator[dict]:
    """Every JSON-LD object on the page, ``@graph`` members and list items included."""
    for script in tree.iter("script"):
        if "ld+json" not in (script.get("type") or "").lower() or not script.text:
            continue
        try:
            data = json.loads(script.text.strip().removesuffix(";"), strict=False)
        except ValueError:
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
            return [_clean(v) for v in value if isinstance(v, str)]
    return [_clean(value)] if isinstance(value, str) and _clean(value) else []


def _ld_str(page: _Page, key: str) -> str | None:
    value = page.ld.get(key)
    return _clean(value) or None if isinstance(value, str) else None


def _first_meta(page: _Page, keys: tuple[str, ...]) -> str | None:
    return next((page.meta[key][0] for key in keys if key in page.meta), None)


# headline -----------------------------------------------------------------------

_REGEX_NS = {"re": "http://exslt.org/regular-expressions"}
_H1_TEXT_XPATH = (
    ".//text()[not(ancestor-or-self::*[re:test(@class, "
    "'kicker|dachzeile|overline|eyebrow|topline|supertitle|rubric"
    "|visually-hidden|sr-only|screen-reader', 'i')])]"
)
_TITLE_SEPARATOR = re.compile(r"\s+(?:[|\-–—·•»:/]{1,2}|::)\s+|\s*[|｜_]\s*(?=\S)")


def _headline(tree: HtmlElement, page: _Page) -> str:
    """The article's ``<h1>``, checked against og/twitter/JSON-LD titles and ``<title>``.

    An h1 that a title confirms wins, then the first h1 that is not the site's name; pages
    without one fall back to og:title, JSON-LD, twitter:title, ``<title>``, site name stripped.
    """
    titles = [
        *page.meta.get("og:title", [])[:1],
        _ld_str(page, "headline") or "",
        *page.meta.get("twitter:title", [])[:1],
        _clean(tree.findtext(".//title")),
    ]
    titles = [title for title in titles if title]
    references = {_squash(t) for t in titles} | {_squash(_strip_site(t, page)) for t in titles}
    sites = _site_keys(page)
    h1s = [h1 for h1 in tree.iter("h1") if not _is_site(_h1_text(h1), sites)]
    texts = [text for text in map(_h1_text, h1s) if text]
    parts = [text for h1 in h1s for text in map(_h1_text, h1.iterchildren()) if text]
    for text in texts + parts:  # the h1, or one span of it, is a title
        if _squash(text) in references:
            return text
    for text in texts:  # a title that contains the h1, e.g. kicker + ": " + h1
        key = _squash(text)
        if len(key) > 10 and any(key in ref for ref in references):
            return text
    if texts:
        return texts[0]
    return _strip_site(titles[0], page) if titles else ""


def _h1_text(h1: _Element) -> str:
    """Text of an h1 without kicker/topic labels and screen-reader-only snippets."""
    return _clean("".join(h1.xpath(_H1_TEXT_XPATH, namespaces=_REGEX_NS)))


def _strip_site(title: str, page: _Page) -> str:
    """Drop leading/trailing segments of a title that name the site."""
    sites = _site_keys(page)
    parts = _TITLE_SEPARATOR.split(title)
    while len(parts) > 1 and _is_site(parts[-1], sites):
        parts.pop()
    while len(parts) > 1 and _is_site(parts[0], sites):
        parts.pop(0)
    if len(parts) == len(_TITLE_SEPARATOR.split(title)):
        return title
    start = title.find(parts[0])
    end = title.rfind(parts[-1]) + len(parts[-1])
    return title[start:end].strip()


def _site_keys(page: _Page) -> list[str]:
    return [_squash(site.removeprefix("www.")) for site in page.site_names]


def _is_site(segment: str, sites: list[str]) -> bool:
    key = _squash(segment)
    return bool(key) and any(key in site or site in key for site in sites if len(site) > 2)


# authors ------------------------------------------------------------------------

_BYLINE_PREFIX = re.compile(r"^(?:by|von|par|por|di|door|av|af)\b\s*:?\s*", re.I)
_AUTHOR_SPLIT = re.compile(r"\s*(?:[,;&|]|\s(?:and|und|et|y|e)\s)\s*", re.I)
_NOT_A_NAME = re.compile(r"https?:|www\.|@|\.com\b|^\W*$|\d{3}")
_BYLINE_XPATH = (
    "//*[@rel='author' or @itemprop='author' or contains(@class, 'byline')"
    " or contains(@class, 'author-name') or contains(@class, 'author_name')]"
)


def _authors(tree: HtmlElement, page: _Page) -> list[str]:
    candidates = _ld_names(page.ld.get("author"), page.ld_ids)
    if not candidates:
        key = next((key for key in _AUTHOR_KEYS if key in page.meta), None)
        candidates = page.meta[key] if key else []
    if not candidates:
        candidates = _byline_texts(tree)
    names: dict[str, str] = {}  # case-folded -> as written, first spelling wins
    for candidate in candidates:
        for name in _AUTHOR_SPLIT.split(_BYLINE_PREFIX.sub("", _clean(candidate))):
            name = _BYLINE_PREFIX.sub("", name).strip(" .:-–—")
            if 1 < len(name) <= 60 and not _NOT_A_NAME.search(name):
                names.setdefault(name.casefold(), name)
    return list(names.values())


def _byline_texts(tree: HtmlElement) -> list[str]:
    """Short texts of the first byline-like elements in the markup."""
    for element in tree.xpath(_BYLINE_XPATH):
        text = _clean(element.text_content())
        if 2 < len(text) <= 80:
            return [text]
    return []


# dates and URL ------------------------------------------------------------------


def _iso(value: str | None) -> str | None:
    """ISO 8601 form of a date string (date-only stays date-only), None if unreadable."""
    if not value:
        return None
    match = _ISO_DATE.search(value)
    try:
        if match:
            text = match.group().replace(" ", "T", 1).replace(",", ".")
            stamp = datetime.fromisoformat(re.sub(r"\s+", "", text))
            return stamp.date().isoformat() if len(text) == 10 else stamp.isoformat()
        stamp = parsedate_to_datetime(value)
    except (ValueError, TypeError, IndexError):
        return None
    return stamp.isoformat()


def _dates(page: _Page) -> tuple[str | None, str | None]:
    published = _iso(_ld_str(page, "datePublished")) or _iso(_first_meta(page, _PUBLISHED_KEYS))
    modified = _iso(_ld_str(page, "dateModified")) or _iso(_first_meta(page, _MODIFIED_KEYS))
    return published, modified


def _guess_published(tree: HtmlElement, url: str | None) -> str | None:
    """htmldate's cheap (non-extensive) search, for pages without date metadata."""
    import htmldate

    try:
        return htmldate.find_date(tree, extensive_search=False, original_date=True, url=url)
    except Exception:  # third-party heuristics on arbitrary markup
        log.debug("htmldate failed on %s", url, exc_info=True)
        return None


def _canonical(tree: HtmlElement, page: _Page, url: str | None) -> str | None:
    hrefs = [
        link.get("href")
        for link in tree.iter("link")
        if "canonical" in (link.get("rel") or "").lower().split()
    ]
    for href in [*hrefs, *page.meta.get("og:url", [])]:
        absolute = urljoin(url or "", _clean(href))
        if urlsplit(absolute).scheme in ("http", "https"):
            return absolute
    return None


# --------------------------------------------------------------------------- body

_HEADING_MAX = 80  # longest text still read as a box heading ("More from ...")
_SHORT = 300  # labelled lines and prompts longer than this are read as prose
_LINK_ONLY = 0.8  # link share from which a short block is a link, not prose
_LINK_ONLY_MAX = 200


@dataclass
class _Block:
    """One paragraph-level unit of the extracted body."""

    text: str
    link_share: float = 0.0
    group: int | None = None  # blocks split out of the same list share a group


_ALWAYS_LABELS = (  # "<label>:" drops the line whatever follows
    r"read (?:more|also|next)|also read|see also|related(?: \w+)?|recommended(?: \w+)?"
    r"|more (?:from|on|about) [^:|]{1,40}|further reading|don'?t miss|must[- ]reads?|gallery"
    r"|lesen sie (?:auch|mehr)|mehr zum thema|(?:à )?lire aussi|voir aussi"
    r"|le[ea] (?:también|más)|leia (?:também|mais)|veja também|saiba mais"
)
_LINK_LABELS = (  # "<label>" + a link: dropped when the link is most of the rest
    rf"{_ALWAYS_LABELS}|more|also(?: on \S+)?|watch|listen|video|photos|opinion|analysis"
    r"|explainer|latest|live|previously|click here|podcast|trending|sponsored|top stories"
    r"|read|lire|lesen|leer|leia|mehr|plus"
)
_SEPARATOR = r"\s*(?:[:|»›>–—-]|\.{3}|…)"
_LABEL = re.compile(rf"^\W{{0,3}}(?:{_ALWAYS_LABELS}){_SEPARATOR}", re.I)
_LINK_LABEL = re.compile(rf"^\W{{0,3}}(?:{_LINK_LABELS})(?:{_SEPARATOR}|\s)\s*(.*)$", re.I)
_BOX_HEADING = re.compile(
    rf"^\W{{0,3}}(?:{_ALWAYS_LABELS}"
    r"|more\b.{0,30}\b(?:from|on|about|in)\b.{0,40}|see more(?: \w+)?"
    r"|more (?:stories|news|coverage|articles|to (?:read|explore))"
    r"|you (?:may|might|could) (?:also )?(?:like|enjoy|be interested in)"
    r"|most (?:read|popular|viewed|shared)|top stories|trending(?: now)?|editor'?s picks"
    r"|popular (?:now|stories)|latest (?:news|stories)|what to read next|in other news"
    r"|sur le même sujet|noticias relacionadas|notícias relacionadas)\W{0,3}$",
    re.I,
)
_BOILERPLATE = re.compile(
    r"^\W*(?:advertisement|advertisment|ad|anzeige|werbung|publicité|publicidad|publicidade"
    r"|sponsored(?: content)?|(?:story|article) continues (?:below|after).{0,30}"
    r"|continue reading(?: the main story| below)?|scroll (?:down )?to continue.{0,20}"
    r"|skip (?:advertisement|ad)|copy link|link copied|print|e-?mail|comments?|view comments"
    r"|leave a comment|share(?: this)?(?: article| story| page| on \w+| via \w+)?"
    r"|like this (?:story|article)\?.{0,40}|click to (?:share|print|email).{0,40}"
    r"|follow us on .{0,40}|order reprints|today'?s paper"
    r"|\d[\d,.]*k? ?(?:comments?|shares?|views?|reactions?)"
    r"|(?:comments?|shares?) \(?\d+\)?)\W*$",
    re.I,
)
_PROMPT = re.compile(
    r"^\W*(?:sign up|subscribe|register now|(?:get|receive) (?:our|the) [^.]{0,50}newsletter"
    r"|join (?:our|the) [^.]{0,40}(?:newsletter|mailing list)|enter your e-?mail|never miss"
    r"|click here to (?:get|download|subscribe|sign)|if you (?:enjoyed|liked) this"
    r"|this copy is for your personal)",
    re.I,
)
_PROMO_WORDS = re.compile(r"newsletter|inbox|sign up|subscribe|download (?:our|the) app", re.I)
_CREDIT = re.compile(
    r"^\W*(?:(?:photo|image|picture|foto|bild|illustration)s?(?: credit)?\s*(?:by\b|:|©)"
    r"|credit\s*:|copyright\b|©|ⓒ|\(c\)\s|\(?photo by\b)|all rights reserved\W*$",
    re.I,
)
_LINKED_PROSE = re.compile(r"[.!][\"'”’)\]]*$|^\d{1,3}[.):] ")  # a sentence, a list entry
_TIMESTAMP = re.compile(
    r"^(?:(?:last )?updated|published|posted|first published|modified)\b.{0,60}\d.{0,40}$", re.I
)


def _body_blocks(tree: HtmlElement, url: str | None) -> list[_Block]:
    """Paragraph-level blocks of the article body, as one trafilatura pass finds them."""
    import trafilatura

    try:
        document = trafilatura.bare_extraction(
            tree,
            url=url,
            fast=True,
            include_comments=False,
            include_links=True,
            include_tables=True,
            include_images=False,
            with_metadata=False,
        )
    except Exception:  # third-party heuristics on arbitrary markup
        log.warning("trafilatura failed on %s", url, exc_info=True)
        return []
    if document is None or document.body is None:
        return []
    return [block for child in document.body for block in _blocks(child)]


def _blocks(element: _Element, group: int | None = None) -> Iterator[_Block]:
    """Blocks for one body element: list items and table rows come out one by one."""
    if element.tag == "list":
        for item in element.iterchildren("item"):
            nested = list(item.iterchildren("list"))
            for sub in nested:
                item.remove(sub)
            yield from _block(item, id(element) if group is None else group)
            for sub in nested:
                yield from _blocks(sub, id(element) if group is None else group)
    elif element.tag == "table":
        for row in element.iter("row"):
            text = " | ".join(filter(None, map(_text, row.iterchildren("cell"))))
            if text:
                yield _Block(text)
    else:
        yield from _block(element, group)


def _block(element: _Element, group: int | None) -> Iterator[_Block]:
    text = _text(element)
    if text:
        linked = sum(len(_text(ref)) for ref in element.iter("ref"))
        yield _Block(text, min(1.0, linked / len(text)), group)


def _is_churn(block: _Block) -> bool:
    """Publisher furniture: ad labels, share counts, "Read more:" links, prompts, credits."""
    text = block.text
    if _BOILERPLATE.match(text):
        return True
    if len(text) <= _LINK_ONLY_MAX and block.link_share >= _LINK_ONLY:
        return not _LINKED_PROSE.search(text)
    if len(text) > _SHORT:
        return False
    if _LABEL.match(text) or _PROMPT.match(text) or _CREDIT.search(text):
        return True
    if len(text) < 100 and _TIMESTAMP.match(text):
        return True
    label = _LINK_LABEL.match(text)
    if label and block.link_share * len(text) >= 0.5 * len(label.group(1)):
        return True
    return len(text) <= 250 and block.link_share >= 0.15 and bool(_PROMO_WORDS.search(text))


def _filter_churn(blocks: list[_Block]) -> list[_Block]:
    """Drop churn blocks and related-story boxes (a box heading, then its list or links)."""
    kept: list[_Block] = []
    in_box, box_group = False, None
    for block in blocks:
        if len(block.text) <= _HEADING_MAX and _BOX_HEADING.match(block.text):
            in_box, box_group = True, None
            continue
        if in_box and block.group is not None and box_group in (None, block.group):
            box_group = block.group
            continue
        if in_box and box_group is None and block.link_share >= 0.5:
            continue
        in_box = False
        if not _is_churn(block):
            kept.append(block)
    return kept


def _drop_lead_repeats(paragraphs: list[str], headline: str, authors: list[str]) -> list[str]:
    """Remove the headline and the byline when the body repeats them at its top."""
    headline_key = _squash(headline)
    author_keys = {_squash(name) for name in authors}
    while paragraphs:
        key = _squash(_BYLINE_PREFIX.sub("", paragraphs[0]))
        names = {_squash(n) for n in _AUTHOR_SPLIT.split(_BYLINE_PREFIX.sub("", paragraphs[0]))}
        if key == headline_key or (author_keys and names <= author_keys):
            paragraphs = paragraphs[1:]
        else:
            break
    return paragraphs


_NO_ARTICLE = re.compile(
    r"\b(?:404|page not found|(?:could|can)(?:not|n't) be found|no longer (?:available|exists)"
    r"|does(?:n't| not) exist|cookies?|consent|privacy (?:settings|preferences)|accept all"
    r"|enable javascript|javascript is (?:disabled|required)|are you a robot|captcha"
    r"|access denied|subscribe to (?:continue|read))\b",
    re.I,
)
_NO_ARTICLE_MAX_CHARS = 1500


def _is_no_article(paragraphs: list[str], headline: str) -> bool:
    """A short page about cookies, 404s or robots rather than news."""
    text = " ".join(paragraphs)
    if len(text) > _NO_ARTICLE_MAX_CHARS:
        return False
    hits = {match.casefold() for match in _NO_ARTICLE.findall(text)}
    return bool(_NO_ARTICLE.search(headline)) or len(hits) >= 2


# --------------------------------------------------------------------------- public API


def extract_article(html: str, url: str | None = None) -> Article:
    """The article in an HTML document; an empty ``Article`` when there is none."""
    tree = _parse(html)
    if tree is None:
        return Article()
    page = _read_page(tree, url)
    headline = _headline(tree, page)
    authors = _authors(tree, page)
    published, modified = _dates(page)
    canonical = _canonical(tree, page, url)
    blocks = _filter_churn(_body_blocks(tree, url))
    paragraphs = _drop_lead_repeats([block.text for block in blocks], headline, authors)
    if _is_no_article(paragraphs, headline):
        paragraphs = []
    return Article(
        headline=headline,
        authors=authors,
        published=published or _guess_published(tree, canonical or url),
        modified=modified,
        canonical_url=canonical,
        paragraphs=paragraphs,
    )


def extract_response(body: bytes, headers: list[tuple[str, str]], url: str | None = None) -> Article:
    """``extract_article`` on a raw HTTP response body (see ``decode_html``)."""
    return extract_article(decode_html(body, headers), url)
