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
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from archiver.article.claims import FLAG_FIELDS, Features, features, normalize, number_value
from archiver.diff.lexicon import (
    ACTORS,
    DETERMINERS,
    EVENTS,
    FUNCTION_WORDS,
    OPENING_WORDS,
    PRONOUNS,
    QUANTIFIERS,
    REFERENCE_WORDS,
    REVERSALS,
    SUBJECT_ENDS,
)
from archiver.diff.model import WordOp, word_diff
from archiver.diff.names import (
    NAME_SIMILARITY,
    compare_entities,
    demonym,
    form_difference,
    initials,
    squash,
    text_words,
    word_runs,
)

# Flags a whole added or removed sentence is rated by (it makes or withdraws that claim).
HIGH_FLAGS = frozenset({"number", "quote", "negation", "entity", "correction"})
MEDIUM_FLAGS = frozenset({"hedge", "attribution"})
# What each piece of evidence (a `why` entry, by its opening words) says about a rewording.
HIGH_CUES = (
    "number",
    "quote's words",
    "negation",
    "reversal",
    "event changed",
    "subject changed",
    "entity swapped",
    "correction",
)
GENERIC_CUES = ("reworded", "words added", "words removed", "word choice")
MEDIUM_CUES = (
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
_DIGITS = re.compile(r"\d+")
_ACRONYM = re.compile(r"\b[A-Z](?:[A-Z0-9&]|\.[A-Z])+\b\.?")
_CAPITALIZED = re.compile(r"\b[^\W\d_]*[A-Z][\w'’-]*")
SPELLING_RATIO = 0.75  # normalized Levenshtein similarity for a misspelling and its fix
RARE_ZIPF = 3.0  # wordfreq Zipf frequency below which a word is taken for a misspelling
DEGREE_WORDS = frozenset({"more", "most", "less", "least"})
SUBJECT_WORDS = 6  # a longer run before the verb is a clause, not a subject
PREDICATE_KEPT = 0.75  # word similarity of what follows the subject for "another did the same"
QUOTED_TERM = 3  # words of a quotation that is a title, a term or scare quotes
SMALL_COUNT = 12  # counts up to this are too common to tell one claim's number from another's
FRAGMENT_WORDS = 3  # lower-case words below which added or removed text is no sentence
WORD_CHOICE = 3  # a word swapped for one or two others, with no cue: a choice of words


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
    removed is not high for naming someone: nearly every sentence does, so the flag says
    nothing there about a claim changing."""
    present = set(flags) - ({"entity"} if kind in ("added", "removed") else set())
    if present & HIGH_FLAGS:
        return "high"
    if present & MEDIUM_FLAGS or kind in ("removed", "added"):
        return "medium"
    return "low"


def _rank(why: Iterable[str]) -> str:
    """The severity a rewording's evidence earns: its strongest cue."""
    if any(w.startswith(HIGH_CUES) for w in why):
        return "high"
    return "medium" if any(w.startswith(MEDIUM_CUES) for w in why) else "low"


def _verdict(flags: Iterable[str], why: Iterable[str], rank: str) -> Verdict:
    return Verdict(tuple(flags), tuple(dict.fromkeys(why)), "unchanged" if rank == "low" else "changed", rank)


def one_sided(kind: str, feats: Features, text: str = "", stated: Collection[str] = ()) -> Verdict:
    """An added or removed sentence or paragraph: a claim made or withdrawn. Its numbers are
    no hard fact made or withdrawn where they are only a year or a conversion in brackets, or
    where the other version states every one of them (none a small count, which any other
    sentence may share): the text was reorganised around the same figures."""
    flags = feats.flags()
    rated = flags
    values = feats._values("numbers").keys()
    restated = bool(values) and all(v in stated and not _small_count(v) for v in values)
    if "number" in flags and (restated or (text and values <= _aside_values(text))):
        rated = [f for f in flags if f != "number"]
    fragment = bool(text) and not feats.correction and _fragment(text)
    if fragment:
        # A title, a reference or a list of names ("Harvard Business Review 91(5): 63-72",
        # "Document No. 12"): no sentence says a claim there, whatever its numbers.
        rated = []
    why = ["correction notice"] if feats.correction else []
    why.append("claim withdrawn" if kind == "removed" else "claim added")
    if fragment:
        why.append("not a sentence: a title, reference or names")
    elif restated and "number" in flags:
        why.append("numbers still stated in the other version")
    why += [f"{flag}: {_listed(feats, flag)}" for flag in flags if flag in HIGH_FLAGS - {"correction"}]
    return _verdict(flags, why, severity(kind, rated))


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


def rewording(before: str, after: str) -> Verdict:
    """A sentence (or headline) that was reworded: flags, evidence, meaning and severity."""
    old, new = features(before), features(after)
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
    if new.correction and not old.correction:
        flags.append("correction")
        why.append("correction notice")
    runs, cosmetic = _run_evidence(word_diff(before, after), before, after)
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
    return len(words) <= QUOTED_TERM and not set(words) & (PRONOUNS | SUBJECT_ENDS | {"will", "won't"})


# --- word runs -------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _lemma(word: str) -> str:
    import simplemma

    return str(simplemma.lemmatize(word, lang="en")).casefold()


@lru_cache(maxsize=65536)
def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))


def _spelling_fix(old: str, new: str) -> bool:
    """One word for a close one that is much more common: a typo fixed."""
    if old.isdigit() or new.isdigit() or Levenshtein.normalized_similarity(old, new) < SPELLING_RATIO:
        return False
    return _zipf(old) < RARE_ZIPF and _zipf(new) > _zipf(old) + 1.0


