"""Edited and noise-only versions of real news pages, for the diff eval, bench and e2e tests.

For each page of the shared corpus (``../shared/corpus`` next to the repo, or
``$ARCHIVER_CORPUS``) this builds pairs of HTML documents (before, after):

* one pair per edit kind (``EDIT_KINDS``): the after version carries one injected newsroom
  edit, and both versions carry *different* outside churn (ads with random ids, a trending
  box, a "Page generated" line, script nonces, a CSRF token, tracking params on links);
* ``noise_outside``: the page with two different draws of outside churn, nothing else;
* ``noise_inside``: the page with churn inside the article body — a related-stories box and an
  inline "Read more:" paragraph between the article's paragraphs — whose links and titles
  differ between the versions.
* ``noise_markup``: a promo box quoting another story (a different quote each version) inside
  the body, and in the after version the article's subheads moved from <h2>/<h3> to
  <p><strong> and a form feed and a vertical tab in its text.

Edits are made in the HTML with lxml where the article's text really lives: the page is
extracted once with ``archiver.article.extract.extract_article`` to learn its paragraphs and
sentences (split with ``archiver.article.claims.split_sentences``), then the text node holding a chosen
sentence is edited (or the ``<p>`` holding a paragraph is moved / extended / followed by a
correction). Every choice comes from a RNG seeded by (seed, page, kind), so runs repeat.

Both versions are re-serialised from the same parse as UTF-8 with ``<meta charset="utf-8">``,
so the only differences between them are the injected edit and the churn.
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from archiver.article.claims import split_sentences
from archiver.article.decode import decode_html
from archiver.article.extract import Article, extract_article

if TYPE_CHECKING:
    from lxml.html import HtmlElement

CORPUS_ENV = "ARCHIVER_CORPUS"
MIN_PARAGRAPHS = 3
CAPTURE_DAY = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)  # "Page generated" times fall in 4 days after

# edit kind -> (what the diff must report, flag it must carry)
EXPECTED: dict[str, tuple[str, str | None]] = {
    "headline": ("headline", None),
    "number": ("modified", "number"),
    "quote": ("modified", "quote"),
    "hedge": ("modified", "hedge"),
    "negation": ("modified", "negation"),
    "sentence_added": ("added", None),
    "sentence_removed": ("removed", None),
    "paragraph_moved": ("moved", None),
    "correction": ("added", "correction"),
}
EDIT_KINDS = tuple(EXPECTED)
NOISE_KINDS = ("noise_outside", "noise_inside", "noise_markup")
ALL_KINDS = (*EDIT_KINDS, *NOISE_KINDS)
ENGLISH_ONLY = frozenset({"hedge", "negation", "correction"})  # claims.py cues are English

_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "textarea", "title", "head"})
_WS = re.compile(r"\s+")
_WORD = re.compile(r"\S+")
_EDGE_PUNCT = "\"'“”‘’„«»()[]:;,.!?"
# a stand-alone number: not part of a time, a fraction, an id or a word ("COVID-19", "10:30")
_NUMBER = re.compile(r"(?<![\w.,:/\-–#])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w:/\-–]|[.,]\d)")
_QUOTE_SPAN = re.compile(r"[“\"„«]([^“”\"„«»]*)[”\"“»]")  # pairs in order; short ones skipped
_MIN_QUOTE = 12
_QUOTE_WORD = re.compile(r"(?<![\w'’-])[^\W\d_]{4,}(?![\w'’-])")
_AUX = re.compile(r"\b(?:is|was|are|were|has|have|had|will)\s+(?!not\b|never\b|no\b)(?=[a-z]{3,}\b)")
_NEG_AUX = re.compile(
    r"\b(?:is|was|are|were|has|have|had|will|would|can|did)\s+(?!not\b|never\b|no\b)(?=[a-z]{3,}\b)"
)
# a <p> inside these is a caption, list item or box, not a paragraph of the article's flow
_NOT_BODY_FLOW = frozenset(
    {
        "li",
        "figure",
        "figcaption",
        "aside",
        "table",
        "blockquote",
        "nav",
        "header",
        "footer",
        "form",
        "button",
        "a",
    }
)
_ENDS_SENTENCE = re.compile(r"[.!?][\"'”’)]?$")
_ENGLISH = frozenset(
    {
        "the",
        "and",
        "of",
        "to",
        "in",
        "is",
        "was",
        "that",
        "for",
        "with",
        "on",
        "are",
        "has",
        "said",
        "by",
        "from",
        "it",
    }
)
_HEADLINE_WORD = re.compile(r"(?<![\w'’-])[^\W\d_]{4,}(?![\w'’-])")

# word -> a rewording (headline and quotes); fallbacks below when none of these occur
SYNONYMS = {
    "says": "claims",
    "said": "stated",
    "new": "fresh",
    "will": "could",
    "after": "following",
    "over": "about",
    "more": "extra",
    "first": "initial",
    "big": "major",
    "major": "big",
    "plan": "proposal",
    "plans": "proposals",
    "deal": "agreement",
    "talks": "negotiations",
    "help": "aid",
    "cuts": "reductions",
    "rise": "increase",
    "rises": "climbs",
    "fall": "drop",
    "falls": "drops",
    "warns": "cautions",
    "calls": "urges",
    "wins": "secures",
    "best": "top",
    "people": "residents",
    "government": "administration",
    "police": "officers",
    "report": "study",
    "could": "might",
    "because": "since",
    "very": "extremely",
    "really": "truly",
    "think": "believe",
    "going": "planning",
    "important": "crucial",
    "want": "wish",
    "need": "must",
    "great": "huge",
    "know": "understand",
    "just": "only",
    "make": "create",
    "good": "fine",
    "always": "often",
    "these": "those",
    "this": "that",
    "work": "effort",
    "time": "moment",
    "year": "season",
    "years": "seasons",
    "world": "globe",
    "country": "nation",
    "city": "town",
    "trade": "commerce",
    "leaves": "keeps",
    "keeps": "leaves",
    "what": "which",
    "with": "alongside",
    "would": "should",
    "being": "staying",
    "there": "here",
    "their": "its",
    "that": "which",
}
FALLBACK_WORDS = ("Sudden", "Quiet", "Growing", "Renewed", "Lasting", "Surprising")
HEDGES = ("reportedly", "allegedly")
ADDED_SENTENCES = (
    "The figures were released on Tuesday by the national statistics office.",
    "A second hearing in the case is scheduled for later this month.",
    "Local officials said the review would be completed before the end of the year.",
    "The company has since hired an outside firm to examine the matter.",
    "About 200 people attended a public meeting on the issue last week.",
    "Regulators in two other countries have opened similar inquiries.",
)
CORRECTED_THINGS = (
    "the date of the hearing",
    "the name of a spokeswoman for the agency",
    "the number of people affected",
    "the title of the report",
    "the location of the meeting",
    "the amount of the settlement",
)
_HEAD_SUBJECTS = (
    "City council",
    "Storm warning",
    "Local school",
    "Transit agency",
    "Health officials",
    "Tech giant",
    "Football club",
    "State lawmakers",
    "Airport",
    "Farmers",
    "Museum",
    "Court",
    "Film festival",
    "Central bank",
    "Hospital",
    "Police",
)
_HEAD_VERBS = (
    "approves",
    "delays",
    "unveils",
    "rejects",
    "reviews",
    "expands",
    "cancels",
    "defends",
    "announces",
    "questions",
    "backs",
    "probes",
)
_HEAD_OBJECTS = (
    "new budget for parks",
    "plan to cut fares",
    "long-awaited stadium deal",
    "summer schedule",
    "tax break for small firms",
    "flood defences upgrade",
    "ban on late-night deliveries",
    "record exhibition",
    "housing proposal",
    "controversial merger",
    "election timetable",
    "hiring freeze",
    "bike lane network",
    "water rate increase",
)


# --------------------------------------------------------------------------- corpus


def corpus_dir(explicit: str | Path | None = None) -> Path:
    """``explicit``, else ``$ARCHIVER_CORPUS``, else ``../shared/corpus`` next to the repo."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(CORPUS_ENV)
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "corpus"


