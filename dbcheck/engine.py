"""Parse every file once, build the project model index once, run every rule on it,
and keep the findings the configuration and ``# noqa`` comments let through."""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import os
import re
import stat
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Optional, Sequence

from dbcheck.config import DEFAULT_MAX_FILE_SIZE, Config, project_root
from dbcheck.cache import Cache, facts_key, results_key
from dbcheck.discovery import iter_python_files
from dbcheck.syntax.files import FileTooLarge, read_regular_file
from dbcheck.syntax.source import SourceDecodeError, decode_source
from dbcheck.findings import UNANALYSED, Finding, display_path, select_findings  # noqa: F401 - the engine's API too
from dbcheck.syntax.modules import module_name_for
from dbcheck.syntax.noqa import is_suppressed

if TYPE_CHECKING:
    from dbcheck.facts.model import ModuleFacts
    from dbcheck.flow.values import QueryIndex
    from dbcheck.incremental.queries import MemoStore
    from dbcheck.rules import Rule
    from dbcheck.schema.index import ProjectIndex
    from dbcheck.schema.memory import BuildMemory

# The index builder and the rules are imported where they run: a warm run (the
# flake8 plugin on an unchanged project) never needs them.


@dataclass
class RunResult:
    findings: list[Finding]
    analysis: Optional["Analysis"]  # None when the whole result came from the cache
    messages: list[str] = field(default_factory=list)  # notices for stderr
    errors: list[str] = field(default_factory=list)  # internal errors and bad paths: exit 2

    @property
    def index(self) -> Optional["ProjectIndex"]:
        return self.analysis.index if self.analysis is not None else None


@dataclass
class SourceFile:
    """One file of the project, read and hashed but not parsed."""

    path: Path
    shown: str
    module: str
    is_package: bool
    key: str  # the facts key: content, module name, dbcheck version
    raw: Optional[bytes] = None
    override: Optional[str] = None  # an editor's unsaved buffer
    unreadable: str = ""  # why it cannot be analysed
    max_bytes: int = DEFAULT_MAX_FILE_SIZE


@dataclass
class ProjectFiles:
    files: list[SourceFile]
    errors: list[str]
    given: list[Path]


def scan_files(files: Sequence[Path], sources: Optional[dict[str, str]] = None,
               cache: Optional[Cache] = None, max_bytes: int = DEFAULT_MAX_FILE_SIZE) -> list[SourceFile]:
    """Hash every file: enough to find a cached result, with no parsing. A file whose
    size, times and inode match the cache's manifest keeps its key unread, unless its
    entry was recorded too soon after the file changed to be sure (see ``is_racy``)."""
    from dbcheck.cache import is_racy, stat_signature

    packages: dict[str, Optional[str]] = {}
    manifest = cache.get_manifest() if cache is not None else {}
    updated = False
    out: list[SourceFile] = []
    cwd = os.getcwd()
    now = time.time_ns()  # before any file is looked at: what changes after it is racy
    for path in files:
        shown = display_path(path, cwd)
        absolute = os.path.normpath(os.path.join(cwd, path))
        override = sources.get(shown) if sources is not None else None
        # Computed every time (one check per folder): an __init__.py added or removed
        # renames the modules beside it without touching them.
        module, is_package = module_name_for(absolute, packages)
        if override is not None:
            out.append(_from_buffer(path, shown, module, is_package, override, max_bytes))
            continue
        try:
            info = os.stat(absolute)
        except FileNotFoundError:
            continue  # gone since the folder was listed: nothing left to check
        except OSError as err:
            out.append(SourceFile(path, shown, module, is_package, "", unreadable=_cannot_read(err)))
            continue
        if not stat.S_ISREG(info.st_mode):
            out.append(SourceFile(path, shown, module, is_package, "", unreadable="not a regular file"))
            continue
        if info.st_size > max_bytes:
            out.append(SourceFile(path, shown, module, is_package, "", unreadable=_too_large(info.st_size, max_bytes)))
            continue
        signature = stat_signature(info)
        seen = manifest.get(absolute)
        if seen is not None and len(seen) == 8 and tuple(seen[:4]) == signature and seen[4] == module \
                and seen[5] == is_package and not is_racy(info, seen[7]):
            out.append(SourceFile(path, shown, module, is_package, seen[6], max_bytes=max_bytes))
            continue
        try:
            raw = read_regular_file(absolute, max_bytes)
        except FileNotFoundError:
            continue
        except OSError as err:
            out.append(SourceFile(path, shown, module, is_package, "", unreadable=_cannot_read(err)))
            continue
        key = facts_key(module, is_package, raw)
        out.append(SourceFile(path, shown, module, is_package, key, raw, max_bytes=max_bytes))
        manifest[absolute] = (*signature, module, is_package, key, now)
        updated = True
    if updated and cache is not None:
        # entries of files gone since (deleted, renamed) go with the next write
        scanned = {os.path.normpath(os.path.join(cwd, f.path)) for f in out}
        for gone in [p for p in manifest if p not in scanned and not os.path.lexists(p)]:
            del manifest[gone]
        cache.put_manifest(manifest)
    return out


