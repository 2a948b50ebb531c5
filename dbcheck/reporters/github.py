"""GitHub Actions workflow commands: each finding becomes an annotation on its line."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional, Sequence

from dbcheck.findings import Finding
from dbcheck.reporters.sarif import level_of


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(findings: Sequence[Finding], problems: Sequence[str] = (), *, colour: bool = False,
                  source: Optional[Callable[[str], Optional[str]]] = None, root: Optional[Path] = None) -> str:
    """One annotation per finding, and an error annotation per problem (a file not
    analysed), so an incomplete check is visible on the pull request too."""
    lines = [f"::error title=dbcheck::{_escape_data(problem)}\n" for problem in problems]
    for f in findings:
        command = {"error": "error", "warning": "warning"}.get(level_of(f.code), "notice")
        lines.append(
            f"::{command} file={_escape_property(f.path)},line={f.line},col={f.column},"
            f"title={_escape_property(f.code)}::{_escape_data(f.code + ' ' + f.message)}\n"
        )
    return "".join(lines)
