"""Does ``archiver diff`` find real edits on real pages and stay quiet on churn?

Usage: ``.venv/bin/python benchmarks/diff_eval.py [--corpus PATH] [--jobs N] [--seed N]
[--only TEXT] [--kinds K,K] [--visible-only] [--failures N] [--json FILE]``.

The pairs come from ``benchmarks/corpus_pairs.py`` (read its docstring): every usable page of the
shared corpus (``--corpus``, else ``$ARCHIVER_CORPUS``, else ``../shared/corpus``) gets one
edited copy per edit kind — each combined with churn outside the article — plus a pair with
outside churn only and a pair with churn inside the body only (related box, "Read more:").

Each pair goes through the real pipeline: both versions are served from a loopback HTTP server
at the same URL, captured with ``archiver.capture.save.capture_url`` into a fresh archive, picked with
``archiver.diff.select.resolve_pair`` (extraction as the CLI does it, cache included) and compared
with ``archiver.diff.differ.diff_articles``.

Measured, over the whole corpus and per edit kind:

* noise-only pairs reported as unchanged (``has_edits`` false; goal >= 98 % for outside churn,
  >= 90 % for inside churn);
* injected edits found: a change of the expected kind carrying the expected flag exists (the
  headline: ``headline.changed``) — goal >= 95 % overall, headline 100 %, moved >= 90 %;
* spurious extra changes per edit pair: every other reported body change, plus a headline,
  byline or published-date change the edit did not make (goal < 0.05).

The same figures are given for the baseline that existing trackers use: ``trafilatura``'s
``bare_extraction`` (title + plain text, default settings), text split into lines and sentences
with ``archiver.article.claims.split_sentences``, ``difflib.SequenceMatcher`` opcodes between the
sentence lists. The baseline is scored generously: it has no kinds or flags, so an edit counts
as found when any non-equal opcode touches the edited sentence (a headline edit: the title
differs); spurious = the other non-equal opcodes (and a title change nobody made).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from difflib import SequenceMatcher
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus_pairs as cp

from archiver.article.claims import split_sentences

if TYPE_CHECKING:
    from archiver.diff.model import ArticleDiff, Change

GOALS = {
    "noise_outside": 98.0,
    "noise_inside": 90.0,
    "noise_markup": 90.0,
    "edits": 95.0,
    "headline": 100.0,
    "paragraph_moved": 90.0,
    "spurious": 0.05,
}


# --------------------------------------------------------------------------- loopback server


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 serving whatever version is current for a path."""

    def __init__(self) -> None:
        pages: dict[str, tuple[int, str, bytes]] = {}
        self.pages = pages

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                status, content_type, body = pages.get(
                    self.path.split("?")[0], (404, "text/plain", b"not found")
                )
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> LoopbackServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def serve(self, path: str, html: str, status: int = 200) -> None:
        self.pages[path] = (status, "text/html; charset=utf-8", html.encode("utf-8"))


# --------------------------------------------------------------------------- baseline


@dataclass
class PlainText:
    """What the baseline sees of one version: trafilatura's title and sentences."""

    title: str
    sentences: list[str]


def plain_text(html: str) -> PlainText:
    """trafilatura title + text (defaults), split into sentences line by line."""
    import trafilatura

    doc = trafilatura.bare_extraction(html, with_metadata=True)
    if doc is None:
        return PlainText("", [])
    text = doc.text or ""
    sentences = [s for line in text.splitlines() for s in split_sentences(line)]
    return PlainText(cp.squash(doc.title or ""), sentences)


def _touches(sentences: list[str], marker: str | None) -> bool:
    """Generous: the sentences contain the marker, or are a (long enough) part of it."""
    if not marker or not sentences:
        return False
    if marker in cp.squash(" ".join(sentences)):
        return True
    return any(marker in cp.squash(s) or (len(s) >= 15 and cp.squash(s) in marker) for s in sentences)


