"""Did an edit change what the article claims, or only its wording?

A rewording is split into its replaced word runs (word_diff). Each run is first tested for
a wording-only explanation (case, accents, punctuation, a spelling fix by word frequency, the
same lemma, an acronym and its expansion, a number written another way, function words), then
for evidence that the claim moved: a reversal or antonym, one event given for another, a
quantifier that changes the claim's scope, a different subject. The claim features of both
sentences (numbers by value, quotes, negations, entities, hedges, attributions) add theirs,
minus the cosmetic ones (a case change of a name, scare quotes). Everything is offline word
lists and string measures, about a millisecond a pair on one core.

Severity follows: ``high`` for a changed claim, ``medium`` for hedges, attributions, added or
removed content without stronger evidence, ``low`` for the wording only; ``meaning`` is
"changed" unless the severity is low.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

from rapidfuzz.distance import Levenshtein

from archiver.article.claims import FLAG_FIELDS, Features, features, normalize, number_value, split_sentences
from archiver.diff.lexicon import (
    ACTORS,
    DETERMINERS,
    FUNCTION_WORDS,
    OPENING_WORDS,
    PRONOUNS,
    QUANTIFIERS,
    REFERENCE_WORDS,
    SUBJECT_ENDS,
)
from archiver.diff.model import WordOp, word_diff
from archiver.diff.names import (
    NAME_SIMILARITY,
    compare_entities,
    demonym,
    squash,
    text_words,
    title_case,
    word_runs,
)
from archiver.diff.wording import event_cue, lemma, reversal_cue, scope_cue, wording_only

# Flags that are hard facts of a claim: a change of one is a claim changed.
HIGH_FLAGS = frozenset({"number", "quote", "negation", "entity", "correction"})
MEDIUM_FLAGS = frozenset({"hedge", "attribution"})
# What each piece of evidence (a `why` entry, by its opening words) says about a rewording.
HIGH_CUES = (
    "number",
    "quote's words",
    "negation",
    "reversal",
    "antonym",
    "event changed",
    "subject changed",
    "entity swapped",
    "correction",
)
# A figure put in or taken out with none replaced: a detail of a claim added or withdrawn, as
# with a whole sentence, not a value changed ("rose" / "rose 5%", "7 of the 10 datasets").
ADDED_CUES = ("number added", "number removed")
GENERIC_CUES = ("reworded", "words added", "words removed", "word choice")
MEDIUM_CUES = (
    *ADDED_CUES,
    "clause with negation",
    "quoted term",
    "other negation",
    "aside",
    "hedge",
    "attribution",
    "entity added",
    "entity removed",
    "entities changed",
    "name spelling",
    "scope",
    "subject reworded",
    "reworded",
    "words added",
    "words removed",
)

_LOWER = re.compile(r"[^\W\d_]+")
_TITLE_TOKEN = re.compile(r"[^\W\d_][\w'’-]*")
_DIGITS = re.compile(r"\d+")
_ACRONYM = re.compile(r"\b[A-Z](?:[A-Z0-9&]|\.[A-Z])+\b\.?")
_CAPITALIZED = re.compile(r"\b[^\W\d_]*[A-Z][\w'’-]*")
SUBJECT_WORDS = 6  # a longer run before the verb is a clause, not a subject
PREDICATE_KEPT = 0.75  # word similarity of what follows the subject for "another did the same"
QUOTED_TERM = 3  # words of a quotation that is a title, a term or scare quotes
SMALL_COUNT = 12  # counts up to this are too common to tell one claim's number from another's
FRAGMENT_WORDS = 3  # lower-case words below which added or removed text is no sentence
WORD_CHOICE = 3  # a word swapped for one or two others, with no cue: a choice of words
CLAUSE_WORDS = 6  # words put in or cut together that say something of their own
_NEGATED_SKIPS = frozenset({"to", "yet", "always"})  # between a negation and the word it negates


@dataclass(frozen=True)
class Verdict:
    """What one edit did: the flags it touches, its evidence, meaning and severity."""

    flags: tuple[str, ...]
    why: tuple[str, ...]
    meaning: str
    severity: str


def severity(kind: str, flags: Iterable[str]) -> str:
    """What flags earn: high for factual ones (and corrections), medium for hedge/attribution
    and for any added or removed claim, low otherwise (a move). A whole sentence added or
    removed is a claim made or withdrawn, not one changed: medium whatever facts it carries
    (they are listed in its ``why``), unless it is a correction notice."""
    present = set(flags)
    if kind in ("added", "removed"):
        return "high" if "correction" in present else "medium"
    if present & HIGH_FLAGS:
        return "high"
    return "medium" if present & MEDIUM_FLAGS else "low"


def _rank(why: Iterable[str]) -> str:
    """The severity a rewording's evidence earns: its strongest cue."""
    if any(w.startswith(HIGH_CUES) and not w.startswith(ADDED_CUES) for w in why):
        return "high"
    return "medium" if any(w.startswith(MEDIUM_CUES) for w in why) else "low"


