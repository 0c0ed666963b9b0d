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
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from archiver.article.claims import FLAG_FIELDS, Features, features, normalize, number_value
from archiver.diff.lexicon import (
    DETERMINERS,
    EVENTS,
    FUNCTION_WORDS,
    PRONOUNS,
    QUANTIFIERS,
    REFERENCE_WORDS,
    REVERSALS,
    SUBJECT_ENDS,
)
from archiver.diff.model import WordOp, word_diff

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
    "hedge",
    "attribution",
    "entity added",
    "entity removed",
    "name spelling",
    "scope",
    "reworded",
    "words added",
    "words removed",
)

_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*\.?", re.UNICODE)
_LETTERS = re.compile(r"[^\W_]+")
_ACRONYM = re.compile(r"\b[A-Z](?:[A-Z0-9&]|\.[A-Z])+\b\.?")
_CONNECTORS = frozenset({"of", "and", "the", "for", "&", "on", "in", "de"})
SPELLING_RATIO = 0.75  # normalized Levenshtein similarity for a misspelling and its fix
NAME_SIMILARITY = 0.7  # normalized Levenshtein similarity of two spellings of one name
RARE_ZIPF = 3.0  # wordfreq Zipf frequency below which a word is taken for a misspelling
DEGREE_WORDS = frozenset({"more", "most", "less", "least"})
SUBJECT_WORDS = 6  # a longer run before the verb is a clause, not a subject
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


def one_sided(kind: str, feats: Features) -> Verdict:
    """An added or removed sentence or paragraph: a claim made or withdrawn."""
    flags = feats.flags()
    why = ["correction notice"] if feats.correction else []
    why.append("claim withdrawn" if kind == "removed" else "claim added")
    why += [f"{flag}: {_listed(feats, flag)}" for flag in flags if flag in HIGH_FLAGS - {"correction"}]
    return _verdict(flags, why, severity(kind, flags))


def moved() -> Verdict:
    return _verdict((), ("moved",), severity("moved", ()))


def _listed(feats: Features, flag: str) -> str:
    return _short(", ".join(dict.fromkeys(getattr(feats, FLAG_FIELDS[flag]))), 60)


def rewording(before: str, after: str) -> Verdict:
    """A sentence (or headline) that was reworded: flags, evidence, meaning and severity."""
    old, new = features(before), features(after)
    flags: list[str] = []
    why: list[str] = []
    _numbers(old, new, flags, why)
    _quotes(old, new, before, after, flags, why)
    _entities(old, new, before, after, flags, why)
    for flag, name in (("negation", "negations"), ("hedge", "hedges"), ("attribution", "attributions")):
        was, now = Counter(map(_cue_key, getattr(old, name))), Counter(map(_cue_key, getattr(new, name)))
        lost, gained = was - now, now - was
        if lost or gained:
            flags.append(flag)
            why.append(_delta(flag, lost, gained))
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


def _numbers(old: Features, new: Features, flags: list[str], why: list[str]) -> None:
    before, after = old._values("numbers"), new._values("numbers")
    if before == after:
        return
    flags.append("number")
    shown_old = {number_value(n): n for n in old.numbers} | {d: d for d in old.dates}
    shown_new = {number_value(n): n for n in new.numbers} | {d: d for d in new.dates}
    lost = [shown_old[v] for v in before - after]
    gained = [shown_new[v] for v in after - before]
    if set((before - after) + (after - before)) == {"1"} and not (lost and gained):
        flags.remove("number")  # "one of", "a": an article or pronoun more often than a count
        return
    if lost and gained:
        why.append(f"number {', '.join(lost)} → {', '.join(gained)}")
    else:
        why.append(f"number {'added' if gained else 'removed'}: {', '.join(gained or lost)}")


@lru_cache(maxsize=65536)
def _squash(text: str) -> str:
    """Letters and digits only, case and accents folded: what stays when case, punctuation
    and diacritics go ("Vučić" and "Vucic" are one name)."""
    folded = unicodedata.normalize("NFKD", normalize(text).casefold())
    return " ".join(_LETTERS.findall("".join(c for c in folded if not unicodedata.combining(c))))


