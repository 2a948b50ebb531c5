"""What many test modules share: copies of the example projects, and dbcheck run as a
user runs it (the installed command, from the project's folder)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
DBCHECK = str(Path(sys.executable).parent / "dbcheck")


def copy_fixture(name: str, into: Path) -> Path:
    """A fresh copy of ``fixtures/<name>`` at ``into/<name>`` (its cache left behind)."""
    root = into / name
    shutil.copytree(FIXTURES / name, root, ignore=shutil.ignore_patterns(".dbcheck_cache", "__pycache__"))
    return root


def run_dbcheck(args: list[str], cwd: Path, env: Optional[dict[str, str]] = None,
                timeout: float = 300) -> subprocess.CompletedProcess:
    """``dbcheck ARGS`` in ``cwd``; ``env`` adds to (or overrides) the environment."""
    return subprocess.run([DBCHECK, *args], cwd=cwd, env=dict(os.environ, **(env or {})),
                          capture_output=True, text=True, timeout=timeout)


def write_project(root: Path, files: dict[str, str]) -> Path:
    """A project at ``root`` (marked by ``.git``, as a checkout is) holding ``files``,
    each path relative to it, each text dedented."""
    (root / ".git").mkdir(exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root
