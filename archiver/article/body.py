"""The article body: trafilatura's paragraphs from a page pruned of furniture and promo
modules (or the page's own paragraph container when trafilatura misses the body), the lead
the body missed, and JSON-LD articleBody when the markup holds less."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lxml.etree import _Element
    from lxml.html import HtmlElement

from archiver.article.blocks import Block, blocks_of
from archiver.article.churn import filter_churn
from archiver.article.html import BLOCK_TAGS, clean, squash, text_of
from archiver.article.metadata import Page, first_meta, ld_str

log = logging.getLogger(__name__)

INVISIBLE_TAGS = ("style", "svg", "iframe", "video", "audio", "canvas", "picture", "object", "embed")
_INERT_TAGS = (  # never article text; trafilatura removes them too, but only after copying them
    *INVISIBLE_TAGS,
    "nav",
    "footer",
    "aside",
    "button",
    "select",
    "input",
    "textarea",
    "menu",
)
_MODULE_NAME = re.compile(  # a word of a class or id: "promo-box", "quoteRotator", "recirc"
    r"(?:^|[\s_-]|(?<=[a-z])(?=[A-Z]))(?i:promo|recirc|recommend|more-?(?:from|stories|news)|up-?next"
    r"|outbrain|taboola|newsletter|rotat|carousel)"
)
_MODULE_TAGS = ("div", "section", "figure", "blockquote", "ul", "p", "span")
_DOOMED = "archiver-drop"  # temporary tag for what prune_furniture removes
_DUMP_LINES = 20  # lines in a single extracted block that betray a whole-page text dump
_FALLBACK_BELOW = 1000  # body characters under which the page's own paragraphs are looked at
_FALLBACK_RATIO = 2  # ... and taken when they hold this many times more text
_CONTAINER_PARAGRAPHS = 3  # prose paragraphs that make an element the article's container
_PROSE_MIN = 40  # characters of a <p> that is prose, not a label


def body_blocks(tree: HtmlElement) -> list[Block]:
    """Paragraph-level blocks of the article body (``tree`` already pruned of page furniture).

    trafilatura's body, unless it found little or nothing while the page plainly carries an
    article: one element with several prose paragraphs and far more text (its heuristics drop
    a body whose container is named like a comment thread, for one).
    """
    blocks = _trafilatura_blocks(tree)
    shown = sum(len(block.text) for block in blocks)
    if shown < _FALLBACK_BELOW:
        container = _paragraph_container(tree)
        own = [] if container is None else list(blocks_of(container))
        if sum(len(block.text) for block in own) >= _FALLBACK_RATIO * max(shown, 1):
            return own
    return blocks


def _trafilatura_blocks(tree: HtmlElement) -> list[Block]:
    """One fast trafilatura pass; only when it falls back to dumping the whole page's text is
    the slower pass (with its readability/jusText comparison) tried. A second dump means no
    article was found."""
    for fast in (True, False):
        body = _trafilatura_body(tree, fast=fast)
        if body is None:
            return []
        if not _is_page_dump(body):
            return [block for child in body for block in blocks_of(child)]
    return []


def _paragraph_container(tree: HtmlElement) -> HtmlElement | None:
    """The element whose <p> children hold the most prose, if it has enough of them."""
    prose: dict[HtmlElement, list[int]] = {}
    for paragraph in tree.iter("p"):
        parent = paragraph.getparent()
        length = len(clean(paragraph.text_content()))
        if parent is not None and length >= _PROSE_MIN:
            count_chars = prose.setdefault(parent, [0, 0])
            count_chars[0] += 1
            count_chars[1] += length
    best = max(prose.items(), key=lambda item: item[1][1], default=None)
    return best[0] if best and best[1][0] >= _CONTAINER_PARAGRAPHS else None


def prune_furniture(tree: HtmlElement, tags: tuple[str, ...] | None = None) -> None:
    """Remove scripts (JSON-LD aside) and ``tags`` (default: styles, navigation and widgets);
    their tails stay."""
    from lxml import etree

    for script in tree.iter("script"):
        if "ld+json" not in (script.get("type") or "").lower():
            script.tag = _DOOMED
    if tags is None:
        _mark_modules(tree)
    for element in list(tree.iter(*(_INERT_TAGS if tags is None else tags))):
        _doom(element)
    etree.strip_elements(tree, _DOOMED, with_tail=False)


def _doom(element: HtmlElement) -> None:
    """Mark ``element`` for removal without gluing the text on either side of it together
    ("...message.<aside/>That he..."): a block leaves a line break, an embed or a widget a
    space."""
    tail = element.tail
    if tail and tail.strip():
        if element.tag in BLOCK_TAGS:
            line_break = element.makeelement("br", {})
            line_break.tail, element.tail = tail, None
            element.addnext(line_break)
        elif not tail[0].isspace():
            element.tail = " " + tail
    element.tag = _DOOMED


def _mark_modules(tree: HtmlElement) -> None:
    """Mark promo, recirculation and newsletter modules for removal: a box inside the article
    that shows another story (a rotating quote, a headline) would otherwise read as an edit
    each time it rotates. Named so by the CMS conventions nearly every site follows; never an
    element holding half the page's text (a wrapper whose class merely mentions them)."""
    from lxml import etree

    page_chars = 0
    for element in tree.iter(_MODULE_TAGS):
        names = element.get("class"), element.get("id")
        if not any(name and _MODULE_NAME.search(name) for name in names):
            continue
        page_chars = page_chars or len(etree.tostring(tree, method="text", encoding="unicode"))
        if 2 * len(element.text_content()) < page_chars:
            _doom(element)


