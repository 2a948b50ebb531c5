"""``# noqa`` comments, with flake8's semantics (codes match by prefix)."""

from __future__ import annotations

import re
from typing import Optional

_NOQA = re.compile(
    r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE
)
# Codes are letters then digits, as flake8 reads them: the reason after them
# (``# noqa: DBC501 arguments checked upstream``) names no code.
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)


def parse_noqa_lines(source: str) -> dict[int, Optional[tuple[str, ...]]]:
    """line -> the codes a ``# noqa: ...`` on it names, or None for a bare ``# noqa``."""
    out: dict[int, Optional[tuple[str, ...]]] = {}
    if "noqa" not in source.lower():
        return out
    for number, line in enumerate(source.splitlines(), start=1):
        if "#" not in line or "noqa" not in line.lower():
            continue
        match = _NOQA.search(line)
        if match is None:
            continue
        codes = match.group("codes")
        out[number] = tuple(c.upper() for c in _CODE.findall(codes)) if codes else None
    return out


def is_suppressed(code: str, noqa: Optional[tuple[str, ...]], present: bool) -> bool:
    if not present:
        return False
    if noqa is None:
        return True
    return any(code.startswith(prefix) for prefix in noqa)
