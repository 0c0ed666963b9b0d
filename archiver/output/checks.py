"""Verification on the terminal: the table of checks, every problem with its capture, file
and record, the notes; and the byte-counting progress bar of a long verify."""

from __future__ import annotations

import threading
from typing import Any

from archiver.evidence.findings import Report
from archiver.output.console import stderr_console
from archiver.output.sanitize import clean
from archiver.output.tables import human_size


class BarProgress:
    """A byte-counting rich progress bar on stderr, shown only on a terminal and for large jobs."""

    MIN_BYTES = 64 << 20

    def __init__(self) -> None:
        from rich import progress as bars

        console = stderr_console()
        self.bar = bars.Progress(
            bars.TextColumn("verifying"),
            bars.BarColumn(),
            bars.DownloadColumn(),
            bars.TransferSpeedColumn(),
            bars.TimeRemainingColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self.task = self.bar.add_task("verify", total=0)
        self.total = 0
        self.lock = threading.Lock()

    def start(self, total: int) -> None:
        self.total += total
        self.bar.update(self.task, total=self.total)
        if self.total >= self.MIN_BYTES and not self.bar.live.is_started:
            self.bar.start()

    def advance(self, amount: int) -> None:
        with self.lock:
            self.bar.advance(self.task, amount)

    def stop(self) -> None:
        self.bar.stop()


def render(console: Any, report: Report) -> None:
    """The table of checks, then each problem with its capture, file and record."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Verification", title_justify="left", box=box.SIMPLE_HEAD)
    for name in ("check", "checked", "problems", "result"):
        table.add_column(name)
    for description, checked, failed in report.rows():
        table.add_row(description, str(checked), str(failed), "[red]FAIL[/]" if failed else "[green]ok[/]")
    for description, count in report.note_rows():
        table.add_row(description, str(count), "", "note")
    console.print(table)
    for problem in report.problems:
        where = " ".join(
            part
            for part in (
                f"capture {problem.capture}" if problem.capture else "",
                problem.path or "",
                f"({problem.record})" if problem.record else "",
            )
            if part
        )
        line = Text.assemble(("problem", "red"), clean(f" [{problem.check}] {where}: {problem.message}"))
        console.print(line, highlight=False, soft_wrap=True)
    for note in report.notes:
        console.print(Text("note: " + clean(note)), highlight=False, soft_wrap=True)

    size = human_size(report.bytes)
    console.print(
        f"[green]all good[/]: {size} verified"
        if report.ok
        else f"[red]{len(report.problems)} problem(s) found[/] in {size}",
        highlight=False,
    )
