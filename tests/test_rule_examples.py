"""Every rule's VALID / INVALID examples, run through the whole engine: each finding lands
on the line its example marks, and its column, message and fix are those recorded in
``tests/snapshots/rule_examples.txt`` (after a deliberate change, regenerate it with
``DBCHECK_UPDATE_SNAPSHOTS=1 pytest tests/test_rule_examples.py`` and read the diff)."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from dbcheck.config import load_config
from dbcheck.engine import analyze
from dbcheck.rules import ALL_RULES
from tests.expectations import labels


def _cases():
    for rule in ALL_RULES:
        for kind in ("valid", "invalid"):
            for number, example in enumerate(getattr(rule, kind), start=1):
                yield pytest.param(rule, kind, example, id=f"{rule.code}-{kind}-{number}")


def _write(tmp_path: Path, example, rule) -> list[Path]:
    files = example if isinstance(example, dict) else {"example.py": example}
    written = []
    for name, text in files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip("\n"))
        if target.suffix == ".py":
            written.append(target)
    if not (tmp_path / "pyproject.toml").exists():
        (tmp_path / "pyproject.toml").write_text("[tool.dbcheck]\n")
    return written


SNAPSHOT = Path(__file__).with_name("snapshots") / "rule_examples.txt"


def _run_example(tmp_path: Path, monkeypatch, rule, example):
    files = _write(tmp_path, example, rule)
    monkeypatch.chdir(tmp_path)
    config = load_config(start=tmp_path)
    return files, analyze([tmp_path], config)


def _snapshot_lines(case_id: str, findings) -> list[str]:
    out = []
    for f in sorted(findings):
        fix = ""
        if f.fix is not None:
            fix = f" [{f.fix.safety} fix: " + "; ".join(f"{e.kind}@{e.line} {' '.join(e.values)}" for e in f.fix.edits) + "]"
        out.append(f"{case_id} {f.path}:{f.line}:{f.column}: {f.code} {f.message}{fix}")
    return out


def test_rule_examples_match_the_snapshot(tmp_path_factory, monkeypatch):
    """Every example's findings of every rule - column, message, fix - as recorded."""
    lines: list[str] = []
    for case in _cases():
        rule, kind, example = case.values
        tmp = tmp_path_factory.mktemp("example")
        _files, result = _run_example(tmp, monkeypatch, rule, example)
        lines += _snapshot_lines(case.id, [f for f in result.findings if f.code == rule.code])
    text = "\n".join(lines) + "\n"
    if os.environ.get("DBCHECK_UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(text)
    assert text == SNAPSHOT.read_text()


@pytest.mark.parametrize("rule, kind, example", list(_cases()))
def test_rule_example(tmp_path, monkeypatch, rule, kind, example):
    files, result = _run_example(tmp_path, monkeypatch, rule, example)
    assert not result.errors
    found = {(f.path, f.line) for f in result.findings if f.code == rule.code}
    expected, forbidden = set(), set()
    for path in files:
        exp, forb = labels(path.read_text())
        rel = str(path.relative_to(tmp_path))
        expected |= {(rel, line) for line, code in exp if code == rule.code}
        forbidden |= {(rel, line) for line, code in forb if code == rule.code}
    if kind == "valid":
        assert found == set(), [f for f in result.findings if f.code == rule.code]
    else:
        assert expected, "an INVALID example must mark where its finding lands"
        assert found == expected, [f for f in result.findings if f.code == rule.code]
    assert not (found & forbidden)


def test_every_rule_declares_its_documentation():
    codes = [rule.code for rule in ALL_RULES]
    assert len(codes) == len(set(codes))
    for rule in ALL_RULES:
        assert rule.code.startswith("DBC") and len(rule.code) == 6
        assert rule.name and rule.summary and rule.what_it_does and rule.why_bad
        assert rule.invalid, f"{rule.code} has no INVALID example"
        assert rule.valid, f"{rule.code} has no VALID example"
        doc = rule.documentation()
        for section in ("## What it does", "## Why is this bad?", "## Known problems", "## Fix safety"):
            assert section in doc