def _verdict(flags: Iterable[str], why: Iterable[str], rank: str) -> Verdict:
    return Verdict(tuple(flags), tuple(dict.fromkeys(why)), "unchanged" if rank == "low" else "changed", rank)


def one_sided(kind: str, feats: Features, text: str = "", stated: Collection[str] = ()) -> Verdict:
    """An added or removed sentence or paragraph: a claim made or withdrawn, medium (high for a
    correction notice). Its hard facts are listed, and a note says where its numbers are no
    figure withdrawn or made: the other version states every one of them (none a small count,
    which any other sentence may share), or the text is a title, reference or list of names."""
    flags = feats.flags()
    values = feats._values("numbers").keys()
    restated = bool(values) and all(v in stated and not _small_count(v) for v in values)
    why = ["correction notice"] if feats.correction else []
    why.append("claim withdrawn" if kind == "removed" else "claim added")
    if text and not feats.correction and _fragment(text):
        why.append("not a sentence: a title, reference or names")
    elif restated:
        why.append("numbers still stated in the other version")
    why += [f"{flag}: {_listed(feats, flag)}" for flag in flags if flag in HIGH_FLAGS - {"correction"}]
    return _verdict(flags, why, severity(kind, flags))


def _small_count(value: str) -> bool:
    return value.isdigit() and int(value) <= SMALL_COUNT


def _fragment(text: str) -> bool:
    """Text with fewer than FRAGMENT_WORDS lower-case words, and fewer than its names and
    numbers: a heading, a citation or a list of names rather than a sentence (a sentence's
    verbs and articles are lower case; "Two died." is a sentence)."""
    words = _LOWER.findall(normalize(text))
    lower = sum(w[:1].islower() for w in words)
    others = len(words) - lower + len(_DIGITS.findall(text))
    return lower < FRAGMENT_WORDS and lower < others


def moved() -> Verdict:
    return _verdict((), ("moved",), severity("moved", ()))


def _listed(feats: Features, flag: str) -> str:
    return _short(", ".join(dict.fromkeys(getattr(feats, FLAG_FIELDS[flag]))), 60)


def sentence_case(text: str, names: Collection[str]) -> str:
    """A Title Case text in sentence case: every capitalised word after the first lowered but
    acronyms ("NATO"), words with an inner capital ("McCain") and the words of names."""
    if not title_case(text):
        return text

    def lower(match: re.Match[str]) -> str:
        word = match.group()
        key = word.casefold().removesuffix("'s").removesuffix("’s")
        if not match.start() or key in names or any(c.isupper() for c in word[1:]):
            return word
        return word[0].lower() + word[1:]

    return _TITLE_TOKEN.sub(lower, text)


