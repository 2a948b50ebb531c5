"""The command line: argument parsing and exit codes, nothing else."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import NoReturn, Optional, Sequence

from dbcheck import __version__
from dbcheck.baseline import BaselineError, load_baseline, new_findings, write_baseline
from dbcheck.cache import Cache
from dbcheck.config import Config, ConfigError, load_config
from dbcheck.findings import UNANALYSED, printable

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
SUBCOMMANDS = ("rules", "rule", "schema", "fix", "clean", "daemon")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse exits 2 too; keep its message short
        self.print_usage(sys.stderr)
        sys.stderr.write(f"dbcheck: error: {message}\n")
        raise SystemExit(EXIT_ERROR)


def _check_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="dbcheck",
        description="Static checks for SQLAlchemy / SQLModel / Flask-SQLAlchemy code. "
        "Subcommands: 'dbcheck rules', 'dbcheck rule CODE', 'dbcheck schema [PATH]'.",
    )
    parser.add_argument("paths", nargs="*", default=["."], metavar="PATH")
    parser.add_argument("--format", choices=("text", "json", "sarif", "github"), default="text")
    parser.add_argument("--select", help="comma-separated code prefixes to report (replaces the config)")
    parser.add_argument("--extend-select", help="code prefixes to add to the selection (e.g. DBC900)")
    parser.add_argument("--ignore", help="comma-separated code prefixes to leave out (replaces the config)")
    parser.add_argument("--config", type=Path, help="a pyproject.toml or dbcheck.toml to read instead of searching")
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the index cache")
    parser.add_argument("--baseline", type=Path, metavar="FILE",
                        help="report only findings not recorded in FILE (also: baseline = in the config)")
    parser.add_argument("--write-baseline", type=Path, metavar="FILE",
                        help="record today's findings in FILE and exit 0")
    parser.add_argument("--fix", action="store_true", help="apply the safe fixes (DBC303: index=True)")
    parser.add_argument("--unsafe-fixes", action="store_true",
                        help="with --fix or --diff, also the fixes that change behaviour (DBC302, DBC102)")
    parser.add_argument("--diff", action="store_true", help="print the fixes as a diff instead of writing them")
    parser.add_argument("--migration", type=Path, metavar="DIR",
                        help="with --fix: also write the Alembic revision creating the added indexes into DIR")
    parser.add_argument("--jobs", type=int, metavar="N",
                        help="processes for parsing a cold project (default: the number of cores)")
    parser.add_argument("--version", action="version", version=f"dbcheck {__version__}")
    return parser


def _load(paths: Sequence[str], config_path: Optional[Path]) -> Config:
    """The configuration for the first path, found from where the path is, never from
    where a symbolic link of the checked tree points (that could make any folder of the
    machine the project, and put a cache there)."""
    start = Path(paths[0]) if paths else Path.cwd()
    if not os.path.lexists(start):
        return load_config(config_path, start=Path.cwd())
    if os.path.isdir(start) and not os.path.islink(start):
        return load_config(config_path, start=start.resolve())
    folder = Path(os.path.abspath(start)).parent
    return load_config(config_path, start=folder.resolve())


def _run_check(argv: Sequence[str]) -> int:
    from dbcheck.engine import analyze
    from dbcheck.reporters import REPORTERS

    args = _check_parser().parse_args(argv)
    try:
        config = _load(args.paths, args.config)
        config = config.with_overrides(select=args.select, ignore=args.ignore, extend_select=args.extend_select)
    except ConfigError as err:
        sys.stderr.write(f"dbcheck: {err}\n")
        return EXIT_ERROR
    cache = None if args.no_cache else Cache.for_project(config.root)
    result = analyze([Path(p) for p in args.paths], config, cache=cache, jobs=args.jobs)
    findings, problems = _split_unanalysed(result.findings, result.errors)
    _report_problems(result.messages, problems)
    if args.write_baseline is not None:
        try:
            count = write_baseline(args.write_baseline, findings, config.root)
        except OSError as err:
            sys.stderr.write(f"dbcheck: error: cannot write {printable(str(args.write_baseline))}: {err.strerror or err}\n")
            return EXIT_ERROR
        sys.stderr.write(f"dbcheck: {count} finding(s) recorded in {printable(str(args.write_baseline))}\n")
        return EXIT_ERROR if problems else EXIT_CLEAN
    baseline = args.baseline or (config.root / config.baseline if config.baseline else None)
    if baseline is not None:
        try:
            findings = new_findings(findings, load_baseline(Path(baseline)), config.root)
        except BaselineError as err:
            sys.stderr.write(f"dbcheck: {err}\n")
            return EXIT_ERROR
    if args.fix or args.diff:
        return _run_fixes(args, config, findings, cache, problems)
    sys.stdout.write(REPORTERS[args.format](findings, problems))
    if problems:
        return EXIT_ERROR
    return EXIT_FINDINGS if findings else EXIT_CLEAN


def _split_unanalysed(findings: list, errors: list[str]) -> tuple[list, list[str]]:
    """(the findings to report, every reason the run is incomplete: files not analysed
    (``DBC000``), folders not read, internal errors) - each problem one line."""
    problems = [f"{f.path}: {f.message}" for f in findings if f.code == UNANALYSED] + list(errors)
    return [f for f in findings if f.code != UNANALYSED], problems


def _report_problems(messages: Sequence[str], problems: Sequence[str]) -> None:
    for message in messages:
        sys.stderr.write(f"dbcheck: {printable(message)}\n")
    for problem in problems:
        sys.stderr.write(f"dbcheck: error: {printable(problem)}\n")


def _run_fixes(args: argparse.Namespace, config: Config, findings: list, cache: Optional[Cache],
               problems: Sequence[str] = ()) -> int:
    from dbcheck import fix
    from dbcheck.engine import analyze

    plans = fix.plan_fixes(findings, args.unsafe_fixes)
    if args.diff:
        for plan in plans:
            sys.stdout.write(plan.diff())
        if problems:
            return EXIT_ERROR
        return EXIT_FINDINGS if plans else EXIT_CLEAN
    _fixed, write_errors = fix.apply(plans, config.root)
    for error in write_errors:
        sys.stderr.write(f"dbcheck: error: {error}\n")
    message = fix.summary(plans)
    if message:
        sys.stderr.write(f"dbcheck: {message}\n")
    if args.migration is not None:
        from dbcheck.migration import MigrationError, added_indexes, write_revision

        try:
            written = write_revision(args.migration, added_indexes([f for p in plans for f in p.fixed]))
        except MigrationError as err:
            sys.stderr.write(f"dbcheck: {err}\n")
            return EXIT_ERROR
        if written is not None:
            sys.stderr.write(f"dbcheck: wrote {written}\n")
    remaining = analyze([Path(p) for p in args.paths], config, cache=cache, jobs=args.jobs)
    left, problems = _split_unanalysed(remaining.findings, remaining.errors)
    _report_problems([], problems)
    sys.stdout.write(_reporter(args.format)(left, problems))
    if problems or write_errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if left else EXIT_CLEAN


def _reporter(name: str):
    from dbcheck.reporters import REPORTERS

    return REPORTERS[name]


def rules_markdown() -> str:
    """The README's rule table, from the rules' own declarations."""
    from dbcheck.rules import ALL_RULES

    rows = ["| code | name | what it flags |", "|---|---|---|"]
    for rule in ALL_RULES:
        flag = " *(off by default)*" if not rule.default_enabled else ""
        rows.append(f"| {rule.code} | {rule.name} | {rule.summary}{flag} |")
    return "\n".join(rows) + "\n"


def _run_rules(argv: Sequence[str]) -> int:
    parser = _Parser(prog="dbcheck rules", description="List every rule.")
    parser.add_argument("--format", choices=("text", "markdown"), default="text")
    if parser.parse_args(argv).format == "markdown":
        sys.stdout.write(rules_markdown())
        return EXIT_CLEAN
    from dbcheck.rules import ALL_RULES

    width = max(len(r.name) for r in ALL_RULES)
    for rule in ALL_RULES:
        flag = "" if rule.default_enabled else " (off by default)"
        sys.stdout.write(f"{rule.code}  {rule.name:<{width}}  {rule.summary}{flag}\n")
    return EXIT_CLEAN


def _run_rule(argv: Sequence[str]) -> int:
    parser = _Parser(prog="dbcheck rule", description="Show one rule's documentation.")
    parser.add_argument("code")
    args = parser.parse_args(argv)
    from dbcheck.rules import RULES_BY_CODE

    rule = RULES_BY_CODE.get(args.code.upper())
    if rule is None:
        sys.stderr.write(f"dbcheck: unknown rule {args.code!r}; 'dbcheck rules' lists them\n")
        return EXIT_ERROR
    sys.stdout.write(rule.documentation())
    return EXIT_CLEAN


def _run_schema(argv: Sequence[str]) -> int:
    from dbcheck.engine import build_project
    from dbcheck.reporters.schema import render_json, render_mermaid, render_text

    parser = _Parser(prog="dbcheck schema", description="Print the schema dbcheck extracted.")
    parser.add_argument("paths", nargs="*", default=["."], metavar="PATH")
    parser.add_argument("--format", choices=("text", "json", "mermaid"), default="text")
    parser.add_argument("--config", type=Path)
    parser.add_argument("--no-cache", action="store_true")
    args = parser.parse_args(argv)
    try:
        config = _load(args.paths, args.config)
    except ConfigError as err:
        sys.stderr.write(f"dbcheck: {err}\n")
        return EXIT_ERROR
    cache = None if args.no_cache else Cache.for_project(config.root)
    index, messages, errors, _given = build_project([Path(p) for p in args.paths], config, cache=cache)
    messages = messages + (cache.warnings if cache is not None else [])
    unanalysed = [f"{m.path}: not analysed: {m.notice}" for m in index.modules.values() if m.notice]
    _report_problems(messages, unanalysed + errors)
    render = {"text": render_text, "json": render_json, "mermaid": render_mermaid}[args.format]
    sys.stdout.write(render(index))
    return EXIT_ERROR if errors or unanalysed else EXIT_CLEAN


def _path_and_config(parser: argparse.ArgumentParser, argv: Sequence[str]
                     ) -> tuple[argparse.Namespace, Optional[Config]]:
    """A subcommand's optional PATH and --config, and the configuration they name (None
    after printing why there is none)."""
    parser.add_argument("path", nargs="?", default=".", metavar="PATH")
    parser.add_argument("--config", type=Path)
    args = parser.parse_args(argv)
    try:
        return args, _load([args.path], args.config)
    except ConfigError as err:
        sys.stderr.write(f"dbcheck: {err}\n")
        return args, None


def _run_clean(argv: Sequence[str]) -> int:
    from dbcheck.cache import remove_cache

    parser = _Parser(prog="dbcheck clean", description="Remove the project's cache folder (and stop its daemon).")
    args, config = _path_and_config(parser, argv)
    if config is None:
        return EXIT_ERROR
    from dbcheck import daemon

    if daemon.supported():
        daemon.stop(config)
    cache = Cache.for_project(config.root)
    try:
        removed = remove_cache(cache.folder)
    except OSError as err:
        sys.stderr.write(f"dbcheck: error: cannot remove {printable(str(cache.folder))}: {err.strerror or err}\n")
        return EXIT_ERROR
    if removed:
        sys.stderr.write(f"dbcheck: removed {printable(str(cache.folder))}\n")
    return EXIT_CLEAN


def _run_daemon(argv: Sequence[str]) -> int:
    from dbcheck import daemon

    parser = _Parser(prog="dbcheck daemon", description="Manage the flake8 plugin's per-project daemon.")
    parser.add_argument("--stop", action="store_true", required=True,
                        help="stop the daemon of the project PATH belongs to (for this working directory)")
    args, config = _path_and_config(parser, argv)
    if config is None:
        return EXIT_ERROR
    stopped = daemon.stop(config) if daemon.supported() else False
    sys.stdout.write("stopped\n" if stopped else "no daemon was running for this project and working directory\n")
    return EXIT_CLEAN


def main(argv: Optional[Sequence[str]] = None) -> int:
    if sys.version_info < (3, 11):  # requires-python says so; an install that forced it gets a sentence
        sys.stderr.write("dbcheck: error: dbcheck needs Python 3.11 or newer\n")
        return EXIT_ERROR
    argv = list(sys.argv[1:] if argv is None else argv)
    for stream in (sys.stdout, sys.stderr):
        # a file name that is not valid UTF-8 is printed escaped, not a crash
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    try:
        if argv and argv[0] == "fix":
            return _run_check(argv[1:] + ["--fix"])  # dbcheck fix --migration DIR [PATH ...]
        if argv and argv[0] in SUBCOMMANDS:
            handler = {"rules": _run_rules, "rule": _run_rule, "schema": _run_schema, "clean": _run_clean,
                       "daemon": _run_daemon}[argv[0]]
            return handler(argv[1:])
        return _run_check(argv)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_CLEAN
