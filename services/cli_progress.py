"""Progress bars of the command line (rich): one bar per phase on a terminal, lines otherwise."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)


class PhaseProgress:
    """`progress(phase, done, total)`: a bar per phase; a line per tenth when not on a terminal."""

    def __init__(self, unit: str, console: Console | None = None) -> None:
        self.unit = unit
        self.console = console or Console(stderr=True)
        self.live = self.console.is_terminal
        self.bars = Progress(
            TextColumn("{task.description:>9}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(unit),
            TaskProgressColumn(),
            TimeRemainingColumn(),
            console=self.console,
            disable=not self.live,
        )
        self.tasks: dict[str, TaskID] = {}
        self.tenths: dict[str, int] = {}

    def __enter__(self) -> PhaseProgress:
        self.bars.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.bars.stop()

    def __call__(self, phase: str, done: int, total: int) -> None:
        """Show `done` of `total` through `phase`."""
        if phase not in self.tasks:
            self.tasks[phase] = self.bars.add_task(phase, total=total)
        self.bars.update(self.tasks[phase], completed=done, total=total)
        if self.live:
            return
        tenth = 10 * done // max(total, 1)  # redirected (a log): a line per tenth is enough
        if self.tenths.get(phase) != tenth:
            self.tenths[phase] = tenth
            self.console.print(f"{phase:>9} {done:,}/{total:,} {self.unit}", highlight=False)
