"""Parse every file once, build the project model index once, run every rule on it,
and keep the findings the configuration and ``# noqa`` comments let through."""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Sequence

from dbcheck.config import Config, project_root
from dbcheck.discovery import SourceDecodeError, iter_python_files, read_source
from dbcheck.findings import Finding
from dbcheck.index.build import ProjectIndex, build_index
from dbcheck.index.extract import ModuleFacts, extract_module
from dbcheck.index.names import module_name_for
from dbcheck.noqa import is_suppressed
from dbcheck.rules import ALL_RULES, Rule


@dataclass
class RunResult:
    findings: list[Finding]
    index: ProjectIndex
    messages: list[str] = field(default_factory=list)  # notices for stderr
    errors: list[str] = field(default_factory=list)  # internal errors and bad paths: exit 2


def display_path(path: Path, cwd: Optional[str] = None) -> str:
    """How a path is shown: relative to the working directory when under it."""
    absolute = os.path.abspath(path)
    cwd = cwd or os.getcwd()
    rel = os.path.relpath(absolute, cwd)
    if rel.startswith(os.pardir + os.sep) or rel == os.pardir:
        return absolute
    return rel


def read_module(path: Path, shown: str, package_dirs: dict[str, bool]) -> ModuleFacts:
    module, is_package = module_name_for(path, package_dirs)
    try:
        source = read_source(path)
    except SourceDecodeError as err:
        facts = ModuleFacts(path=shown, module=module, is_package=is_package)
        facts.error = (err.line, 1, err.message)
        return facts
    return extract_module(source, shown, module, is_package)


def collect_facts(files: Sequence[Path], messages: list[str], errors: list[str],
                  sources: Optional[dict[str, str]] = None) -> dict[str, ModuleFacts]:
    """Phase 1 for every file. ``sources`` overrides what is on disk (an editor's
    unsaved buffer), keyed by display path."""
    package_dirs: dict[str, bool] = {}
    modules: dict[str, ModuleFacts] = {}
    for path in files:
        shown = display_path(path)
        try:
            if sources is not None and shown in sources:
                module, is_package = module_name_for(path, package_dirs)
                facts = extract_module(sources[shown], shown, module, is_package)
            else:
                facts = read_module(path, shown, package_dirs)
        except Exception as err:  # noqa: BLE001 - one bad file must not stop the run
            errors.append(f"{shown}: internal error while reading: {type(err).__name__}: {err}")
            continue
        if facts.notice:
            messages.append(f"{shown}: {facts.notice}")
        key = facts.module
        if key in modules:
            # Two files claim one module name (scripts outside packages): keep both,
            # the second only reachable through the project-wide class registry.
            key = f"{facts.module}#{shown}"
        modules[key] = facts
    return modules


def run_rules(index: ProjectIndex, config: Config, rules: Iterable[type[Rule]] = ALL_RULES
              ) -> tuple[list[Finding], list[str]]:
    findings: list[Finding] = []
    errors: list[str] = []
    for rule_class in rules:
        rule = rule_class()
        try:
            findings.extend(rule.check(index, config))
        except Exception as err:  # noqa: BLE001 - a crashing rule is one error line, not a crash
            where = traceback.extract_tb(err.__traceback__)[-1]
            errors.append(
                f"internal error in {rule.code} ({rule.name}): {type(err).__name__}: {err} "
                f"[{os.path.basename(where.filename)}:{where.lineno}]"
            )
    return findings, errors


def filter_findings(findings: Iterable[Finding], index: ProjectIndex, config: Config) -> list[Finding]:
    noqa_by_path = {m.path: m.noqa for m in index.modules.values()}
    kept = []
    enabled_cache: dict[tuple[str, str], bool] = {}
    for finding in findings:
        key = (finding.code, finding.path)
        if key not in enabled_cache:
            enabled_cache[key] = config.is_code_enabled(finding.code, Path(finding.path))
        if not enabled_cache[key]:
            continue
        noqa = noqa_by_path.get(finding.path, {})
        if is_suppressed(finding.code, noqa.get(finding.line), finding.line in noqa):
            continue
        kept.append(finding)
    return sorted(set(kept))


def _project_roots(paths: Sequence[Path], config: Config) -> list[Path]:
    """The folders to index: the config's folder, or - for paths outside it (a
    ``--config`` kept elsewhere) - the project each path belongs to."""
    root = os.path.abspath(config.root)
    roots: list[Path] = []
    for path in paths:
        absolute = os.path.abspath(path)
        if not os.path.exists(absolute):
            continue
        if absolute == root or absolute.startswith(root + os.sep):
            candidate = Path(root)
        else:
            candidate = project_root(Path(absolute))
        if candidate not in roots:
            roots.append(candidate)
    return roots or [Path(root)]


def build_project(paths: Sequence[Path], config: Config,
                  sources: Optional[dict[str, str]] = None) -> tuple[ProjectIndex, list[str], list[str], list[Path]]:
    """Index the whole project (the config's root) plus any given path outside it, so a
    check of one file still sees the models of every other file."""
    messages: list[str] = []
    errors: list[str] = []
    given, problems = iter_python_files(list(paths), config)
    errors.extend(problems)
    project, _problems = iter_python_files(_project_roots(paths, config), config)
    seen = {os.path.abspath(p) for p in project}
    files = list(project) + [p for p in given if os.path.abspath(p) not in seen]
    modules = collect_facts(files, messages, errors, sources)
    index = build_index(modules, config.encrypted_types)
    return index, messages, errors, given


def analyze(paths: Sequence[Path], config: Config, sources: Optional[dict[str, str]] = None) -> RunResult:
    index, messages, errors, given = build_project(paths, config, sources)
    findings, rule_errors = run_rules(index, config)
    errors.extend(rule_errors)
    wanted = {display_path(p) for p in given}
    findings = [f for f in filter_findings(findings, index, config) if f.path in wanted]
    return RunResult(findings, index, messages, errors)