def _from_buffer(path: Path, shown: str, module: str, is_package: bool, text: str, max_bytes: int) -> SourceFile:
    """A file as an editor's unsaved buffer holds it."""
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw) > max_bytes:  # an editor's buffer gets no more memory than a file
        return SourceFile(path, shown, module, is_package, "", unreadable=_too_large(len(raw), max_bytes))
    return SourceFile(path, shown, module, is_package, facts_key(module, is_package, raw), raw, text,
                      max_bytes=max_bytes)


def _cannot_read(err: OSError) -> str:
    if isinstance(err, FileTooLarge):
        return _too_large(err.size, err.limit)
    return f"cannot read this file ({err.strerror or err})"


def _too_large(size: int, limit: int) -> str:
    return (f"{size:,} bytes, over the limit of {limit:,} (raise max-file-size in [tool.dbcheck], "
            "or exclude the file)")


def _blank(source: SourceFile) -> "ModuleFacts":
    from dbcheck.facts.model import ModuleFacts

    return ModuleFacts(path=source.shown, module=source.module, is_package=source.is_package)


def _source_text(source: SourceFile) -> tuple[Optional[str], Optional[ModuleFacts]]:
    """The decoded text, or the facts that say why there is none (DBC001 / a notice).
    The raw bytes are let go: on a large project, holding every file's bytes and text
    at once is a good part of the peak memory."""
    if source.override is not None:
        return source.override, None
    raw = source.raw
    source.raw = None
    if raw is None:  # known by the manifest, or already read once: read it again
        try:
            raw = read_regular_file(source.path, source.max_bytes)
        except OSError as err:
            facts = _blank(source)
            facts.notice = _cannot_read(err)
            return None, facts
    try:
        return decode_source(raw), None
    except SourceDecodeError as err:
        facts = _blank(source)
        facts.error = (err.line, 1, err.message)
        return None, facts


