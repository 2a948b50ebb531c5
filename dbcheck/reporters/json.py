"""``json`` (one array) and ``json-lines`` (one object a line). Each finding keeps the
keys it always had - path, line, column, code, message (its identity, as baselines
record it) - and adds the message's two parts, ``problem`` and ``hint`` (``null`` when
the message gives none), and its ``fix``: ``{"safety": "safe" | "unsafe", "edits":
how many}`` or ``null``. ``json-lines`` adds ``fixable``: the fix's safety or ``null``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Optional, Sequence

from dbcheck.findings import Finding, split_hint


def finding_object(finding: Finding) -> dict[str, object]:
    problem, hint = split_hint(finding.message)
    fix = finding.fix
    return {
        **finding.as_dict(),
        "problem": problem,
        "hint": hint,
        "fix": {"safety": fix.safety, "edits": len(fix.edits)} if fix is not None else None,
    }


def render_json(findings: Sequence[Finding], problems: Sequence[str] = (), *, colour: bool = False,
                source: Optional[Callable[[str], Optional[str]]] = None, root: Optional[Path] = None) -> str:
    return json.dumps([finding_object(f) for f in findings], indent=2) + "\n"


def render_json_lines(findings: Sequence[Finding], problems: Sequence[str] = (), *, colour: bool = False,
                      source: Optional[Callable[[str], Optional[str]]] = None, root: Optional[Path] = None) -> str:
    """One JSON object per line, newlines in the text escaped as JSON does: a consumer
    can read the findings as they stream."""
    lines = []
    for finding in findings:
        record = finding_object(finding)
        record["fixable"] = finding.fix.safety if finding.fix is not None else None
        lines.append(json.dumps(record) + "\n")
    return "".join(lines)
