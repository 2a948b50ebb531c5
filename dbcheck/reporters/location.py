"""Where a finding is, for the outputs a CI server maps to the repository: its path
relative to the project root, whichever directory dbcheck ran from."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Sequence

from dbcheck.findings import Finding


def relative_to_root(path: str, root: Path) -> Optional[str]:
    """``path`` (as shown: relative to the working directory, or absolute) relative to
    ``root``, with forward slashes; ``None`` for a file outside ``root``."""
    absolute = Path(os.path.abspath(path))
    base = Path(os.path.abspath(root))
    for candidate, under in ((absolute, base), (absolute.resolve(), base.resolve())):
        try:
            return candidate.relative_to(under).as_posix()
        except ValueError:
            continue
    return None


def rooted(findings: Sequence[Finding], root: Optional[Path]) -> list[Finding]:
    """The findings with their paths relative to ``root`` (those outside it keep their
    absolute path); as they are without a root."""
    if root is None:
        return list(findings)
    out = []
    for finding in findings:
        relative = relative_to_root(finding.path, root)
        out.append(finding.moved(relative if relative is not None else os.path.abspath(finding.path)))
    return out