def load_facts(sources: Sequence[SourceFile], messages: list[str], errors: list[str],
               cache: Optional[Cache] = None, jobs: Optional[int] = None) -> dict[str, ModuleFacts]:
    """Phase 1 for every file: from the cache, else parsed once - only the files that
    can matter, on every core (see ``dbcheck.facts.collect``)."""
    from dbcheck.facts import collect as phase1

    results: dict[int, ModuleFacts] = {}
    texts: dict[int, str] = {}  # the files to parse in the pass under way
    fresh: set[int] = set()  # facts made in this run: they go to the cache

    def read(i: int) -> None:
        fresh.add(i)
        source = sources[i]
        text, facts = _source_text(source)
        if facts is not None:
            results[i] = facts
        elif phase1.mentions_database(text or ""):
            # First pass: files that mention a database library or a query.
            texts[i] = text or ""
        else:
            # Only syntax-checked for now, its text let go; parsed in a later pass if a
            # file of the project makes it relevant.
            results[i] = phase1.skim(text or "", source.shown, source.module, source.is_package)

    in_cache: list[int] = []
    for i, source in enumerate(sources):
        if source.unreadable:
            facts = _blank(source)
            facts.notice = source.unreadable
            results[i] = facts
        elif cache is not None and cache.has_facts(source.key):
            in_cache.append(i)
        else:
            read(i)

    def tasks(indices: list[int], texts: dict[int, str]) -> list[tuple[str, str, str, bool]]:
        return [(texts[i], sources[i].shown, sources[i].module, sources[i].is_package) for i in indices]

    # The files to parse are parsed on other cores while this one loads the rest.
    batch = sorted(texts)
    parsing = phase1.start_extraction(tasks(batch, texts), jobs)
    texts = {}
    for i in in_cache:
        cached = cache.get_facts(sources[i].key) if cache is not None else None
        if cached is None:
            read(i)  # gone or unreadable since: parsed in the next pass
        else:
            cached.path = sources[i].shown
            results[i] = cached

    # Further passes: files that use a name the relevant files define, and the modules
    # the relevant files import an access check or a base class from (``from
    # app.permissions import check_owner``: what it compares decides whether the row it
    # is handed is scoped), until none is new.
    known: set[str] = set()
    checks_from: set[str] = set()
    # a long-lived process keeps them by content key (see Cache.names_memo)
    memo = cache.names_memo if cache is not None else None

    def note_names(i: int, facts: ModuleFacts) -> None:
        found = memo.get(sources[i].key) if memo is not None else None
        if found is None:
            found = (phase1.defined_names(facts), _access_check_modules(facts))
            if memo is not None:
                memo[sources[i].key] = found
        known.update(found[0])
        checks_from.update(found[1])

    for i, facts in results.items():
        if not facts.skimmed:
            note_names(i, facts)
    pending = [(batch, parsing)]
    while pending or texts:
        if texts:
            late, late_texts, texts = sorted(texts), texts, {}
            pending.append((late, phase1.start_extraction(tasks(late, late_texts), jobs, background=False)))
        for indices, extraction in pending:
            for i, facts in zip(indices, extraction.result()):
                results[i] = facts
                fresh.add(i)
                if not facts.skimmed:
                    note_names(i, facts)
        pending = []
        for i, facts in results.items():
            if facts.skimmed and (not known.isdisjoint(facts.identifiers) or _imported_from(facts.module, checks_from)):
                text, failed = _source_text(sources[i])
                if failed is None:
                    texts[i] = text or ""
    if cache is not None:
        for i in sorted(fresh):
            cache.put_facts(sources[i].key, results[i])

    claims: dict[str, list[ModuleFacts]] = {}
    for i, source in enumerate(sources):
        found = results.get(i)
        if found is None:
            errors.append(f"{source.shown}: internal error while reading")
            continue
        found.key = source.key
        claims.setdefault(found.module, []).append(found)
    return name_modules(claims, messages)


_NAME = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")


def _access_check_modules(facts: ModuleFacts) -> set[str]:
    """The modules ``facts`` imports a function named like an access check from, and
    those its classes' bases come from (a view base's ``self.check_owner(row)``)."""
    from dbcheck.flow.policy import PREDICATE

    out: set[str] = set()
    imported = set(facts.imports.values())
    for target in imported:
        module, _, name = target.rpartition(".")
        if module and PREDICATE.search(name):
            out.add(module)
    # ``import permissions`` then ``permissions.check_owner(row)``: the call's qualified
    # name is spelled out in the encoded body
    code = b"\0".join(body.code for body in facts.bodies) if facts.bodies else b""
    for target in imported - out if code else ():
        spelled = target.encode() + b"."
        at = code.find(spelled)
        while at >= 0:
            called = _NAME.match(code, at + len(spelled))
            # (a longer name ending in the module's counts too: a file more read, no harm)
            if called is not None and PREDICATE.search(called.group(0).decode(errors="replace")):
                out.add(target)
                break
            at = code.find(spelled, at + 1)
    for cls in facts.classes:
        for base in cls.bases:
            named = base[1] if isinstance(base, tuple) and base[:1] == ("sub",) else base  # Base[T]
            if isinstance(named, tuple) and named[:1] == ("n",) and isinstance(named[1], str) and "." in named[1]:
                out.add(named[1].rpartition(".")[0])
    return out


def _imported_from(module: str, modules: set[str]) -> bool:
    """``module`` is one of ``modules``, or the file an import of one of them reaches by
    the tail of its path (a namespace package: ``checks`` for ``app/checks.py``)."""
    return module in modules or any(module.endswith("." + name) for name in modules)


