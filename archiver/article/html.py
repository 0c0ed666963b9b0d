"""Parsing a page with lxml, and the text helpers every extraction step shares."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lxml.etree import _Element
    from lxml.html import HtmlElement


_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_MARKUP = re.compile(r"<(?:!doctype|html|head|body|meta|title|div|p|article|h1|main)\b", re.I)
_BINARY_SHARE = 0.05  # control/replacement characters above this share mean "not text"
# lxml keeps these in a node's text but refuses them in any string given to it, so trafilatura,
# copying the text, fails and drops the page. HTML reads form feed and vertical tab as spaces.
_UNPARSABLE = {**dict.fromkeys(range(0x20), None), 0x7F: None, 0xFFFE: None, 0xFFFF: None}
_UNPARSABLE |= {0x09: 0x09, 0x0A: 0x0A, 0x0D: 0x0D, 0x0B: 0x20, 0x0C: 0x20}


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    junk = len(_CONTROL_CHARS.findall(sample)) + sample.count("\ufffd")
    return junk > _BINARY_SHARE * len(sample)


def parse_html(html: str) -> HtmlElement | None:
    """The lxml tree of an HTML document; None for empty, binary or non-HTML input."""
    if not html or _looks_binary(html) or not _MARKUP.search(html):
        return None
    from lxml import etree
    from lxml import html as lxml_html

    parser = lxml_html.HTMLParser(collect_ids=False, remove_comments=True, remove_pis=True)
    if _CONTROL_CHARS.search(html):
        html = html.translate(_UNPARSABLE)
    try:
        return lxml_html.document_fromstring(_XML_DECLARATION.sub("", html, count=1), parser=parser)
    except (etree.ParserError, ValueError):
        return None


_NON_ALNUM = re.compile(r"[\W_]+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\xad"))


def clean(text: str | None) -> str:
    """Whitespace-normalised text: runs of any whitespace become one space."""
    return " ".join(text.translate(_INVISIBLE).split()) if text else ""


# Elements that end a line in the rendered page, in HTML and in trafilatura's output.
BLOCK_TAGS = frozenset(
    (
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
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
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
        "head",
        "list",
        "item",
        "row",
        "cell",
        "quote",
        "code",
    )
)
BREAK_TAGS = frozenset(("br", "lb"))
_UNREAD = frozenset(("script", "style", "template"))


def text_of(element: _Element) -> str:
    """Normalised text of an element. Line breaks and block boundaries read as spaces, so
    "...message.</p><p>That..." never becomes "message.That"; scripts are not text."""
    pieces: list[str] = []
    _gather(element, pieces)
    return clean("".join(pieces))


def _gather(element: _Element, pieces: list[str]) -> None:
    pieces.append(element.text or "")
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag in BLOCK_TAGS or tag in BREAK_TAGS:
            pieces.append(" ")
            _gather(child, pieces)
            pieces.append(" ")
        elif tag and tag not in _UNREAD:
            _gather(child, pieces)
        pieces.append(child.tail or "")


def squash(text: str) -> str:
    """Comparison key: case-folded letters and digits only."""
    return _NON_ALNUM.sub("", text.casefold())
