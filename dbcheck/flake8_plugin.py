"""The flake8 adapter: the file flake8 hands over gets the findings of the whole-project
analysis that fall in it. The project is the folder of the ``pyproject.toml`` with
``[tool.dbcheck]`` (else the git root); its index comes from the same on-disk cache the
CLI uses, and the text flake8 read (an editor's unsaved buffer with ``--stdin-display-name``)
replaces that file's copy on disk.

flake8 applies its own ``# noqa``, ``--select``, ``--extend-ignore`` and
``--per-file-ignores`` to what the plugin yields; the plugin applies ``[tool.dbcheck]``'s
own select / ignore / per-file-ignores so that the CLI and flake8 agree. A code that is
off unless named (DBC900) is on when flake8's own ``--select`` / ``--extend-select`` names
it (``DBC900``, ``DBC90`` or ``DBC9``; not ``DBC``), as ``[tool.dbcheck]`` would.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

from dbcheck import __version__


# A finding's path for a problem of the whole analysis, reported on every file.
_EVERY_FILE = "\0every file"


class DbcheckPlugin:
    name = "dbcheck"
    version = __version__

    # One project analysis per flake8 worker process, reused for every file of that
    # project that the worker is handed (flake8 builds a plugin object per file).
    _projects: dict[tuple[str, str, str, str], list[Any]] = {}
    _asked_daemon = 0  # requests this process made to a daemon (see _analyse)
    _warned: set[str] = set()  # what this process has said on stderr once already
    # flake8's own selectors that name a code dbcheck leaves off unless named (DBC900):
    # they extend [tool.dbcheck]'s selection (see parse_options)
    _selected_opt_in: tuple[str, ...] = ()

    def __init__(self, tree: Any, filename: str, lines: Sequence[str]) -> None:
        self.filename = filename
        self.lines = lines

    @classmethod
    def parse_options(cls, options: Any) -> None:
        """flake8 hands over its options once per process, before any file (and again in
        each worker it spawns). ``--select DBC900`` would print nothing if the plugin
        never made the finding: what flake8 selects of the opt-in codes is made too."""
        selectors = [*(getattr(options, "select", None) or ()), *(getattr(options, "extend_select", None) or ())]
        cls._selected_opt_in = opt_in_selectors(selectors)

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        from dbcheck.config import ConfigError, load_config

        path = Path(self.filename)
        start = path.parent if path.parent.is_dir() else Path.cwd()
        try:
            config = load_config(start=start.resolve())
        except ConfigError as err:
            yield 1, 0, f"DBC000 dbcheck configuration error: {err}", type(self)
            return
        if self._selected_opt_in:
            from dbcheck.daemon import extend_selection

            config = extend_selection(config, self._selected_opt_in)
        for finding in self._findings(path, config):
            yield finding.line, max(finding.column - 1, 0), f"{finding.code} {finding.message}", type(self)

    def _findings(self, path: Path, config: Any) -> list[Any]:
        from dbcheck.findings import UNANALYSED, display_path, select_findings

        shown = display_path(path)
        text = "".join(self.lines)
        sources = {shown: text} if _read(path) != text else None
        memo_key = (str(config.root), config.fingerprint(), shown if sources else "", text if sources else "")
        findings = self._projects.get(memo_key)
        if findings is None:
            findings, complete = self._analyse(path, shown, text if sources else None, config)
            if complete and not sources:
                self._projects[memo_key] = findings
        # this file's findings only: select, per-file-ignores and the baseline are per file
        # (a file not analysed - DBC000 - is always reported, and so is a problem of the
        # whole project's analysis: every file's findings may be missing something)
        mine = [f if f.path == shown else f.moved(shown) for f in findings if f.path == shown or f.path == _EVERY_FILE]
        found = select_findings(mine, config)
        unanalysed = [f for f in found if f.code == UNANALYSED]
        found = [f for f in found if f.code != UNANALYSED]
        if config.baseline and found:
            from dbcheck.baseline import BaselineError, load_baseline, new_findings

            try:
                found = new_findings(found, load_baseline(config.root / config.baseline), config.root)
            except BaselineError:
                pass  # the CLI reports a broken baseline; flake8 shows every finding
        return unanalysed + found

    @staticmethod
    def _analyse(path: Path, shown: str, text: Optional[str], config: Any) -> tuple[list[Any], bool]:
        """(findings, whether they are the whole project's): from the cache when the
        project did not change, else from the project's daemon (see ``dbcheck.daemon``),
        else analysed here - and then a daemon is started for the next edit."""
        from dbcheck import daemon
        from dbcheck.cache import Cache
        from dbcheck.engine import cached_findings, project_files, project_findings

        if daemon.enabled():
            # The daemon checks the cache too, with the files' keys in memory. The first
            # file a process asks about gets its own findings; a second means flake8 is
            # going through many, and it gets (and keeps) the whole project's.
            answer = daemon.ask(config, shown, text, everything=DbcheckPlugin._asked_daemon > 0)
            DbcheckPlugin._asked_daemon += 1
            if answer is not None:
                return answer.findings, answer.complete
        cache = None if os.environ.get("DBCHECK_NO_CACHE") else Cache.for_project(config.root)
        sources = {shown: text} if text is not None else None
        files = project_files([path] if path.exists() else [], config, sources, cache)
        if cache is not None:
            cached = cached_findings(files, config, cache)
            if cached is not None:
                return cached[0] + _whole_project_problems(files.errors), True
        findings, _notices, errors, _analysis = project_findings(files, config, cache)
        findings = findings + _whole_project_problems(files.errors + errors)
        if cache is not None and daemon.may_spawn():
            problem = daemon.unusable_reason()
            if problem:
                DbcheckPlugin._say_once(f"dbcheck: running without the daemon: {problem} "
                                        "(set DBCHECK_NO_DAEMON=1 to silence this)")
            else:
                daemon.spawn(path.parent if path.parent.is_dir() else Path.cwd(), DbcheckPlugin._selected_opt_in)
        return findings, True

    @staticmethod
    def _say_once(message: str) -> None:
        import sys

        from dbcheck.findings import printable

        if message not in DbcheckPlugin._warned:
            DbcheckPlugin._warned.add(message)
            sys.stderr.write(printable(message) + "\n")


def opt_in_selectors(selectors: Sequence[str]) -> tuple[str, ...]:
    """The selectors of ``selectors`` (flake8's ``--select`` and ``--extend-select``)
    that turn on a code dbcheck leaves off unless named: ``DBC9``, ``DBC90``, ``DBC900``."""
    if not any(s.strip().upper().startswith("DBC") for s in selectors):
        return ()
    from dbcheck.config import OPT_IN_CODES  # what run() imports for every file anyway

    found: list[str] = []
    for selector in selectors:
        selector = selector.strip().upper()
        if selector in found:
            continue
        if any(code.startswith(selector) and selector.startswith(least) for code, least in OPT_IN_CODES.items()):
            found.append(selector)
    return tuple(found)


def _whole_project_problems(errors: list[str]) -> list[Any]:
    """What kept the analysis from seeing the whole project (a folder it could not read, a
    rule that crashed), as a DBC000 for every file: any file's findings may be missing."""
    from dbcheck.findings import UNANALYSED, Finding, printable

    return [Finding(_EVERY_FILE, 1, 1, UNANALYSED, f"the project was not analysed whole: {printable(error)}")
            for error in errors]


def _read(path: Path) -> str:
    from dbcheck.syntax.source import SourceDecodeError, read_source

    try:
        return read_source(path)
    except (SourceDecodeError, OSError):
        return ""
