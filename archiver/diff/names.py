"""Names and words for the meaning check: the letters a text keeps when case, accents and
punctuation go, its words and replaced word runs, and how the named entities of two versions of
a sentence compare (the same name respelled, a place for its people, one name put in place of
another, or names that come and go in a rewritten sentence)."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from archiver.article.claims import Features, normalize
from archiver.diff.lexicon import DEMONYM_ENDINGS, NAME_ALIASES
from archiver.diff.model import WordOp, word_diff

_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*\.?", re.UNICODE)
_LETTERS = re.compile(r"[^\W_]+")
_CONNECTORS = frozenset({"of", "and", "the", "for", "&", "on", "in", "de"})
_INFLECTION = re.compile(r"(?<=\w{4})(?:ing|ed|es|s)$")
NAME_SIMILARITY = 0.7  # normalized Levenshtein similarity of two spellings of one name
RESPELL_LETTERS = 6  # a name shorter than this is compared letter for letter
SWAP_CONTEXT = 4  # words besides the names a run may replace and still be a name swapped in place


@lru_cache(maxsize=65536)
def squash(text: str) -> str:
    """Letters and digits only, case and accents folded: what stays when case, punctuation
    and diacritics go ("Vučić" and "Vucic" are one name)."""
    folded = unicodedata.normalize("NFKD", normalize(text).casefold())
    return " ".join(_LETTERS.findall("".join(c for c in folded if not unicodedata.combining(c))))


def _entity_key(entity: str) -> str:
    return squash(entity).replace(" ", "")


def initials(entity: str) -> str:
    words = [w for w in _LETTERS.findall(entity) if w.casefold() not in _CONNECTORS]
    return "".join(w[0] for w in words).casefold()


def _explained(entity: str, others: list[str], other_text: str) -> str | None:
    """Why an entity only one side names is still there on the other side, or None."""
    key = _entity_key(entity)
    same = [o for o in others if _entity_key(o) == key]
    if same:
        return form_difference(entity, same[0])
    if f" {squash(entity)} " in f" {squash(other_text)} ":
        return "case"
    if len(key) >= 2 and any(initials(o) == key or initials(entity) == _entity_key(o) for o in others):
        return "abbreviation expanded"
    head, _, tail = entity.rpartition("-")  # "EU-mediated" / "European Union-mediated"
    if head and any(o.endswith(f"-{tail}") and _explained(head, [o[: -len(tail) - 1]], "") for o in others):
        return "abbreviation expanded"
    return None


def form_difference(a: str, b: str) -> str:
    """How two texts with the same letters differ: "case", "accents" or "punctuation"."""
    letters_a, letters_b = _LETTERS.findall(normalize(a)), _LETTERS.findall(normalize(b))
    if letters_a == letters_b:
        return "punctuation"
    if [w.casefold() for w in letters_a] == [w.casefold() for w in letters_b]:
        return "case"
    return "accents"


def _near(entity: str, others: list[str]) -> bool:
    """Another spelling or a longer form of the same name ("Britons"/"British", "the Kremlin's
    Dmitry Peskov"/"Peskov"), or the people or adjective of a place ("Spain"/"Spanish"): a
    detail of the name, not another one."""
    key, words = _entity_key(entity), f" {squash(entity)} "
    return any(
        words in f" {squash(o)} "  # whole words: "Peskov" in "Dmitry Peskov", not "Niger" in "Nigeria"
        or f" {squash(o)} " in words
        or sorted(key) == sorted(_entity_key(o))  # letters transposed: "LGTR" / "LTGR"
        or _respelled(key, _entity_key(o))
        or any(demonym(a, b) for a in squash(entity).split() for b in squash(o).split())
        or _aliases(entity, o)
        or _INFLECTION.sub("", key) == _INFLECTION.sub("", _entity_key(o))  # "Googled"/"Googling"
        for o in others
    )


def _aliases(a: str, b: str) -> bool:
    """Two names news gives one country by turns ("United States" / "America")."""
    groups = _alias_groups()
    group = groups.get(squash(a).removeprefix("the "))
    return group is not None and group == groups.get(squash(b).removeprefix("the "))


@lru_cache(maxsize=1)
def _alias_groups() -> dict[str, int]:
    return {squash(name): group for name, group in NAME_ALIASES.items()}


def _respelled(a: str, b: str) -> bool:
    """Close spellings of one longer name ("Zelensky"/"Zelenskiy"): a letter apart, two in a
    name of twelve letters or more. Short names a letter apart are as often two names
    ("Iran"/"Iraq", "Mali"/"Bali"), and so are longer ones two apart ("Austria"/"Australia",
    "Slovakia"/"Slovenia")."""
    if min(len(a), len(b)) < RESPELL_LETTERS:
        return False
    return Levenshtein.distance(a, b) <= max(1, min(len(a), len(b)) // RESPELL_LETTERS)


def demonym(a: str, b: str) -> bool:
    """A place and its people or adjective ("spain"/"spanish", "jews"/"jewish",
    "britain"/"british", "china"/"chinese"): the stem less up to three letters, then a
    demonym ending. "iran"/"iraq" share a stem but not an ending: two places."""
    a, b = a.split()[-1], b.split()[-1]
    return any(
        len(stem := x[: len(x) - cut]) >= 3
        and y.startswith(stem)
        and y != x
        and (y[len(stem) :] in DEMONYM_ENDINGS or (cut == 1 and y == stem))  # "Germany"/"German"
        for x, y in ((a, b), (b, a))
        for cut in range(4)  # cut 0: "Pakistan"/"Pakistanis"
    )


def _in_place(lost: list[str], gained: list[str], ops: tuple[WordOp, ...]) -> bool:
    """One name put where another stood: a replaced run of words that held a lost name and
    now holds a gained one, with little else around them ("Police arrested Smith" / "Police
    arrested Jones"). Names that come and go across a rewritten sentence are its rewording,
    not one name swapped for another."""
    for deleted, inserted in word_runs(ops):
        old, new = f" {squash(deleted)} ", f" {squash(inserted)} "
        hit_old = [e for e in lost if f" {squash(e)} " in old]
        hit_new = [e for e in gained if f" {squash(e)} " in new]
        if not hit_old or not hit_new:
            continue
        extra = (
            len(text_words(deleted))
            - len(text_words(hit_old[0]))
            + len(text_words(inserted))
            - len(text_words(hit_new[0]))
        )
        if extra <= SWAP_CONTEXT:
            return True
    return False


def compare_entities(
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
    # A name with another spelling (or form) of it on the other side is that name, respelled;
    # what is left on each side was removed or added, and swapped only where both are left.
    spelled = [x for x in real_lost if _near(x, [*real_gained, *new.entities])]
    respelled = [x for x in real_gained if _near(x, [*real_lost, *old.entities])]
    if spelled or respelled:
        why.append(
            f"name spelling: {', '.join(spelled or [e for e in old.entities if _near(e, respelled)])}"
            f" → {', '.join(respelled or [e for e in new.entities if _near(e, spelled)])}"
        )
    real_lost = [x for x in real_lost if x not in spelled]
    real_gained = [x for x in real_gained if x not in respelled]
    if real_lost and real_gained:
        swapped = _in_place(real_lost, real_gained, word_diff(before, after))
        kind = "entity swapped" if swapped else "entities changed"
        why.append(f"{kind}: {', '.join(real_lost)} → {', '.join(real_gained)}")
    elif real_gained:
        why.append(f"entity added: {', '.join(real_gained)}")
    elif real_lost:
        why.append(f"entity removed: {', '.join(real_lost)}")


_TITLE_WORD = re.compile(r"[^\W\d_][\w'’-]*")
TITLE_SHARE = 0.75  # share of a text's longer words written with a capital in Title Case
TITLE_WORD = 4  # letters of a word Title Case capitalises (short ones it may leave lower case)


def title_case(text: str) -> bool:
    """Whether text is written in Title Case ("Storm Hits Coast As Thousands Flee"): most of
    its longer words after the first capitalised, so a capital says nothing of a name."""
    words = [w for w in _TITLE_WORD.findall(normalize(text))[1:] if len(w) >= TITLE_WORD]
    return len(words) >= 2 and sum(w[0].isupper() for w in words) >= TITLE_SHARE * len(words)


def text_words(text: str) -> list[str]:
    return [w.rstrip(".").casefold() for w in _WORD.findall(normalize(text))]


def word_runs(ops: tuple[WordOp, ...]) -> list[tuple[str, str]]:
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
