"""A per-project analysis process for the flake8 plugin, so a file just edited in an
editor gets its findings without paying for a whole analysis in flake8's process.

Why: flake8 runs the plugin in a fresh process on every save. When the project's
cached result still holds (nothing relevant changed) the plugin answers from it
without parsing anything. When a file was just edited, the answer needs the whole
project's index again - and a new process would first pay for importing libcst and
loading every file's facts from the cache, several times flake8's own run. This
process has them in memory already and re-reads only what changed; it also computes
only the findings reported in the file asked about (``RuleContext.focus``), then the
whole project's if a second file of the same state is asked about (flake8 on many
files).

How it is used:

- The plugin asks it (``ask``) whenever the on-disk cache has no result for the
  project as it is now. No daemon, a dead one, a stale socket, a time-out or any
  error: ``ask`` answers None and the plugin analyses in its own process, as before.
- After such an in-process analysis the plugin starts one (``spawn``) for next time,
  unless ``DBCHECK_NO_DAEMON`` is set, the ``CI`` variable is set (one-shot runs gain
  nothing), the cache is off, or the platform has no Unix sockets.
- One daemon per project root, configuration, dbcheck build and working directory
  (the socket's name hashes them), so a changed configuration or an upgraded dbcheck
  never talks to an old one; that one exits after ``DBCHECK_DAEMON_IDLE`` seconds
  without a request (default 600).
- The socket lives in a folder only the user can enter; the daemon reads the project
  exactly as the CLI does and, like it, never imports or runs the analysed code.

Every answer is computed from the files as they are on disk at the time of the
request (each request scans them; an unchanged file is known by its size and
modification time, as in the CLI), plus the unsaved buffer the plugin sends.
"""

from __future__ import annotations

import errno
import gc
import hashlib
import json
import os
import select
import signal
import socket
import stat
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Sequence

from dbcheck.cache import _FORMAT, Cache, QueryMemo, _code_digest
from dbcheck.findings import Finding

if TYPE_CHECKING:
    from dbcheck.config import Config
    from dbcheck.engine import Analysis
    from dbcheck.facts.model import ModuleFacts

IDLE_SECONDS = 600.0
_SETTLE_SECONDS = 0.003  # an editor's save: the writes that make it
_QUIET_SECONDS = 0.05  # no request or change for that long: write the cache
_MAX_REQUEST = 64 * 1024 * 1024  # an editor buffer, JSON-escaped
_MAX_SOCKET_PATH = 104  # sun_path: 108 bytes on Linux, 104 on macOS


def enabled() -> bool:
    """Whether the plugin may talk to a daemon at all."""
    return supported() and not os.environ.get("DBCHECK_NO_DAEMON") and not os.environ.get("DBCHECK_NO_CACHE")


def may_spawn() -> bool:
    return enabled() and not os.environ.get("CI")


def _private_folder() -> Optional[str]:
    """A folder only this user can enter, for the sockets: ``$XDG_RUNTIME_DIR`` (made so by
    the system) or ``<tmp>/dbcheck-<uid>``, created 0700 and refused if anyone else owns it
    or may enter it (another user could otherwise answer in the daemon's place)."""
    folder, _problem = _socket_folder()
    return folder


