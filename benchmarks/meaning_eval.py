"""Does ``archiver diff`` rate the edits that change what a text claims above those that only
polish its wording?

Usage: ``.venv/bin/python benchmarks/meaning_eval.py [--data FILE] [--split S] [--failures N]
[--cues] [--json FILE]``. ``--failures N`` lists misrated changes (a meaning change rated low,
a style-only change rated high) with their evidence; ``--cues`` counts, per high cue, the
rated-high changes it appears in by label (where to look for a rule that over-promotes).

The material is IteraTeR-HUMAN (``../shared/revisions/``, read its README): real Wikipedia and
arXiv revisions whose every edit carries a human intent label, ``meaning-changed`` or one of
``clarity``, ``fluency``, ``coherence``, ``style`` (these four leave the meaning as it was;
``others`` is not scored). Each revision's before and after text is put into an article page
(one ``<p>`` per sentence group of the before text), extracted with
``archiver.article.extract.extract_article`` and compared with ``archiver.diff.diff_articles``.

Scoring is per reported change, the unit a fact-checker reads: a change is "meaning" when a
labelled meaning-changed edit falls inside it, "style" when every labelled edit inside it only
polished the wording. A labelled edit no change covers is a miss (rated "none"). Printed, over
the whole set and per domain:

* recall: meaning changes (and missed meaning edits) rated high or medium (goal >= 90 %);
* style-as-high: style-only changes rated high (goal <= 10 %);
* precision of high: rated-high changes that are meaning changes (goal >= 80 %);
* the base rate (share of meaning among labelled changes) and the time per pair.
"""

from __future__ import annotations

import argparse
import html
import json
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archiver.article.extract import extract_article
from archiver.diff.differ import diff_articles
from archiver.diff.meaning import HIGH_CUES

if TYPE_CHECKING:
    from archiver.diff.model import Change

DEFAULT_DATA = (
    Path(__file__).resolve().parents[2] / "shared" / "revisions" / "iterater-human-wiki-arxiv.jsonl"
)
STYLE_INTENTS = frozenset({"clarity", "fluency", "coherence", "style"})
MEANING = "meaning-changed"
SENTENCES_PER_PARAGRAPH = 3
GOALS = {"recall": 90.0, "style_high": 10.0, "precision_high": 80.0}


@dataclass
class Tally:
    """Counts for one slice of the data (all, or one domain)."""

    pairs: int = 0
    seconds: float = 0.0
    rated: Counter[tuple[str, str]] = field(default_factory=Counter)  # (label, severity)
    cues: Counter[tuple[str, str]] = field(default_factory=Counter)  # (high cue, label) of highs
    unlabelled: int = 0  # reported changes no labelled edit falls in (moves, spurious)

    def figures(self) -> dict[str, float]:
        meaning = sum(n for (label, _), n in self.rated.items() if label == "meaning")
        style = sum(n for (label, _), n in self.rated.items() if label == "style")
        found = self.rated["meaning", "high"] + self.rated["meaning", "medium"]
        high = self.rated["meaning", "high"] + self.rated["style", "high"]
        return {
            "meaning": meaning,
            "style": style,
            "recall": 100.0 * found / meaning if meaning else 0.0,
            "style_high": 100.0 * self.rated["style", "high"] / style if style else 0.0,
            "precision_high": 100.0 * self.rated["meaning", "high"] / high if high else 0.0,
            "base_rate": 100.0 * meaning / (meaning + style) if meaning + style else 0.0,
            "missed": self.rated["meaning", "none"] + self.rated["style", "none"],
            "ms_per_pair": 1000.0 * self.seconds / self.pairs if self.pairs else 0.0,
        }


