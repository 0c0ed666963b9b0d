"""Article extraction: headline, byline, dates, canonical URL and body paragraphs from HTML.

``extract_article`` pulls the article out of a page's text; ``extract_response`` first turns
a captured HTTP body into that text (``decode.decode_html``). The page is parsed once with
lxml; metadata is read from that tree (JSON-LD, ``<meta>``, ``<h1>``/``<title>``) and the body
comes from one trafilatura pass over it. Publisher churn that sits inside the body
(related-story boxes, "Read more:" links, sign-up prompts, ad labels...) is then dropped so
the differ only sees the article. A page that puts a wall in front of the article says so in
``Article.wall``: a paywall prompt ("Subscribe to continue reading") marks the page "paywall"
and keeps whatever teaser text it shows (the differ decides, against the other capture,
whether that is the article); a consent, 404 or bot-check page has no paragraphs at all.
lxml, trafilatura and htmldate are imported lazily to keep the CLI start-up fast.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from .decode import decode_html

if TYPE_CHECKING:
    from lxml.etree import _Element
    from lxml.html import HtmlElement

EXTRACTOR_VERSION = "5"

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
    published_guessed: bool = False  # date found in page text, not in metadata or the URL
    # What the page puts in front of the article: "paywall" (a subscribe/sign-in prompt: the
    # paragraphs may be only a teaser), "consent", "not_found" or "blocked" (no paragraphs then).
    wall: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Article:
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__ if k in data})


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

    parser = lxml_html.HTMLParser(collect_ids=False, remove_comments=True, remove_pis=True)
    try:  # lxml turns stray control characters into U+FFFD itself
        return lxml_html.document_fromstring(_XML_DECLARATION.sub("", html, count=1), parser=parser)
    except (etree.ParserError, ValueError):
        return None


# --------------------------------------------------------------------------- text helpers

_NON_ALNUM = re.compile(r"[\W_]+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\xad"))


def _clean(text: str | None) -> str:
    """Whitespace-normalised text: runs of any whitespace become one space."""
    return " ".join(text.translate(_INVISIBLE).split()) if text else ""


def _text(element: _Element) -> str:
    """Normalised text of an element, line breaks read as spaces."""
    pieces = element.xpath(".//text()|.//br|.//lb")
    return _clean("".join(piece if isinstance(piece, str) else " " for piece in pieces))


def _squash(text: str) -> str:
    """Comparison key: case-folded letters and digits only."""
    return _NON_ALNUM.sub("", text.casefold())


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
_SECOND_LEVEL = {"co", "com", "net", "org", "gov", "ac", "edu", "gob", "gouv"}  # bbc.co.uk
_YEARS = (1900, 2100)  # plausible publication years
_LD_WRAPPER = re.compile(r"^\s*(?://\s*)?(?:<!\[CDATA\[|<!--)|(?://\s*)?(?:\]\]>|-->)?[\s;]*$")
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
    """Meta tags, the article's JSON-LD object and the names the site goes by."""
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
        site_names += _host_names(urlsplit(url).hostname or "")
    return _Page(meta, ld, ld_ids, [name for name in site_names if name])


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
    if not isinstance(value, str):
        return None
    return _clean(value) or None


def _first_meta(page: _Page, keys: tuple[str, ...]) -> str | None:
    return next((page.meta[key][0] for key in keys if key in page.meta), None)


# headline -----------------------------------------------------------------------

