"""DBC001: a file dbcheck cannot read is reported, and the run goes on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from dbcheck.findings import Finding
from dbcheck.schema.model import Location
from dbcheck.rules.base import Rule

if TYPE_CHECKING:
    from dbcheck.rules.context import RuleContext


class ParseError(Rule):
    code = "DBC001"
    name = "parse-error"
    summary = "A file that cannot be parsed; the run goes on with the rest."
    message = "cannot parse this file: {problem}"
    what_it_does = """
Reports a Python file that does not decode (bad bytes for its declared encoding, a NUL
byte) or does not parse, at the line CPython reports. A file that only a newer Python
can parse (PEP 695 generics, PEP 701 f-strings, PEP 758 `except A, B:`) is analysed with
libcst's newest grammar and is not reported."""
    why_bad = """
A file dbcheck cannot read is a file it cannot check: its models and queries are
invisible to every other rule, so a broken file hides findings as well as failing at
import."""
    known_problems = "Under flake8 this finding appears as flake8's own E999, since flake8 runs no plugin on such a file."
    valid = ("x = 1\n",)
    invalid = ("class Broken(:  # expect: DBC001\n    pass\n",)

    def check(self, ctx: "RuleContext") -> Iterable[Finding]:
        for module in ctx.reported_modules():
            if module.error is not None:
                line, column, message = module.error
                yield self.finding(Location(module.path, line, column), problem=message)
