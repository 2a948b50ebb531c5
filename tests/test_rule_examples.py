"""Every rule's VALID / INVALID examples, run through the whole engine."""

from __future__ import annotations

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


@pytest.mark.parametrize("rule, kind, example", list(_cases()))
def test_rule_example(tmp_path, monkeypatch, rule, kind, example):
    files = _write(tmp_path, example, rule)
    monkeypatch.chdir(tmp_path)
    config = load_config(start=tmp_path)
    result = analyze([tmp_path], config)
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