def score_baseline(pair: cp.Pair, before: PlainText, after: PlainText) -> tuple[bool, int]:
    """(found / unchanged, spurious) for the trafilatura + difflib baseline."""
    matcher = SequenceMatcher(None, before.sentences, after.sentences, autojunk=False)
    ops = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    title_changed = before.title != after.title
    if pair.is_noise:
        return not ops and not title_changed, len(ops) + title_changed
    if pair.kind == "headline":
        return title_changed, len(ops)
    hits = [
        op
        for op in ops
        if _touches(before.sentences[op[1] : op[2]], pair.marker_before)
        or _touches(after.sentences[op[3] : op[4]], pair.marker_after)
    ]
    return bool(hits), len(ops) - len(hits) + title_changed


# --------------------------------------------------------------------------- scoring


def describe(change: Change) -> str:
    flags = f"[{','.join(change.flags)}]" if change.flags else ""
    before = cp.squash(change.before or "")[:90]
    after = cp.squash(change.after or "")[:90]
    text = {"added": f"+{after!r}", "removed": f"-{before!r}"}.get(
        change.kind, f"{before!r} -> {after!r}" if before != after else repr(before)
    )
    level = "¶" if change.level == "paragraph" else ""
    return f"{change.kind}{level}{flags} {text}"


def reported(d: ArticleDiff) -> list[str]:
    out = (
        [f"headline[{','.join(d.headline.flags)}] {d.headline.before!r} -> {d.headline.after!r}"]
        if d.headline.changed
        else []
    )
    out += [describe(c) for c in d.changes]
    out += [f"byline {d.byline.before} -> {d.byline.after}"] if d.byline else []
    out += [f"published {d.published.before} -> {d.published.after}"] if d.published else []
    out += ["BODY MISSING"] if d.body_missing else []
    return out


def _on_target(change: Change, pair: cp.Pair) -> bool:
    texts = [cp.squash(t) for t in (change.before, change.after) if t]
    markers = [m for m in (pair.marker_before, pair.marker_after) if m]
    return any(m in t or t in m for m in markers for t in texts)


def score_ours(pair: cp.Pair, d: ArticleDiff) -> tuple[bool, int, str]:
    """(found / unchanged, spurious, note) for archiver's diff."""
    meta = bool(d.byline) + bool(d.published)
    if pair.is_noise:
        return not d.has_edits, len(d.changes) + d.headline.changed + meta, ""
    if pair.kind == "headline":
        return d.headline.changed, len(d.changes) + meta, ""
    same_kind = [c for c in d.changes if c.kind == pair.expect_kind]
    matches = [c for c in same_kind if pair.expect_flag is None or pair.expect_flag in c.flags]
    note = ""
    if not matches and same_kind:
        note = f"{pair.expect_kind} reported without flag {pair.expect_flag}"
    elif matches and not any(_on_target(c, pair) for c in matches):
        note = "matching change is not at the edited sentence"
    return bool(matches), len(d.changes) - bool(matches) + d.headline.changed + meta, note


@dataclass
class Result:
    """One pair's outcome."""

    page: str
    kind: str
    note: str
    ours_ok: bool
    ours_spurious: int
    base_ok: bool
    base_spurious: int
    reported: list[str]
    diag: str = ""
    expected: str = ""
    seconds: float = 0.0


@dataclass
class PageOutcome:
    """Everything one worker returns for one page."""

    page: str
    used: bool
    reason: str = ""
    english: bool = True
    results: list[Result] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def _expected(pair: cp.Pair) -> str:
    if pair.is_noise:
        return "no changes"
    return pair.expect_kind + (f"+{pair.expect_flag}" if pair.expect_flag else "")


def _scratch() -> str | None:
    """tmpfs when there is one: captures fsync every WARC, and disk speed is not measured here."""
    return "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


