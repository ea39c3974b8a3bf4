"""A progress bar that follows completed work on a terminal, and says nothing otherwise."""
from __future__ import annotations

import sys


class Progress:
    def __init__(self, total: int, enabled: bool | None, label: str = "files"):
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.total, self.label = total, label
        self._p = None

    def __enter__(self):
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
            self._p = Progress(TextColumn(self.label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                               console=Console(stderr=True), transient=True)
            self._p.start()
            self._task = self._p.add_task(self.label, total=self.total)
        return self

    def __exit__(self, *exc):
        if self._p:
            self._p.stop()

    def advance(self, n: int = 1) -> None:
        if self._p:
            self._p.advance(self._task, n)

    def log(self, msg: str, report) -> None:
        if self._p:
            self._p.console.print(f"speechledger: {msg}", markup=False, highlight=False)
        else:
            report(msg)