# links kept for their text share only; tables are prose on older pages; no comments, images, metadata
_TRAFILATURA: dict[str, Any] = {"include_comments": False, "include_links": True, "include_tables": True}
_TRAFILATURA |= {"include_images": False, "with_metadata": False}


def _trafilatura_body(tree: HtmlElement, *, fast: bool) -> _Element | None:
    """trafilatura's body tree; links are kept for their text share only, so no URL is given
    (resolving every href would cost more than the rest of the extraction)."""
    import trafilatura

    try:
        document = trafilatura.bare_extraction(tree, fast=fast, **_TRAFILATURA)
    except Exception:  # third-party heuristics on arbitrary markup
        log.warning("trafilatura failed", exc_info=True)
        return None
    return getattr(document, "body", None)


def _is_page_dump(body: _Element) -> bool:
    """trafilatura's last resort: the whole page's text, one line per element, in one block."""
    return len(body) == 1 and (body[0].text or "").count("\n") >= _DUMP_LINES


_DESCRIPTION_KEYS = ("og:description", "description", "twitter:description")
_LEAD_CLASS = re.compile(
    r"lead|intro|standfirst|\bdek\b|summary|excerpt|teaser|subtitle|sapo|chapeau|abstract", re.I
)
_LEAD_KEY = 60  # squashed description characters that must open the lead element
_LEAD_MAX = 1000
_LD_BODY_MIN = 500  # characters of JSON-LD articleBody worth falling back to
_LD_BODY_RATIO = 3  # ... when it is this many times longer than what the markup gave
_LD_BODY_TEASER = 1.5  # ... or than the teaser a paywalled page shows


def standfirst(tree: HtmlElement, page: Page, paragraphs: list[str]) -> str | None:
    """The lead ("dek") under the headline when the body missed it: the shortest element
    whose text opens with the page's meta description."""
    description = first_meta(page, _DESCRIPTION_KEYS) or ld_str(page, "description") or ""
    key = squash(description)[:_LEAD_KEY]
    if len(key) < _LEAD_KEY or key in squash(" ".join(paragraphs)):
        return None
    elements = [*tree.iter("p", "h2")]
    elements += [el for el in tree.iter("div", "span") if _LEAD_CLASS.search(el.get("class") or "")]
    leads = []
    for element in elements:
        text = element.text_content()
        opens = squash(text[: 5 * _LEAD_KEY]).startswith(key)
        if opens and next(element.iterancestors("a"), None) is None:  # a link: a teaser elsewhere
            leads.append(text_of(element))  # a <div> lead's paragraphs stay apart
    return min((lead for lead in leads if len(lead) <= _LEAD_MAX), key=len, default=None)


def ld_body(page: Page, paragraphs: list[str], *, paywalled: bool) -> list[str] | None:
    """JSON-LD ``articleBody`` paragraphs, when they are the article and the markup is not: it
    gave one block at most (the text is rendered by script, or trafilatura fell back to that
    very articleBody), or far less text, or (``paywalled``) only the teaser of a longer text."""
    body = page.ld.get("articleBody")
    if not isinstance(body, str) or len(body) < _LD_BODY_MIN:
        return None
    shown = sum(map(len, paragraphs))
    if len(paragraphs) > 1 and len(body) < (_LD_BODY_TEASER if paywalled else _LD_BODY_RATIO) * shown:
        return None
    texts = [text for text in map(clean, body.splitlines()) if text]
    return [block.text for block in filter_churn([Block(text) for text in texts])] or None