def run_page(task: tuple[str, str, int, tuple[str, ...], bool]) -> PageOutcome:
    """Build a page's pairs, capture and diff each through the real pipeline, score both ways."""
    from archiver.archive.folder import Archive
    from archiver.capture.fetch import FetchOptions
    from archiver.capture.save import capture_url
    from archiver.diff.differ import diff_articles
    from archiver.diff.select import resolve_pair

    corpus, page, seed, kinds, sync_copies = task
    started = time.perf_counter()
    built = cp.build_page(Path(corpus), page, seed, kinds, sync_copies)
    if isinstance(built, str):
        return PageOutcome(page, False, built, seconds=time.perf_counter() - started)
    outcome = PageOutcome(page, True, english=built.english, skipped=built.skipped)
    plain: dict[str, PlainText] = {}
    with tempfile.TemporaryDirectory(dir=_scratch()) as tmp, LoopbackServer() as server:
        archive = Archive(Path(tmp) / "archives")
        url = server.url(built.url_path)
        captured: dict[str, str] = {}

        def capture(html: str) -> str:
            if html not in captured:
                server.serve(built.url_path, html)
                captured[html] = capture_url(archive, url, FetchOptions(retries=0)).capture.id
            return captured[html]

        for pair in built.pairs:
            t0 = time.perf_counter()
            before_id, after_id = capture(pair.before_html), capture(pair.after_html)
            before, after = resolve_pair(archive, (url,), before_id, after_id)
            d = diff_articles(before.article, after.article)
            seconds = time.perf_counter() - t0
            ok, spurious, diag = score_ours(pair, d)
            for html in (pair.before_html, pair.after_html):
                if html not in plain:
                    plain[html] = plain_text(html)
            base_ok, base_spurious = score_baseline(pair, plain[pair.before_html], plain[pair.after_html])
            outcome.results.append(
                Result(
                    page,
                    pair.kind,
                    pair.note,
                    ok,
                    spurious,
                    base_ok,
                    base_spurious,
                    reported(d),
                    diag,
                    _expected(pair),
                    seconds,
                )
            )
        archive.close()
    outcome.seconds = time.perf_counter() - started
    return outcome


# --------------------------------------------------------------------------- report


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f} %" if whole else "    - "


def rate(total: int, n: int) -> str:
    return f"{total / n:6.3f}" if n else "     -"


def goal_mark(value: float, goal: float, higher: bool = True) -> str:
    met = value >= goal if higher else value < goal
    return "ok" if met else "MISSED"