_REGEX_NS = {"re": "http://exslt.org/regular-expressions"}
_H1_TEXT_XPATH = (
    ".//text()[not(ancestor-or-self::*[re:test(@class, "
    "'kicker|dachzeile|overline|eyebrow|topline|supertitle|rubric"
    "|visually-hidden|sr-only|screen-reader', 'i')])]"
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


def _headline(tree: HtmlElement, page: _Page) -> str:
    """The article's ``<h1>``, checked against og/twitter/JSON-LD titles and ``<title>``.

    An h1 (or one span of it) that a title confirms wins, then the first h1 that looks like a
    headline rather than the site's logo or a section name; pages without one fall back to
    og:title, JSON-LD, twitter:title, ``<title>``, with the site's name stripped.
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
    h1s = [
        h1
        for h1 in tree.iter("h1")
        if not _is_site(_h1_text(h1), sites) and not h1.xpath(_LOGO_XPATH, namespaces=_REGEX_NS)
    ]
    texts = [text for text in map(_h1_text, h1s) if text]
    parts = [text for h1 in h1s for text in map(_h1_text, h1.iterchildren()) if text]
    for text in texts + parts:
        if _squash(text) in references:
            return text
    for text in texts:  # a title that contains the h1, e.g. kicker + ": " + h1
        key = _squash(text)
        if len(key) > 10 and any(key in ref for ref in references):
            return text
    for text in texts:
        if len(text) >= _MIN_HEADLINE or len(text.split()) >= 3:  # not "Politics"
            return text
    return _strip_site(titles[0], page) if titles else ""


def _h1_text(h1: _Element) -> str:
    """Text of an h1 without kicker/topic labels and screen-reader-only snippets."""
    return _clean("".join(h1.xpath(_H1_TEXT_XPATH, namespaces=_REGEX_NS)))


def _strip_site(title: str, page: _Page) -> str:
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


def _site_keys(page: _Page) -> list[str]:
    keys = (_squash(site.removeprefix("www.").removeprefix("@")) for site in page.site_names)
    return [key for key in keys if 2 < len(key) <= _MAX_SITE_NAME]


def _is_site(text: str, sites: list[str]) -> bool:
    """Whether a short text names the site: "CNN", "CNN Politics", "Gazette", "nzz.ch"."""
    key = _squash(text)
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
_NOT_A_NAME = re.compile(r"https?:|www\.|@|\.com\b|^\W*$|\d")
_BYLINE_XPATHS = (  # tried in order; the first that yields names wins
    "//*[@itemprop='author' and not(self::meta)]//*[@itemprop='name' and not(self::meta)]",
    "//*[(@itemprop='author' or @rel='author') and not(self::meta or self::link)]",
    "(//*[contains(@class, 'byline') or contains(@class, 'author') or contains(@class, 'autor')]"
    "[string-length(normalize-space()) > 2])[1]",  # the first only: sidebars name other authors
    "//address",
)
_BYLINE_MAX = 120  # longer "author" elements are bios, not bylines
_NAME_MAX = 60


def _authors(tree: HtmlElement, page: _Page) -> list[str]:
    """Author names from JSON-LD, then meta tags, then byline markup.

    A source naming only the site itself ("CNN", "tagesschau.de") gives way to the next one;
    the site's name is dropped from a list that also names people.
    """
    sites = _site_keys(page)
    fallback: list[str] = []
    for candidates in _author_sources(tree, page):
        names = _author_names(candidates)
        people = [name for name in names if not _is_site(name, sites)]
        if people:
            return people
        fallback = fallback or names
    return fallback


def _author_sources(tree: HtmlElement, page: _Page) -> Iterator[list[str]]:
    """Raw author strings, most trustworthy source first, each read only when needed."""
    yield _ld_names(page.ld.get("author"), page.ld_ids)
    yield next((page.meta[key][:1] for key in _AUTHOR_KEYS if key in page.meta), [])
    for xpath in _BYLINE_XPATHS:
        texts = (_clean(element.text_content()) for element in tree.xpath(xpath))
        yield [text for text in texts if 2 < len(text) <= _BYLINE_MAX][:10]


def _author_names(candidates: list[str]) -> list[str]:
    """Clean, split and de-duplicate raw author strings."""
    names: list[str] = []
    for candidate in candidates:
        if _URL_START.match(candidate):
            continue  # a profile link, not a name
        for name in _AUTHOR_SPLIT.split(_BYLINE_PREFIX.sub("", _clean(candidate))):
            name = _DATE_TAIL.sub("", _BYLINE_PREFIX.sub("", name)).strip(" .:-–—()")
            plausible = 1 < len(name) <= _NAME_MAX and not _NOT_A_NAME.search(name)
            if plausible and not any(_same_person(name, seen) for seen in names):
                names.append(name)
    return names


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


def _dates(page: _Page) -> tuple[str | None, str | None]:
    published = _iso(_ld_str(page, "datePublished")) or _iso(_first_meta(page, _PUBLISHED_KEYS))
    modified = _iso(_ld_str(page, "dateModified")) or _iso(_first_meta(page, _MODIFIED_KEYS))
    return published, modified


_URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-](0?[1-9]|1[0-2])[/-](0?[1-9]|[12]\d|3[01])(?:/|[^\d])")


def _url_date(url: str | None) -> str | None:
    """The date in an article URL (/2024/05/17/...)."""
    match = _URL_DATE.search(url or "")
    if not match:
        return None
    year, month, day = (int(part) for part in match.groups())
    return f"{year:04d}-{month:02d}-{day:02d}"


def _guess_published(tree: HtmlElement, url: str | None) -> str | None:
    """htmldate's cheap (non-extensive) search, for pages without date metadata. What it
    finds may be page furniture (a "generated at" footer), so the result is marked guessed."""
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
_LINKED = 0.5  # link share of a "Read:"-labelled line or of a box entry without list markup
_PROMO_LINK_SHARE = 0.15  # a sign-up/newsletter mention that links somewhere is a promo...
_PROMO_MAX = 250  # ... when it is this short
_TIMESTAMP_MAX = 100
_INVISIBLE_TAGS = ("style", "svg", "iframe", "video", "audio", "canvas", "picture", "object", "embed")
_INERT_TAGS = (  # never article text; trafilatura removes them too, but only after copying them
    *_INVISIBLE_TAGS,
    "nav",
    "footer",
    "aside",
    "button",
    "select",
    "input",
    "textarea",
    "menu",
)
_DOOMED = "archiver-drop"  # temporary tag for scripts other than JSON-LD
_DUMP_LINES = 20  # lines in a single extracted block that betray a whole-page text dump


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
    r"|skip (?:advertisement|ad)|copy link|link copied|print|e-?mail"
    r"|share(?: this)?(?: article| story| page| on \w+| via \w+)?"
    r"|like this (?:story|article)\?.{0,40}|click to (?:share|print|email).{0,40}"
    r"|follow us on .{0,40}|order reprints|today'?s paper"
    r"|(?:last )?updated(?: on| at)?|aktualisiert(?: am)?|veröffentlicht(?: am)?|mis à jour(?: le)?"
    r"|\d[\d,.]*k? ?(?:comments?|shares?|views?|reactions?)"
    r"|(?:comments?|shares?) \(?\d+\)?)\W*$",
    re.I,
)
_COMMENTS_START = re.compile(
    r"^\W*(?:(?:reader |user )?comments?|comentar(?:ios)?|kommentare?|commentaires?"
    r"|commenti|comentários|(?:leave|add|post|write) (?:a|your) (?:comment|reply)"
    r"|join the (?:conversation|discussion)|(?:show|view|load) comments)\W*(?:\(\d+\))?$",
    re.I,
)
_PROMPT = re.compile(
    r"^\W*(?:sign up|subscribe|register now|(?:get|receive) (?:our|the) [^.]{0,50}newsletter"
    r"|join (?:our|the) [^.]{0,40}(?:newsletter|mailing list)|enter your e-?mail|never miss"
    r"|click here to (?:get|download|subscribe|sign)|if you (?:enjoyed|liked) this"
    r"|this copy is for your personal|our standards\s*:|we want to hear what you think)",
    re.I,
)
_PROMO_WORDS = re.compile(r"newsletter|inbox|sign up|subscribe|download (?:our|the) app", re.I)
_CREDIT = re.compile(
    r"^\W*(?:(?:photo|image|picture|foto|bild|illustration)s?(?: credit)?\s*(?:by\b|:|©)"
    r"|credit\s*:|copyright\b|©|ⓒ|\(c\)\s|\(?photo by\b)|all rights reserved\W*$",
    re.I,
)
_FURNITURE_CLASS = re.compile(r"caption|imagedescription|pictext|credit|author|byline|autor", re.I)
_SENTENCE = re.compile(r"[.!][\"'”’)\]]*$")
_LIST_ENTRY = re.compile(r"^\d{1,3}[.):] ")
_LABELLED_HEADLINE_MAX = 100  # "Related: <headline>" is short; longer labelled text may be prose
_BYLINE_REPEAT_MAX = 150  # a body paragraph longer than this is not a repeated byline
_TIMESTAMP = re.compile(
    r"^(?:(?:last )?updated|published|posted|first published|modified)\b.{0,60}\d.{0,40}$", re.I
)


def _body_blocks(tree: HtmlElement) -> list[_Block]:
    """Paragraph-level blocks of the article body (``tree`` already pruned of page furniture).

    One fast trafilatura pass; only when it falls back to dumping the whole page's text is
    the slower pass (with its readability/jusText comparison) tried. A second dump means no
    article was found.
    """
    for fast in (True, False):
        body = _trafilatura_body(tree, fast=fast)
        if body is None:
            return []
        if not _is_page_dump(body):
            return [block for child in body for block in _blocks(child)]
    return []


def _prune_furniture(tree: HtmlElement, tags: tuple[str, ...] | None = None) -> None:
    """Remove scripts (JSON-LD aside) and ``tags`` (default: styles, navigation and widgets);
    their tails stay."""
    from lxml import etree

    for script in tree.iter("script"):
        if "ld+json" not in (script.get("type") or "").lower():
            script.tag = _DOOMED
    etree.strip_elements(tree, _DOOMED, *(_INERT_TAGS if tags is None else tags), with_tail=False)


def _trafilatura_body(tree: HtmlElement, *, fast: bool) -> _Element | None:
    """trafilatura's body tree; links are kept for their text share only, so no URL is given
    (resolving every href would cost more than the rest of the extraction)."""
    import trafilatura

    try:
        document = trafilatura.bare_extraction(
            tree,
            fast=fast,
            include_comments=False,
            include_links=True,
            include_tables=True,
            include_images=False,
            with_metadata=False,
        )
    except Exception:  # third-party heuristics on arbitrary markup
        log.warning("trafilatura failed", exc_info=True)
        return None
    return None if document is None else document.body


def _is_page_dump(body: _Element) -> bool:
    """trafilatura's last resort: the whole page's text, one line per element, in one block."""
    return len(body) == 1 and (body[0].text or "").count("\n") >= _DUMP_LINES


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
    if _FURNITURE_CLASS.search(element.get("class") or ""):
        return  # trafilatura keeps the source class: captions, credits, author boxes
    text = _text(element)
    if text:
        linked = sum(len(_text(ref)) for ref in element.iter("ref"))
        yield _Block(text, min(1.0, linked / len(text)), group)


# A metered paywall's counter, different on every visit: page furniture, not a paywall.
_METER = re.compile(
    r"\b(?:you have|you've got) (?:\d+|one|two|three|four|five) (?:more )?free (?:articles?|stories)"
    r"|\b\d+ (?:of \d+ )?free (?:articles?|stories) (?:left|remaining)\b"
    r"|\b(?:this is )?your (?:last|final) free (?:article|story)\b",
    re.IGNORECASE,
)


def _is_churn(block: _Block) -> bool:
    """Publisher furniture: ad labels, share counts, "Read more:" links, prompts, credits."""
    text = block.text
    if _BOILERPLATE.match(text):
        return True
    if len(text) <= _LINK_ONLY_MAX and block.link_share >= _LINK_ONLY:
        return not (_SENTENCE.search(text) or _LIST_ENTRY.match(text))
    if len(text) > _SHORT:
        return False
    if _PROMPT.match(text) or _CREDIT.search(text) or _METER.search(text) or _is_paywall_prompt(text):
        return True
    if _LABEL.match(text) and (
        block.link_share > 0 or len(text) <= _LABELLED_HEADLINE_MAX or not _SENTENCE.search(text)
    ):
        return True
    if len(text) <= _TIMESTAMP_MAX and _TIMESTAMP.match(text):
        return True
    label = _LINK_LABEL.match(text)
    if label and block.link_share * len(text) >= _LINKED * len(label.group(1)):
        return True
    promo = block.link_share >= _PROMO_LINK_SHARE and bool(_PROMO_WORDS.search(text))
    return promo and len(text) <= _PROMO_MAX


def _filter_churn(blocks: list[_Block]) -> list[_Block]:
    """Drop churn blocks, related-story boxes (a box heading, then its list or links) and
    everything from a reader-comments heading on."""
    kept: list[_Block] = []
    in_box, box_group = False, None
    for block in blocks:
        if kept and _COMMENTS_START.match(block.text):
            break  # reader comments run to the end of what trafilatura kept
        if len(block.text) <= _HEADING_MAX and _BOX_HEADING.match(block.text):
            in_box, box_group = True, None
            continue
        if in_box and block.group is not None and box_group in (None, block.group):
            box_group = block.group
            continue
        if in_box and box_group is None and block.link_share >= _LINKED:
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
        first = paragraphs[0]
        byline = len(first) <= _BYLINE_REPEAT_MAX and author_keys
        names = {_squash(name) for name in _author_names([first])} if byline else set()
        if _squash(first) != headline_key and not (names and names <= author_keys):
            break
        paragraphs = paragraphs[1:]
    top = _HEADLINE_REPEAT_WINDOW  # a kicker or dek may stand above a repeated headline
    return [p for i, p in enumerate(paragraphs) if i >= top or _squash(p) != headline_key]


_HEADLINE_REPEAT_WINDOW = 4

_DESCRIPTION_KEYS = ("og:description", "description", "twitter:description")
_LEAD_CLASS = re.compile(
    r"lead|intro|standfirst|\bdek\b|summary|excerpt|teaser|subtitle|sapo|chapeau|abstract", re.I
)
_LEAD_KEY = 60  # squashed description characters that must open the lead element
_LEAD_MAX = 1000
_LD_BODY_MIN = 500  # characters of JSON-LD articleBody worth falling back to
_LD_BODY_RATIO = 3  # ... when it is this many times longer than what the markup gave


def _standfirst(tree: HtmlElement, page: _Page, paragraphs: list[str]) -> str | None:
    """The lead ("dek") under the headline when the body missed it: the shortest element
    whose text opens with the page's meta description."""
    description = _first_meta(page, _DESCRIPTION_KEYS) or _ld_str(page, "description") or ""
    key = _squash(description)[:_LEAD_KEY]
    if len(key) < _LEAD_KEY or key in _squash(" ".join(paragraphs)):
        return None
    elements = [*tree.iter("p", "h2")]
    elements += [el for el in tree.iter("div", "span") if _LEAD_CLASS.search(el.get("class") or "")]
    leads = []
    for element in elements:
        text = element.text_content()
        opens = _squash(text[: 5 * _LEAD_KEY]).startswith(key)
        if opens and next(element.iterancestors("a"), None) is None:  # a link: a teaser elsewhere
            leads.append(_clean(text))
    return min((lead for lead in leads if len(lead) <= _LEAD_MAX), key=len, default=None)


def _ld_body(page: _Page, paragraphs: list[str]) -> list[str]:
    """JSON-LD ``articleBody`` paragraphs when the markup gave one block at most (the text is
    rendered by script, or trafilatura fell back to that very articleBody) or far less text."""
    body = page.ld.get("articleBody")
    if not isinstance(body, str) or len(body) < _LD_BODY_MIN:
        return paragraphs
    if len(paragraphs) > 1 and len(body) < _LD_BODY_RATIO * sum(map(len, paragraphs)):
        return paragraphs
    texts = [text for text in map(_clean, body.splitlines()) if text]
    return [block.text for block in _filter_churn([_Block(text) for text in texts])]


_NO_ARTICLE_TITLE = re.compile(
    r"^\W*(?:error\W*)?404\b|page not found|not found\W*$|we value your privacy|before you continue"
    r"|cookies?\b|consent|access denied|are you a (?:robot|human)|just a moment|attention required",
    re.I,
)
_NO_ARTICLE_KINDS = (  # (wall, what its text says); the first kind with a hit names the page
    ("consent", r"cookies?|consent|privacy (?:settings|preferences)|accept all"),
    (
        "not_found",
        r"404|page not found|(?:cannot|can't|could ?not|couldn't) be found"
        r"|no longer (?:available|exists)|does(?:n't| not) exist",
    ),
    (
        "blocked",
        r"enable javascript|javascript is (?:disabled|required)|are you a robot|captcha"
        r"|access denied",
    ),
    ("paywall", r"subscribe to (?:continue|read)"),
)
_NO_ARTICLE_TEXT = re.compile(
    r"\b(?:" + "|".join(f"(?P<{kind}>{pattern})" for kind, pattern in _NO_ARTICLE_KINDS) + r")\b",
    re.I,
)
_NO_ARTICLE_MAX_CHARS = 1500


def _no_article(paragraphs: list[str], headline: str) -> str | None:
    """The kind of a short page about cookies, 404s or robots rather than news ("consent",
    "not_found", "blocked", "paywall"): its title says so and its text agrees, or its text hits
    three distinct such phrases. None for a page that may be an article."""
    text = " ".join(paragraphs)
    if len(text) > _NO_ARTICLE_MAX_CHARS:
        return None
    matches = list(_NO_ARTICLE_TEXT.finditer(text))
    hits = {match.group().casefold() for match in matches}
    if not (len(hits) >= 3 or (hits and _NO_ARTICLE_TITLE.search(headline))):
        return None
    kinds = {kind for match in matches for kind, value in match.groupdict().items() if value}
    return next(kind for kind, _ in _NO_ARTICLE_KINDS if kind in kinds)


# paywall ------------------------------------------------------------------------

# What a paywall says where the article stops (lower case). Each phrase opens a short line of
# its own (or a sentence in one): "Subscribe to continue reading", "Already a subscriber? Log in".
# Not here: prompts full articles carry too (NYT's "Continue reading the main story" skip links,
# "You have 3 free articles remaining", "Exklusiv für Abonnenten" badges, newsletter sign-ups).
_PAYWALL_PHRASES = (
    # English
    r"subscribe (?:now |today )?(?:to|and) (?:continue|keep) reading"
    r"|subscribe (?:now |today )?to (?:read|unlock|access)\b(?! more)"
    r"|(?:sign|log) ?in (?:now )?to (?:read|continue|keep reading)"
    r"|(?:register|create (?:a |an |your )?(?:free )?account|sign up)(?: for free| now| today)?"
    r" to (?:continue|keep) reading"
    r"|to (?:continue|keep) reading(?: this (?:article|story))?\s*[,:]"
    r"|continue reading (?:your article |this article |this story )?with (?:a|an|your)\b"
    r"|to read the (?:full|whole|entire) (?:story|article)|to read the rest of (?:this|the) (?:story|article)"
    r"|(?:this|the rest of this) (?:article|story|content|post) is (?:only )?(?:available )?"
    r"(?:exclusively )?(?:for|to|reserved for) (?:paying |our )?(?:subscribers|members)"
    r"|(?:this is )?an? (?:subscriber|member|premium)s?[- ]only (?:article|story|content)"
    r"|already (?:a |an )?(?:subscriber|member)\s*\?"
    r"|you(?:'ve| have) (?:reached|used up|hit) (?:your|the)\b.{0,30}?\b(?:limit|free (?:articles|stories))"
    # German
    r"|(?:jetzt )?weiterlesen mit\b|(?:jetzt )?(?:abonnieren|abo abschließen|testen) und weiterlesen"
    r"|(?:dieser|der) (?:artikel|beitrag|inhalt) ist (?:nur |exklusiv )?für \S*abonnent"
    r"|(?:(?:sie|du) (?:haben|sind|hast|bist) )?(?:schon|bereits) (?:ein |einen )?\S*abo"
    r"(?:nnent(?:in)?|nnement)?\s*\?|wählen sie ihren zugang"
    r"|um (?:den|diesen) (?:ganzen |vollständigen )?(?:artikel|beitrag) (?:weiter |vollständig )?zu lesen"
    # French, Spanish, Portuguese, Italian, Dutch
    r"|(?:cet article|la suite|ce contenu|l'article) est réservée? aux abonnés"
    r"|il vous reste \d+ ?% de cet article à lire|pour lire la suite|déjà abonné\s*\?"
    r"|(?:este|el|esta) (?:artículo|contenido|noticia) es (?:exclusiv[oa] )?para (?:suscriptores|socios)"
    r"|suscríbete para (?:seguir|continuar) leyendo|para (?:seguir|continuar) leyendo"
    r"|ya eres (?:suscriptor|socio)\s*\?"
    r"|assine para (?:continuar|ler)|(?:este|esse) conteúdo é exclusivo para assinantes"
    r"|já é assinante\s*\?|para continuar lendo"
    r"|per continuare a leggere|sei già abbonato\s*\?|(?:contenuto|articolo) riservato agli abbonati"
    r"|(?:dit artikel|deze inhoud) is (?:alleen |exclusief )?voor abonnees|al abonnee\s*\?"
)
# Every phrase above contains one of these (lower case): text with none is not checked further.
_PAYWALL_WORDS = (
    "continue reading",
    "keep reading",
    "to read",
    "to unlock",
    "to access",
    "to continue",
    "subscriber",
    "for members",
    "to members",
    "members only",
    "members-only",
    "member-only",
    "member only",
    "premium-only",
    "premium only",
    "already a",
    "ve reached",
    "have reached",
    "ve used up",
    "have used up",
    "ve hit",
    "have hit",
    "weiterlesen",
    "abonnent",
    "schon ",
    "bereits ",
    "zu lesen",
    "à lire",
    "la suite",
    "abonné",
    "suscri",
    "socio",
    "leyendo",
    "assine",
    "assinante",
    "lendo",
    "leggere",
    "abbonat",
    "abonnee",
)
_PAYWALL_KEYWORD = re.compile("|".join(map(re.escape, _PAYWALL_WORDS)))  # literals: fast in re
_PAYWALL_WINDOW = 150  # characters either side of a keyword in which to look for a phrase
_PAYWALL_ANY = re.compile(_PAYWALL_PHRASES)  # for lower-case text: faster than re.I
_PAYWALL_START = re.compile(rf"^\W{{0,3}}(?:{_PAYWALL_PHRASES})", re.I)
_PAYWALL_LINE = re.compile(rf"(?:^|(?<=[.!?…])\s+)\W{{0,3}}(?:{_PAYWALL_PHRASES})", re.I)
_PAYWALL_LINE_MAX = 300  # a longer line is prose that may quote a paywall, not the wall itself
_BLOCK_TAGS = frozenset(
    (  # a line break in the rendered page before and after these
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "br",
        "dd",
        "details",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "td",
        "th",
        "tr",
        "ul",
    )
)
# Not looked at: scripts and styles (pruned already but for JSON-LD), site navigation and footers.
_NOT_SHOWN = frozenset(("script", "template", "noscript", "nav", "footer", "menu", "select"))


def _is_paywall_prompt(text: str, *, anywhere: bool = False) -> bool:
    """A short text that opens with a paywall prompt (``anywhere``: or has a sentence that does)."""
    if len(text) > _PAYWALL_LINE_MAX:
        return False
    if not _PAYWALL_KEYWORD.search(text.lower()):
        return False
    return bool((_PAYWALL_LINE if anywhere else _PAYWALL_START).search(text))


def _paywall_phrase_in(text: str) -> bool:
    """Whether lower-case ``text`` has a paywall phrase anywhere (looked for near keywords only:
    one regex over a whole page would cost milliseconds)."""
    return any(
        _PAYWALL_ANY.search(text, max(0, hit.start() - _PAYWALL_WINDOW), hit.end() + _PAYWALL_WINDOW)
        for hit in _PAYWALL_KEYWORD.finditer(text)
    )


def _has_paywall(tree: HtmlElement) -> bool:
    """Whether the page (scripts and styles pruned) shows a paywall prompt on a line of its own."""
    from lxml import etree

    if not _paywall_phrase_in(etree.tostring(tree, method="text", encoding="unicode").lower()):
        return False  # the common case, decided without walking the tree
    pieces: list[str] = []
    walker = etree.iterwalk(tree, events=("start", "end"))
    for event, element in walker:
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            if tag in _NOT_SHOWN:
                walker.skip_subtree()
                pieces.append("\n")
                continue
            if tag in _BLOCK_TAGS:
                pieces.append("\n")
            pieces.append(element.text or "")
        else:
            if tag in _BLOCK_TAGS:
                pieces.append("\n")
            if element is not tree:
                pieces.append(element.tail or "")
    lines = "".join(pieces).split("\n")
    return any(
        _is_paywall_prompt(_clean(line), anywhere=True)
        for line in lines
        if line and len(line) < 4 * _PAYWALL_LINE_MAX  # cheap: long raw lines are prose
    )


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
    published = published or _url_date(canonical or url)
    guessed = published is None
    if guessed:
        published = _guess_published(tree, canonical or url)
    _prune_furniture(tree, _INVISIBLE_TAGS)  # a paywall prompt may be a button: look first
    wall = "paywall" if _has_paywall(tree) else None
    _prune_furniture(tree)
    blocks = _filter_churn(_body_blocks(tree))
    paragraphs = _ld_body(page, [block.text for block in blocks])
    lead = _standfirst(tree, page, paragraphs)
    paragraphs = _drop_lead_repeats([lead, *paragraphs] if lead else paragraphs, headline, authors)
    no_article = _no_article(paragraphs, headline)
    if no_article:
        paragraphs, wall = [], wall or no_article
    return Article(
        headline=headline,
        authors=authors,
        published=published,
        published_guessed=guessed and published is not None,
        modified=modified,
        canonical_url=canonical,
        paragraphs=paragraphs,
        wall=wall,
    )


def extract_response(body: bytes, headers: list[tuple[str, str]], url: str | None = None) -> Article:
    """``extract_article`` on a raw HTTP response body (see ``decode_html``)."""
    return extract_article(decode_html(body, headers), url)