def _cosmetic(deleted: str, inserted: str) -> str | None:
    """The wording-only explanation of one run, or None when words of substance changed."""
    if squash(deleted) == squash(inserted):
        return form_difference(deleted, inserted)
    old, new = text_words(deleted), text_words(inserted)
    if "".join(old).replace(".", "") == "".join(new).replace(".", ""):
        return "punctuation"  # "e-mail" / "email", "data set" / "dataset", "UK" / "U.K."
    if len(old) == len(new) and old:
        pairs = [(a, b) for a, b in zip(old, new, strict=True) if a != b]
        if all(_lemma(a) == _lemma(b) for a, b in pairs):
            return "grammar: same word, other form"
        if all(_spelling_fix(a, b) or _lemma(a) == _lemma(b) for a, b in pairs):
            return "spelling"
    if old and new and _same_amount(deleted, inserted):
        return "same number, other form"
    if old and new and old[-1].partition("-")[2] and old[-1].partition("-")[2] == new[-1].partition("-")[2]:
        old, new = [*old[:-1], old[-1].partition("-")[0]], [*new[:-1], new[-1].partition("-")[0]]  # "EU-led"
    for short, long in ((old, new), (new, old)):
        if len(short) == 1 and len(long) > 1 and initials(" ".join(long)) == short[0].replace(".", ""):
            return "abbreviation expanded"
    changed = set(old) ^ set(new)
    if changed and changed <= FUNCTION_WORDS:
        return "wording"
    return None


def _same_amount(deleted: str, inserted: str) -> bool:
    """Both sides name the same amounts, in other words ("7-2" / "seven to two")."""
    before, after = features(deleted), features(inserted)
    return bool(before.numbers) and before._values("numbers") == after._values("numbers")


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
    sentence rewritten all through, are evidence of rewording only."""
    old, new = _subject(before), _subject(after)
    if not old or not new:
        return None
    changed = _subject_changed(old[0], new[0])
    if not changed:
        return None
    shown = f"{' '.join(old[0])} → {' '.join(new[0])}"
    kept = SequenceMatcher(None, old[1], new[1], autojunk=False).ratio() >= PREDICATE_KEPT
    named = _capitalized(before) | _capitalized(after)
    actor = changed is True or any(w in named or _lemma(w) in ACTORS for w in changed)
    return f"subject {'changed' if kept and actor else 'reworded'}: {shown}"


def _capitalized(text: str) -> set[str]:
    """Words written with a capital (names, acronyms, and a sentence's first word)."""
    return {w.casefold() for w in _CAPITALIZED.findall(normalize(text))}


def _run_evidence(ops: tuple[WordOp, ...], before: str, after: str) -> tuple[list[str], bool]:
    """Evidence from the replaced word runs, and whether every run is cosmetic (case,
    punctuation, spelling, form, acronym, function words)."""
    why: list[str] = []
    substantive, cosmetic = False, True
    for deleted, inserted in word_runs(ops):
        reason = _cosmetic(deleted, inserted)
        if reason:
            why.append(reason)
            continue
        cosmetic = False
        old, new = text_words(deleted), text_words(inserted)
        cue = _reversal(old, new) or _event(old, new) or _scope(old, new)
        if cue:
            why.append(cue)
        elif _acronyms(deleted) - _acronyms(inserted) and _acronyms(inserted) - _acronyms(deleted):
            why.append(f"entity swapped: {deleted} → {inserted}")  # at a sentence's start too
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


def _reversal(old: list[str], new: list[str]) -> str | None:
    lemmas_old = {w: _lemma(w) for w in old}
    lemmas_new = {w: _lemma(w) for w in new}
    for a, la in lemmas_old.items():
        for b, lb in lemmas_new.items():
            if frozenset((la, lb)) in REVERSALS or frozenset((a, b)) in REVERSALS:
                return f"reversal: {' '.join(old)} → {' '.join(new)}"
    return None


def _quantifiers(words: list[str]) -> list[str]:
    """Quantifiers in a run; "most"/"more"/"less"/"least" only before "of" or "than" (before an
    adjective they make a superlative: "the most active")."""
    found = []
    for k, word in enumerate(words):
        if word in DEGREE_WORDS and (k + 1 == len(words) or words[k + 1] not in ("of", "than")):
            continue
        if word in QUANTIFIERS:
            found.append(word)
    return found


def _event(old: list[str], new: list[str]) -> str | None:
    """One thing that happened given for another: "killed" / "injured", "charged" / "convicted"."""
    lost = {_lemma(w) for w in old} & EVENTS
    gained = {_lemma(w) for w in new} & EVENTS
    if lost - gained and gained - lost:
        return f"event changed: {' '.join(old)} → {' '.join(new)}"
    return None


def _scope(old: list[str], new: list[str]) -> str | None:
    lost = [w for w in _quantifiers(old) if w not in new]
    gained = [w for w in _quantifiers(new) if w not in old]
    if lost and gained:
        return f"scope: {' '.join(lost)} → {' '.join(gained)}"
    if lost or gained:
        return f"scope: {' '.join(gained or lost)} {'added' if gained else 'removed'}"
    return None


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
    content_old = {_lemma(w) for w in old if w not in FUNCTION_WORDS | PRONOUNS | QUANTIFIERS}
    content_new = {_lemma(w) for w in new if w not in FUNCTION_WORDS | PRONOUNS | QUANTIFIERS}
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