def corpus_pages(corpus: Path) -> list[str]:
    """Page paths (relative to the corpus) in manifest order."""
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    return [entry["page"] for entry in manifest]


def page_url(corpus: Path, page: str) -> str | None:
    """The URL the page was originally served at (from its sidecar)."""
    sidecar = corpus / Path(page).with_suffix(".json")
    try:
        return json.loads(sidecar.read_text(encoding="utf-8")).get("url")
    except (OSError, ValueError):
        return None


# --------------------------------------------------------------------------- data


@dataclass
class Pair:
    """Two versions of one page and what the diff between them should report."""

    page: str
    kind: str  # an EDIT_KINDS entry, or noise_outside / noise_inside
    before_html: str
    after_html: str
    expect_kind: str | None = None  # headline / modified / added / removed / moved; None: nothing
    expect_flag: str | None = None
    before_text: str | None = None  # the edited sentence/paragraph/headline as it read before
    after_text: str | None = None  # ... and after
    marker_before: str | None = None  # a fragment only the before version has near the edit
    marker_after: str | None = None  # a fragment only the after version has near the edit
    note: str = ""

    @property
    def is_noise(self) -> bool:
        return self.kind in NOISE_KINDS


@dataclass
class PagePairs:
    """All pairs built from one corpus page, and the kinds that could not be built."""

    page: str
    url_path: str
    headline: str
    paragraphs: int
    english: bool
    pairs: list[Pair] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # kind -> reason


@dataclass
class _Edit:
    """What an edit function did."""

    before_text: str | None
    after_text: str | None
    marker_before: str | None
    marker_after: str | None
    note: str


# --------------------------------------------------------------------------- html helpers


def squash(text: str) -> str:
    """Whitespace runs to one space, ends stripped."""
    return " ".join(text.split())


def _key(text: str) -> str:
    return _WS.sub("", text)


def _letters(text: str) -> str:
    """Case-folded letters and digits only (how extract.py compares headline repeats)."""
    return re.sub(r"[\W_]+", "", text.casefold())


