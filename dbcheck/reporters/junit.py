"""JUnit XML, for CI servers that show test reports: a ``<testsuite>`` per file, a
``<testcase>`` per finding with its ``<failure>``, and the files not analysed (any
reason the run is incomplete) as ``<error>`` test cases of a ``dbcheck`` suite. With
nothing to report, one passing test case, so the report is not read as empty.

The text is escaped for XML and written as ASCII (character references for the rest),
so the report is well-formed whatever the paths and messages hold and whatever encoding
the output stream has."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional, Sequence

from dbcheck.findings import Finding, printable, split_hint

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


def _xml(text: str) -> str:
    """``text`` as XML character data or an attribute value: control characters shown as
    escapes (XML 1.0 has no way to carry most of them), markup escaped, ASCII."""
    escaped = "".join(_ESCAPES.get(c, c) for c in printable(text))
    return escaped.encode("ascii", "xmlcharrefreplace").decode("ascii")


def render_junit(findings: Sequence[Finding], problems: Sequence[str] = (), *, colour: bool = False,
                 source: Optional[Callable[[str], Optional[str]]] = None, root: Optional[Path] = None) -> str:
    by_file: dict[str, list[Finding]] = {}
    for finding in findings:
        by_file.setdefault(finding.path, []).append(finding)
    suites: list[str] = []
    for path, found in by_file.items():
        name = _xml(path)
        suites.append(f'  <testsuite name="{name}" tests="{len(found)}" failures="{len(found)}" errors="0">\n')
        for f in found:
            problem = split_hint(f.message)[0]
            suites.append(
                f'    <testcase name="{_xml(f.code)} at {f.line}:{f.column}" classname="{name}" file="{name}" '
                f'line="{f.line}">\n'
                f'      <failure message="{_xml(problem)}" type="{_xml(f.code)}">'
                f"{name}:{f.line}:{f.column}: {_xml(f.code)} {_xml(f.message)}</failure>\n"
                f"    </testcase>\n"
            )
        suites.append("  </testsuite>\n")
    if problems:
        suites.append(f'  <testsuite name="dbcheck" tests="{len(problems)}" failures="0" errors="{len(problems)}">\n')
        for problem in problems:
            text = _xml(problem)
            suites.append(f'    <testcase name="{text}" classname="dbcheck">\n'
                          f'      <error message="{text}" type="not-analysed">{text}</error>\n'
                          f"    </testcase>\n")
        suites.append("  </testsuite>\n")
    if not findings and not problems:
        suites.append('  <testsuite name="dbcheck" tests="1" failures="0" errors="0">\n'
                      '    <testcase name="no findings" classname="dbcheck"/>\n'
                      "  </testsuite>\n")
    tests = max(len(findings) + len(problems), 1)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<testsuites name="dbcheck" tests="{tests}" failures="{len(findings)}" errors="{len(problems)}">\n'
            + "".join(suites) + "</testsuites>\n")
