"""DBC900: a ``# noqa: DBCxxx`` that suppresses nothing (off by default)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

from dbcheck.findings import SAFE, Edit, Finding, Fix
from dbcheck.schema.model import Location
from dbcheck.rules.base import Rule

if TYPE_CHECKING:
    from dbcheck.rules.context import RuleContext
    from dbcheck.facts.model import ModuleFacts


class UnusedNoqa(Rule):
    code = "DBC900"
    name = "unused-noqa"
    summary = "A `# noqa: DBCxxx` that suppresses no finding."
    default_enabled = False
    what_it_does = """
Reports a `# noqa: DBC...` comment naming a DBC code (or prefix) for which no finding is
reported on that line, and a file-level `# dbcheck: noqa: DBC...` (or `# flake8: noqa:
DBC...`) naming one for which no finding is reported in the file. Off by default: enable
it with `--select DBC900` or `extend-select = ["DBC900"]`. A bare `# noqa` or `# dbcheck:
noqa`, and codes of other tools, are left alone."""
    why_bad = """
A suppression outlives the problem it hid: after a fix it silently waits to hide the next
real finding on that line, and readers keep believing the line is an exception."""
    message = "'# noqa: {code}' suppresses nothing on this line: remove it"
    messages = {"file": "the file-level noqa of {code} suppresses nothing in this file: remove it"}
    fix = SAFE
    fix_description = "removes the unused code from the comment, or the comment when no code is left."
    example = """
user_id = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)  # noqa: DBC303
"""
    use_instead = """
user_id = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
"""
    valid = (
        {
            "pyproject.toml": '[tool.dbcheck]\nextend-select = ["DBC900"]\n',
            "models.py": '''
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))  # noqa: DBC303  ok: DBC900
    other_id: Mapped[int] = mapped_column(ForeignKey("others.id", ondelete="CASCADE"), index=True)  # noqa: E501  ok: DBC900
''',
        },
    )
    invalid = (
        {
            "pyproject.toml": '[tool.dbcheck]\nextend-select = ["DBC900"]\n',
            "models.py": '''
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)  # noqa: DBC303  expect: DBC900
''',
        },
    )

    def check(self, ctx: "RuleContext") -> Iterable[Finding]:
        return ()  # needs the other rules' findings: see unused_noqa()


def unused_noqa(findings: Sequence[Finding], modules: Mapping[str, "ModuleFacts"],
                used: Iterable[tuple[str, int, str]] = ()) -> list[Finding]:
    """DBC900 findings, from every other finding before ``# noqa`` is applied. ``used``:
    (path, line, code) a noqa may name though nothing is reported there (a helper's
    query judged at its calls: the noqa says the callers are responsible)."""
    rule = UnusedNoqa()
    by_line: dict[tuple[str, int], list[str]] = {}
    for finding in findings:
        by_line.setdefault((finding.path, finding.line), []).append(finding.code)
    for path, line, code in used:
        by_line.setdefault((path, line), []).append(code)
    out: list[Finding] = []
    for facts in modules.values():
        for line, codes in facts.noqa.items():
            if not codes:
                continue
            reported = by_line.get((facts.path, line), [])
            for code in codes:
                if _unused(code, reported):
                    fix = Fix(SAFE, (Edit("noqa", line, (code,)),))
                    out.append(rule.finding(Location(facts.path, line, 1), fix=fix, code=code))
        if facts.file_noqa:
            in_file = [code for (path, _line), codes in by_line.items() if path == facts.path for code in codes]
            for line, codes in facts.file_noqa.items():
                for code in codes or ():
                    if _unused(code, in_file):
                        # (no fix: the fixer edits `# noqa:` comments)
                        out.append(rule.finding(Location(facts.path, line, 1), "file", code=code))
    return out


def _unused(code: str, reported: Sequence[str]) -> bool:
    """Whether a noqa naming ``code`` is one of ours and hides none of ``reported``."""
    return code.startswith("DBC") and code != "DBC900" and not any(c.startswith(code) for c in reported)
