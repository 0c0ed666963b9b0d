"""Classify an edit: the claim flags it touches and the severity they earn."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from archiver.article.claims import Features, features, normalize
from archiver.diff.model import Change, Sentence, TextChange, span_of, word_diff

if TYPE_CHECKING:
    pass


# A correction notice is the publisher admitting an error: rank it with factual changes.
HIGH_FLAGS = frozenset({"number", "quote", "negation", "entity", "correction"})
MEDIUM_FLAGS = frozenset({"hedge", "attribution"})


def severity(kind: str, flags: Iterable[str]) -> str:
    """high for factual flags (and corrections), medium for hedge/attribution and removals."""
    present = set(flags)
    if present & HIGH_FLAGS:
        return "high"
    if present & MEDIUM_FLAGS or kind == "removed":
        return "medium"
    return "low"


def headline_change(before: str, after: str) -> TextChange:
    if normalize(before) == normalize(after):
        return TextChange(before, after, False, (("equal", after),))
    changed = features(before).changed(features(after))
    return TextChange(before, after, True, word_diff(before, after), tuple(changed))


def merged_features(sentences: list[Sentence]) -> Features:
    merged = Features()
    for s in sentences:
        merged = merged.merge(features(s.text))
    return merged


def modified_change(old: Sentence, new: Sentence) -> Change:
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
        span_of([old]),
        span_of([new]),
    )
