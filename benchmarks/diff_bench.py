"""Throughput of extraction + diff, in article pairs per second on one core.

Usage: ``.venv/bin/python benchmarks/diff_bench.py [--corpus PATH] [--kinds K,K] [--limit N]
[--repeat N]``.

The pairs are the edited / churned versions of the shared corpus pages built by
``benchmarks/corpus_pairs.py`` (default kinds: a number edit, a moved paragraph and outside
churn, i.e. one of each alignment path). The process is pinned to one CPU. Each pair is timed
from HTML bytes to result, with archiver's sentence caches (``archiver.article.claims``) cleared first
so no pair profits from text seen earlier:

* archiver: ``extract_response`` on both versions + ``diff_articles`` (goal >= 30 pairs/s);
* archiver with the earlier version's article already extracted (compare.py caches extractions
  per capture, so comparing a new capture costs one extraction + the diff);
* baseline: ``trafilatura.extract`` (defaults) on both versions, lines split into sentences with
  ``archiver.article.claims.split_sentences``, ``difflib.SequenceMatcher`` opcodes between them — the
  way existing trackers diff extracted text.

Diff-only rows isolate the second step: ``diff_articles`` on two already extracted articles
against ``difflib`` over the same sentences. Capture (HTTP, WARC) is not included; see
``benchmarks/capture_bench.py`` for that.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus_pairs as cp

from archiver.article import claims
from archiver.article.extract import Article, extract_response
from archiver.diff.differ import diff_articles

HEADERS = [("Content-Type", "text/html; charset=utf-8")]
DEFAULT_KINDS = ("number", "paragraph_moved", "noise_outside")
GOAL = 30.0


def clear_caches() -> None:
    """Forget every sentence/feature cached by archiver.article.claims (each pair starts cold)."""
    for value in vars(claims).values():
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()


def pin_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity)"


def sentences(paragraphs: list[str]) -> list[str]:
    return [s for p in paragraphs for s in claims.split_sentences(p)]


def archiver_pair(before: bytes, after: bytes, url: str) -> int:
    a = extract_response(before, HEADERS, url)
    b = extract_response(after, HEADERS, url)
    return len(diff_articles(a, b).changes)


def later_only_pair(before: Article, after: bytes, url: str) -> int:
    return len(diff_articles(before, extract_response(after, HEADERS, url)).changes)


def baseline_pair(before: bytes, after: bytes, url: str) -> int:
    import trafilatura

    texts = [trafilatura.extract(html.decode("utf-8"), url=url) or "" for html in (before, after)]
    old, new = (sentences(text.splitlines()) for text in texts)
    ops = SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    return sum(op[0] != "equal" for op in ops)


def diff_only(a: Article, b: Article) -> int:
    return len(diff_articles(a, b).changes)


def difflib_only(a: Article, b: Article) -> int:
    ops = SequenceMatcher(
        None, sentences(a.paragraphs), sentences(b.paragraphs), autojunk=False
    ).get_opcodes()
    return sum(op[0] != "equal" for op in ops)


def timed(func: Callable[..., Any], items: list[tuple[Any, ...]], repeat: int) -> list[float]:
    """Seconds per item (best of ``repeat`` runs each), caches cleared before every call."""
    out = []
    for item in items:
        best = float("inf")
        for _ in range(repeat):
            clear_caches()
            started = time.perf_counter()
            func(*item)
            best = min(best, time.perf_counter() - started)
        out.append(best)
    return out


def line(label: str, seconds: list[float], goal: float | None = None) -> str:
    total = sum(seconds)
    rate = len(seconds) / total if total else float("inf")
    cuts = statistics.quantiles(seconds, n=20) if len(seconds) > 1 else seconds * 19
    mark = "" if goal is None else f"   goal >= {goal:.0f}/s {'ok' if rate >= goal else 'MISSED'}"
    return (
        f"  {label:<44} {rate:8.1f} pairs/s   median {1000 * statistics.median(seconds):6.1f} ms"
        f"   p95 {1000 * cuts[18]:6.1f} ms{mark}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", help="corpus folder (default $ARCHIVER_CORPUS or ../shared/corpus)")
    parser.add_argument(
        "--kinds",
        default=",".join(DEFAULT_KINDS),
        help=f"pair kinds to time (default {','.join(DEFAULT_KINDS)})",
    )
    parser.add_argument("--limit", type=int, default=0, help="use the first N pages only")
    parser.add_argument("--repeat", type=int, default=1, help="time each pair N times, keep the best")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    corpus = cp.corpus_dir(args.corpus)
    if not (corpus / "manifest.json").is_file():
        print(f"no corpus at {corpus} (set --corpus or ${cp.CORPUS_ENV})", file=sys.stderr)
        return 2
    kinds = tuple(args.kinds.split(","))
    pages = cp.corpus_pages(corpus)[: args.limit or None]
    pairs: list[tuple[bytes, bytes, str]] = []
    for page in pages:
        built = cp.build_page(corpus, page, args.seed, kinds)
        if isinstance(built, str):
            continue
        url = f"http://127.0.0.1:8000{built.url_path}"
        pairs += [(p.before_html.encode(), p.after_html.encode(), url) for p in built.pairs]
    if not pairs:
        print("no pairs", file=sys.stderr)
        return 2

    pinned = pin_one_core()
    archiver_pair(*pairs[0])  # imports and first-use set-up are not measured
    baseline_pair(*pairs[0])
    sizes = sorted(len(b) + len(a) for b, a, _ in pairs)
    print(
        f"{len(pairs)} pairs from {len(pages)} corpus pages (kinds: {', '.join(kinds)}); "
        f"{pinned}; HTML per pair: median {sizes[len(sizes) // 2] // 1024} KB, "
        f"max {sizes[-1] // 1024} KB\n"
    )

    ours = timed(archiver_pair, pairs, args.repeat)
    base = timed(baseline_pair, pairs, args.repeat)
    articles = [(extract_response(b, HEADERS, u), extract_response(a, HEADERS, u)) for b, a, u in pairs]
    steady = timed(
        later_only_pair, [(a, p[1], p[2]) for (a, _), p in zip(articles, pairs, strict=True)], args.repeat
    )
    ours_diff = timed(diff_only, articles, args.repeat)
    base_diff = timed(difflib_only, articles, args.repeat)

    print("Extraction + diff, HTML bytes to result (one core, caches cleared per pair)")
    print(line("archiver: extract_response x2 + diff_articles", ours, GOAL))
    print(line("baseline: trafilatura.extract x2 + difflib", base))
    print(line("archiver, earlier version's article cached*", steady, GOAL))
    print(
        "  * as `archiver diff` runs on an archive: compare.py caches each capture's extraction, "
        "so a new capture costs one extraction + the diff"
    )
    print("\nDiff step only, on the same extracted articles")
    print(line("archiver: diff_articles", ours_diff))
    print(line("baseline: difflib over split_sentences", base_diff))
    slowest = sorted(zip(ours, pairs, strict=True), key=lambda t: -t[0])[:3]
    print(
        "\nslowest pairs (archiver): "
        + ", ".join(f"{p[2].split('/', 4)[-1][:50]} {1000 * s:.0f} ms" for s, p in slowest)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
