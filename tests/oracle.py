"""Helpers for the tests that compare what dbcheck extracts with what SQLAlchemy builds:
the test imports the models it wrote (dbcheck never does), dbcheck reads them."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def on_path(root: Path, package: str) -> Iterator[None]:
    """Put a fixture root on sys.path; afterwards forget every module of its package."""
    sys.path.insert(0, str(root))
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
            del sys.modules[name]


def dbcheck_schema(root: Path) -> dict[str, dict]:
    """``dbcheck schema --format json`` of a project: table name -> table."""
    proc = subprocess.run([sys.executable, "-m", "dbcheck", "schema", ".", "--format", "json", "--no-cache"],
                          cwd=root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return {t["name"]: t for t in json.loads(proc.stdout)["tables"]}