def rewording(before: str, after: str, names: Collection[str] = ()) -> Verdict:
    """A sentence (or headline) that was reworded: flags, evidence, meaning and severity.
    names: words known to be names (a headline's, from its article), so a word swapped for
    another is a name swapped where one of them is a name."""
    old, new = features(before), features(after)
    ops = word_diff(before, after)
    flags: list[str] = []
    why: list[str] = []
    _numbers(old, new, before, after, flags, why)
    _quotes(old, new, before, after, flags, why)
    compare_entities(old, new, before, after, flags, why)
    for flag, name in (("negation", "negations"), ("hedge", "hedges"), ("attribution", "attributions")):
        was, now = Counter(map(_cue_key, getattr(old, name))), Counter(map(_cue_key, getattr(new, name)))
        lost, gained = was - now, now - was
        if lost or gained:
            flags.append(flag)
            why.append(_delta(flag, lost, gained))
            if flag == "negation" and lost.total() == gained.total():
                # "none of them" / "no one of them", "fail to" / "without": one denial for
                # another, the claim still denied. Evidence of wording, not a turned claim.
                why[-1] = why[-1].replace("negation:", "other negation:", 1)
            elif (
                flag == "negation"
                and not (lost and gained)
                and _in_clause(ops, lost + gained, bool(gained), before if gained else after)
            ):
                # "..., which is not always the case" put in or cut: a denial said with new
                # words of its own is a claim added (or withdrawn), not the old one turned.
                why[-1] = (
                    f"clause with negation {'added' if gained else 'removed'}: {', '.join(gained or lost)}"
                )
    if new.correction and not old.correction:
        flags.append("correction")
        why.append("correction notice")
    same_numbers = old._values("numbers") == new._values("numbers")
    runs, cosmetic = _run_evidence(ops, before, after, same_numbers, names)
    if cosmetic:
        # Every word run is wording only: a name's case, a spelling fix or an expanded acronym
        # is no claim changed. Inside a quotation, though, other words are other words.
        keep = "quote" if "wording" in runs else None
        flags = [f for f in flags if f == keep]
        why = [w for w in why if keep and w.startswith("quote's")]
    if any(_rank([w]) != "low" for w in why):  # the claim features say it: no paraphrase of it
        runs = [w for w in runs if not w.startswith(GENERIC_CUES)]
    if "entity" in flags:  # the names were compared already
        runs = [w for w in runs if not w.startswith("entity swapped")]
    why += runs
    order = ("number", "quote", "attribution", "hedge", "negation", "entity", "correction")
    return _verdict(sorted(flags, key=order.index), why, _rank(why))


def _in_clause(ops: tuple[WordOp, ...], cues: Counter[str], gained: bool, other: str) -> bool:
    """Whether every negation put in (gained) or taken out (cues) stands in a run of at least
    CLAUSE_WORDS new (or cut) words and denies something new there: the words it negates are
    not in the other version (other). "would not resign" for "would resign" still turns the
    claim, however many words come with it."""
    kept = {lemma(w) for w in text_words(other)}
    found = 0
    for deleted, inserted in word_runs(ops):
        words = text_words(inserted if gained else deleted)
        if len(words) < CLAUSE_WORDS:
            continue
        for k, word in enumerate(words):
            if not features(word).negations and not (
                word.startswith("fail") and words[k + 1 : k + 2] == ["to"]
            ):
                continue
            negated = [w for w in words[k + 1 :] if w not in FUNCTION_WORDS | {"to", "yet", "always"}][:2]
            found += not any(lemma(w) in kept for w in negated)
    return found >= cues.total()


def _cue_key(cue: str) -> str:
    """One form per cue: "don't", "cannot" and "not" are one negation."""
    return "not" if cue.endswith(("n't", "n’t")) or cue == "cannot" else cue


def _delta(flag: str, lost: Counter[str], gained: Counter[str]) -> str:
    if lost and gained:
        return f"{flag}: {', '.join(lost)} → {', '.join(gained)}"
    return f"{flag} {'added' if gained else 'removed'}: {', '.join(gained or lost)}"


def _numbers(old: Features, new: Features, before: str, after: str, flags: list[str], why: list[str]) -> None:
    before_values, after_values = old._values("numbers"), new._values("numbers")
    if before_values == after_values:
        return
    flags.append("number")
    shown_old = {number_value(n): n for n in old.numbers} | {d: d for d in old.dates}
    shown_new = {number_value(n): n for n in new.numbers} | {d: d for d in new.dates}
    lost = [shown_old[v] for v in before_values - after_values]
    gained = [shown_new[v] for v in after_values - before_values]
    if set((before_values - after_values) + (after_values - before_values)) == {"1"} and not (
        lost and gained
    ):
        flags.remove("number")  # "one of", "a": an article or pronoun more often than a count
        return
    if lost and gained:
        why.append(f"number {', '.join(lost)} → {', '.join(gained)}")
        return
    # A year, a conversion or a citation in brackets put in or taken out ("(48km)", "(2019)",
    # "(Smith, 2013)"): an aside to the claim, which says what it said.
    aside = _aside_values(before if lost else after)
    added = "added" if gained else "removed"
    values = (after_values - before_values) if gained else (before_values - after_values)
    if all(v in aside for v in values):
        why.append(f"aside {added}: {', '.join(gained or lost)}")
    else:
        why.append(f"number {added}: {', '.join(gained or lost)}")


_BRACKETS = re.compile(r"\(([^()]*)\)|\[([^\[\]]*)\]")


