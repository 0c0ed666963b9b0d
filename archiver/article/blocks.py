"""A body tree cut into paragraph-level blocks, in trafilatura's vocabulary (p, head, list,
item, table, row, cell, quote, lb) or in HTML (a fallback's div, p, h2, li, td, br).

Text is never joined across a block boundary or a line break: a cell, list item, quote or
<div> that holds paragraphs gives one block per paragraph and one per run of text between
them (a byline in a layout table's cell, a timestamp before the first paragraph), and a
paragraph split by <br> gives one block per line, as trafilatura's own text does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lxml.etree import _Element

from archiver.article.html import BLOCK_TAGS, BREAK_TAGS, clean, text_of

_LISTS = frozenset(("list", "ul", "ol", "dl"))
_TABLES = frozenset(("table",))
_ROWS = frozenset(("row", "tr"))
_CELLS = frozenset(("cell", "td", "th"))
_LINKS = frozenset(("ref", "a"))
_BOUNDARIES = BLOCK_TAGS | BREAK_TAGS
_FURNITURE_CLASS = re.compile(r"caption|imagedescription|pictext|credit|author|byline|autor", re.I)


@dataclass
class Block:
    """One paragraph-level unit of the extracted body."""

    text: str
    link_share: float = 0.0
    group: int | None = None  # blocks split out of the same list share a group


def blocks_of(element: _Element, group: int | None = None, *, linked: bool = False) -> Iterator[Block]:
    """The blocks of one body element, in document order (``linked``: it sits in a link)."""
    if _FURNITURE_CLASS.search(element.get("class") or ""):
        return  # trafilatura keeps the source class: captions, credits, author boxes
    tag = element.tag
    if tag in _LISTS:
        own = id(element) if group is None else group
        for item in element:
            if isinstance(item.tag, str):
                yield from blocks_of(item, own, linked=linked)
    elif tag in _TABLES and not _is_layout(element):
        for row in _own(element, _ROWS):
            text = " | ".join(filter(None, (text_of(cell) for cell in _own(row, _CELLS))))
            if text:
                yield Block(text, group=group)
    elif tag in _TABLES:  # a page laid out in a table: each cell is a column of the page
        for cell in _own(element, _CELLS):
            yield from _Lines(group).read(cell, linked=linked)
    else:
        yield from _Lines(group).read(element, linked=linked)


def _own(table: _Element, tags: frozenset[str]) -> Iterator[_Element]:
    """Rows (or cells) of ``table`` itself, not of a table nested in one of its cells."""
    for element in table.iter(*tags):
        if next((a for a in element.iterancestors() if a.tag in _TABLES or a is table), None) is table:
            yield element


def _is_layout(table: _Element) -> bool:
    """A table whose cells hold paragraphs or broken lines lays out a page; one whose cells
    hold a phrase each is data, read a row at a time."""
    return any(
        isinstance(element.tag, str) and element.tag in _BOUNDARIES
        for cell in _own(table, _CELLS)
        for element in cell.iterdescendants()
    )


class _Lines:
    """Collects the text of one element line by line (a line ends at a line break or a
    nested block, which comes out in between)."""

    def __init__(self, group: int | None) -> None:
        self.group = group
        self.pieces: list[str] = []
        self.linked = 0

    def read(self, element: _Element, *, linked: bool) -> Iterator[Block]:
        yield from self._walk(element, linked=linked)
        yield from self._flush()

    def _walk(self, element: _Element, *, linked: bool) -> Iterator[Block]:
        self._add(element.text, linked)
        for child in element:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag in BREAK_TAGS:
                yield from self._flush()
            elif tag in BLOCK_TAGS:
                yield from self._flush()
                yield from blocks_of(child, self.group, linked=linked)
            elif tag:
                yield from self._walk(child, linked=linked or _links_away(child))
            self._add(child.tail, linked)

    def _add(self, text: str | None, linked: bool) -> None:
        if text:
            self.pieces.append(text)
            if linked:
                self.linked += len(clean(text))

    def _flush(self) -> Iterator[Block]:
        text = clean("".join(self.pieces))
        if text:
            yield Block(text, min(1.0, self.linked / len(text)), self.group)
        self.pieces, self.linked = [], 0


def _links_away(element: _Element) -> bool:
    """A link to another page (an in-page anchor, as on a subhead, is not one)."""
    if element.tag not in _LINKS:
        return False
    target = element.get("target") or element.get("href") or ""
    return not target.startswith("#")
