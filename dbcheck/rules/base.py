"""What every rule declares. A rule is a small class: its code, name, message, the
documentation sections ``dbcheck rule CODE`` prints, and VALID / INVALID examples the
test suite runs. ``check`` is a pure function of the project index and the config."""

from __future__ import annotations

import string
from typing import TYPE_CHECKING, ClassVar, Iterable, Iterator, Mapping, Optional, Sequence, Union

from dbcheck.findings import SAFE, UNSAFE, Finding, Fix, Related
from dbcheck.schema.model import Location

if TYPE_CHECKING:
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
    # The messages, as templates of the fields a check fills in (``finding``); a rule with
    # several shapes of message names them in ``messages``.
    message: ClassVar[str] = ""
    messages: ClassVar[Mapping[str, str]] = {}
    # The fix the check attaches, declared once: SAFE (--fix), UNSAFE (--unsafe-fixes) or
    # None, with what it does (or why there is none) for the documentation.
    fix: ClassVar[Optional[str]] = None
    fix_description: ClassVar[str] = ""
    default_enabled: ClassVar[bool] = True
    cwe: ClassVar[str] = ""
    valid: ClassVar[tuple[Example, ...]] = ()
    invalid: ClassVar[tuple[Example, ...]] = ()

    def check(self, ctx: "RuleContext") -> Iterable[Finding]:
        raise NotImplementedError

    def finding(self, location: Location, variant: str = "", fix: Optional[Fix] = None,
                related: Sequence[tuple[Location, str]] = (), **fields: object) -> Finding:
        """The finding at ``location``, its message rendered from the declared template
        (``variant`` names one of ``messages``) and ``fields``, which must be exactly the
        template's. A fix must be of the safety the rule declares. ``related``: the other
        places the finding is about, each with a note (see ``Related``)."""
        template = self.messages[variant] if variant else self.message
        wanted = {name for _text, name, _spec, _conv in string.Formatter().parse(template) if name}
        if wanted != set(fields):
            raise TypeError(f"{self.code} message {variant or 'message'!r} takes {sorted(wanted)}, "
                            f"got {sorted(fields)}")
        if fix is not None and fix.safety != self.fix:
            raise TypeError(f"{self.code} declares fixes {self.fix!r}, got a {fix.safety!r} one")
        return Finding(location.path, location.line, location.column, self.code, template.format(**fields), fix,
                       tuple(Related(where.path, where.line, note) for where, note in related))

    @classmethod
    def fix_safety(cls) -> str:
        """The documentation's "Fix safety" section, from the declaration."""
        if cls.fix == SAFE:
            return f"Safe fix (`--fix`): {cls.fix_description}"
        if cls.fix == UNSAFE:
            return f"Unsafe fix (`--unsafe-fixes`): {cls.fix_description}"
        return f"No automatic fix{': ' + cls.fix_description if cls.fix_description else '.'}"

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
        sections += ["", "## Options", cls.options.strip(), "", "## Fix safety", cls.fix_safety()]
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
                          f"{first.message} (also on {shown})", first.fix, first.related)
        else:
            yield first
