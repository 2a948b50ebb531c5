"""What every rule declares. A rule is a small class: its code, name, message, the
documentation sections ``dbcheck rule CODE`` prints, and VALID / INVALID examples the
test suite runs. ``check`` is a pure function of the project index and the config."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Iterable, Iterator, Mapping, Union

from dbcheck.findings import Finding
from dbcheck.schema.model import Location

if TYPE_CHECKING:
    from dbcheck.config import Config
    from dbcheck.rules.context import RuleContext
    from dbcheck.schema.model import ColumnModel, TableModel

# An example is one source file, or several ({relative path: source}). INVALID examples
# mark each expected finding with ``# expect: CODE`` on the line it must land on.
Example = Union[str, Mapping[str, str]]


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]  # one line for the rule table
    what_it_does: ClassVar[str]
    why_bad: ClassVar[str]
    known_problems: ClassVar[str] = "None known."
    example: ClassVar[str] = ""
    use_instead: ClassVar[str] = ""
    options: ClassVar[str] = "None."
    fix_safety: ClassVar[str] = "No automatic fix."
    default_enabled: ClassVar[bool] = True
    cwe: ClassVar[str] = ""
    valid: ClassVar[tuple[Example, ...]] = ()
    invalid: ClassVar[tuple[Example, ...]] = ()

    def check(self, ctx: "RuleContext") -> Iterable[Finding]:
        raise NotImplementedError

    def finding(self, location: Location, message: str) -> Finding:
        return Finding(location.path, location.line, location.column, self.code, message)

    @classmethod
    def documentation(cls) -> str:
        sections = [
            f"{cls.code} {cls.name}",
            "",
            "## What it does",
            cls.what_it_does.strip(),
            "",
            "## Why is this bad?",
            cls.why_bad.strip(),
            "",
            "## Known problems",
            cls.known_problems.strip(),
        ]
        if cls.example:
            sections += ["", "## Example", "```python", cls.example.strip("\n"), "```"]
        if cls.use_instead:
            sections += ["", "## Use instead", "```python", cls.use_instead.strip("\n"), "```"]
        sections += ["", "## Options", cls.options.strip(), "", "## Fix safety", cls.fix_safety.strip()]
        if cls.cwe:
            sections += ["", f"References: {cls.cwe}"]
        return "\n".join(sections) + "\n"


def column_label(table: "TableModel", column: "ColumnModel") -> str:
    """``Mixin.attribute`` where the column is declared, ``table.column`` for Table()."""
    if column.attribute and column.declared_in and not column.declared_in.startswith("Table("):
        return f"{column.declared_in}.{column.attribute}"
    return f"{table.name}.{column.name}"


def unique_places(findings: Iterable[Finding], by_message: bool = False) -> Iterator[Finding]:
    """One finding per place (per place and message with ``by_message``): the first by
    message, so the choice does not depend on the order the analysis met them in."""
    chosen: dict[tuple, Finding] = {}
    for finding in findings:
        key = (finding.path, finding.line, finding.column) + ((finding.message,) if by_message else ())
        kept = chosen.get(key)
        if kept is None or finding.message < kept.message:
            chosen[key] = finding
    yield from chosen.values()


def dedupe_by_site(findings: Iterable[tuple[Finding, str]]) -> Iterator[Finding]:
    """A column declared once in a mixin is reported once, at the mixin, naming how
    many tables share the problem (the fix is in one place too)."""
    groups: dict[tuple[str, int, int, str], list[tuple[Finding, str]]] = {}
    for finding, table in findings:
        key = (finding.path, finding.line, finding.column, finding.code)
        groups.setdefault(key, []).append((finding, table))
    for items in groups.values():
        items.sort(key=lambda item: item[1])
        first, _table = items[0]
        others = sorted({t for _f, t in items[1:]} - {_table})
        if others:
            shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
            yield Finding(first.path, first.line, first.column, first.code,
                          f"{first.message} (also on {shown})")
        else:
            yield first
