"""Sentences and the claim features a fact-checker cares about.

`normalize` is the cosmetic-equivalence key; `features` pulls out numbers and dates, quotes,
attribution, hedges, negations, named entities and correction notices from one sentence.
Numbers compare by value ("14" = "fourteen", "7-2" = "seven to two", "$3bn" = "$3 billion").
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pysbd

FLAG_FIELDS: dict[str, str] = {
    "number": "numbers",
    "quote": "quotes",
    "attribution": "attributions",
    "hedge": "hedges",
    "negation": "negations",
    "entity": "entities",
}

# --- normalization -----------------------------------------------------------------

_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
_QUOTES = str.maketrans(
    {
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u301d\u301e\uff02", '"'),
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\uff07", "'"),
        **dict.fromkeys("\u2010\u2011\u2012\u2212\ufe63\uff0d", "-"),
        **dict.fromkeys("\u2013\u2014\u2015\ufe58", "\u2014"),
    }
)
_GUILLEMET_OPEN = re.compile(r"[«‹]\s*")
_GUILLEMET_CLOSE = re.compile(r"\s*[»›]")
_LONG_DASH = re.compile(r"\s*(?:\u2014+|-{2,})\s*|\s+-\s+")
_RANGE = re.compile(r"(?<=\d) - (?=\d)")
_DOTS = re.compile(r"\.\s\.\s\.")
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=65536)
def normalize(text: str) -> str:
    """Cosmetic-equivalence key: entities, NFKC, quotes, dashes, ellipses, whitespace."""
    text = unicodedata.normalize("NFKC", html.unescape(text)).translate(_INVISIBLE)
    text = _GUILLEMET_CLOSE.sub('"', _GUILLEMET_OPEN.sub('"', text)).translate(_QUOTES)
    text = _DOTS.sub("...", text)
    text = _LONG_DASH.sub(" - ", _SPACE.sub(" ", text))
    return _RANGE.sub("-", text).strip()


# --- sentence splitting ------------------------------------------------------------


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


# pysbd is needed where a period, quote or bracket might not end a sentence. A paragraph with
# none of these (a little over half of real news paragraphs) splits on the plain rule below to
# the same sentences pysbd gives (checked over the corpus), several times faster.
_NEEDS_PYSBD = re.compile(
    r"(?:\b[A-Za-z]|\b[A-Z][a-z]{1,4}|\b(?:etc|vs|approx|incl|est|ca|cf|al|ed|eds|vol|no|nos|pp|fig)"
    r"|\.\.|\d|\w\.\w)\.(?=\s|$)"  # initials, Mr., Calif., etc., ellipses, 3., U.S.
    r"|[!?][\"”’]?\s+[a-z]|[!?](?=[^\s\"”’)\]!?])"  # "Why?" he asked  /  ?! inside words
    r"|[\"“”«»„。！？；]|\b\d+\)|(?<!\w)['‘]"  # quotes, CJK stops, numbered lists
)
_PLAIN_BOUNDARY = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"”’)\]]))\s+(?=[\"“‘(\[]?(?![a-z])\S)")


@lru_cache(maxsize=8192)
def _split(paragraph: str) -> tuple[str, ...]:
    text = _SPACE.sub(" ", paragraph).strip()
    if not text:
        return ()
    if not _NEEDS_PYSBD.search(text):
        return tuple(s.strip() for s in _PLAIN_BOUNDARY.split(text) if s.strip())
    sentences = tuple(s.strip() for s in _segmenter().segment(text) if s.strip())
    if "".join(sentences).replace(" ", "") != text.replace(" ", ""):
        return (text,)  # pysbd lost or altered text (rare, odd punctuation): keep it whole
    return sentences


def split_sentences(paragraph: str) -> list[str]:
    """Split one paragraph into sentences (pysbd, English; cached by paragraph text)."""
    return list(_split(paragraph))


# --- features ----------------------------------------------------------------------

_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
    "|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
_DAYS = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
_WORD_NUMBERS = (
    "zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen"
    "|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy"
    "|eighty|ninety|hundreds?|thousands?|millions?|billions?|trillions?|dozens?|half|twice"
)
_PERCENT = r"(?:\s?%|\s(?:percent|per\s?cent)\b)"
_NUMBER_RE = re.compile(
    rf"\b(?-i:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}}\b)?"  # Jan. 5, 2024
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?-i:{_MONTHS})\b\.?(?:\s+\d{{4}}\b)?"  # 5 January 2024
    rf"|(?:[$€£¥]\s?)?(?<![\w.])(?<![^\W\d_]-)\d+(?:[.,:/]\d+)*"  # 3.5  1,000  $5  10:30; not F-16
    rf"(?:{_PERCENT}|\s?(?:bn|m|k)\b|\s+(?:{_WORD_NUMBERS})\b)?"  # 5%  $3bn  3 million
    rf"|\b(?:an?\s+(?=dozen|hundred|thousand|million|billion))?"  # a dozen
    rf"(?:{_WORD_NUMBERS})(?:[\s-](?:{_WORD_NUMBERS})\b)*{_PERCENT}?\b",
    re.IGNORECASE,
)
_FULL_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# A month or weekday named on its own ("begin in April", "on Monday"): a date claim. "May" and
# "March" opening a sentence are more often a verb; a lower-case "may" is never the month.
_DATE_WORD_RE = re.compile(rf"\b(?:{'|'.join(_FULL_MONTHS)}|{'|'.join(sorted(_DAYS))})\b")
_AMBIGUOUS = frozenset({"May", "March"})  # also a verb: a month only where dates are said so
_YEAR_AFTER = re.compile(r",?\s+\d{4}\b")
_DATE_BEFORE = re.compile(
    r"\b(?:in|on|since|until|till|by|from|through|to|last|next|this|early|late|mid|of|before"
    r"|after|during|between|and)[\s-]+$",
    re.IGNORECASE,
)
_DOUBLE_QUOTE_RE = re.compile(r'"([^"]+)"')
_SINGLE_QUOTE_RE = re.compile(r"(?<!\w)'([^']+?)'(?!\w)")
_ATTRIBUTION_RE = re.compile(
    r"\b(?:(?i:according to)|said|says|say|saying|told|tells|reported|reports|stated"
    r"|announced|announces|claimed|claims|wrote|writes|added|adds|explained|noted|insisted"
    r"|confirmed|confirms|acknowledged|admitted|argued|asserted|testified|tweeted|posted"
    r"|warned|declared|maintained|recalled|replied|responded|statement|spokesman"
    r"|spokeswoman|spokesperson)\b"
)
_HEDGE_RE = re.compile(
    r"\b(?:allegedly|alleged|reportedly|purportedly|supposedly|apparently|(?-i:may)|might"
    r"|(?-i:May)(?= (?i:be|have|not|well|also|soon|need|face|take|get)\b)"  # Title Case
    r"|could|appears? to|appeared to|seems?|seemed|possibly|perhaps|probably|suspected"
    r"|likely|unlikely|unconfirmed|unverified|believed to|thought to|said to be"
    r"|understood to|it is understood|rumou?red)\b",
    re.IGNORECASE,
)
_NEGATION_RE = re.compile(
    r"\b(?:not|never|no|none|nobody|nothing|neither|nor|without|cannot|denied|denies|deny"
    r"|denying|refused|refuses|refuse|rejected|rejects|fail(?:s|ed|ing)? to)\b|\w+n't\b",
    re.IGNORECASE,
)
_CORRECTION_RE = re.compile(
    r"^\W*(?:corrections?|clarification|update[ds]?|editor'?s'? note)\b\s*(?:[:(,-]|\d|on\b)"
    r"|\ban? (?:earlier|previous|prior) version of this (?:article|story|report|post)"
    r"|\bthis (?:article|story|report|post) (?:has been|was|is being) "
    r"(?:updated|corrected|amended|revised|changed)",
    re.IGNORECASE,
)

_TOKEN_RE = re.compile(r"[^\W\d_][\w'&.-]*")
_ACRONYM_RE = re.compile(r"(?:[A-Za-z]\.)+")
_CONNECTORS = {"of", "the", "de", "da", "del", "van", "von", "der", "la", "le", "bin", "al", "&"}
_HONORIFICS = {"Mr.", "Mrs.", "Ms.", "Mx.", "Dr.", "Prof.", "Sir", "Dame"}
_COMMON_WORDS = (
    "A An The This That These Those There Here It He She His Her Him They Them Their We"
    " Our Us I You Your In On At By For From With Without To Of Into As After Before"
    " During Since Until While When Where Whether Why What Which Who Whom How If But And"
    " Or Nor So Yet Still Also However Meanwhile Although Though Despite Because According"
    " Some Many Most Much More Few All Each Every Both Either Neither No Not None Yes Last"
    " Next Earlier Later Now Then Today Tonight Yesterday Tomorrow Such Other Another"
    " Instead Even Only Just Once Over Under Than Like Read See Watch Update Updated"
    " Correction Corrections Clarification Editor Note Mr Mrs Ms Dr"
)
_COMMON = set(_COMMON_WORDS.split()) | set(_MONTHS.split("|")) | _DAYS
_OPENERS = frozenset(".!?:;\"'([-")


@dataclass(frozen=True)
class Features:
    """Claim features of one sentence; each tuple lists matches in order of appearance."""

    numbers: tuple[str, ...] = ()
    quotes: tuple[str, ...] = ()
    attributions: tuple[str, ...] = ()
    hedges: tuple[str, ...] = ()
    negations: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    correction: bool = False
    # Months and weekdays named on their own ("in April", "on Monday"). A change of them is a
    # "number" change; a sentence is not flagged for merely naming one (news names weekdays in
    # nearly every sentence).
    dates: tuple[str, ...] = ()

    def _values(self, name: str) -> Counter[str]:
        """What a flag compares: numbers by value, with the dates; other features as found."""
        if name == "numbers":
            return Counter(map(number_value, self.numbers)) + Counter(self.dates)
        return Counter(getattr(self, name))

    def flags(self) -> list[str]:
        """Flags this sentence carries, in canonical order."""
        carried = [flag for flag, name in FLAG_FIELDS.items() if getattr(self, name)]
        return [*carried, "correction"] if self.correction else carried

    def changed(self, other: Features) -> list[str]:
        """Flags whose values differ (as multisets) between self and other; numbers compare by
        value ("14" and "fourteen" are one claim) and include the dates ("April" -> "May")."""
        return [flag for flag, name in FLAG_FIELDS.items() if self._values(name) != other._values(name)]

    def merge(self, other: Features) -> Features:
        """Concatenate two feature sets (for a multi-sentence paragraph)."""
        names = (*FLAG_FIELDS.values(), "dates")
        merged = {name: getattr(self, name) + getattr(other, name) for name in names}
        return Features(**merged, correction=self.correction or other.correction)


def _number_key(match: str) -> str:
    """Comparable form: lower case, no thousands separators or abbreviation dots, "%"."""
    key = _SPACE.sub(" ", match.lower())
    key = re.sub(r"(?<=\d),(?=\d{3})|(?<=[a-z])\.", "", key)
    return re.sub(r"\s?per\s?cent|\s?percent", "%", key)


# A currency named after its amount ("25 billion pounds") is the symbol before it ("£25bn").
_CURRENCY_AFTER = re.compile(r"\s+(pounds?|dollars?|euros?|yen)\b(?: sterling)?", re.IGNORECASE)
_CURRENCY_SYMBOLS = {"pound": "£", "dollar": "$", "euro": "€", "yen": "¥"}
# The first figure of a range shares the scale or unit said after the last: "20 to 30 million"
# is 20 million to 30 million, "5-10%" is 5% to 10%.
_RANGE_GAP = re.compile(r"\s*(?:to|and|or|-|–|—)\s*", re.IGNORECASE)
_SCALED = re.compile(r"(?:\s?(?:%|bn|m|k)|\s(?:thousand|million|billion|trillion))$")


def _number_keys(text: str, spans: list[tuple[int, int]]) -> tuple[str, ...]:
    """The number keys of a sentence, each with the currency named after it and the scale its
    range shares."""
    keys = []
    for start, end in spans:
        key = _number_key(text[start:end])
        currency = _CURRENCY_AFTER.match(text, end)
        if currency and not _CURRENCY.match(key):
            key = _CURRENCY_SYMBOLS[currency.group(1).lower().rstrip("s")] + key
        keys.append(key)
    for k in range(len(keys) - 2, -1, -1):
        scale = _SCALED.search(keys[k + 1])
        gap = _RANGE_GAP.fullmatch(text, spans[k][1], spans[k + 1][0])
        if scale and gap and not _SCALED.search(keys[k]) and keys[k][-1:].isdigit():
            keys[k] += scale.group()
    return tuple(keys)


def _dates(text: str, numbers: list[tuple[int, int]]) -> tuple[str, ...]:
    """Months and weekdays named outside a number match ("Jan. 5" is a number already)."""
    found = []
    for match in _DATE_WORD_RE.finditer(text):
        if any(start <= match.start() < end for start, end in numbers):
            continue
        if match.group() in _AMBIGUOUS and not (  # "in May", "May 2024"; not "May Be Needed"
            _DATE_BEFORE.search(text, 0, match.start()) or _YEAR_AFTER.match(text, match.end())
        ):
            continue
        found.append(match.group().lower())
    return tuple(found)


_SMALL_WORDS = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
_TENS_WORDS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SMALL = {word: value for value, word in enumerate(_SMALL_WORDS)} | {"a": 1, "an": 1}
_TENS = {word: 10 * value for value, word in enumerate(_TENS_WORDS, 2)}
_SCALES = {
    "thousand": 10**3,
    "k": 10**3,
    "million": 10**6,
    "m": 10**6,
    "billion": 10**9,
    "bn": 10**9,
    "trillion": 10**12,
}
_MONTH_NUMBERS = {name[:3].lower(): number for number, name in enumerate(_FULL_MONTHS, 1)}
_VALUE_TOKEN = re.compile(r"\d+(?:\.\d+)?|[a-z]+|%")
_CURRENCY = re.compile(r"^[$€£¥]\s?")
_DATE_KEY = re.compile(
    r"^(?:(?P<m1>[a-z]+) (?P<d1>\d{1,2})(?:st|nd|rd|th)?|(?P<d2>\d{1,2})(?:st|nd|rd|th)? (?P<m2>[a-z]+))"
    r",? ?(?P<year>\d{4})?$"
)


@lru_cache(maxsize=16384)
def number_value(key: str) -> str:
    """The value a number key stands for, as a canonical string: "fourteen" and "14" -> "14",
    "a dozen" -> "12", "$3.5bn" and "$3.5 billion" -> "$3500000000", "forty percent" -> "40%",
    "Jan 5" and "5 January" -> "date 1-5". Vague amounts ("dozens", "half") stay as they are."""
    date = _DATE_KEY.match(key)
    month = _MONTH_NUMBERS.get((date["m1"] or date["m2"])[:3]) if date else None
    if date and month:
        year = f"{date['year']}-" if date["year"] else ""
        return f"date {year}{month}-{int(date['d1'] or date['d2'])}"
    currency = _CURRENCY.match(key)
    prefix = currency.group().strip() if currency else ""
    rest = key[currency.end() :] if currency else key
    tokens = _VALUE_TOKEN.findall(rest)
    if "".join(tokens) != re.sub(r"[\s-]", "", rest):
        return key  # "10:30", "3/4", "1,5": not a plain amount
    percent = tokens[-1:] == ["%"]
    total, current, seen = Decimal(0), Decimal(0), False
    for token in tokens[:-1] if percent else tokens:
        if token[0].isdigit():
            if seen and current:
                return key
            current, seen = Decimal(token), True
        elif token in _SMALL or token in _TENS:
            current += _SMALL.get(token, 0) + _TENS.get(token, 0)
            seen = True
        elif token == "hundred":
            current, seen = (current or Decimal(1)) * 100, True
        elif token == "dozen":
            current, seen = (current or Decimal(1)) * 12, True
        elif token in _SCALES and seen:
            total, current = total + (current or 1) * _SCALES[token], Decimal(0)
        else:
            return key  # "dozens", "half", "twice": no single value
    value = total + current
    text = f"{value.normalize():f}" if value else "0"
    return f"{prefix}{text}{'%' if percent else ''}"


# A double prime after a figure, where the quote marks do not pair, is an inch mark ("a 16"
# gun"), no quotation mark.
_INCHES = re.compile(r'(?<=\d)"(?=[\s,.;:)-])')


def _quotes(text: str) -> tuple[str, ...]:
    if text.count('"') % 2:
        text = _INCHES.sub(" in", text)
    spans = [m.group(1) for m in _DOUBLE_QUOTE_RE.finditer(text)]
    spans += [m.group(1) for m in _SINGLE_QUOTE_RE.finditer(text)]
    if text.count('"') % 2:  # a quotation running across a sentence boundary
        last = text.rfind('"')
        opens = last + 1 < len(text) and not text[last + 1].isspace()
        spans.append(text[last + 1 :] if opens else text[: text.find('"')])
    return tuple(span for s in spans if (span := s.strip(" ,.;:")))


def _cues(pattern: re.Pattern[str], text: str) -> tuple[str, ...]:
    return tuple(_SPACE.sub(" ", m.group().lower()) for m in pattern.finditer(text))


# "Whether or not", "may or may not": the alternative, not a claim denied.
_ALTERNATIVE = re.compile(r"\bor(?: \w+)? $", re.IGNORECASE)


def _negations(text: str) -> tuple[str, ...]:
    return tuple(
        m.group().lower() for m in _NEGATION_RE.finditer(text) if not _ALTERNATIVE.search(text, 0, m.start())
    )


def _clean_token(token: str) -> str:
    if not _ACRONYM_RE.fullmatch(token) and token not in _HONORIFICS:
        token = token.rstrip(".-'")
    return token.removesuffix("'s")


def _starts_sentence(text: str, pos: int) -> bool:
    before = text[:pos].rstrip()
    return not before or before[-1] in _OPENERS


def _entities(text: str) -> tuple[str, ...]:
    """Capitalized word runs, minus sentence-start singletons, function words and dates."""
    runs: list[tuple[bool, list[str]]] = []
    words: list[str] = []
    last_end = -1
    for match in _TOKEN_RE.finditer(text):
        token = _clean_token(match.group())
        adjoining = bool(words) and text[last_end : match.start()].isspace()
        if token[:1].isupper() and adjoining:
            words.append(token)
        elif token[:1].isupper():
            words = [token]  # a new run; later tokens extend it in place
            runs.append((_starts_sentence(text, match.start()), words))
        elif adjoining and token in _CONNECTORS:
            words.append(token)
        else:
            words = []
        last_end = match.end()
    return tuple(entity for at_start, run in runs if (entity := _entity(run, at_start)))


def _entity(run: list[str], at_start: bool) -> str:
    """The entity a capitalized run names, or "" when it is just a sentence opener."""
    if at_start and len(run) == 1:
        return ""
    words = list(run)
    while words and (words[-1] in _CONNECTORS or words[-1] in _COMMON):
        words.pop()
    while words and (words[0] in _COMMON or words[0] in _HONORIFICS or words[0] in _CONNECTORS):
        words.pop(0)
    return " ".join(words)


@lru_cache(maxsize=16384)
def features(sentence: str) -> Features:
    """Extract claim features from one sentence (normalized first; cached)."""
    text = normalize(sentence)
    spans = [m.span() for m in _NUMBER_RE.finditer(text)]
    return Features(
        numbers=_number_keys(text, spans),
        quotes=_quotes(text),
        attributions=_cues(_ATTRIBUTION_RE, text),
        hedges=_cues(_HEDGE_RE, text),
        negations=_negations(text),
        entities=_entities(text),
        correction=bool(_CORRECTION_RE.search(text)),
        dates=_dates(text, spans),
    )