def page(text: str, cuts: list[int]) -> str:
    """An article page holding text, broken into paragraphs at cuts."""
    pieces = [text[a:b].strip() for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    body = "".join(f"<p>{html.escape(p)}</p>\n" for p in pieces if p)
    return (
        "<!DOCTYPE html><html><head><title>Revision</title></head><body><article>"
        f"<h1>Revision</h1>\n{body}</article></body></html>"
    )


def paragraph_cuts(doc: dict[str, Any]) -> tuple[list[int], list[int]]:
    """Where both versions break into paragraphs: every few sentences of the before text, at a
    boundary no edit spans and that falls between words on both sides, so the two versions
    carry the same paragraphs and an edit never straddles two."""
    edits = edit_ranges(doc)
    before_text, after_text = doc["before_revision"], doc["after_revision"]
    cuts: tuple[list[int], list[int]] = ([], [])
    for boundary in doc["sents_char_pos"][SENTENCES_PER_PARAGRAPH::SENTENCES_PER_PARAGRAPH]:
        if any(b[0] <= boundary <= b[1] for _, b, _ in edits):
            continue
        shift = sum(a[1] - a[0] - (b[1] - b[0]) for _, b, a in edits if b[1] < boundary)
        moved = boundary + shift
        if _between_words(before_text, boundary) and _between_words(after_text, moved):
            cuts[0].append(boundary)
            cuts[1].append(moved)
    return cuts


def _between_words(text: str, at: int) -> bool:
    return 0 < at < len(text) and (text[at - 1].isspace() or text[at].isspace())


def edit_ranges(doc: dict[str, Any]) -> list[tuple[str, tuple[int, int], tuple[int, int]]]:
    """(intent, range in the before text, range in the after text) per labelled edit."""
    out, delta = [], 0
    for edit in sorted(doc["edit_actions"], key=lambda e: e["start_char_pos"]):
        start, end = edit["start_char_pos"], edit["end_char_pos"]
        new_len = len(edit["after"] or "")
        out.append((edit["major_intent"], (start, end), (start + delta, start + delta + new_len)))
        delta += new_len - (end - start)
    return out


def _locate(haystack: str, needle: str | None) -> tuple[int, int] | None:
    if not needle:
        return None
    at = haystack.find(needle)
    if at < 0:
        at = haystack.find(needle[:40])
    return None if at < 0 else (at, at + len(needle))


def _overlaps(edit: tuple[int, int], span: tuple[int, int] | None) -> bool:
    if span is None:
        return False
    lo, hi = edit
    return lo < span[1] and hi > span[0] if hi > lo else span[0] <= lo <= span[1]


def label_changes(doc: dict[str, Any], changes: list[Change]) -> tuple[list[tuple[str, str]], int]:
    """(label, severity) per labelled change and per missed edit; and the unlabelled count."""
    edits = edit_ranges(doc)
    covered: set[int] = set()
    rated, unlabelled = [], 0
    for change in changes:
        if change.kind == "moved":
            unlabelled += 1
            continue
        old = _locate(doc["before_revision"], change.before)
        new = _locate(doc["after_revision"], change.after)
        inside = [k for k, (_, b, a) in enumerate(edits) if _overlaps(b, old) or _overlaps(a, new)]
        covered.update(inside)
        if not inside:
            unlabelled += 1
            continue
        intents = {edits[k][0] for k in inside}
        if MEANING in intents:
            rated.append(("meaning", change.severity))
        elif intents <= STYLE_INTENTS:  # an "others" edit inside: no verdict to score against
            rated.append(("style", change.severity))
    rated += [
        ("meaning" if intent == MEANING else "style", "none")
        for k, (intent, _, _) in enumerate(edits)
        if k not in covered and (intent == MEANING or intent in STYLE_INTENTS)
    ]
    return rated, unlabelled


def evaluate(docs: list[dict[str, Any]], failures: int) -> dict[str, Tally]:
    tallies: dict[str, Tally] = defaultdict(Tally)
    shown = 0
    for doc in docs:
        cuts = paragraph_cuts(doc)
        before = extract_article(page(doc["before_revision"], cuts[0]))
        after = extract_article(page(doc["after_revision"], cuts[1]))
        started = time.perf_counter()
        diff = diff_articles(before, after)
        seconds = time.perf_counter() - started
        rated, unlabelled = label_changes(doc, diff.changes)
        for key in ("all", doc["domain"]):
            tally = tallies[key]
            tally.pairs += 1
            tally.seconds += seconds
            tally.rated.update(rated)
            tally.unlabelled += unlabelled
        for change in diff.changes:
            if change.kind == "moved":
                continue
            label = label_changes(doc, [change])[0][:1]
            if label and change.severity == "high":
                for cue in high_cues(change):
                    tallies["all"].cues[cue, label[0][0]] += 1
            if shown >= failures:
                continue
            wrong = label and (
                (label[0] == ("meaning", "low")) or (label[0][0] == "style" and change.severity == "high")
            )
            if wrong:
                shown += 1
                print(
                    f"[{label[0][0]} rated {change.severity}] {change.kind} {list(change.why)}\n"
                    f"    - {change.before!r}\n    + {change.after!r}"
                )
    return tallies


def high_cues(change: Change) -> set[str]:
    """The evidence that made a change high: its high cues, or for an added or removed sentence
    (high only as a correction notice) the notice."""
    if change.kind in ("added", "removed"):
        return {f"{change.kind}: correction notice"}
    return {_cue_name(w) for w in change.why if w.startswith(HIGH_CUES)}


def _cue_name(why: str) -> str:
    """A high cue's name without its words: "number added", "number changed", "reversal"."""
    name = why.split(":")[0]
    if name.startswith("number ") and not name.startswith(("number added", "number removed")):
        return "number changed"
    return name


def report_cues(tally: Tally) -> None:
    print(f"{'high cue':<22} {'meaning':>7} {'style':>6} {'precision':>9}")
    for cue in sorted({cue for cue, _ in tally.cues}, key=lambda c: -tally.cues[c, "style"]):
        meaning, style = tally.cues[cue, "meaning"], tally.cues[cue, "style"]
        print(f"{cue:<22} {meaning:>7} {style:>6} {100.0 * meaning / (meaning + style):>8.1f}%")


def report(tallies: dict[str, Tally]) -> dict[str, dict[str, float]]:
    figures = {key: tally.figures() for key, tally in sorted(tallies.items(), key=lambda kv: kv[0] != "all")}
    print(
        f"{'slice':<7} {'pairs':>5} {'meaning':>7} {'style':>6} {'recall':>7} {'style-high':>10}"
        f" {'prec-high':>9} {'base':>6} {'missed':>6} {'unlab':>5} {'ms/pair':>7}"
    )
    for key, f in figures.items():
        print(
            f"{key:<7} {tallies[key].pairs:>5} {f['meaning']:>7.0f} {f['style']:>6.0f}"
            f" {f['recall']:>6.1f}% {f['style_high']:>9.1f}% {f['precision_high']:>8.1f}%"
            f" {f['base_rate']:>5.1f}% {f['missed']:>6.0f} {tallies[key].unlabelled:>5}"
            f" {f['ms_per_pair']:>7.1f}"
        )
    print(
        f"goals: recall >= {GOALS['recall']:.0f} %, style-as-high <= {GOALS['style_high']:.0f} %,"
        f" precision of high >= {GOALS['precision_high']:.0f} %"
    )
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="IteraTeR-HUMAN jsonl")
    parser.add_argument("--split", help="only this split (train, dev, test)")
    parser.add_argument("--failures", type=int, default=0, help="list at most N misrated changes")
    parser.add_argument("--cues", action="store_true", help="count the high cues of rated-high changes")
    parser.add_argument("--json", dest="json_out", type=Path, help="write the figures to FILE")
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"no revisions at {args.data} (see ../shared/revisions/README.md)", file=sys.stderr)
        return 2
    with args.data.open(encoding="utf-8") as lines:
        docs = [json.loads(line) for line in lines if line.strip()]
    docs = [d for d in docs if not args.split or d["split"] == args.split]
    tallies = evaluate(docs, args.failures)
    figures = report(tallies)
    if args.cues:
        report_cues(tallies["all"])
    if args.json_out:
        args.json_out.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
