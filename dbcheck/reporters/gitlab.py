"""GitLab's Code Quality report (``artifacts: reports: codequality``): a JSON array, one
issue per finding, which the merge request shows on the lines it changes.

Severity, from the SARIF level of the rule's family (``sarif.level_of``): ``error``
(tenant isolation, secrets, files that do not parse) -> ``critical``, ``warning`` ->
``major``, ``note`` (query performance, dbcheck's own noqa hygiene) -> ``minor``.
The fingerprint is ``dbcheck.findings.fingerprints``'s: the rule, the file, the message
and the order of identical findings, not the line, so an edit above a finding keeps its
identity (GitLab compares the fingerprints of the two branches). Files not analysed
have no place in the format; they are reported on stderr and in the exit code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Optional, Sequence

from dbcheck.findings import Finding, fingerprints, split_hint
from dbcheck.reporters.location import rooted
from dbcheck.reporters.sarif import level_of

SEVERITIES = {"error": "critical", "warning": "major", "note": "minor"}


def severity_of(code: str) -> str:
    return SEVERITIES.get(level_of(code), "major")


def render_gitlab(findings: Sequence[Finding], problems: Sequence[str] = (), *, colour: bool = False,
                  source: Optional[Callable[[str], Optional[str]]] = None, root: Optional[Path] = None) -> str:
    """The report. ``root`` (the repository's top, which GitLab's paths are relative to)
    makes the paths, and so the fingerprints, independent of where dbcheck ran."""
    shown = rooted(findings, root)
    prints = fingerprints(shown)
    issues = [
        {
            "description": f"{f.code} {split_hint(f.message)[0]}",
            "check_name": f.code,
            "fingerprint": prints[f],
            "severity": severity_of(f.code),
            "location": {"path": f.path.replace("\\", "/"), "lines": {"begin": f.line}},
        }
        for f in shown
    ]
    return json.dumps(issues, indent=2) + "\n"
