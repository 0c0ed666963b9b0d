"""Classify an edit: the claim flags it touches, whether it changed a claim, and the severity
that earns (the rules live in archiver.diff.meaning)."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from archiver.article.claims import Features, features, normalize
from archiver.diff.meaning import one_sided, rewording, sentence_case, severity
from archiver.diff.model import Change, Sentence, Span, TextChange, span_of, word_diff
from archiver.diff.names import squash, text_words

__all__ = ["headline_change", "merged_features", "modified_change", "one_sided_change", "severity"]


def headline_change(before: str, after: str, body: Iterable[str] = ()) -> TextChange:
    """The headline in both versions; a changed headline is rated like a reworded sentence.
    A Title Case headline capitalises every word, so its capitals say nothing of names: it is
    read in sentence case, the words the body (sentence texts) writes as names kept as names."""
    if normalize(before) == normalize(after):
        return TextChange(before, after, False, (("equal", after),))
    if squash(before) == squash(after):
        verdict = rewording(before, after)  # case or punctuation only
    else:
        names = body_names(body)
        verdict = rewording(sentence_case(before, names), sentence_case(after, names), names)
    return TextChange(
        before,
        after,
        True,
        word_diff(before, after),
        verdict.flags,
        "high" if verdict.meaning == "changed" else "low",
        verdict.meaning,
        verdict.why,
    )


def body_names(texts: Iterable[str]) -> frozenset[str]:
    """The words of the names an article's sentences carry (case folded)."""
    return frozenset(w for text in texts for entity in features(text).entities for w in text_words(entity))


def merged_features(sentences: list[Sentence]) -> Features:
    merged = Features()
    for s in sentences:
        merged = merged.merge(features(s.text))
    return merged


def modified_change(old: list[Sentence], new: list[Sentence]) -> Change:
    """A rewording: one sentence for one, or for several it was split into or merged from."""
    before, after = " ".join(s.text for s in old), " ".join(s.text for s in new)
    verdict = rewording(before, after)
    joined = ("sentences merged",) if len(old) > 1 else ("sentence split",) if len(new) > 1 else ()
    return Change(
        "modified",
        before,
        after,
        verdict.flags,
        verdict.severity,
        word_diff(before, after),
        span_of(old),
        span_of(new),
        meaning=verdict.meaning,
        why=joined + verdict.why,
    )


def one_sided_change(
    kind: str, sentences: list[Sentence], text: str, level: str, stated: Collection[str] = ()
) -> Change:
    """A sentence or paragraph only one version has: a claim added or withdrawn (stated: the
    number values the other version states)."""
    verdict = one_sided(kind, merged_features(sentences), text, stated)
    span: Span = span_of(sentences)
    removed = kind == "removed"
    return Change(
        kind,
        text if removed else None,
        None if removed else text,
        verdict.flags,
        verdict.severity,
        (("delete" if removed else "insert", text),),
        before_span=span if removed else None,
        after_span=None if removed else span,
        level=level,
        meaning=verdict.meaning,
        why=verdict.why,
    )