def name_modules(claims: dict[str, list[ModuleFacts]], messages: list[str]) -> dict[str, ModuleFacts]:
    """The project's modules by the name an import reaches them by. Several files may
    claim one name (``api/models.py`` and ``api/controllers/console/models.py``, a
    folder without ``__init__.py``): as from the project's import root, the one nearest
    the root takes it - the others stay reachable by their dotted paths
    (``controllers.console.models``). Files equally near are ambiguous: the name
    reaches none of them, and a notice says so when the project imports it."""
    modules: dict[str, ModuleFacts] = {}
    ambiguous: dict[str, list[str]] = {}
    for name, group in claims.items():
        if len(group) == 1:
            modules[name] = group[0]
            continue
        group = sorted(group, key=lambda facts: (_depth(facts.path), facts.path))
        nearest = [facts for facts in group if _depth(facts.path) == _depth(group[0].path)]
        package = _package_beside_module(nearest)
        if package is not None:
            # `cps/__init__.py` beside a `cps.py` script: Python's finder takes the package
            group = [package, *(facts for facts in group if facts is not package)]
            nearest = [package]
        if len(nearest) == 1:
            modules[name] = group[0]
            group = group[1:]
        else:
            ambiguous[name] = [facts.path for facts in nearest]
        for facts in group:
            modules[f"{name}#{facts.path}"] = facts
    if ambiguous:
        imported = {target for facts in modules.values() for target in facts.imports.values()}
        for name, paths in sorted(ambiguous.items()):
            # `controller.routes` claimed by one file still resolves: only a name that
            # reaches nothing is worth a notice
            if any(target == name or (target.startswith(name + ".") and not _submodule_reached(target, modules))
                   for target in imported):
                messages.append(f"note: imports of {name!r} are not followed: {len(paths)} files could be it "
                                f"({', '.join(paths[:3])}{', ...' if len(paths) > 3 else ''})")
    return modules


def _submodule_reached(target: str, modules: dict[str, ModuleFacts]) -> bool:
    """``controller.routes.router`` reaches ``controller.routes`` however many files
    claim ``controller``."""
    parts = target.split(".")
    return any(".".join(parts[:n]) in modules for n in range(2, len(parts) + 1))


def _package_beside_module(nearest: list[ModuleFacts]) -> Optional[ModuleFacts]:
    """The package among files equally near the root that claim one name, when the
    others are modules of that name in the package's own parent folder."""
    packages = [facts for facts in nearest if os.path.basename(facts.path) == "__init__.py"]
    if len(packages) != 1 or len(nearest) == 1:
        return None
    folder = os.path.dirname(os.path.abspath(packages[0].path))
    beside = folder + ".py"
    others = [facts for facts in nearest if facts is not packages[0]]
    return packages[0] if all(os.path.abspath(facts.path) == beside for facts in others) else None


def _depth(path: str) -> int:
    # from the absolute path: the shown one is relative to the working directory,
    # where "../api/models.py" would count as deeper than "x/y/models.py"
    path = os.path.abspath(path)
    return path.replace("\\", "/").strip("/").count("/") - (1 if path.endswith("__init__.py") else 0)


def run_rules(index: "ProjectIndex", config: Config, rules: Optional[Iterable[type["Rule"]]] = None,
              focus: Optional[frozenset[str]] = None,
              analyse_queries: Optional[Callable[[], "QueryIndex"]] = None,
              effective: bool = False) -> tuple[list[Finding], list[str]]:
    """Every rule's findings (only those reported in ``focus``'s files, when given) and
    one line per rule that crashed. ``effective``: ``config`` is ``effective_config``'s
    already (``Analysis.effective``)."""
    from dbcheck.rules.context import RuleContext

    if rules is None:
        from dbcheck.rules import ALL_RULES

        rules = ALL_RULES
    if not effective:
        config = effective_config(index, config)
    ctx = RuleContext(index, config, focus, analyse_queries)
    findings: list[Finding] = []
    errors: list[str] = []
    for rule_class in rules:
        rule = rule_class()
        try:
            findings.extend(rule.check(ctx))
        except Exception as err:  # noqa: BLE001 - a crashing rule is one error line, not a crash
            where = traceback.extract_tb(err.__traceback__)[-1]
            errors.append(
                f"internal error in {rule.code} ({rule.name}): {type(err).__name__}: {err} "
                f"[{os.path.basename(where.filename)}:{where.lineno}]"
            )
    return findings, errors


def effective_config(index: "ProjectIndex", config: Config) -> Config:
    """The configuration the rules and the query analysis read: ``config`` with the
    tenant table the models answer (``infer_tenant_table``) when it names none. A
    function of the index, so of the files - the keys every cached result is stored
    under already - and of ``config``: results cached under ``config``'s fingerprint
    stay right."""
    from dbcheck.schema.infer import infer_tenant_table

    return _with_inferred(config, infer_tenant_table(index, config))


