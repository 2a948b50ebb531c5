#!/usr/bin/env python3
"""The speed benchmark: dbcheck against flake8 on the same files, in one run.

    python bench/run.py                       # synthetic corpus, ~2,000 files / 400k lines
    python bench/run.py --corpus DIR          # any checkout (with its [tool.dbcheck])
    python bench/run.py --scale 0.25 --runs 5 --json bench-results.json

Every measurement is a whole process; the timed commands are interleaved and each
figure is the median of ``--runs`` runs, with the peak RSS of that process. Ratios are
computed from figures of the same run, so a noisy machine affects both sides.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from baseline import plugin_free_flake8  # noqa: E402
from corpus import generate  # noqa: E402


def measure(command: list[str], cwd: Path, env: dict | None = None) -> tuple[float, int]:
    """(seconds, peak RSS in MB) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, _status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss // 1024


def dbcheck(*args: str) -> list[str]:
    # the installed command, as a user runs it (python -m would put the corpus on sys.path)
    return [str(Path(sys.executable).parent / "dbcheck"), *args]


def pick_files(root: Path) -> tuple[Path, Path, list[Path]]:
    """(a model file, a file with no database code, five files for pre-commit). The model
    file is the median one, in path order, of the files declaring a ``__tablename__``
    with a column to copy: a typical model file, neither the first nor the most used."""
    py = sorted(p for p in root.rglob("*.py") if ".dbcheck_cache" not in p.parts)
    models = [p for p in py if not {"test", "tests"} & set(p.relative_to(root).parts)
              and _column_line(p.read_text(errors="ignore")) is not None]
    model = models[len(models) // 2] if models else py[0]
    plain = next((p for p in py if "sqlalchemy" not in p.read_text(errors="ignore") and p.stat().st_size > 200), py[-1])
    return model, plain, py[:: max(len(py) // 5, 1)][:5]


_COLUMN = re.compile(r"^(\s+)([A-Za-z_]\w*)(\s*[:=].*\b(?:mapped_column|Column)\(.*\)\s*)$")


def _column_line(text: str) -> int | None:
    """The first one-line column of the first class with a ``__tablename__`` that is not
    a key and not unique (a copy of it is then a plain new column)."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if re.match(r"\s+__tablename__\s*=", line)), None)
    if start is None:
        return None
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if line.strip() and not line[0].isspace():
            return None  # the class ended
        if _COLUMN.match(line) and not re.search(r"primary_key|ForeignKey|unique|#", line):
            return i
    return None


def add_column(original: str, marker: str) -> str:
    """The model with one more column - a copy of an existing one under a new name: a code
    edit that changes a table, in whatever style the file declares columns."""
    lines = original.splitlines(keepends=True)
    at = _column_line(original)
    if at is None:
        return original + f"\nbench_edit_{marker} = None\n"
    copy = _COLUMN.sub(lambda m: f"{m.group(1)}{m.group(2)}_bench{marker}{m.group(3)}", lines[at].rstrip("\n"))
    return "".join(lines[: at + 1] + [copy + "\n"] + lines[at + 1:])


def add_function(original: str, marker: str) -> str:
    return original + f"\n\ndef bench_edit_{marker}():\n    return {marker}\n"


def _wait_for_daemon(root: Path, shown: str, env: dict, seconds: float = 120.0) -> None:
    """Until the daemon the last flake8 run started answers (it loads the project first).
    Asked from a process like the timed ones: the dbcheck they import names the socket."""
    probe = ("import sys, time\nfrom pathlib import Path\nfrom dbcheck import daemon\n"
             "from dbcheck.config import load_config\nconfig = load_config(start=Path.cwd())\n"
             "end = time.monotonic() + float(sys.argv[2])\n"
             "while daemon.ask(config, sys.argv[1], None) is None and time.monotonic() < end:\n"
             "    time.sleep(0.1)\n")
    subprocess.run([sys.executable, "-c", probe, shown, str(seconds)], cwd=root, env=env)


def peak_rss(pid: int) -> int:
    """A running process's peak RSS in MB (``VmHWM``; Linux only, else 0)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            hwm = next(line for line in status if line.startswith("VmHWM:"))
        return int(hwm.split()[1]) // 1024
    except (OSError, StopIteration, ValueError):
        return 0


def _stop_daemon(root: Path, env: dict) -> int:
    """Stop the project's daemon; its peak RSS in MB, read from /proc first (Linux; 0
    elsewhere)."""
    peak = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            cmdline = (status.parent / "cmdline").read_bytes().split(b"\0")
            if b"dbcheck.daemon" not in cmdline or Path(os.readlink(status.parent / "cwd")) != root:
                continue
        except OSError:
            continue
        peak = max(peak, peak_rss(int(status.parent.name)))
    subprocess.run(dbcheck("daemon", "--stop", str(root)), cwd=root, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, help="an existing checkout instead of the synthetic corpus")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--profile", choices=("standard", "dense"), default="standard",
                        help="the synthetic corpus: standard, or dense (nearly every module queries)")
    parser.add_argument("--cold-only", action="store_true",
                        help="only the cold run against flake8 (no edits, no daemon)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-scaling", action="store_true", help="skip the 1x/2x/4x cold runs")
    parser.add_argument("--json", type=Path, default=Path("bench-results.json"))
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="dbcheck-bench-"))
    if args.corpus:
        root = args.corpus.resolve()
        size = {"files": sum(1 for _ in root.rglob("*.py")), "lines": None}
    else:
        root = work / "corpus"
        size = generate(root, args.scale, profile=args.profile)
    env = dict(os.environ, DBCHECK_CACHE_DIR=str(work / "cache"))
    # measure as installed tools run: with bytecode caches written (some CI images turn them off)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    model, plain, five = pick_files(root)
    rel = lambda p: str(p.relative_to(root))  # noqa: E731

    flake8_alone = plugin_free_flake8(work)
    flake8_all = [*flake8_alone, "--select", "E,F", "-j", "2", "."]
    flake8_one_plain = [*flake8_alone, "--select", "E,F", rel(model)]
    flake8_one_plugin = [str(Path(sys.executable).parent / "flake8"), "--select", "E,F,DBC", rel(model)]
    if not args.cold_only:
        subprocess.run(dbcheck("."), cwd=root, env=env, stdout=subprocess.DEVNULL)  # warm the cache

    samples: dict[str, list[tuple[float, int]]] = {}
    daemons: dict[str, int] = {}

    def record(name: str, command: list[str], before=None, run_env: dict = env) -> None:
        if before is not None:
            before()
        samples.setdefault(name, []).append(measure(command, root, run_env))

    model_text, plain_text = model.read_text(), plain.read_text()
    edits = iter(range(10**6))

    def start_daemon(run_env: dict) -> None:
        """The first flake8 run after an edit analyses in its own process and starts the
        plugin's daemon (dbcheck.daemon); every later save is answered by the daemon. The
        figures are that steady state: the daemon is started, unmeasured, beforehand."""
        model.write_text(add_column(model_text, str(next(edits))))
        subprocess.run(flake8_one_plugin, cwd=root, env=run_env, stdout=subprocess.DEVNULL)
        _wait_for_daemon(root, rel(model), run_env)

    try:
        if args.cold_only:
            for _ in range(args.runs):
                record("flake8 E,F -j2 (all files)", flake8_all)
                record("dbcheck cold (--no-cache)", dbcheck(".", "--no-cache"))
            return _report_cold(args, root, size, samples, os.getloadavg())
        start_daemon(env)
        for _ in range(args.runs):
            record("flake8 E,F -j2 (all files)", flake8_all)
            record("dbcheck cold (--no-cache)", dbcheck(".", "--no-cache"))
            record("dbcheck warm (nothing changed)", dbcheck("."))
            # code edits, a new one each time: a column added to a model, a function to a plain module
            record("dbcheck after one model file changed", dbcheck("."),
                   lambda: model.write_text(add_column(model_text, str(next(edits)))))
            record("dbcheck after one unrelated file changed", dbcheck("."),
                   lambda: plain.write_text(add_function(plain_text, str(next(edits)))))
            subprocess.run(dbcheck("."), cwd=root, env=env, stdout=subprocess.DEVNULL)
            record("flake8 + DBC on one file (warm)", flake8_one_plugin)
            record("flake8 on one file, plugin disabled", flake8_one_plain)
            record("pre-commit path: dbcheck on 5 files (warm)", dbcheck(*[rel(p) for p in five]))
            record("flake8 + DBC on a file just edited", flake8_one_plugin,
                   lambda: model.write_text(add_column(model_text, str(next(edits)))))
        # The daemon watches the project's files (inotify, on Linux), so it starts on an
        # edit before flake8 asks. The same without watching, where the request finds
        # the edit (other systems, or a watch limit reached): another daemon, alone.
        daemons = {"watching": _stop_daemon(root, env)}
        unwatched = dict(env, DBCHECK_DAEMON_WATCH="0")
        start_daemon(unwatched)
        for _ in range(args.runs):
            record("flake8 on one file, plugin disabled (daemon not watching)", flake8_one_plain)
            record("flake8 + DBC on a file just edited, daemon not watching", flake8_one_plugin,
                   lambda: model.write_text(add_column(model_text, str(next(edits)))), unwatched)
    finally:
        model.write_text(model_text)
        plain.write_text(plain_text)
        if not args.cold_only:
            daemons["not watching"] = _stop_daemon(root, env)
        else:
            shutil.rmtree(work, ignore_errors=True)

    table = {name: {"median_s": statistics.median(t for t, _ in runs), "peak_rss_mb": max(r for _, r in runs),
                    "runs": len(runs)} for name, runs in samples.items()}
    m = {name: row["median_s"] for name, row in table.items()}
    cold = m["dbcheck cold (--no-cache)"]
    ratios = {
        "cold / flake8 E,F -j2 (target <= 0.6)": cold / m["flake8 E,F -j2 (all files)"],
        "warm / cold (target <= 0.05)": m["dbcheck warm (nothing changed)"] / cold,
        "one model changed / cold (target <= 0.15)": m["dbcheck after one model file changed"] / cold,
        "one unrelated file changed / cold": m["dbcheck after one unrelated file changed"] / cold,
        "flake8+DBC / flake8 on one unchanged file (target <= 1.5)":
            m["flake8 + DBC on one file (warm)"] / m["flake8 on one file, plugin disabled"],
        "flake8+DBC on a just-edited file / flake8 (target <= 3)":
            m["flake8 + DBC on a file just edited"] / m["flake8 on one file, plugin disabled"],
        "the same, daemon not watching / flake8":
            m["flake8 + DBC on a file just edited, daemon not watching"]
            / m["flake8 on one file, plugin disabled (daemon not watching)"],
    }

    scaling = {}
    if not args.corpus and not args.no_scaling:
        for factor in (1, 2, 4):
            scaled = work / f"scale{factor}"
            size_f = generate(scaled, args.scale * factor)
            seconds, rss = measure(dbcheck(".", "--no-cache"), scaled, env)
            scaling[f"{factor}x"] = {"files": size_f["files"], "lines": size_f["lines"], "cold_s": seconds,
                                     "us_per_line": seconds / size_f["lines"] * 1e6, "peak_rss_mb": rss}
            shutil.rmtree(scaled, ignore_errors=True)
        base = scaling["1x"]["us_per_line"]
        ratios["cost per line at 4x / 1x (target <= 1.2)"] = scaling["4x"]["us_per_line"] / base
        ratios["peak RSS at 4x, MB (target <= 400)"] = scaling["4x"]["peak_rss_mb"]

    print(f"corpus: {root} ({size['files']} files, {size['lines'] or '?'} lines), medians of {args.runs}, interleaved")
    print(f"edited: the model {rel(model)} (a column added), the unrelated {rel(plain)} (a function added)")
    width = max(len(n) for n in table)
    for name, row in table.items():
        print(f"  {name:<{width}}  {row['median_s']:7.3f} s   peak RSS {row['peak_rss_mb']:4d} MB")
    for name, row in scaling.items():
        print(f"  cold at {name}: {row['files']} files, {row['lines']} lines, {row['cold_s']:.2f} s, "
              f"{row['us_per_line']:.1f} us/line, peak RSS {row['peak_rss_mb']} MB")
    for kind, mb in daemons.items():
        print(f"  the plugin's daemon ({kind}): peak RSS {mb} MB")
    print("ratios:")
    for name, value in ratios.items():
        print(f"  {name}: {value:.3f}")
    args.json.write_text(json.dumps({"corpus": str(root), "size": size, "runs": args.runs, "table": table,
                                     "model_file": rel(model), "unrelated_file": rel(plain),
                                     "scaling": scaling, "ratios": ratios, "daemon_peak_rss_mb": daemons},
                                    indent=2) + "\n")
    print(f"written to {args.json}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


def _report_cold(args: argparse.Namespace, root: Path, size: dict, samples: dict, load: tuple) -> int:
    rows = {name: (statistics.median(t for t, _ in runs), max(r for _, r in runs)) for name, runs in samples.items()}
    (cold, cold_rss), (flake8, flake8_rss) = rows["dbcheck cold (--no-cache)"], rows["flake8 E,F -j2 (all files)"]
    print(f"corpus: {root} ({size['files']} files, {size['lines'] or '?'} lines), medians of {args.runs}, "
          f"interleaved; load average after: {load[0]:.2f} (2 cores busy with the runs themselves)")
    print(f"  flake8 E,F -j2 (without the plugin)  {flake8:7.3f} s   peak RSS {flake8_rss:4d} MB")
    print(f"  dbcheck cold (--no-cache)            {cold:7.3f} s   peak RSS {cold_rss:4d} MB")
    print(f"ratio cold / flake8 (target <= 0.6): {cold / flake8:.3f}")
    args.json.write_text(json.dumps({"corpus": str(root), "size": size, "runs": args.runs, "load_after": load,
                                     "flake8_s": flake8, "cold_s": cold, "cold_peak_rss_mb": cold_rss,
                                     "ratio": cold / flake8}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
