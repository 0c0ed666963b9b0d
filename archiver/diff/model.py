"""What a diff is made of: sentences, spans, changes, and the whole ArticleDiff."""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import TYPE_CHECKING

from archiver.article.claims import normalize, split_sentences

if TYPE_CHECKING:
    from archiver.article.extract import Article


KINDS = ("added", "removed", "modified", "moved")
MEANINGS = ("changed", "unchanged")
SEVERITIES = ("high", "medium", "low")
WordOp = tuple[str, str]


@dataclass(frozen=True)
class Sentence:
    """One sentence of an article body with its position."""

    text: str
    key: str
    paragraph: int
    index: int


@dataclass(frozen=True)
class Span:
    """Where a change sits in one version: a paragraph and the sentence indices it covers."""

    paragraph: int
    sentences: tuple[int, ...]


@dataclass(frozen=True)
class Change:
    """One body edit; before/after are a sentence, or a paragraph when level == "paragraph"."""

    kind: str
    before: str | None
    after: str | None
    flags: tuple[str, ...]
    severity: str
    words: tuple[WordOp, ...]
    before_span: Span | None = None
    after_span: Span | None = None
    level: str = "sentence"
    meaning: str = "unchanged"  # "changed" when the edit changed what the article claims
    why: tuple[str, ...] = ()  # the evidence for meaning and severity ("number 25 → 20", "case")


@dataclass(frozen=True)
class TextChange:
    """A single text field (the headline) in both versions."""

    before: str
    after: str
    changed: bool
    words: tuple[WordOp, ...]
    flags: tuple[str, ...] = ()
    severity: str = "low"
    meaning: str = "unchanged"
    why: tuple[str, ...] = ()


@dataclass(frozen=True)
class ValueChange:
    """A metadata value that differs between the versions."""

    before: str | list[str] | None
    after: str | list[str] | None


@dataclass
class ArticleDiff:
    """Everything that changed between two captures of one article."""

    headline: TextChange
    changes: list[Change]
    byline: ValueChange | None = None
    published: ValueChange | None = None
    modified: ValueChange | None = None  # informational: pages bump it constantly
    body_missing: bool = False  # the later capture has no article body (wall, 404, empty page)
    body_restored: bool = False  # the earlier capture had none, the later one has it
    no_body: bool = False  # neither capture has an article body
    wall: str | None = None  # why a capture without a body has none: Article.wall of that side

    @property
    def summary(self) -> dict[str, int]:
        """Counts of body changes by kind."""
        return {kind: sum(c.kind == kind for c in self.changes) for kind in KINDS}

    @property
    def has_edits(self) -> bool:
        """Headline, body, byline or published date changed (a modified-date bump is not).
        A body gone missing or coming back is not an edit of the article."""
        return bool(self.headline.changed or self.changes or self.byline or self.published)


def word_diff(before: str, after: str) -> tuple[WordOp, ...]:
    """Word-level diff as (op, text) with op in equal/delete/insert; cosmetics ignored."""
    old, new = before.split(), after.split()
    matcher = SequenceMatcher(None, [normalize(w) for w in old], [normalize(w) for w in new], autojunk=False)
    ops: list[WordOp] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            ops.append(("equal", " ".join(new[j1:j2])))
            continue
        if i2 > i1:
            ops.append(("delete", " ".join(old[i1:i2])))
        if j2 > j1:
            ops.append(("insert", " ".join(new[j1:j2])))
    return tuple(ops)


def sentences_of(article: Article) -> list[Sentence]:
    out: list[Sentence] = []
    for p, paragraph in enumerate(article.paragraphs):
        for text in split_sentences(paragraph):
            out.append(Sentence(text, normalize(text), p, len(out)))
    return out


def span_of(sentences: list[Sentence]) -> Span:
    return Span(sentences[0].paragraph, tuple(s.index for s in sentences))
