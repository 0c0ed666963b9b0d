"""When an article is checked again: a decaying schedule after NewsDiffs (often while it
changes, rarely once it has settled, never after a year), and the clock it runs on. The clock
is injectable so tests and benchmarks run a day of schedule in no time, never sleeping."""

from __future__ import annotations

import re
import threading
import time
from typing import Protocol

DEFAULT_SCHEDULE = "3h:15m,1d:1h,7d:3h,30d:3d,365d:30d"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

Tiers = tuple[tuple[float, float], ...]  # (changed within this many seconds, check every ...)


class Clock(Protocol):
    """Wall-clock seconds, and a wait that a stop event cuts short."""

    def now(self) -> float: ...

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        """Wait `seconds` (or until `stop` is set); True when stopped."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        return stop.wait(max(0.0, seconds))


def parse_duration(text: str) -> float:
    """`90s`, `15m`, `3h`, `3d`, `2w` (or bare seconds) as seconds; ValueError otherwise."""
    found = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([smhdw]?)\s*", text)
    if not found or float(found.group(1)) <= 0:
        raise ValueError(f"not a duration: {text!r} (e.g. 90s, 15m, 3h, 3d)")
    return float(found.group(1)) * _UNITS[found.group(2) or "s"]


def parse_schedule(text: str) -> Tiers:
    """`WITHIN:EVERY,...` (e.g. the default `3h:15m,1d:1h,...`): check every EVERY while the
    article changed less than WITHIN ago; past the last WITHIN, stop."""
    tiers = []
    for part in text.split(","):
        within, sep, every = part.partition(":")
        if not sep:
            raise ValueError(f"schedule step {part.strip()!r} is not WITHIN:EVERY (e.g. 3h:15m)")
        tiers.append((parse_duration(within), parse_duration(every)))
    if [w for w, _ in tiers] != sorted({w for w, _ in tiers}):
        raise ValueError("schedule steps must go from the shortest WITHIN to the longest")
    return tuple(tiers)


def next_check(tiers: Tiers, now: float, changed_at: float) -> float | None:
    """When to check an article last changed at `changed_at` again; None: never (settled)."""
    age = max(0.0, now - changed_at)
    for within, every in tiers:
        if age < within:
            return now + every
    return None