def parse_html(text: str) -> HtmlElement:
    """Parse a document with lxml; charset declarations replaced by one ``<meta charset=utf-8>``."""
    from lxml import html as lxml_html

    text = re.sub(r"^\s*<\?xml[^>]*>", "", text, count=1)
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text)
    root = lxml_html.document_fromstring(text)
    for meta in root.iter("meta"):
        if meta.get("charset") is not None or (meta.get("http-equiv") or "").lower() == "content-type":
            meta.drop_tree()
    head = root.find("head")
    if head is None:
        head = root.makeelement("head", {})
        root.insert(0, head)
    charset = head.makeelement("meta", {"charset": "utf-8"})
    head.insert(0, charset)
    return root


def to_html(root: HtmlElement) -> str:
    """Serialise a document (with an HTML5 doctype)."""
    from lxml import html as lxml_html

    return "<!DOCTYPE html>\n" + lxml_html.tostring(root, encoding="unicode", method="html")


def _body(root: HtmlElement) -> HtmlElement:
    body = root.find("body")
    return body if body is not None else root


def _slots(top: HtmlElement) -> Iterator[tuple[HtmlElement, str]]:
    """(element, "text"|"tail") for every visible text node under ``top`` (no script/style)."""
    stack = [top]
    while stack:
        el = stack.pop()
        tag = el.tag if isinstance(el.tag, str) else None
        if tag is not None and tag.lower() not in _SKIP_TAGS:
            if el.text:
                yield el, "text"
            for child in reversed(el):
                if child.tail:
                    yield child, "tail"
                stack.append(child)


def _fragment_regex(fragment: str) -> re.Pattern[str]:
    return re.compile(r"\s+".join(re.escape(word) for word in fragment.split()))


def _replace_in_slots(slots: list[tuple[HtmlElement, str]], pattern: re.Pattern[str], new: str) -> int:
    hits = 0
    for el, attr in slots:
        value = getattr(el, attr)
        if value and pattern.search(value):
            setattr(el, attr, pattern.sub(lambda _m: new, value, count=1))
            hits += 1
    return hits


def _hits(pattern: re.Pattern[str], slots: list[tuple[HtmlElement, str]]) -> bool:
    return any(pattern.search(getattr(el, attr)) for el, attr in slots)


def _sync_copies(root: HtmlElement, pattern: re.Pattern[str], new: str) -> None:
    """Apply an edit to the page's other renderings of the story: description/title metas and
    JSON-LD (``articleBody``, ``description``, ``headline``)."""
    for meta in root.iter("meta"):
        name = ((meta.get("property") or "") + " " + (meta.get("name") or "")).lower()
        content = meta.get("content")
        if content and ("description" in name or "title" in name) and pattern.search(content):
            meta.set("content", pattern.sub(lambda _m: new, content, count=1))
    scripts = [el for el in root.iter("script") if "ld+json" in (el.get("type") or "")]
    _replace_in_slots([(el, "text") for el in scripts if el.text], pattern, new)


