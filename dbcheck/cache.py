"""The on-disk cache shared by the CLI, the flake8 plugin and its daemon.

Entries live in ``.dbcheck_cache`` at the project root (or ``DBCHECK_CACHE_DIR``), in a
folder that ignores itself for git. That folder is part of the checked tree and so is
untrusted: every entry is authenticated with a per-user secret kept outside any project,
nothing is followed through a symbolic link, and reads are bounded (see
``dbcheck.store``). A committed ``.dbcheck_cache`` can therefore neither crash a run nor
change its findings: anything that fails a check is a miss, rebuilt from the source.

- ``facts/<key>``: the phase-1 facts of one file. The key hashes the dbcheck build,
  the Python version (the encoding is ``marshal``'s), the module name the file is
  imported as (relative imports are resolved against it) and the file's content.
- ``results/<key>``: every finding of one whole-project run. The key hashes the
  build, the configuration and the keys of all the project's facts, so any edit
  anywhere, or any configuration change, selects another entry.
- ``manifest``: each file's size, times and inode with its facts key, so an unchanged
  file is not read again. An entry is trusted only when the file's times are clearly
  older than the moment it was recorded (git's "racy clean" rule): an edit made in the
  same second as a run, on a file system with one-second times, is never missed.
- ``tree``: the last folder walk, trusted under the same rule for every folder.

The cache prunes itself: facts no file of the project has any more, and all but the
newest results and query logs (``prune``). ``dbcheck clean`` removes the folder.
"""

from __future__ import annotations

import functools
import hashlib
import marshal
import os
import re
import stat
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from dbcheck import __version__
from dbcheck.findings import Finding, Fix
from dbcheck.store import EntryStore, StoreError, load_secret

if TYPE_CHECKING:
    from dbcheck.facts.model import ModuleFacts

CACHE_DIR_NAME = ".dbcheck_cache"
# A file (or folder) whose modification or change time is this close to the moment its
# entry was recorded may change again within the same time stamp: its entry is checked
# against the content. Two seconds covers one-second file systems and FAT's two.
RACY_NS = 2_000_000_000
# What pruning keeps: the newest results / last-run records and query logs.
KEEP_RESULTS = 24
KEEP_QUERY_LOGS = 8
_SUBFOLDERS = ("facts", "results", "queries")
MARKER = b"# created by dbcheck\n"
_HEX_KEY = re.compile(r"[0-9a-f]{64}")
_TEMPORARY = re.compile(r"\.(?P<name>[^/]+)\.[0-9]+\.[0-9a-f]{8}\.tmp")


def _is_own_name(sub: str, name: str) -> bool:
    """Whether ``name`` in the cache's folder ``sub`` is one dbcheck writes: pruning and
    ``dbcheck clean`` touch nothing else."""
    temporary = _TEMPORARY.fullmatch(name)
    if temporary is not None:
        name = temporary.group("name")
    if sub == "":
        return name in (".gitignore", "manifest", "tree") or name in _SUBFOLDERS
    if sub == "results" and name.startswith("last-"):
        name = name[len("last-"):]
    return _HEX_KEY.fullmatch(name) is not None
# The largest entry of each kind read back (a committed file of junk costs no more): a
# manifest for 100,000 files is about 15 MB, one file's facts a few, a project's query
# logs some tens.
_LIMITS = {"": 64 << 20, "facts": 64 << 20, "results": 64 << 20, "queries": 256 << 20}


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


@functools.lru_cache(maxsize=1)
def _secret() -> tuple[bytes, Optional[str]]:
    return load_secret()


def stat_signature(info: os.stat_result) -> tuple[int, int, int, int]:
    """What must stay equal for a file to count as unchanged: modification and change
    times (``touch -r`` restores the first, not the second), size and inode."""
    return (info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino)


def _link_kind(path: str) -> str:
    """What a symbolic link leads to: nothing, a regular file, or something else."""
    try:
        info = os.stat(path)
    except OSError:
        return "missing"
    return "file" if stat.S_ISREG(info.st_mode) else "other"


