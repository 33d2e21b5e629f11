"""Human output for the command line: rich on stderr, coloured only on a terminal."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table


class Output:
    """Where the command line writes for people (standard error, so that standard output carries
    only data: the joined connection's bytes, file paths, JSON)."""

    def __init__(self, *, quiet: bool = False) -> None:
        # Not a terminal (a log, a pipe): wide enough that a fingerprint stays on one line.
        width = None if sys.stderr.isatty() else 160
        self.console = Console(file=sys.stderr, highlight=False, emoji=False, width=width)
        self.quiet = quiet

    def note(self, text: str) -> None:
        if not self.quiet:
            self.console.print(f"[dim]{_escape(text)}[/dim]")

    def info(self, text: str) -> None:
        if not self.quiet:
            self.console.print(text)

    def fail(self, text: str) -> None:
        self.console.print(f"[bold red]error:[/bold red] {_escape(text)}")

    def table(self, title: str, rows: list[tuple[str, Any, str]]) -> None:
        """``rows``: (label, value, style) -- style '' (plain), 'good', 'bad' or 'warn'."""
        t = Table(title=title, show_header=False, box=None, title_justify="left",
                  title_style="bold", pad_edge=False)
        t.add_column(style="cyan", no_wrap=True)
        t.add_column(overflow="fold")
        colours = {"good": "green", "bad": "bold red", "warn": "yellow"}
        for label, value, style in rows:
            text = _escape(str(value))
            if style in colours:
                text = f"[{colours[style]}]{text}[/{colours[style]}]"
            t.add_row(label, text)
        self.console.print(t)


def _escape(text: str) -> str:
    """``text`` as literal rich markup: rich's own escape, which also doubles a backslash
    before ``[`` (replacing ``[`` alone left ``\\[/x]`` a closing tag: a MarkupError). The
    text may be a peer's (a certificate's subject, a client's servername)."""
    return escape(text)