def print_report(outcomes: list[PageOutcome], wall: float, jobs: int, failures: int) -> None:
    used = [o for o in outcomes if o.used]
    results = [r for o in used for r in o.results]
    print(
        f"corpus pages: {len(outcomes)}; used: {len(used)} "
        f"({len(outcomes) - len(used)} skipped: < {cp.MIN_PARAGRAPHS} paragraphs extracted); "
        f"non-English used: {sum(not o.english for o in used)}"
    )
    for o in outcomes:
        if not o.used:
            print(f"  skipped {o.page}: {o.reason}")
    print(f"pairs: {len(results)}; wall time {wall:.1f} s on {jobs} worker(s)\n")

    by_kind: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        by_kind[r.kind].append(r)

    print("Noise-only pairs reported as unchanged     N    archiver   baseline   goal")
    for kind, label in (
        ("noise_outside", "outside churn (ads, trending, nonces...)"),
        ("noise_inside", "inside churn (related box, Read more:)"),
        ("noise_markup", "subheads retagged, control chars, promo"),
    ):
        rs = by_kind.get(kind, [])
        ours, base = sum(r.ours_ok for r in rs), sum(r.base_ok for r in rs)
        mark = goal_mark(100 * ours / len(rs), GOALS[kind]) if rs else ""
        print(
            f"  {label:<40} {len(rs):4d}   {pct(ours, len(rs))}   {pct(base, len(rs))}"
            f"   >= {GOALS[kind]:.0f} % {mark}"
        )

    print(
        "\nInjected edits (+ outside churn)      N   found: archiver  baseline*   "
        "spurious/pair: archiver  baseline   goal (found)"
    )
    all_edits: list[Result] = []
    for kind in cp.EDIT_KINDS:
        rs = by_kind.get(kind, [])
        all_edits += rs
        ek, flag = cp.EXPECTED[kind]
        label = f"{kind} ({ek}{'+' + flag if flag else ''})"
        goal = GOALS.get(kind, GOALS["edits"])
        ours, base = sum(r.ours_ok for r in rs), sum(r.base_ok for r in rs)
        mark = goal_mark(100 * ours / len(rs), goal) if rs else ""
        print(
            f"  {label:<35} {len(rs):4d}   {pct(ours, len(rs)):>8}       {pct(base, len(rs)):>8}"
            f"        {rate(sum(r.ours_spurious for r in rs), len(rs))}"
            f"     {rate(sum(r.base_spurious for r in rs), len(rs))}"
            f"    >= {goal:.0f} % {mark}"
        )
    n = len(all_edits)
    ours = sum(r.ours_ok for r in all_edits)
    spur = sum(r.ours_spurious for r in all_edits)
    print(
        f"  {'all edits':<35} {n:4d}   {pct(ours, n):>8}       "
        f"{pct(sum(r.base_ok for r in all_edits), n):>8}        {rate(spur, n)}"
        f"     {rate(sum(r.base_spurious for r in all_edits), n)}"
        f"    >= {GOALS['edits']:.0f} % {goal_mark(100 * ours / n, GOALS['edits']) if n else ''}"
    )
    if n:
        print(
            f"  spurious extra changes per edit pair (archiver): {spur / n:.3f}  goal < "
            f"{GOALS['spurious']} {goal_mark(spur / n, GOALS['spurious'], higher=False)}; "
            f"edit pairs with any spurious change: {sum(r.ours_spurious > 0 for r in all_edits)}"
        )
    print(
        "  * baseline scored generously: no kinds or flags, found = any difflib opcode touches the "
        "edited sentence (headline: title differs)."
    )

    skipped = Counter((k, v) for o in used for k, v in o.skipped.items())
    if skipped:
        print("\nKinds not injected (page has no suitable place):")
        for (kind, reason), count in sorted(skipped.items()):
            print(f"  {kind:<18} {count:3d} page(s): {reason}")

    times = sorted(r.seconds for r in results)
    if times:
        print(
            f"\ncapture x2 + extract + diff per pair: median {1000 * times[len(times) // 2]:.0f} ms, "
            f"max {1000 * times[-1]:.0f} ms (extraction cached per capture)"
        )

    bad = [r for r in results if not r.ours_ok or r.ours_spurious]
    if bad and failures:
        print(f"\nFailures and pairs with spurious changes ({len(bad)}; showing up to {failures}):")
        for r in sorted(bad, key=lambda r: (cp.ALL_KINDS.index(r.kind), r.page))[:failures]:
            status = "MISSED" if not r.ours_ok else f"+{r.ours_spurious} spurious"
            print(
                f"- [{r.kind}] {r.page}: {status}; expected {r.expected}; injected: {r.note}"
                + (f"; {r.diag}" if r.diag else "")
            )
            for line in r.reported[:8] or ["(nothing reported)"]:
                print(f"      reported: {line}")
            if len(r.reported) > 8:
                print(f"      ... {len(r.reported) - 8} more")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", help="corpus folder (default $ARCHIVER_CORPUS or ../shared/corpus)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", help="only pages whose path contains TEXT")
    parser.add_argument("--kinds", help="comma-separated kinds (default all)")
    parser.add_argument("--failures", type=int, default=400, help="list at most N failures")
    parser.add_argument(
        "--visible-only",
        action="store_true",
        help="edit only the visible text, not the meta description/JSON-LD copies",
    )
    parser.add_argument("--json", dest="json_out", help="write every pair's outcome to FILE")
    args = parser.parse_args(argv)

    corpus = cp.corpus_dir(args.corpus)
    if not (corpus / "manifest.json").is_file():
        print(f"no corpus at {corpus} (set --corpus or ${cp.CORPUS_ENV})", file=sys.stderr)
        return 2
    kinds = tuple(args.kinds.split(",")) if args.kinds else cp.ALL_KINDS
    unknown = set(kinds) - set(cp.ALL_KINDS)
    if unknown:
        parser.error(f"unknown kinds {sorted(unknown)}; choose from {', '.join(cp.ALL_KINDS)}")
    pages = [p for p in cp.corpus_pages(corpus) if not args.only or args.only in p]
    tasks = [(str(corpus), page, args.seed, kinds, not args.visible_only) for page in pages]
    started = time.perf_counter()
    if args.jobs > 1:
        with get_context("fork").Pool(args.jobs) as pool:
            outcomes = list(pool.imap_unordered(run_page, tasks, chunksize=1))
    else:
        outcomes = [run_page(task) for task in tasks]
    outcomes.sort(key=lambda o: pages.index(o.page))
    print_report(outcomes, time.perf_counter() - started, args.jobs, args.failures)
    if args.json_out:
        Path(args.json_out).write_text(
            json.dumps([asdict(o) for o in outcomes], indent=1, ensure_ascii=False), encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
