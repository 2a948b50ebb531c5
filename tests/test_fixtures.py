"""dbcheck's findings on every fixture project equal the inline expectations, exactly,
in both directions; and no ``# ok:`` line carries the code it says must stay silent."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbcheck.config import load_config
from dbcheck.engine import analyze, display_path
from tests.expectations import project_labels

REPO = Path(__file__).resolve().parent.parent
FIXTURES = sorted(p.parent for p in (REPO / "fixtures").glob("*/pyproject.toml"))


@pytest.mark.parametrize("root", FIXTURES, ids=[p.name for p in FIXTURES])
def test_findings_equal_inline_expectations(root, monkeypatch):
    monkeypatch.chdir(REPO)
    config = load_config(start=root)
    result = analyze([root], config)
    assert not result.errors, result.errors
    files = [p for p in root.rglob("*.py") if "__pycache__" not in p.parts]
    expected, forbidden = project_labels(root, files, shown=display_path)
    found = {(f.path, f.line, f.code) for f in result.findings}
    missing = sorted(expected - found)
    unexpected = sorted(found - expected)
    messages = {(f.path, f.line, f.code): f.message for f in result.findings}
    report = ["missing (expected, not reported):"] + [f"  {m}" for m in missing]
    report += ["unexpected (reported, not expected):"] + [f"  {u}: {messages[u]}" for u in unexpected]
    assert not missing and not unexpected, "\n".join(report)
    assert not (found & forbidden)


def test_fixtures_exist_and_carry_labels():
    assert FIXTURES, "no fixture projects"
    for root in FIXTURES:
        files = list(root.rglob("*.py"))
        expected, forbidden = project_labels(root, files)
        assert expected and forbidden, f"{root.name} has no inline labels"
