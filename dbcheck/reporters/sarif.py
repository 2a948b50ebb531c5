"""SARIF 2.1.0 for GitHub code scanning: every rule in the driver, each result with its
rule index, location and a fingerprint that survives line shifts."""

from __future__ import annotations

import json
from typing import Sequence

from dbcheck import __version__
from dbcheck.findings import Finding, fingerprints

DOCS_URL = "https://pypi.org/project/dbcheck/"
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
        "helpUri": f"{DOCS_URL}#{rule.code.lower()}",
        "defaultConfiguration": {"level": level_of(rule.code), "enabled": rule.default_enabled},
        "properties": {"tags": tags, "precision": "high"},
    }


def render_sarif(findings: Sequence[Finding], problems: Sequence[str] = ()) -> str:
    from dbcheck.rules import ALL_RULES

    rules = list(ALL_RULES)
    index = {rule.code: i for i, rule in enumerate(rules)}
    prints = fingerprints(list(findings))
    results = []
    for finding in findings:
        result: dict[str, object] = {
            "ruleId": finding.code,
            "level": level_of(finding.code),
            "message": {"text": finding.message},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {"uri": finding.path.replace("\\", "/"), "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": finding.line, "startColumn": max(finding.column, 1)},
                },
            }],
            "partialFingerprints": {"dbcheckFindingHash/v1": prints[finding]},
        }
        if finding.code in index:
            result["ruleIndex"] = index[finding.code]
        results.append(result)
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
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
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return json.dumps(log, indent=2) + "\n"
