"""``full``: ruff's full output. Each finding's heading (``path:line:col: CODE [*]
problem``), the source around it - the line before, its line with a caret under the
column, the line after - with line numbers in a gutter, then ``help:`` and the fix hint,
then a blank line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Optional, Sequence

from dbcheck.findings import Finding, printable, split_hint
from dbcheck.reporters.style import BLUE_BOLD, CYAN_BOLD, RED_BOLD, heading, paint

TAB_SIZE = 4  # a tab in the source is shown as spaces to the next multiple of this
WIDTH = 120  # columns of source text shown on a line; a longer line is cut around the caret
ELLIPSIS = "..."
# Python's line ends (a form feed or a U+2028 inside a line is not one)
_LINE_END = re.compile(r"\r\n|\r|\n")


def render_full(findings: Sequence[Finding], problems: Sequence[str] = (), *, colour: bool = False,
                source: Optional[Callable[[str], Optional[str]]] = None, root: Optional[Path] = None) -> str:
    """The findings with their source. ``source(path)``, when given, returns the text of
    the file a finding is in (``None``: not available, the finding is shown without it)."""
    files: dict[str, Optional[list[str]]] = {}
    out: list[str] = []
    for finding in findings:
        problem, hint = split_hint(finding.message)
        out.append(heading(finding, problem, colour, mark=True) + "\n")
        if source is not None:
            if finding.path not in files:
                text = source(finding.path)
                files[finding.path] = _LINE_END.split(text) if text is not None else None
            lines = files[finding.path]
            if lines is not None and 1 <= finding.line <= len(lines):
                out.extend(_snippet(lines, finding.line, finding.column, colour))
        if hint is not None:
            out.append(f"{paint('help:', CYAN_BOLD, colour)} {printable(hint)}\n")
        out.append("\n")
    return "".join(out)


def _snippet(lines: list[str], line: int, column: int, colour: bool) -> list[str]:
    """The gutter, the lines around ``line`` (1-based) and the caret under ``column``."""
    shown = [n for n in (line - 1, line, line + 1)
             if 1 <= n <= len(lines) and (n == line or lines[n - 1].strip())]
    gutter = len(str(shown[-1]))
    bar = paint("|", BLUE_BOLD, colour)
    blank = f"{' ' * gutter} {bar}"
    text = lines[line - 1]
    caret = _width(_cells(text[:max(min(column - 1, len(text)), 0)]))
    start = _window_start(_width(_cells(text)), caret)
    out = [blank + "\n"]
    for number in shown:
        cells = _cells(lines[number - 1])
        clipped, first = _clip(cells, start)
        out.append(f"{paint(str(number).rjust(gutter), BLUE_BOLD, colour)} {bar} {clipped}".rstrip() + "\n")
        if number == line:
            offset = (len(ELLIPSIS) if start else 0) + max(caret - first, 0)
            out.append(f"{blank} {' ' * offset}{paint('^', RED_BOLD, colour)}\n")
    out.append(blank + "\n")
    return out


def _cells(text: str) -> list[tuple[str, int]]:
    """The characters of a source line as shown (tabs expanded, control characters
    escaped), each with the terminal columns it takes."""
    import unicodedata

    shown = printable(text.expandtabs(TAB_SIZE))
    return [(c, 0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1)
            for c in shown]


def _width(cells: list[tuple[str, int]]) -> int:
    return sum(w for _c, w in cells)


def _window_start(total: int, caret: int) -> int:
    """The first column shown: 0 unless the line is too long to show whole and the caret
    would fall beyond what fits, then so that the caret sits in the middle."""
    if total <= WIDTH or caret < WIDTH - len(ELLIPSIS) - 10:
        return 0
    return max(caret - WIDTH // 2, 0)


def _clip(cells: list[tuple[str, int]], start: int) -> tuple[str, int]:
    """(the text of the line from column ``start`` on, at most ``WIDTH`` columns, with
    ``...`` where it is cut; the column its first character shown is at)."""
    if not cells:
        return "", start
    room = WIDTH - (len(ELLIPSIS) if start else 0)
    kept: list[tuple[str, int]] = []
    position = 0
    first: Optional[int] = None
    cut = False
    for char, width in cells:
        if position < start:
            position += width
            continue
        if first is None:
            first = position
        if position + width > start + room:
            cut = True
            break
        kept.append((char, width))
        position += width
    if cut:  # room for the ellipsis at the end
        while kept and _width(kept) > room - len(ELLIPSIS):
            kept.pop()
    text = "".join(c for c, _w in kept) + (ELLIPSIS if cut else "")
    return (ELLIPSIS + text if start else text), (first if first is not None else position)
