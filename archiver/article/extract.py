"""Article extraction: headline, byline, dates, canonical URL and body paragraphs from HTML.

``extract_article`` pulls the article out of a page's text; ``extract_response`` first turns
a captured HTTP body into that text (``decode.decode_html``). The page is parsed once with
lxml; metadata is read from that tree (JSON-LD, ``<meta>``, ``<h1>``/``<title>``) and the body
comes from one trafilatura pass over it. Publisher churn that sits inside the body
(related-story boxes, "Read more:" links, sign-up prompts, ad labels...) is then dropped so
the differ only sees the article. A page that puts a wall in front of the article says so in
``Article.wall``: a paywall prompt ("Subscribe to continue reading") marks the page "paywall"
and keeps whatever teaser text it shows (the differ decides, against the other capture,
whether that is the article) — unless its JSON-LD articleBody holds the whole text, which is
then the article; a consent, 404 or bot-check ("blocked") page has no paragraphs at all.
lxml, trafilatura and htmldate are imported lazily to keep the CLI start-up fast.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from archiver.article.body import INVISIBLE_TAGS, body_blocks, ld_body, prune_furniture, standfirst
from archiver.article.churn import drop_lead_repeats, filter_churn
from archiver.article.decode import decode_html
from archiver.article.html import parse_html, text_of
from archiver.article.metadata import (
    find_authors,
    find_canonical,
    find_dates,
    find_headline,
    guess_published,
    read_page,
    url_date,
)
from archiver.article.walls import NO_ARTICLE_MAX_CHARS, has_paywall, no_article

if TYPE_CHECKING:
    from lxml.html import HtmlElement

EXTRACTOR_VERSION = "8"


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
        fields: dict[str, Any] = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**fields)


# --------------------------------------------------------------------------- public API


def extract_article(html: str, url: str | None = None) -> Article:
    """The article in an HTML document; an empty ``Article`` when there is none."""
    tree = parse_html(html)
    if tree is None:
        return Article()
    page = read_page(tree, url)
    headline = find_headline(tree, page)
    authors = find_authors(tree, page)
    published, modified = find_dates(page)
    canonical = find_canonical(tree, page, url)
    published = published or url_date(canonical or url)
    guessed = published is None
    if guessed:
        published = guess_published(tree, canonical or url)
    prune_furniture(tree, INVISIBLE_TAGS)  # a paywall prompt may be a button: look first
    wall = "paywall" if has_paywall(tree) else None
    prune_furniture(tree)
    blocks = filter_churn(body_blocks(tree))
    paragraphs = [block.text for block in blocks]
    full_text = ld_body(page, paragraphs, paywalled=wall == "paywall")
    if full_text:  # the whole article is in the page: whatever prompt it shows, it is the article
        paragraphs, wall = full_text, None
    lead = standfirst(tree, page, paragraphs)
    paragraphs = drop_lead_repeats([lead, *paragraphs] if lead else paragraphs, headline, authors)
    missing = no_article(paragraphs, headline) or _bot_check(tree, paragraphs, headline)
    if missing:
        paragraphs, wall = [], wall or missing
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


def _bot_check(tree: HtmlElement, paragraphs: list[str], headline: str) -> str | None:
    """Whether a short page's whole text is a bot check ("blocked"): its message may sit in a
    heading, a link or a footer that the body leaves out. Only that kind is read from the whole
    page: a short article's page may well carry a cookie banner."""
    body = tree.find("body")
    if body is None or sum(map(len, paragraphs)) > NO_ARTICLE_MAX_CHARS:
        return None
    return "blocked" if no_article([text_of(body)], headline) == "blocked" else None


def extract_response(body: bytes, headers: list[tuple[str, str]], url: str | None = None) -> Article:
    """``extract_article`` on a raw HTTP response body (see ``decode_html``)."""
    return extract_article(decode_html(body, headers), url)
