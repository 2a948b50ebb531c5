"""The command line: subcommands, argument checking, output and exit codes, nothing else."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Callable, NoReturn, Optional, Sequence, TextIO

from dbcheck import __version__
from dbcheck.baseline import BaselineError, load_baseline, new_findings, write_baseline
from dbcheck.cache import Cache
from dbcheck.config import OUTPUT_FORMATS, Config, ConfigError, load_config
from dbcheck.findings import UNANALYSED, Finding, printable

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
# Help is laid out at one width, so the README's copy of `dbcheck --help` stays true.
HELP_WIDTH = 88
# The formats a person reads: a summary line on stderr, colour on a terminal.
_HUMAN_FORMATS = ("text", "concise", "full")

COMMANDS = {
    "check": "check the paths (the default command: 'dbcheck PATH' is 'dbcheck check PATH')",
    "fix": "apply the safe fixes: 'dbcheck check --fix'",
    "rules": "list every rule",
    "rule": "show one rule's documentation",
    "schema": "print the schema dbcheck extracted",
    "clean": "remove the project's cache folder (and stop its daemon)",
    "daemon": "stop the flake8 plugin's daemon ('dbcheck daemon --stop')",
    "server": "run the language server over stdio (needs the lsp extra)",
}


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=HELP_WIDTH, max_help_position=32)


class _Parser(argparse.ArgumentParser):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(**kwargs)

    def error(self, message: str) -> NoReturn:  # argparse exits 2 too; keep its message short
        self.print_usage(sys.stderr)
        sys.stderr.write(f"dbcheck: error: {message}\n")
        raise SystemExit(EXIT_ERROR)


class UsageError(Exception):
    """A flag or value the run cannot act on; exit 2 with this message."""


def _commands_epilog() -> str:
    width = max(map(len, COMMANDS))
    lines = ["commands:"] + [f"  {name:<{width}}  {text}" for name, text in COMMANDS.items()]
    lines += ["", "'dbcheck COMMAND --help' describes a command. A folder named like a command",
              "is checked with 'dbcheck check NAME' or 'dbcheck ./NAME'.",
              "", "exit codes: 0 no findings, 1 findings, 2 usage, configuration or internal error, "
              "or a", "file that could not be analysed."]
    return "\n".join(lines)


def check_parser(prog: str = "dbcheck") -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog,
        usage=f"{prog} [check] [PATH ...] [options]" if prog == "dbcheck" else None,
        description="Static checks for SQLAlchemy / SQLModel / Flask-SQLAlchemy code: tenancy, "
        "secrets, keys,\nindexes, migrations. Nothing checked is imported or run.",
        epilog=_commands_epilog() if prog == "dbcheck" else None,
    )
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="files or folders to check (default: the current folder); a path "
                        "named here is checked even when 'exclude' or .gitignore leave it out")
    out = parser.add_argument_group("output")
    out.add_argument("--output-format", "--format", dest="format", choices=OUTPUT_FORMATS, default=None,
                     metavar="FORMAT",
                     help="text (default: path:line:col: CODE message), concise (the problem only, [*] "
                     "when fixable), full (with the source and a help line), json, json-lines, "
                     "github, gitlab, sarif, junit")
    out.add_argument("--statistics", action="store_true", help="count the findings per rule instead of listing them")
    out.add_argument("-q", "--quiet", action="store_true", help="print the findings only: no summary, no notes")
    out.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    out.add_argument("--show-settings", action="store_true",
                     help="print the settings this path is checked with (the tenant table inferred "
                     "included) and exit")
    out.add_argument("--show-fixes", action="store_true",
                     help="list the findings a fix applies to (with --fix: the ones it applied)")
    sel = parser.add_argument_group("selection")
    sel.add_argument("--select", metavar="CODES", help="comma-separated code prefixes to report (replaces the config)")
    sel.add_argument("--extend-select", metavar="CODES", help="code prefixes to add to the selection (e.g. DBC900)")
    sel.add_argument("--ignore", metavar="CODES", help="comma-separated code prefixes to leave out (replaces the config)")
    sel.add_argument("--force-exclude", action="store_true", default=None,
                     help="leave out paths named here that 'exclude' or .gitignore leave out (pre-commit)")
    sel.add_argument("--no-respect-gitignore", dest="respect_gitignore", action="store_false", default=None,
                     help="check files that .gitignore leaves out")
    sel.add_argument("--stdin-filename", metavar="PATH",
                     help="read the source of PATH from standard input (an editor's unsaved buffer)")
    fixes = parser.add_argument_group("fixes")
    fixes.add_argument("--fix", action="store_true", help="apply the safe fixes (DBC303: index=True; DBC900)")
    fixes.add_argument("--unsafe-fixes", action="store_true",
                       help="with --fix or --diff, also the fixes that change behaviour (DBC302, DBC102)")
    fixes.add_argument("--diff", action="store_true", help="print the fixes as a diff instead of writing them")
    fixes.add_argument("--migration", type=Path, metavar="DIR",
                       help="with --fix: also write the Alembic revision creating the added indexes into DIR")
    other = parser.add_argument_group("project")
    other.add_argument("--config", type=Path, metavar="FILE",
                       help="a pyproject.toml or dbcheck.toml to read instead of searching")
    other.add_argument("--baseline", type=Path, metavar="FILE",
                       help="report only findings not recorded in FILE (also: baseline = in the config)")
    other.add_argument("--write-baseline", type=Path, metavar="FILE",
                       help="record today's findings in FILE and exit 0")
    other.add_argument("--no-cache", action="store_true", help="do not read or write the cache folder")
    other.add_argument("--jobs", type=int, metavar="N",
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


# ---------------------------------------------------------------------- checking what was asked

def _known_codes() -> list[str]:
    from dbcheck.rules import ALL_RULES

    return [rule.code for rule in ALL_RULES]


def unknown_code_message(code: str, known: Sequence[str]) -> Optional[str]:
    """Why ``code`` selects nothing dbcheck reports, or None when it is a prefix of a rule's."""
    if any(k.startswith(code) for k in known):
        return None
    if not code.startswith("DBC"):
        return (f"{code!r} is not a dbcheck code: dbcheck's codes start with DBC "
                "(select other tools' codes in their own configuration)")
    import difflib

    close = difflib.get_close_matches(code, known, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"{code!r} matches no rule{hint}; 'dbcheck rules' lists them"


def _check_codes(config: Config, args: argparse.Namespace) -> None:
    """Every code prefix on the command line and in the configuration must name a rule:
    a typo would otherwise select nothing, and the run would pass."""
    known = _known_codes()
    for flag in ("select", "extend_select", "ignore"):
        value = getattr(args, flag)
        for code in (c.strip() for c in (value or "").split(",") if c.strip()):
            problem = unknown_code_message(code, known)
            if problem:
                raise UsageError(f"--{flag.replace('_', '-')}: {problem}")
    where = printable(str(config.source)) if config.source else "configuration"
    if config.source is not None and config.source.name == "pyproject.toml":
        where += ": tool.dbcheck"
    fields = [("select", config.select), ("extend-select", config.extend_select), ("ignore", config.ignore)]
    fields += [(f"per-file-ignores.{glob!r}", codes) for glob, codes in config.per_file_ignores]
    for key, codes in fields:
        if args.select is not None and key == "select" or args.ignore is not None and key == "ignore":
            continue  # replaced by the command line
        for code in codes:
            problem = unknown_code_message(code, known)
            if problem:
                raise UsageError(f"{where}.{key}: {problem}" if where.endswith("tool.dbcheck")
                                 else f"{where}: {key}: {problem}")


def _check_flags(args: argparse.Namespace, fixing: bool) -> None:
    """Flags that would do nothing are refused: a run that ignores what it was told
    passes for the wrong reason."""
    writing = fixing or args.fix
    if args.migration is not None and not writing:
        raise UsageError("--migration writes the revision for the indexes --fix adds: use it with --fix "
                         "(or 'dbcheck fix --migration DIR')")
    if args.unsafe_fixes and not (writing or args.diff):
        raise UsageError("--unsafe-fixes chooses which fixes --fix or --diff apply: add one of them")
    if args.migration is not None and args.diff:
        raise UsageError("--migration writes a file; --diff writes nothing: use one of them")
    if args.write_baseline is not None and (writing or args.diff):
        raise UsageError("--write-baseline records findings; it cannot be combined with --fix or --diff")
    if args.write_baseline is not None and args.baseline is not None:
        raise UsageError("--write-baseline records every finding; drop --baseline")
    if args.statistics and (args.format or "text") not in _HUMAN_FORMATS:
        raise UsageError(f"--statistics prints its own table; it cannot be combined with --output-format {args.format}")
    if args.statistics and (writing or args.diff):
        raise UsageError("--statistics counts findings; it cannot be combined with --fix or --diff")
    if args.stdin_filename is not None:
        if [p for p in args.paths if p != "-"]:
            raise UsageError("--stdin-filename reads one file from standard input; name no other PATH")
        if writing or args.diff:
            raise UsageError("--fix and --diff write files; they cannot be used with --stdin-filename")
    elif "-" in args.paths:
        raise UsageError("'-' reads standard input: say which file it is with --stdin-filename PATH")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs: expected a number of processes of at least 1")


def _configure(args: argparse.Namespace) -> tuple[Config, list[str]]:
    paths = [args.stdin_filename] if args.stdin_filename is not None else (args.paths or ["."])
    config = _load(paths, args.config)
    config = config.with_overrides(select=args.select, ignore=args.ignore, extend_select=args.extend_select)
    import dataclasses

    changes: dict[str, object] = {}
    if args.force_exclude:
        changes["force_exclude"] = True
    if args.respect_gitignore is False:
        changes["respect_gitignore"] = False
    if changes:
        config = dataclasses.replace(config, **changes)  # type: ignore[arg-type]
    return config, paths


# ---------------------------------------------------------------------- check

def _run_check(argv: Sequence[str], *, prog: str = "dbcheck", fixing: bool = False) -> int:
    args = check_parser(prog).parse_args(argv)
    if fixing:
        args.fix = True
    try:
        _check_flags(args, fixing)
        config, paths = _configure(args)
        _check_codes(config, args)
    except (ConfigError, UsageError) as err:
        sys.stderr.write(f"dbcheck: error: {err}\n" if isinstance(err, UsageError) else f"dbcheck: {err}\n")
        return EXIT_ERROR
    args.format = args.format or config.output_format
    if args.show_settings:
        return _show_settings(paths, config, args)
    from dbcheck.engine import analyze

    sources = None
    if args.stdin_filename is not None:
        sources = {_shown(args.stdin_filename): _read_stdin()}
    cache = None if args.no_cache else Cache.for_project(config.root)
    result = analyze([Path(p) for p in paths], config, sources=sources, cache=cache, jobs=args.jobs)
    findings, problems = _split_unanalysed(result.findings, result.errors)
    _report_problems([] if args.quiet else result.messages, problems)
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
        return _run_fixes(args, config, paths, findings, cache, problems)
    if not findings and not problems and not args.quiet:
        _say_when_nothing_was_checked(paths, config, sources)
    _print_findings(args, config, findings, problems, sources, show_fixable=args.show_fixes)
    if problems:
        return EXIT_ERROR
    return EXIT_FINDINGS if findings and not args.exit_zero else EXIT_CLEAN


def _shown(path: str) -> str:
    from dbcheck.findings import display_path

    return display_path(Path(path))


def _read_stdin() -> str:
    from dbcheck.syntax.source import SourceDecodeError, decode_source

    data = sys.stdin.buffer.read()
    try:
        return decode_source(data)
    except SourceDecodeError:
        return data.decode("utf-8", "replace")  # the parser reports it as DBC001


def _print_findings(args: argparse.Namespace, config: Config, findings: list[Finding], problems: Sequence[str],
                    sources: Optional[dict[str, str]], *, show_fixable: bool = False) -> None:
    from dbcheck.reporters import REPORTERS, want_colour

    colour = args.format in _HUMAN_FORMATS and want_colour(sys.stdout, os.environ)
    if args.statistics:
        from dbcheck.reporters.summary import render_statistics

        sys.stdout.write(render_statistics(findings))
    else:
        render = REPORTERS[args.format]
        if args.format in _HUMAN_FORMATS:
            sys.stdout.write(render(findings, problems, colour=colour, source=_source_reader(sources)))
        elif args.format == "sarif":
            sys.stdout.write(render(findings, problems, root=Path(os.path.abspath(config.root))))
        else:
            sys.stdout.write(render(findings, problems))
    if show_fixable:
        _show_fixable(findings, args.unsafe_fixes)
    if args.format in _HUMAN_FORMATS and not args.quiet and (findings or not problems):
        # (a run that could not check a file has not "passed": its errors say so alone)
        from dbcheck.reporters.summary import render_summary

        sys.stdout.flush()  # the findings first, where both streams reach one terminal or file
        sys.stderr.write(render_summary(findings, colour=want_colour(sys.stderr, os.environ)))


def _source_reader(sources: Optional[dict[str, str]]) -> Callable[[str], Optional[str]]:
    """The text of a reported file, for the context lines of ``--output-format full``."""
    def read(path: str) -> Optional[str]:
        if sources and path in sources:
            return sources[path]
        from dbcheck.syntax.source import SourceDecodeError, read_source

        try:
            return read_source(Path(path), 16 * 1024 * 1024)
        except SourceDecodeError:
            return None
    return read


def _show_fixable(findings: Sequence[Finding], unsafe: bool) -> None:
    """The findings a fix applies to, by file (``--show-fixes`` without ``--fix``)."""
    from dbcheck.findings import SAFE

    fixable = [f for f in findings if f.fix is not None and (unsafe or f.fix.safety == SAFE)]
    hidden = [f for f in findings if f.fix is not None and not unsafe and f.fix.safety != SAFE]
    flags = "--fix --unsafe-fixes" if unsafe else "--fix"
    if fixable:
        sys.stderr.write(f"{len(fixable)} finding(s) fixable with {flags}:\n")
        _list_by_file(sys.stderr, fixable)
    else:
        sys.stderr.write(f"No finding is fixable with {flags}.\n")
    if hidden:
        sys.stderr.write(f"{len(hidden)} more with --fix --unsafe-fixes.\n")


def _list_by_file(out: TextIO, findings: Sequence[Finding]) -> None:
    from dbcheck.rules import RULES_BY_CODE

    by_file: dict[str, dict[str, int]] = {}
    for finding in findings:
        counts = by_file.setdefault(finding.path, {})
        counts[finding.code] = counts.get(finding.code, 0) + 1
    for path, counts in sorted(by_file.items()):
        out.write(f"{printable(path)}:\n")
        for code, count in sorted(counts.items()):
            rule = RULES_BY_CODE.get(code)
            out.write(f"    {count} \u00d7 {code} ({rule.name if rule else code})\n")


def _say_when_nothing_was_checked(paths: Sequence[str], config: Config, sources: Optional[dict[str, str]]) -> None:
    """A run that found nothing because it read nothing says so, and why."""
    if sources:
        return
    from dbcheck.discovery import iter_python_files, leaving_out

    files, _problems = iter_python_files([Path(p) for p in paths], config)
    if files:
        return
    reasons = []
    for path in paths:
        why = leaving_out(Path(path), config, is_dir=os.path.isdir(path))
        reasons.append(f"{printable(path)}: {why or 'holds no Python file that exclude and .gitignore leave in'}")
    sys.stderr.write("dbcheck: warning: no Python file was checked (" + "; ".join(reasons) + ")\n")


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


def _run_fixes(args: argparse.Namespace, config: Config, paths: Sequence[str], findings: list,
               cache: Optional[Cache], problems: Sequence[str] = ()) -> int:
    from dbcheck import fix
    from dbcheck.engine import analyze

    plans = fix.plan_fixes(findings, args.unsafe_fixes)
    if args.diff:
        for plan in plans:
            sys.stdout.write(plan.diff())
        if args.show_fixes:
            _show_fixable([f for p in plans for f in p.fixed], args.unsafe_fixes)
        if problems:
            return EXIT_ERROR
        return EXIT_FINDINGS if plans and not args.exit_zero else EXIT_CLEAN
    _fixed, write_errors = fix.apply(plans, config.root)
    for error in write_errors:
        sys.stderr.write(f"dbcheck: error: {error}\n")
    message = fix.summary(plans)
    if message:
        sys.stderr.write(f"dbcheck: {message}\n")
    if args.show_fixes:
        applied = [f for p in plans for f in p.fixed]
        if applied:
            sys.stderr.write(f"Fixed {len(applied)} finding(s):\n")
            _list_by_file(sys.stderr, applied)
        else:
            sys.stderr.write("No finding was fixed.\n")
    if args.migration is not None:
        from dbcheck.migration import MigrationError, added_indexes, write_revision

        try:
            written = write_revision(args.migration, added_indexes([f for p in plans for f in p.fixed]))
        except MigrationError as err:
            sys.stderr.write(f"dbcheck: {err}\n")
            return EXIT_ERROR
        if written is not None:
            sys.stderr.write(f"dbcheck: wrote {written}\n")
    remaining = analyze([Path(p) for p in paths], config, cache=cache, jobs=args.jobs)
    left, problems = _split_unanalysed(remaining.findings, remaining.errors)
    _report_problems([], problems)
    _print_findings(args, config, left, problems, None)
    if problems or write_errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if left and not args.exit_zero else EXIT_CLEAN


def _show_settings(paths: Sequence[str], config: Config, args: argparse.Namespace) -> int:
    """The settings as the run would use them, in the configuration file's own key names."""
    import json

    from dbcheck.engine import resolved_settings

    cache = None if args.no_cache else Cache.for_project(config.root)
    settings = resolved_settings([Path(p) for p in paths], config, cache=cache)
    width = max(map(len, settings))
    for key, value in settings.items():
        shown = json.dumps(value, ensure_ascii=False, default=str)
        sys.stdout.write(f"{key:<{width}} = {printable(shown)}\n")
    return EXIT_CLEAN


# ---------------------------------------------------------------------- other commands

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
    parser.add_argument("--format", "--output-format", choices=("text", "markdown"), default="text")
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

    parser = _Parser(prog="dbcheck schema", description="Print the schema dbcheck extracted: tables, columns, "
                     "keys, indexes, relationships.")
    parser.add_argument("paths", nargs="*", default=["."], metavar="PATH")
    parser.add_argument("--format", "--output-format", choices=("text", "json", "mermaid"), default="text",
                        help="mermaid is an erDiagram you can paste into GitHub")
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


def _run_server(argv: Sequence[str]) -> int:
    parser = _Parser(prog="dbcheck server", description="A Language Server Protocol server over stdio: "
                     "diagnostics as you type, quick fixes, rule documentation on hover.")
    parser.add_argument("--stdio", action="store_true", help="accepted for clients that pass it (stdio is the only "
                        "transport)")
    parser.parse_args(argv)
    from dbcheck import lsp

    return lsp.main()


def _dispatch(argv: list[str]) -> int:
    command = argv[0] if argv else None
    if command == "check":
        return _run_check(argv[1:], prog="dbcheck check")
    handlers: dict[str, Callable[[Sequence[str]], int]] = {
        "rules": _run_rules, "rule": _run_rule, "schema": _run_schema, "clean": _run_clean, "daemon": _run_daemon,
        "server": _run_server}
    if command in handlers or command == "fix":
        if os.path.exists(command):
            sys.stderr.write(f"dbcheck: note: '{command}' runs the command; to check the path {command!r}, "
                             f"run 'dbcheck check {command}'\n")
        if command == "fix":
            return _run_check(argv[1:], prog="dbcheck fix", fixing=True)
        return handlers[command](argv[1:])
    return _run_check(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    if sys.version_info < (3, 11):  # requires-python says so; an install that forced it gets a sentence
        sys.stderr.write("dbcheck: error: dbcheck needs Python 3.11 or newer\n")
        return EXIT_ERROR
    args = list(sys.argv[1:] if argv is None else argv)
    for stream in (sys.stdout, sys.stderr):
        # a file name that is not valid UTF-8 is printed escaped, not a crash
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_CLEAN

