"""The one place consoles are made, and the one way archiver speaks on stderr. Everything
untrusted printed through them goes through `sanitize.clean` first."""

from __future__ import annotations

import contextlib
import json
import re
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from archiver.output.sanitize import clean

if TYPE_CHECKING:
    from rich.console import Console

_UNSAFE_IN_JSON = re.compile(r"[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
PIPED_WIDTH = 160  # wide when piped, so tables and ids are not cut
_bar: Console | None = None  # a progress bar's console while it is drawn: `say` goes through it


def stdout_console() -> Console:
    """stdout: wide and soft-wrapped when piped; no syntax highlighting of page text."""
    from rich.console import Console

    piped = not sys.stdout.isatty()
    return Console(highlight=False, width=PIPED_WIDTH if piped else None, soft_wrap=piped)


def stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def emit(line: object) -> None:
    """One line on stdout, sanitized (paths and URLs named in it may come from anywhere)."""
    print(clean(line), flush=True)


def emit_json(data: object, indent: int | None = None) -> None:
    """JSON on stdout. Control characters are escaped by json itself; C1 controls and bidi
    controls, which it leaves as they are, are escaped too (the same JSON, safe on a terminal)."""
    text = json.dumps(data, ensure_ascii=False, indent=indent)
    print(_UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text), flush=True)


def say(kind: str, message: object) -> None:
    """One line on stderr: "archiver: <kind>: <message>" (kind "" for a plain line)."""
    prefix = f"archiver: {kind}: " if kind else "archiver: "
    if _bar is not None:  # the bar's console clears the bar, prints the line, redraws below it
        from rich.text import Text

        _bar.print(Text(prefix + clean(message)), soft_wrap=True)
        return
    print(prefix + clean(message), file=sys.stderr, flush=True)


@contextlib.contextmanager
def below_lines(bar: Console | None) -> Iterator[None]:
    """While a progress bar is drawn on `bar`, every `say` line is printed above it (a plain
    print would land in the middle of the bar and stay in the scrollback)."""
    global _bar
    _bar = bar
    try:
        yield
    finally:
        _bar = None
