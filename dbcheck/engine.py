"""Parse every file once, build the project model index once, run every rule on it,
and keep the findings the configuration and ``# noqa`` comments let through."""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Sequence

from dbcheck.config import Config, project_root
from dbcheck.cache import Cache, facts_key, results_key
from dbcheck.discovery import SourceDecodeError, decode_source, iter_python_files
from dbcheck.findings import Finding
from dbcheck.index.build import ProjectIndex, build_index
from dbcheck.index.extract import ModuleFacts, extract_module
from dbcheck.index.names import module_name_for
from dbcheck.noqa import is_suppressed
from dbcheck.rules import ALL_RULES, Rule


@dataclass
class RunResult:
    findings: list[Finding]
    index: Optional[ProjectIndex]  # None when the whole result came from the cache
    messages: list[str] = field(default_factory=list)  # notices for stderr
    errors: list[str] = field(default_factory=list)  # internal errors and bad paths: exit 2


@dataclass
class ProjectFacts:
    """Phase 1 for a whole project: every module's facts and its cache key."""

    modules: dict[str, ModuleFacts]
    keys: list[tuple[str, str]]  # (absolute path, facts key)
    messages: list[str]
    errors: list[str]
    given: list[Path]


def display_path(path: Path, cwd: Optional[str] = None) -> str:
    """How a path is shown: relative to the working directory when under it."""
    absolute = os.path.abspath(path)
    cwd = cwd or os.getcwd()
    rel = os.path.relpath(absolute, cwd)
    if rel.startswith(os.pardir + os.sep) or rel == os.pardir:
        return absolute
    return rel


def _module_facts(path: Path, shown: str, package_dirs: dict[str, bool], override: Optional[str],
                  cache: Optional[Cache]) -> tuple[ModuleFacts, str]:
    module, is_package = module_name_for(path, package_dirs)
    if override is not None:
        raw = override.encode("utf-8", "surrogatepass")
    else:
        try:
            raw = Path(path).read_bytes()
        except OSError as err:
            facts = ModuleFacts(path=shown, module=module, is_package=is_package)
            facts.notice = f"skipped: cannot read this file ({err.strerror or err})"
            return facts, ""
    key = facts_key(module, is_package, raw)
    cached = cache.get_facts(key) if cache is not None else None
    if cached is not None:
        cached.path = shown
        return cached, key
    if override is not None:
        facts = extract_module(override, shown, module, is_package)
    else:
        try:
            source = decode_source(raw)
        except SourceDecodeError as err:
            facts = ModuleFacts(path=shown, module=module, is_package=is_package)
            facts.error = (err.line, 1, err.message)
        else:
            facts = extract_module(source, shown, module, is_package)
    if cache is not None:
        cache.put_facts(key, facts)
    return facts, key


def collect_facts(files: Sequence[Path], messages: list[str], errors: list[str],
                  sources: Optional[dict[str, str]] = None, cache: Optional[Cache] = None
                  ) -> tuple[dict[str, ModuleFacts], list[tuple[str, str]]]:
    """Phase 1 for every file. ``sources`` overrides what is on disk (an editor's
    unsaved buffer), keyed by display path."""
    package_dirs: dict[str, bool] = {}
    modules: dict[str, ModuleFacts] = {}
    keys: list[tuple[str, str]] = []
    for path in files:
        shown = display_path(path)
        override = sources.get(shown) if sources is not None else None
        try:
            facts, key = _module_facts(path, shown, package_dirs, override, cache)
        except Exception as err:  # noqa: BLE001 - one bad file must not stop the run
            errors.append(f"{shown}: internal error while reading: {type(err).__name__}: {err}")
            continue
        keys.append((os.path.abspath(path), key))
        if facts.notice:
            messages.append(f"{shown}: {facts.notice}")
        name = facts.module
        if name in modules:
            # Two files claim one module name (scripts outside packages): keep both,
            # the second only reachable through the project-wide class registry.
            name = f"{facts.module}#{shown}"
        modules[name] = facts
    return modules, keys


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


def filter_findings(findings: Iterable[Finding], modules: dict[str, ModuleFacts], config: Config) -> list[Finding]:
    noqa_by_path = {m.path: m.noqa for m in modules.values()}
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


def gather_facts(paths: Sequence[Path], config: Config, sources: Optional[dict[str, str]] = None,
                 cache: Optional[Cache] = None) -> ProjectFacts:
    """Phase 1 for the whole project (the config's root) plus any given path outside
    it, so a check of one file still sees the models of every other file."""
    messages: list[str] = []
    errors: list[str] = []
    given, problems = iter_python_files(list(paths), config)
    errors.extend(problems)
    project, _problems = iter_python_files(_project_roots(paths, config), config)
    seen = {os.path.abspath(p) for p in project}
    files = list(project) + [p for p in given if os.path.abspath(p) not in seen]
    modules, keys = collect_facts(files, messages, errors, sources, cache)
    return ProjectFacts(modules, keys, messages, errors, given)


def build_project(paths: Sequence[Path], config: Config, sources: Optional[dict[str, str]] = None,
                  cache: Optional[Cache] = None) -> tuple[ProjectIndex, list[str], list[str], list[Path]]:
    facts = gather_facts(paths, config, sources, cache)
    index = build_index(facts.modules, config.encrypted_types)
    return index, facts.messages, facts.errors, facts.given


def project_findings(facts: ProjectFacts, config: Config, cache: Optional[Cache] = None
                     ) -> tuple[list[Finding], list[str], Optional[ProjectIndex]]:
    """Every finding of the project, before select/ignore/noqa: from the cache when
    nothing (no file, no setting) changed since it was stored."""
    key = results_key(config.fingerprint(), facts.keys)
    if cache is not None:
        cached = cache.get_results(key)
        if cached is not None:
            findings, errors = cached
            return [_shown(f) for f in findings], errors, None
    index = build_index(facts.modules, config.encrypted_types)
    findings, errors = run_rules(index, config)
    if cache is not None and not errors:
        cache.put_results(key, [_absolute(f) for f in findings], errors)
    return findings, errors, index


def _absolute(finding: Finding) -> Finding:
    return Finding(os.path.abspath(finding.path), finding.line, finding.column, finding.code, finding.message)


def _shown(finding: Finding) -> Finding:
    return Finding(display_path(Path(finding.path)), finding.line, finding.column, finding.code, finding.message)


def analyze(paths: Sequence[Path], config: Config, sources: Optional[dict[str, str]] = None,
            cache: Optional[Cache] = None) -> RunResult:
    facts = gather_facts(paths, config, sources, cache)
    findings, rule_errors, index = project_findings(facts, config, cache)
    errors = facts.errors + rule_errors
    wanted = {display_path(p) for p in facts.given}
    findings = [f for f in filter_findings(findings, facts.modules, config) if f.path in wanted]
    messages = facts.messages + (cache.warnings if cache is not None else [])
    return RunResult(findings, index, messages, errors)