def _aside_values(text: str) -> set[str]:
    """The values of the numbers said in brackets."""
    if "(" not in text and "[" not in text:
        return set()
    return {
        v
        for m in _BRACKETS.finditer(text)
        for v in features(m.group(1) or m.group(2) or "")._values("numbers")
    }


def _quotes(old: Features, new: Features, before: str, after: str, flags: list[str], why: list[str]) -> None:
    """A quote whose words changed. Quote marks put around (or taken off) words the other
    version has anyway are punctuation (scare quotes), not a changed quotation."""
    lost = Counter(old.quotes) - Counter(new.quotes)
    gained = Counter(new.quotes) - Counter(old.quotes)
    if not lost and not gained:
        return
    other_old, other_new = f" {squash(after)} ", f" {squash(before)} "
    real_lost = [q for q in lost if f" {squash(q)} " not in other_old]
    real_gained = [q for q in gained if f" {squash(q)} " not in other_new]
    one_side = real_gained if not real_lost else real_lost if not real_gained else []
    if one_side and all(_quoted_term(q) for q in one_side):
        # A word or two quoted on one side only: a title, a term or scare quotes put in or
        # taken out, not somebody's words changed.
        flags.append("quote")
        why.append(f"quoted term {'added' if real_gained else 'removed'}: {_short(', '.join(one_side))}")
    elif real_lost or real_gained:
        flags.append("quote")
        why.append("quote's words changed")
    else:
        why.append("punctuation: quote marks")


def _quoted_term(quote: str) -> bool:
    """A word or two in quote marks that say nothing themselves: no person and no verb
    ("deeply flawed", "Operation Easy"), unlike a short quotation ("We will win")."""
    words = text_words(quote)
    if title_case(quote):
        return True  # "Historical and Legal Aspects of ...": the title of a work
    return len(words) <= QUOTED_TERM and not set(words) & (PRONOUNS | SUBJECT_ENDS | {"will", "won't"})


def _first_verb(words: list[str]) -> int | None:
    """Index of the first auxiliary, reporting verb or past-tense verb (an "-ed" word not
    after a determiner: "the armed man" is no verb): where the subject ends, a heuristic good
    enough for the simple subject-verb news sentence."""
    for k, word in enumerate(words[:10]):
        if word in SUBJECT_ENDS or (
            k and word.endswith("ed") and "-" not in word and words[k - 1] not in DETERMINERS
        ):  # "EU-backed", "state-owned": adjectives
            return k
    return None


def _subject(text: str) -> tuple[list[str], list[str]] | None:
    """The words before the first verb, after any opening phrase set off by a comma
    ("After a four-year hiatus, Aniston returned": the subject is "aniston"), and the words
    from the verb on (what the subject did)."""
    pieces = [text_words(piece) for piece in normalize(text).split(",")]
    words = [w for piece in pieces for w in piece]
    end = _first_verb(words)
    if not end:
        return None
    start = 0
    for piece in pieces:
        if start + len(piece) > end:
            break  # the piece holding the verb
        start += len(piece)
    return (words[start:end], words[end:]) if start < end else None


def _subject_evidence(before: str, after: str) -> str | None:
    """Who did it changed ("Smith said" / "Jones said"): another actor (a name, a role such as
    "police" or "the minister", "another" one) doing what the subject did, the rest of the
    sentence kept. Other nouns swapped ("the blaze" / "the fire"), or a subject in a
    sentence rewritten all through, are evidence of rewording only. Sentences merged or split
    are compared by their first sentence: a sentence cut from the front is no other subject."""
    old, new = _subject(_first_sentence(before)), _subject(_first_sentence(after))
    if not old or not new:
        return None
    changed = _subject_changed(old[0], new[0])
    if not changed:
        return None
    shown = f"{' '.join(old[0])} → {' '.join(new[0])}"
    kept = SequenceMatcher(None, old[1], new[1], autojunk=False).ratio() >= PREDICATE_KEPT
    named = _capitalized(before) | _capitalized(after)
    actor = changed is True or any(w in named or lemma(w) in ACTORS for w in changed)
    return f"subject {'changed' if kept and actor else 'reworded'}: {shown}"


def _first_sentence(text: str) -> str:
    sentences = split_sentences(text)
    return sentences[0] if sentences else text


def _capitalized(text: str) -> set[str]:
    """Words written with a capital (names, acronyms, and a sentence's first word)."""
    return {w.casefold() for w in _CAPITALIZED.findall(normalize(text))}