def _windows(sentence: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Character spans of word windows around sentence[start:end], widest first (>= 2 words)."""
    words = [m.span() for m in _WORD.finditer(sentence)]
    first = next(i for i, (a, b) in enumerate(words) if a <= start < b or start < a)
    last = next((i for i in range(len(words) - 1, -1, -1) if words[i][0] < max(end, start + 1)), first)
    seen: set[tuple[int, int]] = set()
    for left, right in ((3, 3), (2, 2), (1, 2), (2, 1), (1, 1), (0, 2), (2, 0), (0, 1), (1, 0)):
        lo, hi = max(0, first - left), min(len(words) - 1, last + right)
        if hi - lo < 1 or (lo, hi) in seen:
            continue
        seen.add((lo, hi))
        a, b = words[lo][0], words[hi][1]
        yield a, b
        trimmed_a = a + len(sentence[a:b]) - len(sentence[a:b].lstrip(_EDGE_PUNCT))
        trimmed_b = a + len(sentence[a:b].rstrip(_EDGE_PUNCT))
        trimmed_a, trimmed_b = min(trimmed_a, start), max(trimmed_b, end)
        if (trimmed_a, trimmed_b) != (a, b) and len(sentence[trimmed_a:trimmed_b].split()) > 1:
            yield trimmed_a, trimmed_b


@dataclass
class _Page:
    """One parsed corpus page and what extraction sees in it."""

    page: str
    url: str
    root: HtmlElement
    article: Article
    sentences: list[tuple[int, str]]  # (paragraph index, sentence)
    article_text: str  # all paragraphs, whitespace-squashed, joined by " "
    p_paths: dict[int, str]  # paragraph index -> xpath of the <p> holding exactly that text
    english: bool
    sync_copies: bool = True  # also edit the meta description/title and JSON-LD copies
    _containers: dict[int, list[str]] = field(default_factory=dict)
    _slot_keys: list[tuple[HtmlElement, str, str]] | None = None

    def fresh(self) -> HtmlElement:
        return copy.deepcopy(self.root)

    def unique(self, fragment: str) -> bool:
        return self.article_text.count(squash(fragment)) == 1

    def containers(self, index: int, root: HtmlElement) -> list[HtmlElement]:
        """In ``root`` (a fresh copy), the elements that show paragraph ``index``: the smallest
        elements whose text holds it whole (a dek and the body can both show one sentence).

        A hidden ``itemprop=articleBody`` dump holding every paragraph is not one of them.
        """
        if index not in self._containers:
            self._containers[index] = self._find_containers(self.article.paragraphs[index])
        return [_resolve(root, path) for path in self._containers[index]]

    def _find_containers(self, paragraph: str) -> list[str]:
        if self._slot_keys is None:
            self._slot_keys = [(el, attr, _key(getattr(el, attr))) for el, attr in _slots(_body(self.root))]
        want = _key(paragraph)
        found: list[HtmlElement] = []
        seen: set[HtmlElement] = set()
        for el, attr, key in self._slot_keys:
            if len(key) < min(len(want), 12) or key not in want:
                continue
            node = el if attr == "text" else el.getparent()
            while node is not None and node not in seen:
                seen.add(node)
                text = _key(node.text_content())
                if len(text) > 2 * len(want) + 200:
                    break
                if want in text:
                    found.append(node)
                    break
                node = node.getparent()
        minimal = [n for n in found if not any(o is not n and n in o.iterancestors() for o in found)]
        tree = self.root.getroottree()
        return [tree.getpath(n) for n in minimal]


def _p_paths(root: HtmlElement, paragraphs: list[str]) -> dict[int, str]:
    """Map extracted paragraphs to the ``<p>`` elements whose whole text they are."""
    by_key: dict[str, list[HtmlElement]] = {}
    for p in _body(root).iter("p"):
        if not any(a.tag in _NOT_BODY_FLOW for a in p.iterancestors()):
            by_key.setdefault(_key(p.text_content()), []).append(p)
    tree = root.getroottree()
    out: dict[int, str] = {}
    counts: dict[str, int] = {}
    for text in paragraphs:
        counts[_key(text)] = counts.get(_key(text), 0) + 1
    for i, text in enumerate(paragraphs):
        found = by_key.get(_key(text), [])
        if len(found) == 1 and counts[_key(text)] == 1 and len(found[0]) < 40:
            out[i] = tree.getpath(found[0])
    return out


def _resolve(root: HtmlElement, path: str) -> HtmlElement:
    return root.getroottree().xpath(path)[0]


def _is_english(paragraphs: list[str]) -> bool:
    words = re.findall(r"[a-z]+", " ".join(paragraphs).lower())
    return bool(words) and sum(w in _ENGLISH for w in words) / len(words) >= 0.08


def load_page(corpus: Path, page: str) -> _Page | str:
    """Parse and extract one corpus page; a string says why the page cannot be used."""
    raw = (corpus / page).read_bytes()
    url = page_url(corpus, page) or f"https://example.com/{page}"
    root = parse_html(decode_html(raw, [("Content-Type", "text/html")]))
    article = extract_article(to_html(root), url)
    if len(article.paragraphs) < MIN_PARAGRAPHS:
        return f"extraction finds {len(article.paragraphs)} paragraph(s) (< {MIN_PARAGRAPHS})"
    sentences = [(i, s) for i, p in enumerate(article.paragraphs) for s in split_sentences(p)]
    return _Page(
        page=page,
        url=url,
        root=root,
        article=article,
        sentences=sentences,
        article_text=" ".join(squash(p) for p in article.paragraphs),
        p_paths=_p_paths(root, article.paragraphs),
        english=_is_english(article.paragraphs),
    )


def url_path(page: str, url: str) -> str:
    """A loopback path for the page: a page-unique prefix, then the original path."""
    original = urlsplit(url).path or "/"
    slug = re.sub(r"[^A-Za-z0-9]+", "-", Path(page).stem)[:40].strip("-")
    return f"/{Path(page).parent.name}/{slug}{original}"


# --------------------------------------------------------------------------- edits


def _token_edit(
    page: _Page,
    root: HtmlElement,
    rng: random.Random,
    candidates: Callable[[str], Iterator[tuple[int, int, str]]],
    what: str,
) -> _Edit | None:
    """Replace sentence[start:end] by a new token in the text node holding it (first that works).

    ``candidates(sentence)`` yields (start, end, replacement) spans inside one sentence. The
    edit must land in the element that shows the paragraph (``_Page.container``); copies of the
    same words elsewhere in the page are edited too, as a CMS re-rendering the story would.
    """
    slots = list(_slots(_body(root)))
    order = list(page.sentences)
    rng.shuffle(order)
    for index, sentence in order:
        if "http" in sentence or "@" in sentence:
            continue
        spans = list(candidates(sentence))
        if not spans:
            continue
        shown = [list(_slots(container)) for container in page.containers(index, root)]
        if not shown:
            continue
        rng.shuffle(spans)
        for start, end, new in spans:
            for lo, hi in _windows(sentence, start, end):
                fragment = sentence[lo:hi]
                new_fragment = sentence[lo:start] + new + sentence[end:hi]
                if squash(new_fragment) == squash(fragment) or not page.unique(fragment):
                    continue
                pattern = _fragment_regex(fragment)
                if not all(_hits(pattern, slots_) for slots_ in shown):
                    continue  # every rendering of the paragraph must change
                _replace_in_slots(slots, pattern, new_fragment)
                if page.sync_copies:
                    _sync_copies(root, pattern, new_fragment)
                after = squash(sentence[:start] + new + sentence[end:])
                return _Edit(
                    sentence,
                    after,
                    squash(fragment),
                    squash(new_fragment),
                    f"{what}: {sentence[start:end]!r} -> {new!r}",
                )
    return None


def _bump_number(token: str, rng: random.Random) -> str:
    digits = [i for i, ch in enumerate(token) if ch.isdigit()]
    integer = token.split(".")[0].replace(",", "")
    if len(integer) == 4 and 1800 <= int(integer) <= 2099:  # a year: change the last digit
        pos = [i for i in digits if "." not in token[:i]][-1]
    else:
        pos = digits[0]
    old = int(token[pos])
    choices = [d for d in range(1 if pos == digits[0] and len(integer) > 1 else 0, 10) if d != old]
    return token[:pos] + str(rng.choice(choices)) + token[pos + 1 :]


def edit_number(page: _Page, root: HtmlElement, rng: random.Random) -> _Edit | None:
    def spans(sentence: str) -> Iterator[tuple[int, int, str]]:
        for m in _NUMBER.finditer(sentence):
            yield m.start(), m.end(), _bump_number(m.group(), rng)

    return _token_edit(page, root, rng, spans, "number")


def edit_quote(page: _Page, root: HtmlElement, rng: random.Random) -> _Edit | None:
    def spans(sentence: str) -> Iterator[tuple[int, int, str]]:
        for quote in _QUOTE_SPAN.finditer(sentence):
            if len(quote.group(1)) < _MIN_QUOTE:
                continue
            words = list(_QUOTE_WORD.finditer(sentence, quote.start(1), quote.end(1)))
            for m in words[1:] or words:
                word = m.group()
                swap = SYNONYMS.get(word.lower())
                if swap:
                    yield m.start(), m.end(), swap.capitalize() if word[0].isupper() else swap
                elif m.end() < len(sentence) and sentence[m.end()] == " ":
                    yield m.start(), m.end() + 1, ""  # drop the word

    return _token_edit(page, root, rng, spans, "quote")


def _insert_after_aux(
    pattern: re.Pattern[str],
    words: tuple[str, ...],
    rng: random.Random,
) -> Callable[[str], Iterator[tuple[int, int, str]]]:
    def spans(sentence: str) -> Iterator[tuple[int, int, str]]:
        for m in pattern.finditer(sentence):
            aux = m.group().rstrip()
            yield m.start(), m.start() + len(aux), f"{aux} {rng.choice(words)}"

    return spans


def edit_hedge(page: _Page, root: HtmlElement, rng: random.Random) -> _Edit | None:
    return _token_edit(page, root, rng, _insert_after_aux(_AUX, HEDGES, rng), "hedge")


def edit_negation(page: _Page, root: HtmlElement, rng: random.Random) -> _Edit | None:
    return _token_edit(page, root, rng, _insert_after_aux(_NEG_AUX, ("not",), rng), "negation")


def edit_sentence_removed(page: _Page, root: HtmlElement, rng: random.Random) -> _Edit | None:
    """Remove one sentence (held whole by one text node) from a multi-sentence paragraph."""
    slots = list(_slots(_body(root)))
    by_paragraph: dict[int, list[str]] = {}
    for i, sentence in page.sentences:
        by_paragraph.setdefault(i, []).append(sentence)
    order = [(i, n, s) for i, ss in by_paragraph.items() if len(ss) > 1 for n, s in enumerate(ss)]
    rng.shuffle(order)
    for i, n, sentence in order:
        if len(sentence.split()) < 5 or not page.unique(sentence):
            continue
        shown = [list(_slots(container)) for container in page.containers(i, root)]
        body = r"\s+".join(re.escape(w) for w in sentence.split())
        pattern = re.compile(body + r"\s*" if n == 0 else r"\s*" + body)
        if shown and all(_hits(pattern, slots_) for slots_ in shown):
            _replace_in_slots(slots, pattern, "")
            if page.sync_copies:
                _sync_copies(root, pattern, "")
            return _Edit(sentence, None, squash(sentence), None, f"removed: {sentence[:60]!r}")
    singles = [i for i in page.p_paths if i > 0 and len(by_paragraph.get(i, [])) == 1]
    if singles:
        i = rng.choice(singles)
        _resolve(root, page.p_paths[i]).drop_tree()
        text = page.article.paragraphs[i]
        return _Edit(text, None, squash(text), None, f"removed paragraph ¶{i + 1}")
    return None


def edit_sentence_added(page: _Page, root: HtmlElement, rng: random.Random) -> _Edit | None:
    """Append a new sentence to a body paragraph that ends a sentence."""
    order = [
        i
        for i in page.p_paths
        if _ENDS_SENTENCE.search(page.article.paragraphs[i]) and len(page.article.paragraphs[i]) > 60
    ]
    if not order:
        return None
    i = rng.choice(order)
    sentence = rng.choice([s for s in ADDED_SENTENCES if s not in page.article_text])
    p = _resolve(root, page.p_paths[i])
    if len(p):
        last = p[-1]
        last.tail = (last.tail or "").rstrip() + " " + sentence
    else:
        p.text = (p.text or "").rstrip() + " " + sentence
    return _Edit(None, sentence, None, sentence, f"added to ¶{i + 1}: {sentence!r}")


def edit_paragraph_moved(page: _Page, root: HtmlElement, rng: random.Random) -> _Edit | None:
    """Move a whole body <p> three paragraphs further down."""
    order = [i for i in page.p_paths if i + 3 in page.p_paths and len(page.article.paragraphs[i]) >= 40]
    if not order:
        return None
    i = rng.choice(order)
    moved, target = _resolve(root, page.p_paths[i]), _resolve(root, page.p_paths[i + 3])
    if moved in target.iterancestors() or target in moved.iterancestors():
        return None
    tail, moved.tail = moved.tail, None
    previous, parent = moved.getprevious(), moved.getparent()
    if previous is not None:
        previous.tail = (previous.tail or "") + (tail or "")
    else:
        parent.text = (parent.text or "") + (tail or "")
    parent.remove(moved)
    target.addnext(moved)
    moved.tail = "\n"
    text = page.article.paragraphs[i]
    return _Edit(text, text, squash(text), squash(text), f"moved ¶{i + 1} after ¶{i + 4}")


def edit_correction(page: _Page, root: HtmlElement, rng: random.Random) -> _Edit | None:
    """Append a correction notice as a new <p> after the article's last paragraph."""
    last = max(page.p_paths, default=-1)
    if last < 0 or last < len(page.article.paragraphs) - 3:
        return None
    note = f"Correction: An earlier version of this article misstated {rng.choice(CORRECTED_THINGS)}."
    p = _resolve(root, page.p_paths[last])
    new = p.makeelement("p", {})
    new.text = note
    p.addnext(new)
    new.tail, p.tail = p.tail, "\n"
    return _Edit(None, note, None, note, f"correction after ¶{last + 1}")


def edit_headline(page: _Page, root: HtmlElement, rng: random.Random) -> _Edit | None:
    """Reword one word of the headline in the <h1>, <title>, title metas and JSON-LD alike, and
    in the body's other renderings of the headline (a CMS edits one field, shown everywhere)."""
    headline = page.article.headline
    if not headline:
        return None
    primary = [list(_slots(h1)) for h1 in _body(root).iter("h1")]
    primary += [
        [(el, "text")]
        for el in root.iter("title", "script")
        if el.text and (el.tag == "title" or "ld+json" in (el.get("type") or ""))
    ]
    taken = {id(el) for group in primary for el, _ in group}
    whole = _letters(headline)
    copies = [
        [(el, attr)]
        for el, attr in _slots(_body(root))
        if id(el) not in taken and whole in _letters(getattr(el, attr))
    ]
    for el in _body(root).iter("h1", "h2", "h3", "h4", "p", "span", "a"):  # split across spans
        if len(el) and id(el) not in taken and _letters(el.text_content()) == whole:
            copies.append(list(_slots(el)))
    metas = [
        m for m in root.iter("meta") if "title" in ((m.get("property") or "") + (m.get("name") or "")).lower()
    ]
    words = list(_HEADLINE_WORD.finditer(headline))
    known = [m for m in words if m.group().lower() in SYNONYMS]
    for m in known + [m for m in words if m not in known]:
        word = m.group()
        swap = SYNONYMS.get(word.lower()) or rng.choice([w for w in FALLBACK_WORDS if w != word])
        swap = swap.capitalize() if word[0].isupper() else swap.lower()
        best: tuple[int, int, int] | None = None  # (renderings reached, lo, hi)
        for lo, hi in _windows(headline, m.start(), m.end()):
            pattern = _fragment_regex(headline[lo:hi])
            main = sum(_hits(pattern, g) for g in primary)
            main += sum(bool(pattern.search(meta.get("content") or "")) for meta in metas)
            reached = main + sum(_hits(pattern, g) for g in copies)
            if main and (best is None or reached > best[0]):
                best = (reached, lo, hi)
        if best is None:
            continue
        _, lo, hi = best
        fragment = headline[lo:hi]
        new_fragment = headline[lo : m.start()] + swap + headline[m.end() : hi]
        pattern = _fragment_regex(fragment)
        for group in primary + copies:
            _replace_in_slots(group, pattern, new_fragment)
        for meta in metas:
            content = meta.get("content") or ""
            if pattern.search(content):
                meta.set("content", pattern.sub(lambda _m, n=new_fragment: n, content, count=1))
        after = headline[: m.start()] + swap + headline[m.end() :]
        return _Edit(
            headline, after, squash(fragment), squash(new_fragment), f"headline: {word!r} -> {swap!r}"
        )
    return None


EDITS: dict[str, Callable[[_Page, HtmlElement, random.Random], _Edit | None]] = {
    "headline": edit_headline,
    "number": edit_number,
    "quote": edit_quote,
    "hedge": edit_hedge,
    "negation": edit_negation,
    "sentence_added": edit_sentence_added,
    "sentence_removed": edit_sentence_removed,
    "paragraph_moved": edit_paragraph_moved,
    "correction": edit_correction,
}


# --------------------------------------------------------------------------- churn


def _hex(rng: random.Random, n: int = 12) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def churn_headline(rng: random.Random) -> str:
    """A made-up headline for churn links."""
    return f"{rng.choice(_HEAD_SUBJECTS)} {rng.choice(_HEAD_VERBS)} {rng.choice(_HEAD_OBJECTS)}"


def _link(rng: random.Random, base: str = "/news/") -> tuple[str, str]:
    title = churn_headline(rng)
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return f"{base}{slug}-{rng.randrange(10**5, 10**6)}?utm_source=trending&ref={_hex(rng, 8)}", title


def _fragment(html: str) -> HtmlElement:
    from lxml import html as lxml_html

    return lxml_html.fragment_fromstring(html)


def add_outside_churn(root: HtmlElement, rng: random.Random) -> None:
    """Churn outside the article: ads, trending box, timestamps, nonces, CSRF, tracking params."""
    from html import escape

    head, body = root.find("head"), _body(root)
    # the capture time: captures of one story are hours or days apart
    generated = CAPTURE_DAY + timedelta(minutes=rng.randrange(4 * 24 * 60))
    for script in root.iter("script"):
        script.set("nonce", _hex(rng, 22))
    config = head.makeelement("script", {"nonce": _hex(rng, 22)})
    config.text = f'window.__PAGE__={{"rid":"{_hex(rng, 16)}","ts":{rng.randrange(10**12, 10**13)}}};'
    head.append(config)
    for a in root.iter("a"):
        href = a.get("href")
        if href and not href.startswith(("#", "javascript:", "mailto:", "tel:")):
            a.set("href", f"{href}{'&' if '?' in href else '?'}utm_campaign={_hex(rng, 6)}")
    ad_id = _hex(rng, 8)
    links = "".join(
        f'<li><a href="{escape(href)}">{escape(title)}</a></li>'
        for href, title in (_link(rng) for _ in range(5))
    )
    top = [
        f'<form class="site-search" action="/search" method="post"><input type="hidden" '
        f'name="csrf_token" value="{_hex(rng, 32)}"><input type="text" name="q"></form>',
        f'<div class="ad-slot ad-leaderboard" id="div-gpt-ad-{ad_id}" data-ad-unit="/{ad_id}/top">'
        f'<span class="ad-label">Advertisement</span><iframe id="google_ads_iframe_{_hex(rng, 6)}" '
        f'src="about:blank" width="728" height="90"></iframe></div>',
    ]
    bottom = [
        f'<aside class="trending" id="trending-{_hex(rng, 6)}"><h2>Trending now</h2><ol>{links}</ol></aside>',
        f'<div class="ad-slot" id="ad-{_hex(rng, 10)}"><span class="ad-label">Advertisement</span>'
        f'<a href="https://ads.example.net/click?id={_hex(rng, 16)}">{escape(churn_headline(rng))}</a>'
        f"</div>",
        f'<div class="page-meta">Page generated {generated:%Y-%m-%dT%H:%M:%SZ} by '
        f"web-{rng.randrange(1, 40)} in {rng.randrange(20, 900)} ms</div>",
    ]
    for n, snippet in enumerate(top):
        body.insert(n, _fragment(snippet))
    for snippet in bottom:
        body.append(_fragment(snippet))


def add_inside_churn(page: _Page, root: HtmlElement, rng: random.Random, style: int) -> bool:
    """Related box and "Read more:" paragraph between the article's paragraphs (False: no room)."""
    from html import escape

    mapped = sorted(page.p_paths)
    if len(mapped) < 2:
        return False
    box_after = mapped[max(0, len(mapped) // 3 - 1)]
    more_after = mapped[max(1, (2 * len(mapped)) // 3 - 1)]
    if more_after == box_after:
        more_after = mapped[-1] if mapped[-1] != box_after else mapped[0]
    links = [_link(rng, "/related/") for _ in range(3)]
    if style % 2 == 0:
        href, title = links[0]
        box = f'<div class="related">Related: <a href="{escape(href)}">{escape(title)}</a></div>'
    else:
        items = "".join(f'<li><a href="{escape(h)}">{escape(t)}</a></li>' for h, t in links)
        box = f'<aside class="related-stories"><h3>Related stories</h3><ul>{items}</ul></aside>'
    href, title = _link(rng, "/story/")
    label = ("Read more:", "READ MORE:", "Read more:")[style % 3]
    more = f'<p>{label} <a href="{escape(href)}">{escape(title)}</a></p>'
    anchors = [
        (_resolve(root, page.p_paths[i]), snippet) for i, snippet in ((box_after, box), (more_after, more))
    ]  # resolve before the tree changes
    for anchor, snippet in anchors:
        element = _fragment(snippet)
        element.tail = anchor.tail
        anchor.tail = "\n"
        anchor.addnext(element)
    return True


_PROMO_QUOTES = (
    "We will not raise taxes on {n} families this year",
    "The hospital lost ${n} million in the first quarter alone",
    "Nobody told us the plant would close in {n} days",
    "I have never seen {n} people turn out for a school board meeting",
)
_PROMO_NAMES = ("promo promo--quote", "story-promo", "recirc-module", "quoteRotator")


def add_markup_moves(page: _Page, root: HtmlElement, rng: random.Random, *, moved: bool) -> bool:
    """A promo box quoting another story (a different one each capture) inside the body; with
    ``moved``, also the article's subheads retagged from <h2>/<h3> to <p><strong>. The article
    says the same (False: no room)."""
    from html import escape

    mapped = sorted(page.p_paths)
    if len(mapped) < 2:
        return False
    anchor = _resolve(root, page.p_paths[mapped[len(mapped) // 2]])
    heads = [
        el
        for el in _body(root).iter("h2", "h3")
        if _WS.sub(" ", el.text_content()).strip() in page.article.paragraphs
    ]
    quote = rng.choice(_PROMO_QUOTES).format(n=rng.randrange(2, 900))
    href, _ = _link(rng, "/story/")
    promo = _fragment(
        f'<div class="{rng.choice(_PROMO_NAMES)}"><blockquote><p>“{escape(quote)},” said'
        f" {escape(churn_headline(rng).split()[0])} Official.</p></blockquote>"
        f'<p><a href="{escape(href)}">Read the story</a></p></div>'
    )
    promo.tail, anchor.tail = anchor.tail, "\n"
    anchor.addnext(promo)
    if moved:
        for head in heads:
            head.tag = "p"
            strong = _fragment(f"<strong>{escape(head.text_content().strip())}</strong>")
            for child in list(head):
                head.remove(child)
            head.text = None
            head.append(strong)
    return True


def with_control_chars(html: str) -> str:
    """``html`` with a form feed after the body's first paragraph and a vertical tab before its
    end (lxml will not put them in a tree, so they go into the serialised page)."""
    start = html.find("</p>", html.find("<body"))
    html = html[:start] + "</p>\f" + html[start + 4 :] if start >= 0 else html
    end = html.rfind("</body>")
    return html[:end] + "\v" + html[end:] if end >= 0 else html


# --------------------------------------------------------------------------- pairs


def _rng(seed: int, page: str, kind: str) -> random.Random:
    return random.Random(f"{seed}:{page}:{kind}")


def build_page(
    corpus: Path, page: str, seed: int = 0, kinds: tuple[str, ...] = ALL_KINDS, sync_copies: bool = True
) -> PagePairs | str:
    """Every pair for one page (each edit with outside churn, and both noise pairs).

    ``sync_copies=False`` edits only the visible text, leaving the meta description/title and
    JSON-LD copies of the story as they were. Returns a string (the reason) when the page is
    unusable (< MIN_PARAGRAPHS paragraphs).
    """
    loaded = load_page(corpus, page)
    if isinstance(loaded, str):
        return loaded
    src = loaded
    src.sync_copies = sync_copies
    out = PagePairs(
        page, url_path(page, src.url), src.article.headline, len(src.article.paragraphs), src.english
    )
    base = src.fresh()
    add_outside_churn(base, _rng(seed, page, "outside-before"))
    before_outside = to_html(base)
    for kind in kinds:
        rng = _rng(seed, page, kind)
        if kind == "noise_outside":
            after = src.fresh()
            add_outside_churn(after, _rng(seed, page, "outside-after"))
            out.pairs.append(Pair(page, kind, before_outside, to_html(after), note="outside churn"))
            continue
        if kind == "noise_inside":
            style = rng.randrange(6)
            before, after = src.fresh(), src.fresh()
            if not add_inside_churn(src, before, _rng(seed, page, "inside-before"), style):
                out.skipped[kind] = "fewer than 2 article paragraphs map to a <p>"
                continue
            add_inside_churn(src, after, _rng(seed, page, "inside-after"), style)
            out.pairs.append(
                Pair(page, kind, to_html(before), to_html(after), note=f"inside churn (style {style})")
            )
            continue
        if kind == "noise_markup":
            before, after = src.fresh(), src.fresh()
            if not add_markup_moves(src, before, _rng(seed, page, "markup-before"), moved=False):
                out.skipped[kind] = "fewer than 2 article paragraphs map to a <p>"
                continue
            add_markup_moves(src, after, _rng(seed, page, "markup-after"), moved=True)
            out.pairs.append(
                Pair(page, kind, to_html(before), with_control_chars(to_html(after)), note="markup, promo")
            )
            continue
        if kind in ENGLISH_ONLY and not src.english:
            out.skipped[kind] = "not English (claim cues are English-only)"
            continue
        root = src.fresh()
        edit = EDITS[kind](src, root, rng)
        if edit is None:
            out.skipped[kind] = "no suitable place in this article"
            continue
        add_outside_churn(root, _rng(seed, page, f"outside-after-{kind}"))
        expect_kind, expect_flag = EXPECTED[kind]
        out.pairs.append(
            Pair(
                page,
                kind,
                before_outside,
                to_html(root),
                expect_kind,
                expect_flag,
                edit.before_text,
                edit.after_text,
                edit.marker_before,
                edit.marker_after,
                edit.note,
            )
        )
    return out
