"""The on-disk cache shared by the CLI and the flake8 plugin.

Two kinds of entries, both written atomically (a temporary file renamed over the
final name, so two processes can share a cache and a reader never sees half a file):

- ``facts/<key>``: the phase-1 facts of one file. The key hashes the dbcheck version,
  the Python version (the encoding is ``marshal``'s), the module name the file is
  imported as (relative imports are resolved against it) and the file's content.
- ``results/<key>``: every finding of one whole-project run. The key hashes the
  version, the configuration and the keys of all the project's facts, so any edit
  anywhere, or any configuration change, selects another entry.

``marshal`` rather than ``pickle``: it cannot run code when it loads, so a cache
folder checked into a malicious repository is only ever data. Anything unreadable -
truncated, corrupt, from another version - is a miss, and the entry is rebuilt.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import marshal
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from dbcheck import __version__
from dbcheck.atomic import write_atomic
from dbcheck.findings import Finding

if TYPE_CHECKING:
    from dbcheck.index.facts import ModuleFacts

CACHE_DIR_NAME = ".dbcheck_cache"


def _code_digest() -> str:
    """A digest of dbcheck's own source files (names, sizes, modification times), so a
    changed analyser (a development install, a patched release) never reads entries
    another analyser wrote."""
    digest = hashlib.sha256()
    package = os.path.dirname(os.path.realpath(__file__))
    sources: list[tuple[str, int, int]] = []
    for folder, dirs, names in os.walk(package):  # os.walk, not Path.rglob: every run pays this
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            if name.endswith(".py"):
                try:
                    stat = os.stat(os.path.join(folder, name))
                except OSError:
                    continue
                sources.append((os.path.relpath(os.path.join(folder, name), package), stat.st_size, stat.st_mtime_ns))
    for name, size, mtime in sorted(sources):
        digest.update(f"{name}\0{size}\0{mtime}\n".encode())
    return digest.hexdigest()[:16]


_FORMAT = f"dbcheck-{__version__}-{_code_digest()}-py{sys.version_info[0]}.{sys.version_info[1]}"

# Which fields of the facts hold other facts; every other field is plain data (strings,
# numbers, Expr tuples, lists and dicts of them) that marshal hands back as it was.
_NESTED = {
    "ModuleFacts": {"classes": ("list", "ClassFact"), "functions": ("dict", "FunctionFact"),
                    "bodies": ("list", "FunctionIR"), "calls": ("list", "CallFact")},
    "ClassFact": {"attrs": ("list", "AttrFact")},
}


@functools.lru_cache(maxsize=1)
def _schema() -> tuple[dict[str, type], dict[str, tuple[str, ...]]]:
    """The fact classes and their fields. Imported on first use: a warm run (the flake8
    plugin on an unchanged project) never decodes a fact."""
    from dbcheck.index import facts

    classes = {cls.__name__: cls for cls in (
        facts.ModuleFacts, facts.ClassFact, facts.AttrFact, facts.FunctionFact, facts.FunctionIR, facts.CallFact,
    )}
    return classes, {name: tuple(f.name for f in dataclasses.fields(cls)) for name, cls in classes.items()}


def _encode(value: Any, name: str = "ModuleFacts") -> tuple:
    """A fact as the tuple of its fields, in declaration order; nested facts likewise."""
    nested = _NESTED.get(name, {})
    out = []
    for field_name in _schema()[1][name]:
        item = getattr(value, field_name)
        shape, inner = nested.get(field_name, (None, ""))
        if shape == "list":
            item = [_encode(v, inner) for v in item]
        elif shape == "dict":
            item = {k: _encode(v, inner) for k, v in item.items()}
        out.append(item)
    return tuple(out)


def _decode(payload: tuple, name: str = "ModuleFacts") -> Any:
    """The inverse of ``_encode``: one constructor call per fact, no walk through the
    expressions (this runs for every file of a warm run)."""
    classes, names = _schema()
    nested = _NESTED.get(name)
    if nested is None:
        return classes[name](*payload)
    fields = list(payload)
    for position, field_name in enumerate(names[name]):
        shape, inner = nested.get(field_name, (None, ""))
        if shape == "list":
            fields[position] = [_decode(v, inner) for v in fields[position]]
        elif shape == "dict":
            fields[position] = {k: _decode(v, inner) for k, v in fields[position].items()}
    return classes[name](*fields)


def _scope_digest(scope: str) -> str:
    """The file name of an entry kept per project and configuration."""
    return hashlib.sha256(scope.encode("utf-8", "surrogateescape")).hexdigest()


def facts_key(module: str, is_package: bool, source: bytes) -> str:
    digest = hashlib.sha256()
    digest.update(f"{_FORMAT}\0{module}\0{int(is_package)}\0".encode("utf-8", "surrogateescape"))
    digest.update(source)
    return digest.hexdigest()


def results_key(config_fingerprint: str, file_keys: list[tuple[str, str]]) -> str:
    digest = hashlib.sha256(f"{_FORMAT}\0{config_fingerprint}\0".encode())
    for path, key in sorted(file_keys):
        digest.update(f"{path}\0{key}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


class Cache:
    """One cache folder. ``warnings`` collects the one message an unusable folder
    deserves; after that the cache is simply off."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._facts_folder = os.path.join(os.fspath(folder), "facts")
        self.enabled = True
        self.warnings: list[str] = []
        self._prepared = False

    @classmethod
    def for_project(cls, root: Path) -> "Cache":
        override = os.environ.get("DBCHECK_CACHE_DIR")
        return cls(Path(override) if override else Path(root) / CACHE_DIR_NAME)

    def _prepare(self) -> bool:
        if self._prepared:
            return self.enabled
        self._prepared = True
        try:
            for sub in ("facts", "results", "queries"):
                (self.folder / sub).mkdir(parents=True, exist_ok=True)
            ignore = self.folder / ".gitignore"
            if not ignore.exists():
                write_atomic(ignore, b"# created by dbcheck\n*\n")
        except OSError as err:
            self._disable(f"cannot use the cache folder {self.folder} ({err.strerror or err}); running without a cache")
        return self.enabled

    def _disable(self, message: str) -> None:
        if self.enabled:
            self.warnings.append(message)
        self.enabled = False

    def _load(self, path: "Path | str") -> Any:
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            return None
        try:
            stamp, payload = marshal.loads(data)
        except Exception:  # noqa: BLE001 - truncated, corrupt or foreign: a miss
            return None
        return payload if stamp == _FORMAT else None

    def _store(self, path: Path, payload: Any) -> None:
        if not self._prepare():
            return
        try:
            write_atomic(path, marshal.dumps((_FORMAT, payload)))
        except (OSError, ValueError) as err:
            self._disable(f"cannot write to the cache folder {self.folder} ({err}); running without a cache")

    # ---- manifest: path -> (mtime_ns, size, module, is_package, facts key)

    def get_manifest(self) -> dict[str, tuple]:
        """Keys of files seen before, so an unchanged file (same size and mtime) is
        not read and hashed again. The content key stays the source of truth."""
        if not self.enabled:
            return {}
        payload = self._load(self.folder / "manifest")
        return payload if isinstance(payload, dict) else {}

    def put_manifest(self, manifest: dict[str, tuple]) -> None:
        if self.enabled:
            self._store(self.folder / "manifest", manifest)

    # ---- the file list of a walk, valid while no folder's modification time changed

    def get_tree(self, key: str) -> Optional[list[str]]:
        if not self.enabled:
            return None
        payload = self._tree_payload()
        if not isinstance(payload, dict) or payload.get("key") != key:
            return None
        for folder, mtime in payload.get("folders", {}).items():
            try:
                if os.stat(folder).st_mtime_ns != mtime:
                    return None
            except OSError:
                return None
        files = payload.get("files")
        return files if isinstance(files, list) else None

    def put_tree(self, key: str, folders: list[str], files: list[str]) -> None:
        if not self.enabled:
            return
        stamps = {}
        for folder in folders:
            try:
                stamps[folder] = os.stat(folder).st_mtime_ns
            except OSError:
                return
        self._put_tree_payload({"key": key, "folders": stamps, "files": files})

    def _tree_payload(self) -> Any:
        return self._load(self.folder / "tree")

    def _put_tree_payload(self, payload: dict) -> None:
        self._store(self.folder / "tree", payload)

    # ---- facts

    def get_facts(self, key: str) -> Optional[ModuleFacts]:
        if not self.enabled:
            return None
        # string paths: this runs for every file of the project (pathlib costs here)
        payload = self._load(os.path.join(self._facts_folder, key))
        if payload is None:
            return None
        try:
            facts = _decode(payload)
        except (TypeError, ValueError, AttributeError, KeyError):
            return None
        return facts if isinstance(facts, _schema()[0]["ModuleFacts"]) else None

    def has_facts(self, key: str) -> bool:
        return self.enabled and os.path.exists(os.path.join(self._facts_folder, key))

    def put_facts(self, key: str, facts: ModuleFacts) -> None:
        if self.enabled:
            self._store(self.folder / "facts" / key, _encode(facts))

    # ---- the last full run of a project: which files were inert (see engine)

    def _last_run_path(self, scope: str) -> Path:
        return self.folder / "results" / ("last-" + _scope_digest(scope))

    def get_last_run(self, scope: str) -> Optional[dict]:
        if not self.enabled:
            return None
        payload = self._load(self._last_run_path(scope))
        return payload if isinstance(payload, dict) else None

    def put_last_run(self, scope: str, payload: dict) -> None:
        if self.enabled:
            self._store(self._last_run_path(scope), payload)

    # ---- whole-run results

    def get_results(self, key: str) -> Optional[tuple[list[Finding], list[str]]]:
        """(findings, notices) of a whole-project run."""
        if not self.enabled:
            return None
        payload = self._load(self.folder / "results" / key)
        try:
            findings, notices = payload
            return [Finding(*f) for f in findings], [str(n) for n in notices]
        except (TypeError, ValueError):
            return None

    def put_results(self, key: str, findings: list[Finding], notices: list[str]) -> None:
        if self.enabled:
            rows = [(f.path, f.line, f.column, f.code, f.message) for f in findings]
            self._store(self.folder / "results" / key, (rows, list(notices)))


class QueryMemo:
    """The per-module logs of the last query analysis of one project, under one
    configuration, seen from one working directory (paths in the logs are as shown):
    one entry, rewritten whenever a module was analysed again."""

    def __init__(self, cache: Cache, scope: str) -> None:
        self.cache = cache
        self.path = cache.folder / "queries" / _scope_digest(scope)
        self.loaded: dict = {}

    def load(self) -> dict:
        payload = self.cache._load(self.path) if self.cache.enabled else None
        self.loaded = payload if isinstance(payload, dict) else {}
        return self.loaded

    def save(self, entries: dict) -> None:
        if self.cache.enabled:
            self.cache._store(self.path, entries)
