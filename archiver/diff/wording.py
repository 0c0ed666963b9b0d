"""What one replaced run of words did: a wording-only explanation (case, punctuation, a
spelling fix or variant by word frequency, the same lemma, an amount written another way, an
acronym expanded, function words), or a cue that the claim moved (a reversal or antonym, one
event for another, a quantifier that changes the claim's scope). Offline word lists
(archiver.diff.lexicon), simplemma lemmas and wordfreq frequencies."""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from archiver.article.claims import features
from archiver.diff.lexicon import (
    AMOUNT_WORDS,
    EVENTS,
    FUNCTION_WORDS,
    NEGATING_PREFIXES,
    QUANTIFIERS,
    REVERSALS,
)
from archiver.diff.names import form_difference, initials, squash, text_words

SPELLING_RATIO = 0.75  # normalized Levenshtein similarity for a misspelling and its fix
RARE_ZIPF = 3.0  # wordfreq Zipf frequency below which a word is taken for a misspelling
COMMON_ZIPF = 3.5  # a word at least this frequent is a word of its own, not a fragment
PREFIXED_STEM = 4  # letters a word needs before a prefix can be taken to negate it
ADJECTIVE_ENDINGS = ("able", "ible", "ent", "ant", "ate", "ive", "al", "ic", "ous", "ete", "ect", "ure", "ar")
DEGREE_WORDS = frozenset({"more", "most", "less", "least"})


@lru_cache(maxsize=65536)
def lemma(word: str) -> str:
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


# British and American spellings of one word: "colour", "organise", "centre", "dialogue",
# "defence", "travelled" written the other way.
_VARIANTS = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"our(?=s?$|ed$|ing$|ful|ite)", "or"),
        (r"is(?=e[sd]?$|ing$|ation)", "iz"),
        (r"ys(?=e[sd]?$|ing$)", "yz"),
        (r"tre(?=s?$)", "ter"),
        (r"ogue(?=s?$)", "og"),
        (r"ence(?=s?$)", "ense"),
        (r"ll(?=ed$|ing$|er$)", "l"),
    )
)


def _variant(a: str, b: str) -> bool:
    """One word in its British and its American spelling."""
    return a != b and _american(a) == _american(b)


def _american(word: str) -> str:
    for pattern, replacement in _VARIANTS:
        word = pattern.sub(replacement, word)
    return word


def wording_only(deleted: str, inserted: str, same_numbers: bool = False) -> str | None:
    """The wording-only explanation of one run, or None when words of substance changed
    (same_numbers: the sentences state the same amounts, by value)."""
    if squash(deleted) == squash(inserted):
        return form_difference(deleted, inserted)
    old, new = text_words(deleted), text_words(inserted)
    if same_numbers and all(map(_amount_word, old + new)):
        return "same number, other form"  # "£25bn" / "twenty-five billion pounds"
    if "".join(old).replace(".", "") == "".join(new).replace(".", ""):
        return "punctuation"  # "e-mail" / "email", "data set" / "dataset", "UK" / "U.K."
    if len(old) == len(new) and old:
        pairs = [(a, b) for a, b in zip(old, new, strict=True) if a != b]
        if all(lemma(a) == lemma(b) for a, b in pairs):
            return "grammar: same word, other form"
        if all(_spelling_fix(a, b) or _variant(a, b) or lemma(a) == lemma(b) for a, b in pairs):
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


def _amount_word(word: str) -> bool:
    """A word that only writes an amount: a figure, a number word, a scale, a unit of money."""
    parts = word.split("-")
    return all(part.replace(".", "").replace(",", "").isdigit() or part in AMOUNT_WORDS for part in parts)


def _same_amount(deleted: str, inserted: str) -> bool:
    """Both sides name the same amounts, in other words ("7-2" / "seven to two")."""
    before, after = features(deleted), features(inserted)
    return bool(before.numbers) and before._values("numbers") == after._values("numbers")


def reversal_cue(old: list[str], new: list[str]) -> str | None:
    """A word put for its opposite: a listed reversal or antonym ("behind" / "ahead",
    "worrying" / "encouraging"), or, one word for one, the word with a negating prefix
    ("popular" / "unpopular")."""
    lemmas_old = {w: lemma(w) for w in old}
    lemmas_new = {w: lemma(w) for w in new}
    for a, la in lemmas_old.items():
        for b, lb in lemmas_new.items():
            if frozenset((la, lb)) in REVERSALS or frozenset((a, b)) in REVERSALS:
                return f"reversal: {' '.join(old)} → {' '.join(new)}"
    content_old = [w for w in old if w not in FUNCTION_WORDS]
    content_new = [w for w in new if w not in FUNCTION_WORDS]
    if len(content_old) == len(content_new) == 1:
        a, b = content_old[0], content_new[0]
        if _negated(a, b) or _negated(b, a):
            return f"antonym: {a} → {b}"
    return None


def _negated(word: str, other: str) -> bool:
    """Whether other is word with a negating prefix, word an English word of its own. "in-" and
    "im-" negate adjectives only ("incorrect", "impossible"; not "inform", "improve")."""
    if len(word) < PREFIXED_STEM or _zipf(word) < COMMON_ZIPF:
        return False
    return any(
        other == prefix + word and (not prefix.startswith("i") or word.endswith(ADJECTIVE_ENDINGS))
        for prefix in NEGATING_PREFIXES
    )


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


def event_cue(old: list[str], new: list[str]) -> str | None:
    """One thing that happened given for another: "killed" / "injured", "charged" / "convicted"."""
    lost = {lemma(w) for w in old} & EVENTS
    gained = {lemma(w) for w in new} & EVENTS
    if lost - gained and gained - lost:
        return f"event changed: {' '.join(old)} → {' '.join(new)}"
    return None


def scope_cue(old: list[str], new: list[str]) -> str | None:
    lost = [w for w in _quantifiers(old) if w not in new]
    gained = [w for w in _quantifiers(new) if w not in old]
    if lost and gained:
        return f"scope: {' '.join(lost)} → {' '.join(gained)}"
    if lost or gained:
        return f"scope: {' '.join(gained or lost)} {'added' if gained else 'removed'}"
    return None