def _with_inferred(config: Config, inferred: Optional[tuple[str, str]]) -> Config:
    if inferred is None or inferred[0] == config.tenant_table:
        return config
    return dataclasses.replace(config, tenant_table=inferred[0])


def resolved_settings(paths: Sequence[Path], config: Config, cache: Optional[Cache] = None) -> dict[str, object]:
    """Every setting as a run over ``paths`` uses it, under the configuration file's own
    key names (``--show-settings``): the values the models answer included, with
    ``tenant-table-inferred`` saying why (None when the setting is the configured or
    default one), and where the configuration was read (``config-file``, None for none)."""
    from dbcheck.config import FIELD_KEYS
    from dbcheck.schema.infer import infer_tenant_table

    index, _messages, _errors, _given = build_project(paths, config, cache=cache)
    inferred = infer_tenant_table(index, config)
    effective = _with_inferred(config, inferred)
    keys = {**FIELD_KEYS, "root": "root", "source": "config-file"}
    settings: dict[str, object] = {}
    for item in dataclasses.fields(effective):
        if item.name == "tenant_table_set":
            continue  # said by tenant-table-inferred
        value = getattr(effective, item.name)
        if item.name == "per_file_ignores":
            value = {glob: list(codes) for glob, codes in value}
        elif item.name == "owned_through":
            value = {table: f"{column} -> {parent}" for table, column, parent in value}
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Path):
            value = str(value)
        settings[keys.get(item.name, item.name.replace("_", "-"))] = value
        if item.name == "tenant_table":
            settings["tenant-table-inferred"] = inferred[1] if inferred is not None else None
    return settings


def suppress_noqa(findings: Iterable[Finding], modules: dict[str, ModuleFacts]) -> list[Finding]:
    """The findings no ``# noqa`` on their line and no file-level ``# dbcheck: noqa`` /
    ``# flake8: noqa`` of their file hides. A file that could not be parsed (DBC001) is
    said whatever its comments."""
    noqa_by_path = {m.path: m.noqa for m in modules.values()}
    file_noqa = {m.path: m.file_noqa for m in modules.values() if m.file_noqa}
    kept = []
    for finding in findings:
        noqa = noqa_by_path.get(finding.path, {})
        if is_suppressed(finding.code, noqa.get(finding.line), finding.line in noqa):
            continue
        whole = file_noqa.get(finding.path)
        if whole and finding.code not in NEVER_HIDDEN and \
                any(is_suppressed(finding.code, codes, True) for codes in whole.values()):
            continue
        kept.append(finding)
    return kept


# A file not analysed (DBC000) or not parsed (DBC001) is reported whatever it says: a
# file-level noqa must not make a file nobody can check look clean.
NEVER_HIDDEN = frozenset({UNANALYSED, "DBC001"})


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


def _walk_project(roots: list[Path], config: Config, cache: Optional[Cache]) -> tuple[list[Path], list[str]]:
    """The project's files and the folders that could not be read; reused from the cache
    while no folder changed (a folder's modification time moves when an entry is added,
    removed or renamed)."""
    key = f"{config.fingerprint()}|{os.getcwd()}|" + "|".join(os.path.abspath(r) for r in roots)
    if cache is not None:
        listed = cache.get_tree(key)
        if listed is not None:
            return listed  # type: ignore[return-value]  # str paths: Path() costs here
    folders: list[str] = []
    links: list[str] = []
    started = time.time_ns()
    files, problems = iter_python_files(roots, config, folders, links)
    if cache is not None:
        cache.put_tree(key, [os.path.abspath(f) for f in folders], [os.fspath(f) for f in files], problems, started,
                       links)
    return files, problems


def project_files(paths: Sequence[Path], config: Config, sources: Optional[dict[str, str]] = None,
                  cache: Optional[Cache] = None) -> ProjectFiles:
    """The whole project (the config's root) plus any given path outside it, so a check
    of one file still sees the models of every other file."""
    roots = _project_roots(paths, config)
    project, problems = _walk_project(roots, config, cache)
    # A given folder that is a project root (`dbcheck .`) was just walked - maybe not
    # at all, thanks to the cache: its files are the project's, not a second walk.
    root_names = {os.path.abspath(r) for r in roots}
    walked = [p for p in paths if os.path.abspath(p) in root_names]
    given, errors = iter_python_files([p for p in paths if os.path.abspath(p) not in root_names], config)
    errors = [*problems, *(e for e in errors if e not in problems)]
    if walked:
        given = list(project) + given
    seen = {os.path.abspath(p) for p in project}
    files = list(project) + [p for p in given if os.path.abspath(p) not in seen]
    if sources:
        # an unsaved buffer for a file that is not on disk yet
        known = {display_path(p) for p in files}
        files += [Path(shown) for shown in sources if shown not in known]
    return ProjectFiles(scan_files(files, sources, cache, config.max_file_size), errors, given)


