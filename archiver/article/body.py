"""The article body: trafilatura's paragraphs from a pruned page, the lead the body
missed, and JSON-LD articleBody when the markup holds less."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lxml.etree import _Element
    from lxml.html import HtmlElement

from archiver.article.churn import Block, filter_churn
from archiver.article.html import clean, squash, text_of
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
_DOOMED = "archiver-drop"  # temporary tag for scripts other than JSON-LD
_DUMP_LINES = 20  # lines in a single extracted block that betray a whole-page text dump


_FURNITURE_CLASS = re.compile(r"caption|imagedescription|pictext|credit|author|byline|autor", re.I)


def body_blocks(tree: HtmlElement) -> list[Block]:
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


def prune_furniture(tree: HtmlElement, tags: tuple[str, ...] | None = None) -> None:
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
    return getattr(document, "body", None)  # a Document; None when nothing was found


def _is_page_dump(body: _Element) -> bool:
    """trafilatura's last resort: the whole page's text, one line per element, in one block."""
    return len(body) == 1 and (body[0].text or "").count("\n") >= _DUMP_LINES


def _blocks(element: _Element, group: int | None = None) -> Iterator[Block]:
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
            text = " | ".join(filter(None, map(text_of, row.iterchildren("cell"))))
            if text:
                yield Block(text)
    else:
        yield from _block(element, group)


def _block(element: _Element, group: int | None) -> Iterator[Block]:
    if _FURNITURE_CLASS.search(element.get("class") or ""):
        return  # trafilatura keeps the source class: captions, credits, author boxes
    text = text_of(element)
    if text:
        linked = sum(len(text_of(ref)) for ref in element.iter("ref"))
        yield Block(text, min(1.0, linked / len(text)), group)


_DESCRIPTION_KEYS = ("og:description", "description", "twitter:description")
_LEAD_CLASS = re.compile(
    r"lead|intro|standfirst|\bdek\b|summary|excerpt|teaser|subtitle|sapo|chapeau|abstract", re.I
)
_LEAD_KEY = 60  # squashed description characters that must open the lead element
_LEAD_MAX = 1000
_LD_BODY_MIN = 500  # characters of JSON-LD articleBody worth falling back to
_LD_BODY_RATIO = 3  # ... when it is this many times longer than what the markup gave


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
            leads.append(clean(text))
    return min((lead for lead in leads if len(lead) <= _LEAD_MAX), key=len, default=None)


def ld_body(page: Page, paragraphs: list[str]) -> list[str]:
    """JSON-LD ``articleBody`` paragraphs when the markup gave one block at most (the text is
    rendered by script, or trafilatura fell back to that very articleBody) or far less text."""
    body = page.ld.get("articleBody")
    if not isinstance(body, str) or len(body) < _LD_BODY_MIN:
        return paragraphs
    if len(paragraphs) > 1 and len(body) < _LD_BODY_RATIO * sum(map(len, paragraphs)):
        return paragraphs
    texts = [text for text in map(clean, body.splitlines()) if text]
    return [block.text for block in filter_churn([Block(text) for text in texts])]
