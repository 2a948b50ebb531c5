from __future__ import annotations

from typing import Sequence

from dbcheck.findings import Finding


def render_text(findings: Sequence[Finding]) -> str:
    """``path:line:col: CODE message``, the format editors and CI logs understand."""
    return "".join(f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}\n" for f in findings)