def with_buffers(found: ProjectFiles, sources: dict[str, str]) -> Optional[ProjectFiles]:
    """``found`` with the editor's buffers ``sources`` in place of what it holds for those
    files, nothing else read again; None when that is not enough (a buffer for a file
    ``found`` does not have, or a file it held as a buffer that now has none)."""
    known = {f.shown for f in found.files}
    if any(shown not in known for shown in sources):
        return None
    files = []
    for source in found.files:
        text = sources.get(source.shown)
        if text is None:
            if source.override is not None:
                return None  # a buffer closed: its file on disk must be read
            files.append(source)
            continue
        files.append(source if text == source.override else
                     _from_buffer(source.path, source.shown, source.module, source.is_package, text, source.max_bytes))
    return ProjectFiles(files, found.errors, found.given)


def build_project(paths: Sequence[Path], config: Config, sources: Optional[dict[str, str]] = None,
                  cache: Optional[Cache] = None) -> tuple["ProjectIndex", list[str], list[str], list[Path]]:
    found = project_files(paths, config, sources, cache)
    messages: list[str] = []
    errors = list(found.errors)
    modules = load_facts(found.files, messages, errors, cache)
    from dbcheck.schema.build import build_index

    return build_index(modules, config.encrypted_types), messages, errors, found.given


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while the project is loaded and analysed.
    The run builds millions of small acyclic objects (facts, expressions, the index) and
    every collection walks all of them again: a quarter of an incremental run. Reference
    counting still frees everything; the previous state is restored afterwards (the
    flake8 plugin runs inside flake8's process). Worker processes and sequential parsing
    collect as usual (see ``phase1``)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def project_key(found: ProjectFiles, config: Config) -> str:
    """The key of a whole-project result: the configuration and every file's content."""
    return results_key(config.fingerprint(), [(os.path.abspath(f.path), f.key) for f in found.files])


def _scope(config: Config) -> str:
    return f"{config.fingerprint()}\0{os.path.abspath(config.root)}"


def cached_findings(found: ProjectFiles, config: Config, cache: Cache, key: Optional[str] = None
                    ) -> Optional[tuple[list[Finding], list[str]]]:
    """(findings, notices) of the last run over exactly these files, if the cache has
    them - or has the run before an edit that cannot change a finding. Parses nothing.
    ``key``: their ``project_key``, when the caller has it already."""
    key = key or project_key(found, config)
    cached = cache.get_results(key)
    if cached is None:
        cached = _results_if_only_inert_files_changed(found, key, _scope(config), cache)
    if cached is None:
        return None
    findings, notices = cached
    return [_shown(f) for f in findings], [_shown_notice(n) for n in notices]


@dataclass
class Analysis:
    """The project loaded and indexed: what the rules read. The query analysis is
    computed on first use per configuration (``queries``), replaying the modules the
    memo's logs still describe."""

    modules: dict[str, "ModuleFacts"]
    index: "ProjectIndex"
    messages: list[str]  # notices for stderr
    errors: list[str]  # internal errors
    query_memo: Optional["MemoStore"] = None
    jobs: Optional[int] = 1  # processes for the query analysis (None: every core)
    _queries: dict[str, "QueryIndex"] = field(default_factory=dict, repr=False)
    _silent: dict[tuple[str, frozenset[str]], bool] = field(default_factory=dict, repr=False)
    _effective: dict[str, Config] = field(default_factory=dict, repr=False)

    def effective(self, config: Config) -> Config:
        """``effective_config`` of this project's index (computed once per configuration)."""
        key = config.fingerprint()
        found = self._effective.get(key)
        if found is None:
            found = self._effective[key] = effective_config(self.index, config)
        return found

    def queries(self, config: Config, focus: Optional[frozenset[str]] = None) -> "QueryIndex":
        """Every query the project builds and runs (computed once per configuration, as
        ``effective`` makes it). A run focused on files that record no query cannot report
        one there: it skips the project-wide analysis (see ``records_queries``)."""
        from dbcheck.flow.values import QueryIndex
        from dbcheck.incremental.queries import analyze_queries, records_queries

        config = self.effective(config)
        key = config.fingerprint()
        if focus is not None and key not in self._queries:
            silent = (key, focus)
            if silent not in self._silent:
                self._silent[silent] = not any(
                    records_queries(self.index, config, m) for m in self.modules.values() if m.path in focus)
            if self._silent[silent]:
                return QueryIndex()
        if key not in self._queries:
            self._queries[key] = analyze_queries(self.index, config, self.query_memo, self.jobs)
        return self._queries[key]


def analyse_project(found: ProjectFiles, config: Config, cache: Optional[Cache] = None,
                    jobs: Optional[int] = None, query_memo: Optional["MemoStore"] = None,
                    previous: Optional["BuildMemory"] = None, remember: bool = False) -> Analysis:
    """Phase 1 (facts, cached or parsed) and the index, with the query analysis's memo
    attached: every rule can run on the result. A long-lived process (the daemon) passes
    ``remember`` and, after that, the last index's ``build_memory`` as ``previous``: class
    tables nothing changed for are copied from it (see ``build_index``)."""
    messages: list[str] = []
    errors: list[str] = []
    modules = load_facts(found.files, messages, errors, cache, jobs)
    from dbcheck.schema.build import build_index

    from dbcheck.schema.tenancy import session_filter

    index = build_index(modules, config.encrypted_types, previous, remember)
    found_filter = session_filter(modules.values(), config)
    if found_filter is not None:
        leaves = "reads" if found_filter.reads_only else "reads and writes"
        messages.append(f"note: {found_filter.path}:{found_filter.line}: a do_orm_execute listener filters "
                        f"{leaves} by {found_filter.column}: DBC501-503 treat them as scoped on tables with that column")
    if query_memo is None and cache is not None:
        from dbcheck.cache import QueryMemo

        query_memo = QueryMemo(cache, f"{config.fingerprint()}\0{os.getcwd()}")
    return Analysis(modules, index, messages, errors, query_memo, jobs)


def findings_of(analysis: Analysis, config: Config, focus: Optional[frozenset[str]] = None
                ) -> tuple[list[Finding], list[str]]:
    """(findings after ``# noqa``, internal errors). With ``focus``, only the findings
    reported in those files are computed (the rules skip the rest of the project, see
    ``RuleContext``); they are the same as the whole run's in those files. The rules and
    the query analysis read the configuration ``effective_config`` makes of ``config``."""
    config = analysis.effective(config)
    findings, errors = run_rules(analysis.index, config, focus=focus,
                                 analyse_queries=lambda: analysis.queries(config, focus), effective=True)
    from dbcheck.rules.noqa import unused_noqa

    modules = analysis.modules
    if focus is not None:
        findings = [f for f in findings if f.path in focus]
        reported = {name: m for name, m in modules.items() if m.path in focus}
    else:
        reported = modules
    used: list[tuple[str, int, str]] = []
    if any(config.is_code_enabled("DBC900", Path(m.path)) for m in reported.values() if m.noqa or m.file_noqa):
        used = analysis.queries(config, focus).moved
    kept = suppress_noqa(findings + unused_noqa(findings, reported, used), modules)
    return kept + unanalysed_findings(reported.values()), errors


def unanalysed_findings(modules: Iterable["ModuleFacts"]) -> list[Finding]:
    """A ``DBC000`` at line 1 of every file that was not analysed, with the reason. Not a
    rule's finding: no configuration, ``# noqa`` or baseline hides it, and it makes the
    run exit 2 (a check that silently skipped a file would pass a leak)."""
    return [Finding(m.path, 1, 1, UNANALYSED, f"not analysed: {m.notice}") for m in modules if m.notice]


def store_run(found: ProjectFiles, config: Config, analysis: Analysis, findings: list[Finding],
              cache: Cache) -> None:
    """The whole run's findings, for the next run over the same files."""
    key = project_key(found, config)
    cache.put_results(key, [_absolute(f) for f in findings], [_absolute_notice(m) for m in analysis.messages])
    _remember_run(found, key, _scope(config), analysis.modules, cache)
    cache.prune({f.key for f in found.files if f.key})


@collector_paused()
def project_findings(found: ProjectFiles, config: Config, cache: Optional[Cache] = None,
                     jobs: Optional[int] = None) -> tuple[list[Finding], list[str], list[str], Optional["Analysis"]]:
    """(findings after ``# noqa``, notices, internal errors, the analysis if made) for the
    whole project: from the cache when no file and no setting changed."""
    if cache is not None:
        cached = cached_findings(found, config, cache)
        if cached is not None:
            return cached[0], cached[1], [], None
    analysis = analyse_project(found, config, cache, jobs)
    findings, rule_errors = findings_of(analysis, config)
    errors = analysis.errors + rule_errors
    if cache is not None and not errors:
        store_run(found, config, analysis, findings, cache)
    return findings, analysis.messages, errors, analysis


def _inert_digest(facts: ModuleFacts) -> str:
    """What an inert file gives the analysis: its ``# noqa`` comments (per line and for
    the file) and its hash writes."""
    return repr((sorted(facts.noqa.items()), sorted(facts.file_noqa.items()), facts.hashed_names))


def _remember_run(found: ProjectFiles, key: str, scope: str, modules: dict[str, ModuleFacts], cache: Cache) -> None:
    """What the next run needs to tell that only inert files changed since this one."""
    from dbcheck.facts import collect as phase1

    by_path = {m.path: m for m in modules.values()}
    files, inert = {}, {}
    known: set[str] = set()
    for source in found.files:
        absolute = os.path.abspath(source.path)
        files[absolute] = source.key
        facts = by_path.get(source.shown)
        if facts is None:
            continue
        if facts.skimmed:
            inert[absolute] = _inert_digest(facts)
        else:
            known |= phase1.defined_names(facts)
    cache.put_last_run(scope, {"results": key, "files": files, "inert": inert, "known": sorted(known)})


def _results_if_only_inert_files_changed(found: ProjectFiles, key: str, scope: str, cache: Cache
                                         ) -> Optional[tuple[list[Finding], list[str]]]:
    """The last run's findings, if every file changed since was inert then and is inert
    now: no database code, no name the project's other files define (so nothing
    resolves into it and it is not parsed), the same ``# noqa`` comments and hash writes - editing
    such a file cannot change a finding. A common case: most edits in a large
    repository are to code that never touches the database."""
    from dbcheck.facts import collect as phase1

    last = cache.get_last_run(scope)
    if last is None:
        return None
    try:
        files, inert, known = last["files"], last["inert"], frozenset(last["known"])
        if len(files) != len(found.files):
            return None
        changed = [s for s in found.files if files.get(os.path.abspath(s.path)) != s.key]
        if not changed or any(os.path.abspath(s.path) not in inert for s in changed):
            return None
        skims = []
        for source in changed:
            text, failed = _source_text(source)
            if failed is not None or phase1.mentions_database(text or ""):
                return None
            facts = phase1.skim(text or "", source.shown, source.module, source.is_package)
            if not facts.skimmed or not known.isdisjoint(facts.identifiers) or \
                    _inert_digest(facts) != inert[os.path.abspath(source.path)]:
                return None
            skims.append((source, facts))
        previous = cache.get_results(last["results"])
    except (TypeError, KeyError, AttributeError):
        return None  # a record of another shape: the full analysis
    if previous is None:
        return None
    findings, notices = previous
    for source, facts in skims:
        cache.put_facts(source.key, facts)
        files[os.path.abspath(source.path)] = source.key
    cache.put_results(key, findings, notices)
    cache.put_last_run(scope, dict(last, results=key, files=files))
    return previous


def _absolute(finding: Finding) -> Finding:
    return finding.moved(os.path.abspath(finding.path))


def _shown(finding: Finding) -> Finding:
    return finding.moved(display_path(Path(finding.path)))


def _absolute_notice(message: str) -> str:
    path, _, rest = message.partition(": ")
    return f"{os.path.abspath(path)}: {rest}"


def _shown_notice(message: str) -> str:
    path, _, rest = message.partition(": ")
    return f"{display_path(Path(path))}: {rest}"


def analyze(paths: Sequence[Path], config: Config, sources: Optional[dict[str, str]] = None,
            cache: Optional[Cache] = None, jobs: Optional[int] = None) -> RunResult:
    found = project_files(paths, config, sources, cache)
    findings, messages, rule_errors, analysis = project_findings(found, config, cache, jobs)
    wanted = {display_path(p) for p in found.given} | set(sources or ())
    findings = [f for f in select_findings(findings, config) if f.path in wanted]
    if cache is not None:
        messages = messages + cache.warnings
    return RunResult(findings, analysis, messages, found.errors + rule_errors)