def is_racy(info: os.stat_result, recorded_ns: int) -> bool:
    """Whether a change after ``recorded_ns`` could leave ``info``'s times as they are."""
    return max(info.st_mtime_ns, info.st_ctime_ns) >= recorded_ns - RACY_NS


class Cache:
    """One cache folder. ``warnings`` collects the one message an unusable folder
    deserves; after that the cache is simply off."""

    # Content key -> what the engine derives from a parsed file's facts to decide which
    # skimmed files to parse (its defined names, the modules it imports checks from):
    # kept by a long-lived process (the daemon's MemoryCache), where every request
    # loads the same facts again; None here.
    names_memo: Optional[dict[str, tuple[set[str], set[str]]]] = None

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.enabled = True
        self.warnings: list[str] = []
        self._prepared = False
        self._store_: Optional[EntryStore] = None

    @classmethod
    def for_project(cls, root: Path) -> "Cache":
        override = os.environ.get("DBCHECK_CACHE_DIR")
        return cls(Path(override) if override else Path(root) / CACHE_DIR_NAME)

    def _prepare(self) -> bool:
        if self._prepared:
            return self.enabled
        self._prepared = True
        key, why_not = _secret()
        if why_not is not None:
            self._disable(f"{why_not}; running without a cache")
            return False
        store = EntryStore(self.folder, _FORMAT, _SUBFOLDERS, key)
        try:
            created = store.open()
            marker = store.read_plain(".gitignore")
            if marker is None or not marker.startswith(MARKER):
                # A folder that is no cache of ours (DBCHECK_CACHE_DIR naming a folder of the
                # user's): never written into, pruned or cleaned
                foreign = [n for n in store.names("") if not _is_own_name("", n)]
                if not created and foreign:
                    store.close()
                    self._disable(f"{self.folder} is not a dbcheck cache folder (it holds {foreign[0]!r} and no "
                                  "dbcheck marker); running without a cache")
                    return False
                store.write_plain(".gitignore", MARKER + b"*\n")
            store.open_subfolders()
        except StoreError as err:
            store.close()
            self._disable(f"cannot use the cache folder {self.folder}: {err}; running without a cache")
            return False
        except OSError as err:
            store.close()
            self._disable(f"cannot use the cache folder {self.folder} ({err.strerror or err}); running without a cache")
            return False
        self._store_ = store
        return True

    def _disable(self, message: str) -> None:
        if self.enabled:
            self.warnings.append(message)
        self.enabled = False

    def _load(self, sub: str, name: str) -> Any:
        if not self._prepare() or self._store_ is None:
            return None
        data = self._store_.read(sub, name, _LIMITS[sub])
        if data is None:
            return None
        try:
            return marshal.loads(data)
        except Exception:  # noqa: BLE001 - authenticated, so only a dbcheck bug gets here: a miss
            return None

    def _store(self, sub: str, name: str, payload: Any) -> None:
        if not self._prepare() or self._store_ is None:
            return
        try:
            data = marshal.dumps(payload)
            if len(data) > _LIMITS[sub]:
                return  # it would not be read back: the work is redone next time instead
            self._store_.write(sub, name, data)
        except (OSError, ValueError) as err:
            self._disable(f"cannot write to the cache folder {self.folder} ({err}); running without a cache")

    # ---- manifest: path -> (mtime_ns, ctime_ns, size, inode, module, is_package, facts key, recorded_ns)

    def get_manifest(self) -> dict[str, tuple]:
        """Keys of files seen before, so an unchanged file is not read and hashed again
        (see ``known_key``). The content key stays the source of truth."""
        if not self.enabled:
            return {}
        payload = self._load("", "manifest")
        return payload if isinstance(payload, dict) else {}

    def put_manifest(self, manifest: dict[str, tuple]) -> None:
        if self.enabled:
            self._store("", "manifest", manifest)

    # ---- the file list of a walk, valid while no folder changed

    def get_tree(self, key: str) -> Optional[tuple[list[str], list[str]]]:
        """(files, problems) of the last walk with this key, if no folder changed since
        and every ``*.py`` symbolic link met points at what it pointed at (a link's target
        outside the walked folders can appear without any of them changing)."""
        if not self.enabled:
            return None
        payload = self._tree_payload()
        if not isinstance(payload, dict) or payload.get("key") != key:
            return None
        recorded = payload.get("recorded")
        folders = payload.get("folders")
        links = payload.get("links", {})
        if not isinstance(recorded, int) or not isinstance(folders, dict) or not isinstance(links, dict):
            return None
        for folder, signature in folders.items():
            try:
                info = os.stat(folder)
            except OSError:
                return None
            if (info.st_mtime_ns, info.st_ctime_ns, info.st_ino) != signature or is_racy(info, recorded):
                return None
        for link, kind in links.items():
            if _link_kind(link) != kind:
                return None
        files, problems = payload.get("files"), payload.get("problems", [])
        if not isinstance(files, list) or not isinstance(problems, list):
            return None
        return files, problems

    def put_tree(self, key: str, folders: list[str], files: list[str], problems: list[str], recorded: int,
                 links: Optional[list[str]] = None) -> None:
        """Remember a walk that started at ``recorded`` (``time.time_ns()``)."""
        if not self.enabled:
            return
        signatures = {}
        for folder in folders:
            try:
                info = os.stat(folder)
            except OSError:
                return
            signatures[folder] = (info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
        self._put_tree_payload({"key": key, "folders": signatures, "files": files, "problems": problems,
                                "recorded": recorded, "links": {link: _link_kind(link) for link in links or ()}})

    def _tree_payload(self) -> Any:
        return self._load("", "tree")

    def _put_tree_payload(self, payload: dict) -> None:
        self._store("", "tree", payload)

    # ---- facts

    def get_facts(self, key: str) -> Optional[ModuleFacts]:
        if not self.enabled:
            return None
        payload = self._load("facts", key)
        if payload is None:
            return None
        from dbcheck.facts.codec import decode_facts  # not needed on the warm path

        return decode_facts(payload)

    def has_facts(self, key: str) -> bool:
        return self._prepare() and self._store_ is not None and self._store_.is_regular("facts", key)

    def put_facts(self, key: str, facts: ModuleFacts) -> None:
        if self.enabled:
            from dbcheck.facts.codec import encode_facts

            self._store("facts", key, encode_facts(facts))

    # ---- the last full run of a project: which files were inert (see engine)

    @staticmethod
    def _last_run_name(scope: str) -> str:
        return "last-" + _scope_digest(scope)

    def get_last_run(self, scope: str) -> Optional[dict]:
        if not self.enabled:
            return None
        payload = self._load("results", self._last_run_name(scope))
        return payload if isinstance(payload, dict) else None

    def put_last_run(self, scope: str, payload: dict) -> None:
        if self.enabled:
            self._store("results", self._last_run_name(scope), payload)

    # ---- whole-run results

    def get_results(self, key: str) -> Optional[tuple[list[Finding], list[str]]]:
        """(findings, notices) of a whole-project run."""
        if not self.enabled:
            return None
        payload = self._load("results", key)
        try:
            findings, notices = payload
            return [Finding(f[0], f[1], f[2], f[3], f[4], Fix.decode(f[5])) for f in findings], [str(n) for n in notices]
        except (TypeError, ValueError):
            return None

    def put_results(self, key: str, findings: list[Finding], notices: list[str]) -> None:
        if self.enabled:
            rows = [(f.path, f.line, f.column, f.code, f.message, f.fix.encode() if f.fix else None) for f in findings]
            self._store("results", key, (rows, list(notices)))

    # ---- keeping the folder small

    def prune(self, live_facts: set[str]) -> int:
        """Remove what no run will read again: facts of content no file of the project has
        (when they outnumber the live ones), all but the newest ``KEEP_RESULTS`` results
        and last-run records and ``KEEP_QUERY_LOGS`` query logs, and temporary files a
        killed process left. Only names dbcheck writes are ever removed. Returns how many
        entries went."""
        if not self._prepare() or self._store_ is None:
            return 0
        store = self._store_
        removed = 0
        stale_before = time.time_ns() - 3600 * 10**9  # a temporary file older than an hour is orphaned
        for sub, keep in (("facts", None), ("results", KEEP_RESULTS), ("queries", KEEP_QUERY_LOGS), ("", None)):
            names = [n for n in store.names(sub) if _is_own_name(sub, n)]
            temporary = [n for n in names if n.endswith(".tmp")]
            entries = [n for n in names if not n.endswith(".tmp")]
            for name in temporary:
                if store.mtime_ns(sub, name) < stale_before:
                    store.remove(sub, name)
                    removed += 1
            if sub == "facts":
                if len(entries) > 2 * len(live_facts) + 256:
                    for name in entries:
                        if name not in live_facts:
                            store.remove(sub, name)
                            removed += 1
            elif keep is not None:
                entries.sort(key=lambda n: store.mtime_ns(sub, n), reverse=True)
                for name in entries[keep:]:
                    store.remove(sub, name)
                    removed += 1
        return removed


class QueryMemo:
    """The per-module logs of the last query analysis of one project, under one
    configuration, seen from one working directory (paths in the logs are as shown):
    one entry, rewritten whenever a module was analysed again."""

    def __init__(self, cache: Cache, scope: str) -> None:
        self.cache = cache
        self.name = _scope_digest(scope)
        self.loaded: dict = {}

    def load(self) -> dict:
        payload = self.cache._load("queries", self.name) if self.cache.enabled else None
        self.loaded = payload if isinstance(payload, dict) else {}
        return self.loaded

    def save(self, entries: dict) -> None:
        if self.cache.enabled:
            self.cache._store("queries", self.name, entries)


def remove_cache(folder: Path) -> bool:
    """Remove a cache folder (``dbcheck clean``); whether there was one. A symbolic link
    in its place is removed, never followed; a folder without dbcheck's marker
    (``DBCHECK_CACHE_DIR`` naming a folder of the user's) is refused. Only the names
    dbcheck writes are removed, then the folder if that leaves it empty."""
    import stat as stat_module

    try:
        info = os.lstat(folder)
    except FileNotFoundError:
        return False
    if not stat_module.S_ISDIR(info.st_mode):
        os.unlink(folder)
        return True
    from dbcheck.syntax.files import read_regular_file

    try:
        ours = read_regular_file(Path(folder) / ".gitignore", 4096).startswith(MARKER)
    except OSError:
        ours = False
    if not ours:
        raise OSError(f"{folder} does not look like a dbcheck cache folder (no .gitignore written by dbcheck)")
    top = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0))
    try:
        for sub in _SUBFOLDERS:
            try:
                inner = os.open(sub, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0),
                                dir_fd=top)
            except OSError:
                continue  # missing, or a link: what a link points at is never touched
            try:
                for name in os.listdir(inner):
                    if _is_own_name(sub, name):
                        try:
                            os.unlink(name, dir_fd=inner)
                        except OSError:
                            pass
            finally:
                os.close(inner)
            try:
                os.rmdir(sub, dir_fd=top)
            except OSError:
                pass  # something of someone else's is left in it
        for name in os.listdir(top):
            if _is_own_name("", name) and name not in _SUBFOLDERS and name != ".gitignore":
                try:
                    os.unlink(name, dir_fd=top)
                except OSError:
                    pass
        leftovers = [n for n in os.listdir(top) if n != ".gitignore"]
        if not leftovers:
            os.unlink(".gitignore", dir_fd=top)
    finally:
        os.close(top)
    if not leftovers:
        os.rmdir(folder)
    return True
