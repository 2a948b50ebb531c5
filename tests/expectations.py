"""Inline expectations: ``# expect: DBC302, DBC303`` marks the findings a line must
carry; ``# ok: DBC303`` marks a tricky negative that must stay silent."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

_EXPECT = re.compile(r"#.*?\bexpect:\s*([A-Z0-9,\s]+)")
_OK = re.compile(r"#.*?\bok:\s*([A-Z0-9,\s]+)")
_CODE = re.compile(r"[A-Z]{1,3}[0-9]{3}")


def labels(source: str) -> tuple[set[tuple[int, str]], set[tuple[int, str]]]:
    """(expected, must-not) as sets of (line, code)."""
    expected: set[tuple[int, str]] = set()
    forbidden: set[tuple[int, str]] = set()
    for number, line in enumerate(source.splitlines(), start=1):
        if "#" not in line:
            continue
        for match in _EXPECT.finditer(line):
            expected.update((number, code) for code in _CODE.findall(match.group(1)))
        for match in _OK.finditer(line):
            forbidden.update((number, code) for code in _CODE.findall(match.group(1)))
    return expected, forbidden


def project_labels(root: Path, files: Iterable[Path], shown: callable = str) -> tuple[set, set]:
    """(expected, forbidden) as sets of (display path, line, code) over many files."""
    expected: set = set()
    forbidden: set = set()
    for path in files:
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
        exp, forb = labels(text)
        expected.update((shown(path), line, code) for line, code in exp)
        forbidden.update((shown(path), line, code) for line, code in forb)
    return expected, forbidden
