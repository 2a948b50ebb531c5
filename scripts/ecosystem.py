#!/usr/bin/env python3
"""Ecosystem check, after ruff's: run dbcheck over local checkouts of real projects and
show what a change adds or removes compared with a stored summary.

The summary holds, per project, the count of findings per rule and one fingerprint per
finding (a hash of the rule, the file and the message, so unrelated edits that shift
lines do not show up) - never the projects' code.

    python scripts/ecosystem.py polar=/work/real/polar/server ctfd=/work/real/ctfd
    python scripts/ecosystem.py --update polar=... ctfd=...      # store today's result

The configuration a project's maintainers would write is kept in
``scripts/ecosystem/NAME.toml`` and used when it exists (or pass name=path:config.toml;
else the checkout's own [tool.dbcheck]). The summary records the commit each checkout
was at: a checkout at another commit is compared anyway, with a warning, since the
project's own changes then show up too. Exit 1 when the findings differ from the summary,
so CI can gate on it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

DEFAULT_SUMMARY = Path(__file__).with_name("ecosystem-summary.json")
CONFIGS = Path(__file__).with_name("ecosystem")


def fingerprint(finding: dict) -> str:
    text = f"{finding['code']}|{finding['path']}|{finding['message']}"
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def run_dbcheck(checkout: Path, config: Path | None) -> list[dict]:
    # the installed command, never ``python -m`` from inside the checkout (which would put
    # the checkout first on sys.path)
    command = [str(Path(sys.executable).parent / "dbcheck"), ".", "--format", "json", "--no-cache"]
    if config is not None:
        command += ["--config", str(config)]
    proc = subprocess.run(command, cwd=checkout, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"dbcheck failed on {checkout} (exit {proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout or "[]")


def commit_of(checkout: Path) -> str:
    proc = subprocess.run(["git", "rev-parse", "HEAD"], cwd=checkout, capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else ""


def summarise(findings: list[dict], commit: str) -> dict:
    return {
        "commit": commit,
        "counts": dict(sorted(Counter(f["code"] for f in findings).items())),
        "fingerprints": sorted({fingerprint(f) for f in findings}),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("projects", nargs="+", metavar="NAME=PATH[:CONFIG]")
    parser.add_argument("--summary", type=Path, default=DEFAULT_SUMMARY)
    parser.add_argument("--update", action="store_true", help="store the current result as the summary")
    args = parser.parse_args(argv)

    stored = json.loads(args.summary.read_text()) if args.summary.exists() else {}
    current: dict[str, dict] = {}
    details: dict[str, dict[str, dict]] = {}
    for spec in args.projects:
        name, _, rest = spec.partition("=")
        path, _, config = rest.partition(":")
        kept = CONFIGS / f"{name}.toml"
        chosen = Path(config).resolve() if config else kept if kept.exists() else None
        findings = run_dbcheck(Path(path), chosen)
        current[name] = summarise(findings, commit_of(Path(path)))
        details[name] = {fingerprint(f): f for f in findings}

    changed = False
    for name, summary in current.items():
        before = stored.get(name, {"counts": {}, "fingerprints": []})
        if before.get("commit") and before["commit"] != summary["commit"]:
            print(f"!! {name} is at {summary['commit'][:12]}, the summary at {before['commit'][:12]}: "
                  "the project's own changes show up too")
        added = sorted(set(summary["fingerprints"]) - set(before["fingerprints"]))
        removed = sorted(set(before["fingerprints"]) - set(summary["fingerprints"]))
        codes = sorted(set(summary["counts"]) | set(before["counts"]))
        print(f"== {name}: {sum(summary['counts'].values())} findings "
              f"(+{len(added)} -{len(removed)} against the summary)")
        for code in codes:
            old, new = before["counts"].get(code, 0), summary["counts"].get(code, 0)
            mark = "" if old == new else f"  ({new - old:+d})"
            print(f"   {code}: {new}{mark}")
        for fp in added:
            f = details[name][fp]
            print(f"   + {f['path']}:{f['line']}: {f['code']} {f['message']}")
        if removed:
            print(f"   - {len(removed)} finding(s) no longer reported: {', '.join(removed[:10])}"
                  + (" ..." if len(removed) > 10 else ""))
        changed = changed or bool(added or removed)

    if args.update:
        stored.update(current)
        args.summary.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n")
        print(f"summary written to {args.summary}")
        return 0
    return 1 if changed else 0


if __name__ == "__main__":
    raise SystemExit(main())