def _socket_folder() -> tuple[Optional[str], str]:
    """(the private folder, or None and why it was refused)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    folder = os.path.join(runtime, "dbcheck") if runtime and os.path.isdir(runtime) else \
        os.path.join(tempfile.gettempdir(), f"dbcheck-{os.getuid()}")
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    except OSError as err:
        return None, f"cannot create {folder} ({err.strerror or err})"
    try:
        info = os.lstat(folder)
    except OSError as err:
        return None, f"cannot use {folder} ({err.strerror or err})"
    if not stat.S_ISDIR(info.st_mode):
        return None, f"{folder} is not a folder"
    if len(os.fsencode(os.path.join(folder, "0" * 24 + ".sock"))) >= _MAX_SOCKET_PATH:
        return None, f"the socket folder {folder} has too long a path for a Unix socket"
    if info.st_uid != os.getuid():
        return None, f"{folder} belongs to another user (uid {info.st_uid})"
    if info.st_mode & 0o077:
        return None, f"{folder} may be entered by other users (mode {stat.S_IMODE(info.st_mode):o})"
    return folder, ""


def unusable_reason() -> str:
    """Why no daemon can be used on this machine ('' when one can): said once, so a
    refused socket folder is not a silent slowdown."""
    if not enabled():
        return ""
    _folder, problem = _socket_folder()
    return problem


def socket_path(config: "Config", cwd: str) -> Optional[str]:
    """The socket of the daemon for this project, configuration, dbcheck build and
    working directory (findings' paths are shown relative to it)."""
    folder = _private_folder()
    if folder is None:
        return None
    identity = "\0".join((_FORMAT, os.path.abspath(config.root), config.fingerprint(), cwd))
    digest = hashlib.sha256(identity.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return os.path.join(folder, f"{digest}.sock")


# ---------------------------------------------------------------------------- the client

class Answer:
    def __init__(self, findings: list[Finding], complete: bool) -> None:
        self.findings = findings
        # every finding of the project (else those of the file asked about)
        self.complete = complete


def ask(config: "Config", shown: str, text: Optional[str], everything: bool = False,
        timeout: float = 60.0) -> Optional[Answer]:
    """The findings of the file ``shown`` (as flake8 names it; ``text`` is its unsaved
    buffer, None when the file on disk is what flake8 read) - with ``everything``, of the
    whole project - or None without a daemon."""
    payload = _request(config, {"file": shown, "text": text, "everything": everything}, timeout)
    try:
        return Answer([Finding(*row) for row in payload["findings"]], bool(payload["complete"]))
    except (ValueError, TypeError, KeyError, AttributeError):
        return None  # no answer, or an error: the plugin analyses on its own


def supported() -> bool:
    """Whether this platform can run a daemon at all (whatever the settings say)."""
    return os.name == "posix" and hasattr(socket, "AF_UNIX")


def stop(config: "Config", timeout: float = 10.0) -> bool:
    """Stop the project's daemon; whether one was running."""
    return bool(_request(config, {"stop": True}, timeout).get("stopped"))


def _request(config: "Config", request: dict, timeout: float) -> dict:
    path = socket_path(config, os.getcwd())
    if path is None or not os.path.exists(path):
        return {}
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(timeout)
    try:
        client.connect(path)
        client.sendall(json.dumps(dict(request, format=_FORMAT)).encode("utf-8", "surrogatepass"))
        client.shutdown(socket.SHUT_WR)
        reply = _receive(client)
    except OSError:
        return {}  # no daemon (a stale socket), or it died or took too long
    finally:
        client.close()
    try:
        payload = json.loads(reply.decode("utf-8", "surrogatepass"))
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) and payload.get("format") == _FORMAT and "error" not in payload else {}


def daemon_command(start: Path, cwd: str, extend_select: Sequence[str] = ()) -> list[str]:
    """How the daemon is started. Never from the checked project: ``-m`` would put the
    working directory first on ``sys.path``, so a project holding a ``dbcheck/`` package
    or a ``json.py`` would have its code run. ``-P`` keeps the working directory off the
    path, and the process starts in the private socket folder anyway (only then does it
    move to ``cwd``, which findings' paths are shown relative to). ``extend_select``:
    the opt-in codes flake8's own selection adds (see ``extend_selection``)."""
    selection = ["--extend-select", ",".join(extend_select)] if extend_select else []
    return [sys.executable, "-P", "-m", "dbcheck.daemon", "--cwd", cwd, *selection,
            os.fspath(Path(start).absolute())]


def extend_selection(config: "Config", selectors: Sequence[str]) -> "Config":
    """``config`` with ``selectors`` (flake8's own ``--select`` naming an opt-in code,
    DBC900) added to its ``extend-select``: the plugin's configuration, and so its
    daemon's (the socket's name hashes the configuration)."""
    import dataclasses

    added = tuple(s for s in selectors if s not in config.extend_select)
    return dataclasses.replace(config, extend_select=config.extend_select + added) if added else config


def spawn(start: Path, extend_select: Sequence[str] = ()) -> None:
    """Start the daemon of the project ``start`` belongs to, in the background; it
    outlives this process. Failing to start is not an error: the plugin works without."""
    import subprocess

    folder = _private_folder()
    if folder is None:
        return
    try:
        subprocess.Popen(
            daemon_command(start, os.getcwd(), extend_select), cwd=folder,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, close_fds=True,
        )
    except OSError:
        pass


def _receive(conn: socket.socket) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = conn.recv(1 << 20)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > _MAX_REQUEST:
            raise OSError(errno.EMSGSIZE, "message too large")
        chunks.append(chunk)


# ---------------------------------------------------------------------------- watching

class FolderWatcher:
    """Linux's inotify on the project's folders, through libc (no dependency): tells when
    a Python file, a folder or ``pyproject.toml`` may have changed. Elsewhere, or when
    the system refuses (watch limits), there is no watcher and every request finds the
    changes itself - the same answers, without the head start."""

    _MASK = 0x8 | 0x40 | 0x80 | 0x100 | 0x200  # CLOSE_WRITE, MOVED_FROM, MOVED_TO, CREATE, DELETE
    _HEADER = 16  # struct inotify_event: int wd; uint32 mask, cookie, len; char name[len]

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def fileno(self) -> int:
        return self.fd

    @classmethod
    def start(cls, folders: list[str]) -> Optional["FolderWatcher"]:
        if not sys.platform.startswith("linux") or os.environ.get("DBCHECK_DAEMON_WATCH") == "0":
            return None
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
            if fd < 0:
                return None
            for folder in folders:
                if libc.inotify_add_watch(fd, os.fsencode(folder), cls._MASK) < 0:
                    os.close(fd)
                    return None  # over the watch limit: a partial watch would mislead
        except (OSError, AttributeError, ValueError):
            return None
        return cls(fd)

    def changed(self) -> bool:
        """Read every pending event: whether one may change an analysis."""
        relevant = False
        while True:
            try:
                data = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                return relevant
            except OSError:
                return relevant
            if not data:
                return relevant
            at = 0
            while at + self._HEADER <= len(data):
                mask = int.from_bytes(data[at + 4:at + 8], sys.byteorder)
                length = int.from_bytes(data[at + 12:at + 16], sys.byteorder)
                name = data[at + self._HEADER:at + self._HEADER + length].rstrip(b"\0")
                at += self._HEADER + length
                if name.endswith((b".py", b".toml")) or mask & 0x40000000:  # IN_ISDIR
                    relevant = True


def project_folders(config: "Config") -> list[str]:
    """The folders the project's files are found in (the walk's own list)."""
    from dbcheck.discovery import iter_python_files

    folders: list[str] = []
    iter_python_files([Path(config.root)], config, folders)
    return sorted(set(folders) | {os.path.abspath(config.root)})


# ---------------------------------------------------------------------------- the server

class MemoryCache(Cache):
    """The project's disk cache, with every file's facts also kept in memory. New facts
    are written to disk after the answer is sent (``flush``)."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.facts_in_memory: dict[str, "ModuleFacts"] = {}
        self._unwritten: dict[str, "ModuleFacts"] = {}
        self._manifest: Optional[dict[str, tuple]] = None
        self._manifest_unwritten = False
        self._tree: Any = None  # the folder listing's payload (see Cache.get_tree)
        self.names_memo: dict[str, tuple[set[str], set[str]]] = {}

    def has_facts(self, key: str) -> bool:
        return key in self.facts_in_memory or super().has_facts(key)

    def get_facts(self, key: str) -> Optional["ModuleFacts"]:
        facts = self.facts_in_memory.get(key)
        if facts is None:
            facts = super().get_facts(key)
            if facts is None:
                return None
            self.facts_in_memory[key] = facts
        # a copy of the top level: the engine sets the path it is shown under (two
        # scripts with one content and one module name share a key)
        copy = object.__new__(type(facts))
        copy.__dict__.update(facts.__dict__)
        return copy

    def put_facts(self, key: str, facts: "ModuleFacts") -> None:
        self.facts_in_memory[key] = facts
        self._unwritten[key] = facts

    # The manifest (each file's size, mtime and key) and the folder listing are checked
    # against the files on every use, so this process's own copies serve as well as the
    # disk's and are not read and decoded again on every request.

    def get_manifest(self) -> dict[str, tuple]:
        if self._manifest is None:
            self._manifest = super().get_manifest()
        return self._manifest

    def put_manifest(self, manifest: dict[str, tuple]) -> None:
        self._manifest = manifest
        self._manifest_unwritten = True

    def _tree_payload(self) -> Any:
        if self._tree is None:
            self._tree = super()._tree_payload()
        return self._tree

    def _put_tree_payload(self, payload: dict) -> None:
        self._tree = payload
        super()._put_tree_payload(payload)

    def keep_only(self, keys: set[str]) -> None:
        """Forget the facts of content no file has any more (every edit makes one)."""
        for key in [k for k in self.facts_in_memory if k not in keys]:
            del self.facts_in_memory[key]
        for key in [k for k in self.names_memo if k not in keys]:
            del self.names_memo[key]

    def flush(self) -> None:
        unwritten, self._unwritten = self._unwritten, {}
        for key, facts in unwritten.items():
            super().put_facts(key, facts)
        if self._manifest_unwritten and self._manifest is not None:
            self._manifest_unwritten = False
            super().put_manifest(self._manifest)


class MemoryQueryMemo(QueryMemo):
    """The query analysis's logs kept in memory, decoded once; written to disk after
    the answer is sent, so the CLI's next run replays them too."""

    def __init__(self, cache: Cache, scope: str) -> None:
        super().__init__(cache, scope)
        self.decoded: dict = {}
        self._from_disk = False
        self._dirty = False

    def load(self) -> dict:
        if not self._from_disk:
            super().load()
            self._from_disk = True
        return self.loaded

    def save(self, entries: dict) -> None:
        self.loaded = entries
        self._dirty = True
        for path in [p for p in self.decoded if p not in entries]:
            del self.decoded[path]

    def flush(self) -> None:
        if self._dirty:
            self._dirty = False
            super().save(self.loaded)


def tree_identity(root: Path) -> Optional[tuple[int, int, int, int]]:
    """The project root's and the working directory's device and inode."""
    try:
        here, there = os.stat(root), os.stat(os.getcwd())
    except OSError:
        return None
    return (here.st_dev, here.st_ino, there.st_dev, there.st_ino)


class ProjectServer:
    """The state one daemon keeps: the facts of every file, the query logs, and the
    last analysis with its key (every file's content and the configuration)."""

    def __init__(self, config: "Config") -> None:
        from dbcheck.cache import CACHE_DIR_NAME

        self.config = config
        folder = os.environ.get("DBCHECK_CACHE_DIR")
        self.cache = MemoryCache(Path(folder) if folder else Path(config.root) / CACHE_DIR_NAME)
        self.memo = MemoryQueryMemo(self.cache, f"{config.fingerprint()}\0{os.getcwd()}")
        self._key: Optional[str] = None
        self._analysis: Optional["Analysis"] = None
        self._found: Any = None
        self._everything: Optional[list[Finding]] = None
        self._buffered = False  # the analysis holds an unsaved buffer
        self._scanned: Any = None  # the files findings_for last saw (see its ``rescan``)
        self._completed: Optional[str] = None  # the state last completed (see complete)
        self._completer = 0  # the process completing it in the background
        self._answers = 0
        # The tree this daemon serves. A checkout moved away and another put at the same
        # path (same socket name) is another tree: this daemon must not answer for it.
        self.identity = tree_identity(config.root)

    def same_tree(self) -> bool:
        return tree_identity(self.config.root) == self.identity

    def prepare(self) -> None:
        """Every file's facts into memory, the query logs decoded, from the cache the run
        that started this daemon has just written: the first request finds them there."""
        self.refresh(queries=True)
        self.flush()

    def refresh(self, queries: bool = False) -> None:
        """Analyse the project as it is on disk now, if it changed since the last
        analysis (a file watched was written): the request that follows an edit then
        finds the index built, or under way. The query analysis waits for a request
        that needs it (its file may need none, see records_queries) unless ``queries``."""
        from dbcheck.engine import project_files, project_key

        found = project_files([], self.config, None, self.cache)
        analysis = self._analysed(found, project_key(found, self.config), None)
        if queries:
            analysis.queries(self.config)

    def _analysed(self, found: Any, key: str, sources: Optional[dict[str, str]]) -> "Analysis":
        """The analysis of ``found`` (whose ``project_key`` is ``key``): the one kept, or
        a new one."""
        from dbcheck.engine import analyse_project, collector_paused

        if key != self._key or self._analysis is None:
            with collector_paused():
                # the query analysis waits until a rule needs it: a focused answer on
                # a file that runs no query does not (see records_queries)
                previous = self._analysis.index.build_memory if self._analysis is not None else None
                analysis = analyse_project(found, self.config, self.cache, jobs=1, query_memo=self.memo,
                                           previous=previous, remember=True)
            self._key, self._analysis, self._found, self._everything = key, analysis, found, None
            self._buffered = bool(sources)
            self.cache.keep_only({f.key for f in found.files})
        return self._analysis

    def answer(self, shown: str, text: Optional[str], everything: bool = False) -> dict:
        """The findings of the file ``shown`` - or, with ``everything``, the whole
        project's (flake8 going through many files: the plugin keeps them)."""
        from dbcheck.engine import cached_findings, collector_paused, findings_of, project_files, project_key, store_run

        sources = {shown: text} if text is not None else None
        path = Path(shown)
        found = project_files([path] if path.exists() else [], self.config, sources, self.cache)
        if found.errors:
            # a folder that cannot be read: the plugin analyses on its own and says so
            return {"format": _FORMAT, "error": "; ".join(found.errors)}
        key = project_key(found, self.config)
        if not sources and (key != self._key or self._everything is None):
            # a state the cache has (a CLI run, or this state completed in the background)
            cached = cached_findings(found, self.config, self.cache, key)
            if cached is not None:
                if key == self._key:
                    self._everything = cached[0]
                return self._reply(cached[0], shown, everything)
        analysis = self._analysed(found, key, sources)
        if self._everything is None and everything:
            with collector_paused():
                findings, errors = findings_of(analysis, self.config)
            if errors or analysis.errors:
                return {"format": _FORMAT, "error": "; ".join(errors + analysis.errors)}
            self._everything = findings
            if not sources:
                store_run(found, self.config, analysis, findings, self.cache)
        if self._everything is not None:
            return self._reply(self._everything, shown, everything)
        with collector_paused():
            findings, errors = findings_of(analysis, self.config, frozenset({shown}))
        if errors or analysis.errors:
            return {"format": _FORMAT, "error": "; ".join(errors + analysis.errors)}
        return self._reply(findings, shown, False)

    def findings_for(self, sources: dict[str, str], focus: Sequence[str],
                     rescan: bool = True) -> tuple[list[Finding], list[str]]:
        """The findings (fixes attached) of the files ``focus`` names, with the unsaved
        buffers ``sources`` in place of those files on disk: what the language server
        publishes. Paths are shown as the working directory makes them. Without
        ``rescan``, the files on disk are taken as the last scan found them (an editor's
        keystrokes change buffers, not the tree): only the buffers are hashed again."""
        from dbcheck.engine import collector_paused, findings_of, project_files, project_key, with_buffers

        found = None if rescan or self._scanned is None else with_buffers(self._scanned, sources)
        if found is None:
            found = project_files([Path(p) for p in focus if Path(p).exists()], self.config, sources or None,
                                  self.cache)
        if found.errors:
            return [], list(found.errors)
        self._scanned = found
        analysis = self._analysed(found, project_key(found, self.config), sources)
        with collector_paused():
            findings, errors = findings_of(analysis, self.config, frozenset(focus))
        return findings, errors + analysis.errors

    def complete(self, background: bool = False) -> None:
        """The whole project's findings for the files as they are, stored in the cache,
        after a focused answer or a watched save: the next CLI, pre-commit or flake8 run
        on another file then finds them there. With ``background``, in a forked copy of
        this process (on the other core, at the lowest priority), so the next request -
        an editor linting as you type - never waits for it; a newer state's copy
        replaces an older one's."""
        analysis = self._analysis
        if analysis is None or self._everything is not None or self._buffered or self._completed == self._key:
            return
        self._completed = self._key
        if not background or not hasattr(os, "fork"):
            self._complete_here()
            return
        if self._completer and not self.reap(self._completer):
            # still running (unreaped, so the pid is still its own): its state is stale
            try:
                os.kill(self._completer, signal.SIGTERM)  # its cache writes are atomic
            except OSError:
                pass
        pid = os.fork()
        if pid:
            self._completer = pid
            return
        try:  # the copy: compute, write, and leave without running anything of the parent's
            os.nice(19)
            self._complete_here()
            self.cache.flush()
            self.memo.flush()
        finally:
            os._exit(0)

    @staticmethod
    def reap(pid: int = -1) -> bool:
        """Collect finished background completions; whether ``pid`` has finished."""
        finished = False
        while True:
            try:
                done, _status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                return True
            if done == 0:
                return finished
            finished = True
            if pid != -1:
                return True

    def _complete_here(self) -> None:
        from dbcheck.engine import collector_paused, findings_of, store_run

        analysis = self._analysis
        assert analysis is not None
        with collector_paused():
            findings, errors = findings_of(analysis, self.config)
        if errors or analysis.errors:
            return
        self._everything = findings
        store_run(self._found, self.config, analysis, findings, self.cache)

    @staticmethod
    def _reply(findings: list[Finding], shown: str, everything: bool) -> dict:
        if not everything:
            findings = [f for f in findings if f.path == shown]
        return {"format": _FORMAT, "complete": everything,
                "findings": [[f.path, f.line, f.column, f.code, f.message] for f in findings]}

    def flush(self) -> None:
        """What waits until the answer is sent: the cache writes, and the collector."""
        self.cache.flush()
        self.memo.flush()
        self._settle()

    def _settle(self) -> None:
        # The state held here is millions of objects. Parsing an edited file runs the
        # cyclic collector, which would walk all of them on every request: they are
        # frozen (left out of collections) between requests instead. What a request
        # leaves behind is collected here, after its answer; a full collection every
        # few requests frees the cycles the frozen generation kept.
        self._answers += 1
        if self._answers % 25 == 0:
            gc.unfreeze()
        gc.collect()
        gc.freeze()


def _load(start: Path, extend_select: Sequence[str]) -> "Config":
    from dbcheck.config import load_config

    return extend_selection(load_config(start=start.resolve()), extend_select)


def serve(start: Path, idle: float, extend_select: Sequence[str] = ()) -> int:
    """Answer requests on the project's socket until ``idle`` seconds pass without one."""
    import fcntl

    from dbcheck.config import ConfigError

    try:
        config = _load(start, extend_select)
    except ConfigError:
        return 2
    path = socket_path(config, os.getcwd())
    if path is None:
        return 2
    lock = open(path + ".lock", "a")  # noqa: SIM115 - held for the daemon's life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return 0  # another daemon serves this project already (or is starting)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    bound: Optional[int] = None
    try:
        try:
            os.unlink(path)  # a socket left by a daemon that was killed
        except FileNotFoundError:
            pass
        try:
            server.bind(path)
        except OSError:
            return 2
        bound = os.stat(path).st_ino
        server.listen(16)
        project = ProjectServer(config)
        project.prepare()
        watcher = FolderWatcher.start(project_folders(config))
        build = _code_digest()
        waiting = [server] + ([watcher] if watcher is not None else [])
        deadline = time.monotonic() + idle
        unflushed = False
        while True:
            wait = max(deadline - time.monotonic(), 0)
            ready, _w, _x = select.select(waiting, [], [], min(wait, _QUIET_SECONDS) if unflushed else wait)
            if not ready:
                if unflushed:
                    # a quiet moment: what no request waits for - the whole project's
                    # findings for the cache, the writes, the collection
                    project.complete(background=True)
                    project.flush()
                    unflushed = False
                    continue
                return 0  # idle: requests stopped coming (file changes do not keep it alive)
            project.reap()
            if not project.same_tree():
                return 0  # the project is gone (a temporary checkout), or another tree took its path
            if watcher is not None and watcher in ready and watcher.changed():
                if _superseded(config, start, build, extend_select):
                    return 0  # clients now name another daemon's socket: no one asks this one
                # an editor's save is often several writes (a temporary file renamed
                # over the original): wait for the last before reading the files
                while select.select([watcher], [], [], _SETTLE_SECONDS)[0]:
                    watcher.changed()
                project.refresh()
                unflushed = True
            if server in ready:
                if not _serve_one(server, project):
                    return 0
                unflushed = True
                deadline = time.monotonic() + idle
    finally:
        try:
            if bound is not None and os.stat(path).st_ino == bound:
                os.unlink(path)  # not a successor's
        except OSError:
            pass
        server.close()
        lock.close()


def _superseded(config: "Config", start: Path, build: str, extend_select: Sequence[str] = ()) -> bool:
    """Whether the configuration or dbcheck itself changed since this daemon started."""
    from dbcheck.config import ConfigError

    try:
        return _load(start, extend_select).fingerprint() != config.fingerprint() or _code_digest() != build
    except ConfigError:
        return True


def _serve_one(server: socket.socket, project: ProjectServer) -> bool:
    """Answer one request; False when asked to stop."""
    try:
        conn, _address = server.accept()
    except OSError:
        return True
    with conn:
        conn.settimeout(30.0)
        try:
            request = json.loads(_receive(conn).decode("utf-8", "surrogatepass"))
            if not isinstance(request, dict) or request.get("format") != _FORMAT:
                reply = {"format": _FORMAT, "error": "another dbcheck build"}
            elif request.get("stop"):
                _send(conn, {"format": _FORMAT, "stopped": True})
                return False
            elif not project.same_tree():
                _send(conn, {"format": _FORMAT, "error": "the project at this path is another tree now"})
                return False
            else:
                text = request.get("text")
                if text is not None and not isinstance(text, str):
                    raise TypeError("text is not a string")
                reply = project.answer(str(request["file"]), text, bool(request.get("everything")))
        except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError, MemoryError) as err:
            reply = {"format": _FORMAT, "error": f"bad request: {type(err).__name__}"}
        except Exception as err:  # noqa: BLE001 - one request's failure must not end the daemon
            reply = {"format": _FORMAT, "error": f"internal error: {type(err).__name__}: {err}"}
        _send(conn, reply)
    return True


