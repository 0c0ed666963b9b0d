"""Align two captures of an article sentence by sentence and classify the edits that matter.

Pipeline: an order-preserving difflib backbone over normalized sentence keys, then whole
paragraphs and single sentences that moved, then fuzzy pairing of reworded sentences in the
same (or a neighbouring) changed region; what is left is added or removed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from difflib import SequenceMatcher
from typing import TYPE_CHECKING

from rapidfuzz import fuzz

from archiver.claims import Features, features, normalize, split_sentences

if TYPE_CHECKING:
    from archiver.extract import Article

KINDS = ("added", "removed", "modified", "moved")
SEVERITIES = ("high", "medium", "low")
# A correction notice is the publisher admitting an error: rank it with factual changes.
HIGH_FLAGS = frozenset({"number", "quote", "negation", "entity", "correction"})
MEDIUM_FLAGS = frozenset({"hedge", "attribution"})
TEASER_SHARE = 0.5  # a paywalled capture with at most this share of the other's text is a teaser
PAIR_THRESHOLD = 60.0  # similarity (0-100) to call two sentences in one region a rewording
FAR_PAIR_THRESHOLD = 80.0  # stricter when the two sit in neighbouring changed regions

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


@dataclass(frozen=True)
class TextChange:
    """A single text field (the headline) in both versions."""

    before: str
    after: str
    changed: bool
    words: tuple[WordOp, ...]
    flags: tuple[str, ...] = ()


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


def severity(kind: str, flags: Iterable[str]) -> str:
    """high for factual flags (and corrections), medium for hedge/attribution and removals."""
    present = set(flags)
    if present & HIGH_FLAGS:
        return "high"
    if present & MEDIUM_FLAGS or kind == "removed":
        return "medium"
    return "low"


def diff_articles(before: Article, after: Article) -> ArticleDiff:
    """Compare two versions of one article.

    A capture without an article body (no paragraphs: consent wall, error page; or a paywall
    teaser, ``wall == "paywall"`` with at most TEASER_SHARE of the other capture's text) is not
    compared: the diff says the body went missing (or came back) and nothing else, since the
    headline, byline and dates of such a page are the wall's, not the article's.
    """
    old, new = _sentences(before), _sentences(after)
    lacks_before = _lacks_body(before, old, new)
    lacks_after = _lacks_body(after, new, old)
    walls = [side.wall for side, lacks in ((after, lacks_after), (before, lacks_before)) if lacks]
    diff = ArticleDiff(
        headline=TextChange(before.headline, after.headline, False, ()),
        changes=[],
        body_missing=lacks_after and not lacks_before,
        body_restored=lacks_before and not lacks_after,
        no_body=lacks_before and lacks_after,
        wall=next((wall for wall in walls if wall), None),
    )
    if lacks_before or lacks_after:
        if diff.wall or not diff.no_body:
            return diff
        # neither capture has a body and neither is a wall (a photo or video page): the
        # metadata is all there is to compare
    else:
        diff.changes = _Aligner(before, after, old, new).run()
    diff.headline = _headline(before.headline, after.headline)
    diff.byline = _byline(before.authors, after.authors)
    if not (before.published_guessed or after.published_guessed):
        diff.published = _date_change(before.published, after.published)
    diff.modified = _date_change(before.modified, after.modified)
    return diff


def holds_article(article: Article, reference: Article | None = None) -> bool:
    """Whether a capture holds the article's body: it has paragraphs, and is not a paywall
    teaser (a ``wall == "paywall"`` page with at most TEASER_SHARE of ``reference``'s text).
    The test ``diff_articles`` applies to each side (``body_missing``/``body_restored``)."""
    other = _sentences(reference) if reference is not None else []
    return not _lacks_body(article, _sentences(article), other)


def _lacks_body(article: Article, sentences: list[Sentence], other: list[Sentence]) -> bool:
    """No paragraphs, or a paywall teaser: a small share of the other capture's text. (With
    nothing to measure against, a paywalled page's text is taken for the article.)"""
    if not sentences:
        return True
    if article.wall != "paywall" or not other:
        return False
    return _length(sentences) <= TEASER_SHARE * _length(other)


def _length(sentences: list[Sentence]) -> int:
    return sum(len(s.key) for s in sentences)


# --- metadata ------------------------------------------------------------------------


def _headline(before: str, after: str) -> TextChange:
    if normalize(before) == normalize(after):
        return TextChange(before, after, False, (("equal", after),))
    changed = features(before).changed(features(after))
    return TextChange(before, after, True, word_diff(before, after), tuple(changed))


def _byline(before: list[str], after: list[str]) -> ValueChange | None:
    def key(authors: list[str]) -> list[str]:
        names = (re.sub(r"^by\s+", "", normalize(a), flags=re.IGNORECASE) for a in authors)
        return sorted(n.casefold() for n in names if n)

    return None if key(before) == key(after) else ValueChange(list(before), list(after))


def _date_change(before: str | None, after: str | None) -> ValueChange | None:
    return None if _same_time(before, after) else ValueChange(before, after)


def _same_time(a: str | None, b: str | None) -> bool:
    """Equal as instants when both parse as ISO 8601 (date-only compares dates)."""
    if not a or not b:
        return not a and not b
    try:
        x, y = datetime.fromisoformat(a.strip()), datetime.fromisoformat(b.strip())
    except ValueError:
        return normalize(a) == normalize(b)
    if len(a.strip()) <= 10 or len(b.strip()) <= 10:
        return x.date() == y.date()
    if (x.tzinfo is None) != (y.tzinfo is None):
        return x.replace(tzinfo=None) == y.replace(tzinfo=None)
    return x == y


# --- body alignment --------------------------------------------------------------------


def _sentences(article: Article) -> list[Sentence]:
    out: list[Sentence] = []
    for p, paragraph in enumerate(article.paragraphs):
        for text in split_sentences(paragraph):
            out.append(Sentence(text, normalize(text), p, len(out)))
    return out


def _span(sentences: list[Sentence]) -> Span:
    return Span(sentences[0].paragraph, tuple(s.index for s in sentences))


def _features(sentences: list[Sentence]) -> Features:
    merged = Features()
    for s in sentences:
        merged = merged.merge(features(s.text))
    return merged


def _similarity(a: str, b: str) -> float:
    return max(fuzz.ratio(a, b), fuzz.token_set_ratio(a, b))


def _paragraph_groups(sentences: list[Sentence]) -> list[tuple[tuple[str, ...], list[int]]]:
    """(sentence keys, sentence indices) per paragraph, in order."""
    groups: dict[int, list[Sentence]] = {}
    for s in sentences:
        groups.setdefault(s.paragraph, []).append(s)
    return [(tuple(s.key for s in group), [s.index for s in group]) for group in groups.values()]


class _Aligner:
    """One alignment run; pending removed/added sentences shrink as they are explained."""

    def __init__(self, before: Article, after: Article, old: list[Sentence], new: list[Sentence]) -> None:
        self.before, self.after = before, after
        self.old, self.new = old, new
        self.removed: dict[int, int] = {}  # old sentence index -> changed-region number
        self.added: dict[int, int] = {}  # new sentence index -> changed-region number
        self.slot: dict[int, float] = {}  # old index -> position in the new text (for sorting)
        self.found: list[tuple[float, Change]] = []  # (position in new text, change)

    def run(self) -> list[Change]:
        """Align, classify and return changes, most severe first, then by position."""
        self._backbone()
        self._paragraph_moves()
        self._sentence_moves()
        self._rewordings()
        self._leftovers()
        ranked = sorted(self.found, key=lambda f: (SEVERITIES.index(f[1].severity), f[0]))
        return [change for _, change in ranked]

    def _backbone(self) -> None:
        """Order-preserving sentence alignment. Paragraphs that moved whole are set aside
        first (a paragraph-level alignment decides which), so moving one long paragraph is
        one move, not its shorter neighbours moving the other way."""
        moved_old, moved_new = self._moved_paragraphs()
        old = [s for s in self.old if s.index not in moved_old]
        new = [s for s in self.new if s.index not in moved_new]
        matcher = SequenceMatcher(None, [s.key for s in old], [s.key for s in new], autojunk=False)
        region = 0
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            for i in range(i1, i2):
                j = min(j1 + i - i1, j2)
                self.removed[old[i].index] = region
                self.slot[old[i].index] = (new[j].index if j < len(new) else len(self.new)) - 0.5
            self.added |= dict.fromkeys((new[j].index for j in range(j1, j2)), region)
            region += 1
        self.removed |= dict.fromkeys(moved_old, region)
        self.added |= dict.fromkeys(moved_new, region)

    def _moved_paragraphs(self) -> tuple[set[int], set[int]]:
        """Sentence indices of identical paragraphs, unique on both sides, that a
        paragraph-level alignment leaves out of order."""
        old, new = _paragraph_groups(self.old), _paragraph_groups(self.new)
        matcher = SequenceMatcher(None, [k for k, _ in old], [k for k, _ in new], autojunk=False)
        kept_old = {i for a, _, n in matcher.get_matching_blocks() for i in range(a, a + n)}
        kept_new = {j for _, b, n in matcher.get_matching_blocks() for j in range(b, b + n)}
        counts = Counter(k for k, _ in old) + Counter(k for k, _ in new)
        loose_old = {k: ids for i, (k, ids) in enumerate(old) if i not in kept_old and counts[k] == 2}
        loose_new = {k: ids for j, (k, ids) in enumerate(new) if j not in kept_new and counts[k] == 2}
        keys = loose_old.keys() & loose_new.keys()
        return ({i for k in keys for i in loose_old[k]}, {j for k in keys for j in loose_new[k]})

    def _emit(self, position: float, change: Change) -> None:
        self.found.append((position, change))

    @staticmethod
    def _whole_paragraphs(side: list[Sentence], pending: dict[int, int]) -> list[tuple[int, list[Sentence]]]:
        """Paragraphs all of whose sentences are still pending, with those sentences."""
        groups: dict[int, list[Sentence]] = {}
        for s in side:
            groups.setdefault(s.paragraph, []).append(s)
        return [(p, group) for p, group in groups.items() if all(s.index in pending for s in group)]

    def _paragraph_moves(self) -> None:
        targets = {
            tuple(s.key for s in sentences): (p, sentences)
            for p, sentences in self._whole_paragraphs(self.new, self.added)
        }
        for p, sentences in self._whole_paragraphs(self.old, self.removed):
            match = targets.pop(tuple(s.key for s in sentences), None)
            if match is None:
                continue
            q, moved_to = match
            self._take(sentences, moved_to)
            text = self.after.paragraphs[q].strip()
            self._emit(
                moved_to[0].index,
                Change(
                    "moved",
                    self.before.paragraphs[p].strip(),
                    text,
                    (),
                    severity("moved", ()),
                    (("equal", text),),
                    _span(sentences),
                    _span(moved_to),
                    "paragraph",
                ),
            )

    def _sentence_moves(self) -> None:
        for i in sorted(self.removed):
            old = self.old[i]
            same = [j for j in self.added if self.new[j].key == old.key]
            if not same:
                continue
            new = self.new[min(same, key=lambda j: abs(j - i))]
            self._take([old], [new])
            self._emit(
                new.index,
                Change(
                    "moved",
                    old.text,
                    new.text,
                    (),
                    severity("moved", ()),
                    (("equal", new.text),),
                    _span([old]),
                    _span([new]),
                ),
            )

    def _rewordings(self) -> None:
        candidates = []
        for i, r_region in self.removed.items():
            for j, a_region in self.added.items():
                distance = abs(r_region - a_region)
                if distance > 1:
                    continue
                score = _similarity(self.old[i].key, self.new[j].key)
                if score >= (PAIR_THRESHOLD if distance == 0 else FAR_PAIR_THRESHOLD):
                    candidates.append((-score, distance, abs(i - j), i, j))
        for *_, i, j in sorted(candidates):
            if i in self.removed and j in self.added:
                old, new = self.old[i], self.new[j]
                self._take([old], [new])
                self._emit(new.index, _modified(old, new))

    def _leftovers(self) -> None:
        for p, sentences in self._whole_paragraphs(self.old, self.removed):
            if len(sentences) > 1:
                self._one_sided("removed", sentences, self.before.paragraphs[p].strip(), "paragraph")
        for p, sentences in self._whole_paragraphs(self.new, self.added):
            if len(sentences) > 1:
                self._one_sided("added", sentences, self.after.paragraphs[p].strip(), "paragraph")
        for i in sorted(self.removed):
            self._one_sided("removed", [self.old[i]], self.old[i].text, "sentence")
        for j in sorted(self.added):
            self._one_sided("added", [self.new[j]], self.new[j].text, "sentence")

    def _one_sided(self, kind: str, sentences: list[Sentence], text: str, level: str) -> None:
        flags = tuple(_features(sentences).flags())
        rank = severity(kind, flags)
        if kind == "removed":
            position = self.slot[sentences[0].index]
            self._take(sentences, [])
            change = Change(
                kind,
                text,
                None,
                flags,
                rank,
                (("delete", text),),
                before_span=_span(sentences),
                level=level,
            )
        else:
            position = sentences[0].index
            self._take([], sentences)
            change = Change(
                kind,
                None,
                text,
                flags,
                rank,
                (("insert", text),),
                after_span=_span(sentences),
                level=level,
            )
        self._emit(position, change)

    def _take(self, old: list[Sentence], new: list[Sentence]) -> None:
        """Mark sentences as explained."""
        for s in old:
            del self.removed[s.index]
        for s in new:
            del self.added[s.index]


def _modified(old: Sentence, new: Sentence) -> Change:
    before, after = features(old.text), features(new.text)
    flags = before.changed(after)
    if after.correction and not before.correction:
        flags.append("correction")
    return Change(
        "modified",
        old.text,
        new.text,
        tuple(flags),
        severity("modified", flags),
        word_diff(old.text, new.text),
        _span([old]),
        _span([new]),
    )
