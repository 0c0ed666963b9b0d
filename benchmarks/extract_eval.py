"""Score ``archiver.article.extract`` against the shared corpus of real news pages.

Usage: ``.venv/bin/python benchmarks/extract_eval.py [--corpus PATH] [--worst N] [--only TEXT]``.
The corpus is ``--corpus``, else ``$ARCHIVER_CORPUS``, else ``../shared/corpus`` next to the repo.
Every page goes through ``extract_response`` as raw bytes with a bare ``text/html`` header, so
charset handling is exercised too.

Metrics (each over the pages whose sidecar has that ground truth):

* headline: exact match after light normalisation — Unicode NFC, curly quotes and primes to
  straight ``'``/``"``, runs of whitespace to one space, ends stripped; case and dashes kept.
* body F1: bag-of-words token F1 between the paragraphs (joined) and ``main_text``. Tokens are
  case-folded runs of letters/digits; Han, kana and Thai characters count one token each since
  those scripts do not separate words. Mean over pages.
* snippets (trafilatura pages): share of ``text_snippets_present`` found in the body and of
  ``text_snippets_absent`` not found (whitespace-normalised substring search).
* authors: the set of names equals the truth's set, both case-folded with "By"/"Von"/"Par"
  dropped and split on commas, "&" and "and"/"und"; date: same calendar day (first 10 chars).
* speed: wall time of ``extract_response`` per page, the best of ``--repeat`` runs (other
  processes sharing the CPU only ever add time), after one warm-up call that pays the imports.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archiver.article.extract import Article, extract_response

HEADERS = [("Content-Type", "text/html")]
_QUOTES = str.maketrans({c: "'" for c in "‘’‚‛′`´"} | {c: '"' for c in "“”„‟″«»"})
_UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f"
_TOKEN = re.compile(rf"[{_UNSPACED}]|[^\W_{_UNSPACED}]+")
_BY = re.compile(r"^(?:by|von|par|por)\s+", re.I)
_NAME_SPLIT = re.compile(r"\s*(?:,|&|\band\b|\bund\b)\s*", re.I)


def default_corpus() -> Path:
    env = os.environ.get("ARCHIVER_CORPUS")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "corpus"


def norm_headline(text: str | None) -> str:
    text = unicodedata.normalize("NFC", text or "").translate(_QUOTES)
    return " ".join(text.split())


def tokens(text: str) -> Counter[str]:
    return Counter(_TOKEN.findall(text.casefold()))


def token_f1(got: str, want: str) -> float:
    got_tokens, want_tokens = tokens(got), tokens(want)
    overlap = sum((got_tokens & want_tokens).values())
    if not overlap:
        return 0.0
    precision = overlap / sum(got_tokens.values())
    recall = overlap / sum(want_tokens.values())
    return 2 * precision * recall / (precision + recall)


def name_set(names: list[str]) -> set[str]:
    return {
        " ".join(part.split()).casefold()
        for name in names
        for part in _NAME_SPLIT.split(_BY.sub("", name.strip()))
        if part.strip()
    }


@dataclass
class PageResult:
    page: str
    ms: float
    article: Article
    truth: dict
    f1: float | None = None
    headline_ok: bool | None = None
    authors_ok: bool | None = None
    date_ok: bool | None = None
    present: list[bool] = field(default_factory=list)
    absent: list[bool] = field(default_factory=list)


def score(page: str, ms: float, article: Article, truth: dict) -> PageResult:
    result = PageResult(page, ms, article, truth)
    body = " ".join(" ".join(article.paragraphs).split())
    if truth.get("main_text"):
        result.f1 = token_f1(body, truth["main_text"])
    if truth.get("title"):
        result.headline_ok = norm_headline(article.headline) == norm_headline(truth["title"])
    if truth.get("authors"):
        result.authors_ok = name_set(article.authors) == name_set(truth["authors"])
    if truth.get("date"):
        result.date_ok = (article.published or "")[:10] == truth["date"][:10]
    result.present = [" ".join(s.split()) in body for s in truth.get("text_snippets_present") or []]
    result.absent = [" ".join(s.split()) not in body for s in truth.get("text_snippets_absent") or []]
    return result


def run(corpus: Path, only: str | None, repeat: int) -> tuple[list[PageResult], float]:
    entries = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    entries = [e for e in entries if not only or only in e["page"]]
    first = corpus / entries[0]["page"]
    start = time.perf_counter()
    extract_response(first.read_bytes(), HEADERS, entries[0]["url"])
    warmup = time.perf_counter() - start
    results = []
    for entry in entries:
        html_path = corpus / entry["page"]
        truth = json.loads(html_path.with_suffix(".json").read_text(encoding="utf-8"))
        body = html_path.read_bytes()
        timings = []
        for _ in range(repeat):
            start = time.perf_counter()
            article = extract_response(body, HEADERS, entry["url"])
            timings.append(1000 * (time.perf_counter() - start))
        results.append(score(entry["page"], min(timings), article, truth))
    return results, warmup


def rate(values: list[bool | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "n/a"
    return f"{100 * sum(known) / len(known):5.1f} % ({sum(known)}/{len(known)})"


def report(results: list[PageResult], warmup: float, worst: int) -> None:
    f1s = [r.f1 for r in results if r.f1 is not None]
    present = [ok for r in results for ok in r.present]
    absent = [ok for r in results for ok in r.absent]
    times = sorted(r.ms for r in results)
    print(f"pages            {len(results)}")
    print(f"headline exact   {rate([r.headline_ok for r in results])}")
    if f1s:
        print(
            f"body token F1    {statistics.mean(f1s):.3f} mean, "
            f"{statistics.median(f1s):.3f} median over {len(f1s)} pages"
        )
    print(f"snippets present {rate(present)}")
    print(f"snippets absent  {rate(absent)}")
    print(f"authors (set)    {rate([r.authors_ok for r in results])}")
    print(f"date (day)       {rate([r.date_ok for r in results])}")
    for source in sorted({r.page.split("/")[0] for r in results}):
        mine = [r for r in results if r.page.startswith(source + "/")]
        source_f1 = [r.f1 for r in mine if r.f1 is not None]
        f1_text = f"{statistics.mean(source_f1):.3f}" if source_f1 else "  n/a"
        print(f"  {source:12}   F1 {f1_text}, headline {rate([r.headline_ok for r in mine])}")
    print(
        f"ms/page          mean {statistics.mean(times):.1f}, median "
        f"{statistics.median(times):.1f}, p90 {times[int(0.9 * (len(times) - 1))]:.1f}, "
        f"max {times[-1]:.1f} (warm-up incl. imports {1000 * warmup:.0f} ms)"
    )
    print(f"pages/s          {1000 * len(times) / sum(times):.1f}")

    print(f"\nworst body F1 (bottom {worst}):")
    for r in sorted((r for r in results if r.f1 is not None), key=lambda r: r.f1 or 0)[:worst]:
        print(f"  {r.f1:.3f}  {r.page}  ({len(r.article.paragraphs)} paragraphs)")
    print("\nheadline mismatches:")
    for r in results:
        if r.headline_ok is False:
            print(f"  {r.page}\n     got  {r.article.headline!r}\n     want {r.truth['title']!r}")
    print("\nsnippet failures:")
    for r in results:
        for kind, oks, key in (
            ("missing", r.present, "text_snippets_present"),
            ("present", r.absent, "text_snippets_absent"),
        ):
            for ok, snippet in zip(oks, r.truth.get(key) or [], strict=True):
                if not ok:
                    print(f"  {kind:8} {r.page}: {snippet!r}")
    print("\nauthor / date mismatches:")
    for r in results:
        if r.authors_ok is False:
            print(f"  authors {r.page}: got {r.article.authors} want {r.truth['authors']}")
        if r.date_ok is False:
            print(f"  date    {r.page}: got {r.article.published} want {r.truth['date']}")
    print("\nslowest pages:")
    for r in sorted(results, key=lambda r: -r.ms)[:5]:
        print(f"  {r.ms:7.1f} ms  {r.page}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=default_corpus())
    parser.add_argument("--worst", type=int, default=10, help="how many low-F1 pages to list")
    parser.add_argument("--only", help="score only pages whose path contains this text")
    parser.add_argument("--repeat", type=int, default=3, help="timing runs per page (min kept)")
    args = parser.parse_args()
    if not (args.corpus / "manifest.json").is_file():
        sys.exit(f"no corpus at {args.corpus} (pass --corpus or set ARCHIVER_CORPUS)")
    report(*run(args.corpus, args.only, max(1, args.repeat)), args.worst)


if __name__ == "__main__":
    main()
