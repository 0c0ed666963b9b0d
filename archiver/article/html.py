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
    try:  # lxml turns stray control characters into U+FFFD itself
        return lxml_html.document_fromstring(_XML_DECLARATION.sub("", html, count=1), parser=parser)
    except (etree.ParserError, ValueError):
        return None


_NON_ALNUM = re.compile(r"[\W_]+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\xad"))


def clean(text: str | None) -> str:
    """Whitespace-normalised text: runs of any whitespace become one space."""
    return " ".join(text.translate(_INVISIBLE).split()) if text else ""


def text_of(element: _Element) -> str:
    """Normalised text of an element, line breaks read as spaces."""
    pieces = element.xpath(".//text()|.//br|.//lb")
    return clean("".join(piece if isinstance(piece, str) else " " for piece in pieces))


def squash(text: str) -> str:
    """Comparison key: case-folded letters and digits only."""
    return _NON_ALNUM.sub("", text.casefold())
