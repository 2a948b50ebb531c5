from __future__ import annotations

from typing import Sequence

from dbcheck.findings import Finding, printable


def render_text(findings: Sequence[Finding], problems: Sequence[str] = ()) -> str:
    """``path:line:col: CODE message``, the format editors and CI logs understand. The
    problems (files not analysed) go to stderr, not here."""
    return "".join(f"{printable(f.path)}:{f.line}:{f.column}: {f.code} {printable(f.message)}\n" for f in findings)
