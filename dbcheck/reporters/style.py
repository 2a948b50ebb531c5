"""ANSI colour (SGR) for the outputs a person reads, and the ``path:line:col: CODE``
heading they share. Nothing here is coloured unless the caller asks."""

from __future__ import annotations

from dbcheck.findings import SAFE, Finding, printable

BOLD = "1"
RED_BOLD = "1;31"
CYAN = "36"
CYAN_BOLD = "1;36"
BLUE_BOLD = "1;34"
GREEN_BOLD = "1;32"
FIXABLE = "[*]"  # ruff's mark of a finding ``--fix`` fixes


def paint(text: str, sgr: str, colour: bool) -> str:
    """``text`` in the SGR style ``sgr`` (``"1;31"``: bold red) when ``colour``."""
    return f"\x1b[{sgr}m{text}\x1b[0m" if colour and text else text


def fixable(finding: Finding) -> bool:
    """Whether ``--fix`` (without ``--unsafe-fixes``) fixes the finding."""
    return finding.fix is not None and finding.fix.safety == SAFE


def heading(finding: Finding, text: str, colour: bool, mark: bool) -> str:
    """``path:line:col: CODE [*] text`` (``[*]`` with ``mark`` and a safe fix), escaped."""
    fix = f"{paint(FIXABLE, CYAN, colour)} " if mark and fixable(finding) else ""
    return (f"{paint(printable(finding.path), BOLD, colour)}:{finding.line}:{finding.column}: "
            f"{paint(finding.code, RED_BOLD, colour)} {fix}{printable(text)}")
