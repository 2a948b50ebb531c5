"""Accepted findings: ``--write-baseline FILE`` records today's, ``--baseline FILE`` (or
``baseline = "..."`` in the configuration) reports only the ones not recorded.

A finding's identity is its rule, its file (relative to the project root), its message
(which names the table, column or function, never a line) and its rank among identical
findings in that file - so edits above a finding do not bring it back, and a fixed
finding drops out of the file on the next write."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Sequence

from dbcheck import __version__
from dbcheck.atomic import write_atomic
from dbcheck.syntax.files import read_regular_file
from dbcheck.findings import Finding, fingerprints

FORMAT_VERSION = 1


class BaselineError(Exception):
    pass


def _relative(findings: Sequence[Finding], root: Path) -> list[Finding]:
    out = []
    for f in findings:
        rel = os.path.relpath(os.path.abspath(f.path), os.path.abspath(root)).replace(os.sep, "/")
        out.append(Finding(rel, f.line, f.column, f.code, f.message))
    return out


def identities(findings: Sequence[Finding], root: Path) -> dict[Finding, str]:
    relative = _relative(findings, root)
    prints = fingerprints(relative)
    return {original: prints[rel] for original, rel in zip(findings, relative)}


def write_baseline(path: Path, findings: Sequence[Finding], root: Path) -> int:
    ids = identities(findings, root)
    entries = sorted(
        ({"code": f.code, "path": rel.path, "fingerprint": ids[f], "message": f.message}
         for f, rel in zip(findings, _relative(findings, root))),
        key=lambda e: (e["path"], e["code"], e["fingerprint"]))
    data = {"version": FORMAT_VERSION, "generator": f"dbcheck {__version__}", "findings": entries}
    write_atomic(path, (json.dumps(data, indent=1) + "\n").encode("utf-8"))
    return len(entries)


def load_baseline(path: Path) -> set[str]:
    try:
        data = json.loads(read_regular_file(path, 256 * 1024 * 1024))
    except OSError as err:
        raise BaselineError(f"{path}: cannot read the baseline ({err.strerror or err})") from err
    except (ValueError, RecursionError) as err:
        raise BaselineError(f"{path}: not a dbcheck baseline (invalid JSON: {err})") from err
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION or not isinstance(data.get("findings"), list):
        raise BaselineError(f"{path}: not a dbcheck baseline (expected version {FORMAT_VERSION})")
    return {e["fingerprint"] for e in data["findings"] if isinstance(e, dict) and isinstance(e.get("fingerprint"), str)}


def new_findings(findings: Sequence[Finding], accepted: set[str], root: Path) -> list[Finding]:
    ids = identities(findings, root)
    return [f for f in findings if ids[f] not in accepted]
