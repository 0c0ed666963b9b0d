"""Align two versions sentence by sentence.

An order-preserving difflib backbone over normalized sentence keys, then whole paragraphs
and single sentences that moved, then sentences split or merged by a punctuation edit, then
fuzzy pairing of reworded sentences in the same (or a neighbouring) changed region; what is
left is added or removed.
"""

from __future__ import annotations

from collections import Counter
from difflib import SequenceMatcher
from typing import TYPE_CHECKING

from rapidfuzz import fuzz

from archiver.article.claims import features
from archiver.diff.classify import modified_change, one_sided_change
from archiver.diff.meaning import moved
from archiver.diff.model import SEVERITIES, Change, Sentence, span_of

if TYPE_CHECKING:
    from archiver.article.extract import Article


PAIR_THRESHOLD = 60.0  # similarity (0-100) to call two sentences in one region a rewording
FAR_PAIR_THRESHOLD = 80.0  # stricter when the two sit in neighbouring changed regions
SUBSET_SHARE = 0.5  # token-set similarity only between sentences of comparable length
JOIN_THRESHOLD = 90.0  # similarity of sentences joined to the one they were split from
MAX_JOIN = 3  # at most this many sentences split from, or merged into, one


def _similarity(a: str, b: str) -> float:
    """How alike two sentence keys are. Token-set similarity forgives reordering and an added
    clause, but it also calls a short sentence much like any long one containing its words
    ("Police said." / a neighbour that says more): below SUBSET_SHARE of the longer one's
    length it counts in proportion, so a removed sentence is not paired with a dissimilar
    neighbour while a sentence that gained a clause still pairs with what it was."""
    short, long = sorted((len(a), len(b)))
    share = min(1.0, short / (SUBSET_SHARE * long)) if long else 1.0
    return max(fuzz.ratio(a, b), share * fuzz.token_set_ratio(a, b))


def _paragraph_groups(sentences: list[Sentence]) -> list[tuple[tuple[str, ...], list[int]]]:
    """(sentence keys, sentence indices) per paragraph, in order."""
    groups: dict[int, list[Sentence]] = {}
    for s in sentences:
        groups.setdefault(s.paragraph, []).append(s)
    return [(tuple(s.key for s in group), [s.index for s in group]) for group in groups.values()]


class Aligner:
    """One alignment run; pending removed/added sentences shrink as they are explained."""

    def __init__(self, before: Article, after: Article, old: list[Sentence], new: list[Sentence]) -> None:
        self.before, self.after = before, after
        self.old, self.new = old, new
        self.removed: dict[int, int] = {}  # old sentence index -> changed-region number
        self.added: dict[int, int] = {}  # new sentence index -> changed-region number
        self.slot: dict[int, float] = {}  # old index -> position in the new text (for sorting)
        self.found: list[tuple[float, Change]] = []  # (position in new text, change)
        self._stated_in: list[Sentence] | None = None  # the version self._stated was read from
        self._stated: set[str] = set()  # number values that version states

    def run(self) -> list[Change]:
        """Align, classify and return changes, most severe first, then by position."""
        self._backbone()
        self._paragraph_moves()
        self._sentence_moves()
        self._splits_and_merges()
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
                    moved().severity,
                    (("equal", text),),
                    span_of(sentences),
                    span_of(moved_to),
                    "paragraph",
                    why=moved().why,
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
                    moved().severity,
                    (("equal", new.text),),
                    span_of([old]),
                    span_of([new]),
                    why=moved().why,
                ),
            )

    def _splits_and_merges(self) -> None:
        """One sentence whose text is that of consecutive sentences on the other side (a full
        stop for a semicolon, or the reverse) is one change, not a removal and a rewording."""
        for j in sorted(self.added):
            if j in self.added:
                self._join(self.new[j], self.removed, self.old, split=False)
        for i in sorted(self.removed):
            if i in self.removed:
                self._join(self.old[i], self.added, self.new, split=True)

    def _join(self, one: Sentence, pending: dict[int, int], side: list[Sentence], split: bool) -> None:
        region = (self.removed if split else self.added)[one.index]
        for start in sorted(k for k, r in pending.items() if r == region):
            for size in range(MAX_JOIN, 1, -1):
                group = side[start : start + size]
                if len(group) < size or any(
                    s.index not in pending or s.paragraph != group[0].paragraph for s in group
                ):
                    continue
                if fuzz.ratio(" ".join(s.key for s in group), one.key) >= JOIN_THRESHOLD:
                    old, new = ([one], group) if split else (group, [one])
                    self._take(old, new)
                    self._emit(new[0].index, modified_change(old, new))
                    return

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
                self._emit(new.index, modified_change([old], [new]))

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
        if kind == "removed":
            position = self.slot[sentences[0].index]
            self._take(sentences, [])
        else:
            position = sentences[0].index
            self._take([], sentences)
        stated: set[str] = set()
        if any(features(s.text).numbers for s in sentences):  # read the other side only then
            other = self.new if kind == "removed" else self.old
            if other is not self._stated_in:
                self._stated_in = other
                self._stated = {v for s in other for v in features(s.text)._values("numbers")}
            stated = self._stated
        self._emit(position, one_sided_change(kind, sentences, text, level, stated))

    def _take(self, old: list[Sentence], new: list[Sentence]) -> None:
        """Mark sentences as explained."""
        for s in old:
            del self.removed[s.index]
        for s in new:
            del self.added[s.index]