def _send(conn: socket.socket, reply: dict) -> None:
    try:
        conn.sendall(json.dumps(reply).encode("utf-8", "surrogatepass"))
    except OSError:
        pass  # the client gave up waiting; it has analysed on its own


def main(argv: Optional[list[str]] = None) -> int:
    """``python -P -m dbcheck.daemon --cwd DIR [--extend-select CODES] PROJECT_DIR``, as
    ``spawn`` starts it (``dbcheck daemon --stop`` stops it)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) >= 3 and args[0] == "--cwd":
        try:
            os.chdir(args[1])
        except OSError:
            return 2
        args = args[2:]
    extend_select: tuple[str, ...] = ()
    if len(args) == 3 and args[0] == "--extend-select":
        extend_select = tuple(c.strip() for c in args[1].split(",") if c.strip())
        args = args[2:]
    if len(args) != 1:
        print("usage: python -P -m dbcheck.daemon --cwd DIR [--extend-select CODES] PROJECT_DIR (the flake8 "
              "plugin starts it; 'dbcheck daemon --stop' stops it)", file=sys.stderr)
        return 2
    try:
        idle = float(os.environ.get("DBCHECK_DAEMON_IDLE", IDLE_SECONDS))
    except ValueError:
        idle = IDLE_SECONDS
    gc.disable()  # collections run between requests (see ProjectServer.flush)
    return serve(Path(args[0]), idle, extend_select)


if __name__ == "__main__":
    raise SystemExit(main())