def _quotes(old: Features, new: Features, before: str, after: str, flags: list[str], why: list[str]) -> None:
    """A quote whose words changed. Quote marks put around (or taken off) words the other
    version has anyway are punctuation (scare quotes), not a changed quotation."""
    lost = Counter(old.quotes) - Counter(new.quotes)
    gained = Counter(new.quotes) - Counter(old.quotes)
    if not lost and not gained:
        return
    other_old, other_new = f" {_squash(after)} ", f" {_squash(before)} "
    real_lost = [q for q in lost if f" {_squash(q)} " not in other_old]
    real_gained = [q for q in gained if f" {_squash(q)} " not in other_new]
    if real_lost or real_gained:
        flags.append("quote")
        why.append("quote's words changed")
    else:
        why.append("punctuation: quote marks")


def _entity_key(entity: str) -> str:
    return _squash(entity).replace(" ", "")


def _initials(entity: str) -> str:
    words = [w for w in _LETTERS.findall(entity) if w.casefold() not in _CONNECTORS]
    return "".join(w[0] for w in words).casefold()


def _explained(entity: str, others: list[str], other_text: str) -> str | None:
    """Why an entity only one side names is still there on the other side, or None."""
    key = _entity_key(entity)
    same = [o for o in others if _entity_key(o) == key]
    if same:
        return _form_difference(entity, same[0])
    if f" {_squash(entity)} " in f" {_squash(other_text)} ":
        return "case"
    if len(key) >= 2 and any(_initials(o) == key or _initials(entity) == _entity_key(o) for o in others):
        return "abbreviation expanded"
    return None


def _form_difference(a: str, b: str) -> str:
    """How two texts with the same letters differ: "case", "accents" or "punctuation"."""
    letters_a, letters_b = _LETTERS.findall(normalize(a)), _LETTERS.findall(normalize(b))
    if letters_a == letters_b:
        return "punctuation"
    if [w.casefold() for w in letters_a] == [w.casefold() for w in letters_b]:
        return "case"
    return "accents"


def _near(entity: str, others: list[str]) -> bool:
    """Another spelling or a longer form of the same name ("Britons"/"British", "the Kremlin's
    Dmitry Peskov"/"Peskov"): a detail of the name, not another one."""
    key = _entity_key(entity)
    return any(
        key in _entity_key(o)
        or _entity_key(o) in key
        or sorted(key) == sorted(_entity_key(o))  # letters transposed: "LGTR" / "LTGR"
        or Levenshtein.normalized_similarity(key, _entity_key(o)) >= NAME_SIMILARITY
        for o in others
    )


def _entities(
    old: Features, new: Features, before: str, after: str, flags: list[str], why: list[str]
) -> None:
    lost = list((Counter(old.entities) - Counter(new.entities)).elements())
    gained = list((Counter(new.entities) - Counter(old.entities)).elements())
    real_lost, real_gained = [], []
    for entity in lost:
        reason = _explained(entity, gained + list(new.entities), after)
        why.append(reason) if reason else real_lost.append(entity)
    for entity in gained:
        reason = _explained(entity, lost + list(old.entities), before)
        why.append(reason) if reason else real_gained.append(entity)
    if not real_lost and not real_gained:
        return
    flags.append("entity")
    if real_lost and real_gained and all(_near(x, [*real_gained, *new.entities]) for x in real_lost):
        why.append(f"name spelling: {', '.join(real_lost)} → {', '.join(real_gained)}")
    elif real_lost and real_gained:
        why.append(f"entity swapped: {', '.join(real_lost)} → {', '.join(real_gained)}")
    elif real_gained:
        why.append(f"entity added: {', '.join(real_gained)}")
    else:
        why.append(f"entity removed: {', '.join(real_lost)}")


# --- word runs -------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _lemma(word: str) -> str:
    import simplemma

    return str(simplemma.lemmatize(word, lang="en")).casefold()


@lru_cache(maxsize=65536)
def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))


def _words(text: str) -> list[str]:
    return [w.rstrip(".").casefold() for w in _WORD.findall(normalize(text))]


def _runs(ops: tuple[WordOp, ...]) -> list[tuple[str, str]]:
    """(deleted, inserted) per replaced stretch of words; one side may be empty."""
    runs: list[tuple[str, str]] = []
    deleted, inserted = [], []
    for op, text in (*ops, ("equal", "")):
        if op == "delete":
            deleted.append(text)
        elif op == "insert":
            inserted.append(text)
        elif deleted or inserted:
            runs.append((" ".join(deleted), " ".join(inserted)))
            deleted, inserted = [], []
    return runs


