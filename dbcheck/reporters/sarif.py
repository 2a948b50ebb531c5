"""SARIF 2.1.0 for GitHub code scanning: every rule in the driver, each result with its
rule index, location and a fingerprint that survives line shifts. Given the project's
``root``, the artifact URIs are relative to it (``uriBaseId: %SRCROOT%``, which
``originalUriBaseIds`` maps to the root as a ``file:`` URI), so an upload maps to the
repository from whichever directory dbcheck ran; without it they are relative to the
working directory. A file outside the root (or an absolute path) is an absolute
``file:`` URI."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable, Optional, Sequence

from dbcheck import __version__
from dbcheck.findings import Finding, fingerprints
from dbcheck.reporters.location import rooted

DOCS_URL = "https://pypi.org/project/flake8-dbcheck/"
_LEVELS = {"DBC0": "error", "DBC1": "warning", "DBC2": "error", "DBC3": "warning", "DBC4": "note",
           "DBC5": "error", "DBC6": "warning", "DBC9": "note"}


def level_of(code: str) -> str:
    return _LEVELS.get(code[:4], "warning")


def _rule_descriptor(rule) -> dict:
    tags = ["database", "sqlalchemy"]
    if rule.cwe:
        number = rule.cwe.split(":")[0].split("-")[-1]
        tags += ["security", f"external/cwe/cwe-{number}"]
    doc = rule.documentation()
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": " ".join(rule.what_it_does.split())},
        "help": {"text": doc, "markdown": doc},
        "helpUri": DOCS_URL,
        "defaultConfiguration": {"level": level_of(rule.code), "enabled": rule.default_enabled},
        "properties": {"tags": tags, "precision": "high"},
    }


def _artifact(path: str) -> dict[str, str]:
    """The artifactLocation of a path as ``rooted`` left it: percent-encoded, relative to
    ``%SRCROOT%`` or, when absolute, a ``file:`` URI of its own."""
    from urllib.parse import quote

    if os.path.isabs(path):
        return {"uri": Path(path).as_uri()}
    # the bytes of an undecodable file name come back from surrogateescape
    return {"uri": quote(path.replace("\\", "/").encode("utf-8", "surrogateescape")), "uriBaseId": "%SRCROOT%"}


def render_sarif(findings: Sequence[Finding], problems: Sequence[str] = (), *, colour: bool = False,
                 source: Optional[Callable[[str], Optional[str]]] = None, root: Optional[Path] = None) -> str:
    from dbcheck.rules import ALL_RULES

    rules = list(ALL_RULES)
    index = {rule.code: i for i, rule in enumerate(rules)}
    findings = rooted(findings, root)
    prints = fingerprints(findings)
    results = []
    for finding in findings:
        result: dict[str, object] = {
            "ruleId": finding.code,
            "level": level_of(finding.code),
            "message": {"text": finding.message},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": _artifact(finding.path),
                    "region": {"startLine": finding.line, "startColumn": max(finding.column, 1)},
                },
            }],
            "partialFingerprints": {"dbcheckFindingHash/v1": prints[finding]},
        }
        if finding.code in index:
            result["ruleIndex"] = index[finding.code]
        results.append(result)
    run: dict[str, object] = {
        "tool": {"driver": {
            "name": "dbcheck",
            "version": __version__,
            "semanticVersion": __version__,
            "informationUri": DOCS_URL,
            "rules": [_rule_descriptor(rule) for rule in rules],
        }},
        "invocations": [{
            # false when a file was not analysed: code scanning shows the run as incomplete
            "executionSuccessful": not problems,
            "toolExecutionNotifications": [
                {"level": "error", "message": {"text": problem}} for problem in problems
            ],
        }],
    }
    if root is not None:
        base = Path(os.path.abspath(root)).as_uri()
        run["originalUriBaseIds"] = {"%SRCROOT%": {"uri": base if base.endswith("/") else base + "/"}}
    run["columnKind"] = "unicodeCodePoints"
    run["results"] = results
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    }
    return json.dumps(log, indent=2) + "\n"
