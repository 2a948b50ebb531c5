"""The closing lines a person reads after the findings, as ruff writes them: how many
were found (and fixed), how many ``--fix`` would fix, and ``--statistics``' table."""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from dbcheck.findings import SAFE, UNSAFE, Finding
from dbcheck.reporters.style import FIXABLE, GREEN_BOLD, paint


def _plural(count: int, word: str, many: str = "") -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"


def render_summary(findings: Sequence[Finding], *, fixed: int = 0, colour: bool = False,
                   unsafe_fixes: bool = False) -> str:
    """``Found 3 findings (2 fixable with --fix).``; ``All checks passed!`` when there is
    nothing to report and nothing was fixed. ``findings`` are those that remain, ``fixed``
    how many ``--fix`` fixed. An unsafe fix is counted as hidden, unless ``unsafe_fixes``
    (the run has ``--unsafe-fixes``: ``--fix`` applies it)."""
    if not findings and not fixed:
        return paint("All checks passed!", GREEN_BOLD, colour) + "\n"
    safe = sum(1 for f in findings if f.fix is not None and f.fix.safety == SAFE)
    unsafe = sum(1 for f in findings if f.fix is not None and f.fix.safety == UNSAFE)
    notes = []
    if fixed:
        notes.append(f"{fixed} fixed, {len(findings)} remaining")
    if unsafe_fixes:
        safe, unsafe = safe + unsafe, 0
    if safe:
        notes.append(f"{safe} fixable with --fix" + (" --unsafe-fixes" if unsafe_fixes else ""))
    if unsafe:
        notes.append(f"{_plural(unsafe, 'hidden fix', 'hidden fixes')} can be enabled with --unsafe-fixes")
    total = _plural(fixed + len(findings), "finding")
    return f"Found {total}" + (f" ({'; '.join(notes)})" if notes else "") + ".\n"


def render_statistics(findings: Sequence[Finding]) -> str:
    """One line per code, the most frequent first (then by code): the count, the code,
    ``[*]`` when ``--fix`` fixes some of them (``[ ]`` when not), the rule's name."""
    from dbcheck.rules import RULES_BY_CODE

    counts = Counter(f.code for f in findings)
    fixable = {f.code for f in findings if f.fix is not None and f.fix.safety == SAFE}
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    width = max((len(str(count)) for _code, count in rows), default=0)
    code_width = max((len(code) for code, _count in rows), default=0)
    lines = []
    for code, count in rows:
        rule = RULES_BY_CODE.get(code)
        name = rule.name if rule is not None else ""
        mark = FIXABLE if code in fixable else "[ ]"
        lines.append(f"{str(count).rjust(width)}\t{code.ljust(code_width)}\t{mark} {name}".rstrip() + "\n")
    return "".join(lines)
