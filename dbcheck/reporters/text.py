"""The one-line outputs: ``text`` (the whole message) and ``concise`` (the problem, and
``[*]`` where ``--fix`` fixes it)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional, Sequence

from dbcheck.findings import Finding, split_hint
from dbcheck.reporters.style import heading


def render_text(findings: Sequence[Finding], problems: Sequence[str] = (), *, colour: bool = False,
                source: Optional[Callable[[str], Optional[str]]] = None, root: Optional[Path] = None) -> str:
    """``path:line:col: CODE message``, the format editors and CI logs understand. The
    problems (files not analysed) go to stderr, not here."""
    return "".join(heading(f, f.message, colour, mark=False) + "\n" for f in findings)


def render_concise(findings: Sequence[Finding], problems: Sequence[str] = (), *, colour: bool = False,
                   source: Optional[Callable[[str], Optional[str]]] = None, root: Optional[Path] = None) -> str:
    """``path:line:col: CODE [*] problem``: the message without its fix hint, ``[*]`` on
    the findings ``--fix`` fixes (ruff's concise output)."""
    return "".join(heading(f, split_hint(f.message)[0], colour, mark=True) + "\n" for f in findings)