def _run_evidence(
    ops: tuple[WordOp, ...], before: str, after: str, same_numbers: bool = False, names: Collection[str] = ()
) -> tuple[list[str], bool]:
    """Evidence from the replaced word runs, and whether every run is cosmetic (case,
    punctuation, spelling, form, acronym, function words)."""
    why: list[str] = []
    substantive, cosmetic = False, True
    for deleted, inserted in word_runs(ops):
        reason = wording_only(deleted, inserted, same_numbers)
        if reason:
            why.append(reason)
            continue
        cosmetic = False
        old, new = text_words(deleted), text_words(inserted)
        cue = reversal_cue(old, new) or event_cue(old, new) or scope_cue(old, new)
        if cue:
            why.append(cue)
        elif _acronyms(deleted) - _acronyms(inserted) and _acronyms(inserted) - _acronyms(deleted):
            why.append(f"entity swapped: {deleted} → {inserted}")  # at a sentence's start too
        elif old and new and (set(old) ^ set(new)) & set(names):
            why.append(f"entity swapped: {deleted} → {inserted}")  # a known name put in place
        elif old and new and len(old) + len(new) <= WORD_CHOICE:
            why.append(f"word choice: {deleted} → {inserted}")
            continue
        substantive = True
    subject = None if cosmetic else _subject_evidence(before, after)
    if subject:
        why.append(subject)
    if substantive and not any(w.startswith(HIGH_CUES) for w in why):
        why.append(_reworded(ops))
    return why, cosmetic and bool(why)


def _acronyms(text: str) -> set[str]:
    """Upper-case abbreviations ("MACD", "U.N."): names, wherever they stand."""
    return {w for w in _ACRONYM.findall(text) if sum(c.isupper() for c in w) >= 2}


def _subject_changed(old: list[str], new: list[str]) -> list[str] | bool:
    """Whether a word of the subject gave way to another (not just another form of it, and not
    a pronoun for the name it stands for): the words lost and gained; or True where a
    determiner that picks out which one ("another" → "the") changed."""
    if (
        len(old) > SUBJECT_WORDS
        or len(new) > SUBJECT_WORDS
        or not _plain_subject(old)
        or not _plain_subject(new)
    ):
        return False
    content_old = {lemma(w) for w in old if w not in FUNCTION_WORDS | PRONOUNS | QUANTIFIERS}
    content_new = {lemma(w) for w in new if w not in FUNCTION_WORDS | PRONOUNS | QUANTIFIERS}
    if not content_old or not content_new:
        return False  # "only", "they": no noun to compare
    for one, other, words in ((content_old, content_new, new), (content_new, content_old, old)):
        if set(words) & PRONOUNS and one - other:  # "her first film" for "Aniston's first film"
            one.difference_update([w for w in one - other if w.endswith(("'s", "’s"))])
    lost = [w for w in content_old - content_new if not _has_variant(w, content_new)]
    gained = [w for w in content_new - content_old if not _has_variant(w, content_old)]
    if lost and gained:
        return lost + gained
    return bool((set(old) ^ set(new)) & REFERENCE_WORDS)


def _plain_subject(words: list[str]) -> bool:
    """Words that can be a subject: not an opening phrase ("during the war", "while under
    occupation"), no number (a number's change is its own evidence), not ending on a
    linking word ("the implications of")."""
    return (
        words[0] not in OPENING_WORDS
        and words[-1] not in FUNCTION_WORDS - PRONOUNS
        and not any(c.isdigit() for w in words for c in w)
    )


def _has_variant(word: str, others: set[str]) -> bool:
    """Another spelling of the word among others ("ionization"/"ionisation", a typo fixed,
    "Africa"/"African", "ex-meridian"/"meridian"): the same thing named."""
    bare = word.replace("-", "")
    return any(
        Levenshtein.normalized_similarity(bare, other.replace("-", "")) >= NAME_SIMILARITY
        or bare in other.replace("-", "")
        or other.replace("-", "") in bare
        or sorted(bare) == sorted(other.replace("-", ""))  # letters transposed
        or demonym(bare, other)
        for other in others
    )


def _reworded(ops: tuple[WordOp, ...]) -> str:
    deleted = " ".join(text for op, text in ops if op == "delete")
    inserted = " ".join(text for op, text in ops if op == "insert")
    if deleted and inserted:
        return f"reworded: {_short(deleted)} → {_short(inserted)}"
    return f"words {'added' if inserted else 'removed'}: {_short(inserted or deleted)}"


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