def _spelling_fix(old: str, new: str) -> bool:
    """One word for a close one that is much more common: a typo fixed."""
    if old.isdigit() or new.isdigit() or Levenshtein.normalized_similarity(old, new) < SPELLING_RATIO:
        return False
    return _zipf(old) < RARE_ZIPF and _zipf(new) > _zipf(old) + 1.0


def _cosmetic(deleted: str, inserted: str) -> str | None:
    """The wording-only explanation of one run, or None when words of substance changed."""
    if _squash(deleted) == _squash(inserted):
        return _form_difference(deleted, inserted)
    old, new = _words(deleted), _words(inserted)
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
    for short, long in ((old, new), (new, old)):
        if len(short) == 1 and len(long) > 1 and _initials(" ".join(long)) == short[0].replace(".", ""):
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
        if word in SUBJECT_ENDS or (k and word.endswith("ed") and words[k - 1] not in DETERMINERS):
            return k
    return None


def _subject(text: str) -> list[str] | None:
    """The words before the first verb, after any opening phrase set off by a comma
    ("After a four-year hiatus, Aniston returned": the subject is "aniston")."""
    pieces = [_words(piece) for piece in normalize(text).split(",")]
    words = [w for piece in pieces for w in piece]
    end = _first_verb(words)
    if not end:
        return None
    start = 0
    for piece in pieces:
        if start + len(piece) > end:
            break  # the piece holding the verb
        start += len(piece)
    return words[start:end] or None


def _run_evidence(ops: tuple[WordOp, ...], before: str, after: str) -> tuple[list[str], bool]:
    """Evidence from the replaced word runs, and whether every run is cosmetic (case,
    punctuation, spelling, form, acronym, function words)."""
    why: list[str] = []
    substantive, cosmetic = False, True
    for deleted, inserted in _runs(ops):
        reason = _cosmetic(deleted, inserted)
        if reason:
            why.append(reason)
            continue
        cosmetic = False
        old, new = _words(deleted), _words(inserted)
        cue = _reversal(old, new) or _event(old, new) or _scope(old, new)
        if cue:
            why.append(cue)
        elif _acronyms(deleted) and _acronyms(inserted):
            why.append(f"entity swapped: {deleted} → {inserted}")  # at a sentence's start too
        elif old and new and len(old) + len(new) <= WORD_CHOICE:
            why.append(f"word choice: {deleted} → {inserted}")
            continue
        substantive = True
    old_subject, new_subject = _subject(before), _subject(after)
    if not cosmetic and old_subject and new_subject and _subject_changed(old_subject, new_subject):
        why.append(f"subject changed: {' '.join(old_subject)} → {' '.join(new_subject)}")
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


def _subject_changed(old: list[str], new: list[str]) -> bool:
    """Who did it changed: a word of the subject gave way to another (not just another form
    of it, and not a pronoun for the name it stands for), or a determiner that picks out which
    one ("another" → "the") changed."""
    if len(old) > SUBJECT_WORDS or len(new) > SUBJECT_WORDS:
        return False
    content_old = {_lemma(w) for w in old if w not in FUNCTION_WORDS | PRONOUNS}
    content_new = {_lemma(w) for w in new if w not in FUNCTION_WORDS | PRONOUNS}
    lost = [w for w in content_old - content_new if not _has_variant(w, content_new)]
    gained = [w for w in content_new - content_old if not _has_variant(w, content_old)]
    if lost and gained:
        return True
    return bool((set(old) ^ set(new)) & REFERENCE_WORDS)


def _has_variant(word: str, others: set[str]) -> bool:
    """Another spelling of the word among others ("ionization"/"ionisation", a typo fixed,
    "Africa"/"African", "ex-meridian"/"meridian"): the same thing named."""
    bare = word.replace("-", "")
    return any(
        Levenshtein.normalized_similarity(bare, other.replace("-", "")) >= NAME_SIMILARITY
        or bare in other.replace("-", "")
        or other.replace("-", "") in bare
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
