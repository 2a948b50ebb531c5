#!/usr/bin/env python3
"""flake8 on ONE file of a large project, with the DBC plugin (warm cache) against the
same flake8 with the plugin disabled: interleaved runs, medians, and the ratio.

    python bench/flake8_one_file.py --project /path/to/checkout --file path/in/it.py [--runs 15]

The "plugin disabled" run is the same flake8 version installed alone in a virtualenv of
its own (baseline.py), on the same file, so the ratio is the plugin's cost.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baseline import plugin_free_flake8  # noqa: E402


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--file", required=True)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    # warm the cache once
    subprocess.run([str(Path(sys.executable).parent / "dbcheck"), "."], cwd=args.project,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with_plugin = [str(Path(sys.executable).parent / "flake8"), "--select", "E,F,DBC", args.file]
    scratch = tempfile.TemporaryDirectory(prefix="dbcheck-bench-")  # flake8's own virtualenv
    without = [*plugin_free_flake8(Path(scratch.name)), "--select", "E,F", args.file]
    timed(with_plugin, args.project)
    a, b = [], []
    for _ in range(args.runs):
        a.append(timed(with_plugin, args.project))
        b.append(timed(without, args.project))
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"flake8 + DBC plugin (warm): median {ma:.3f}s over {args.runs}")
    print(f"flake8, plugin disabled:    median {mb:.3f}s over {args.runs}")
    print(f"ratio: {ma / mb:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
