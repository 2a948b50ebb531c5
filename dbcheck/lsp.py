"""``dbcheck server``: a Language Server Protocol server over stdio (``pip install
'flake8-dbcheck[lsp]'``).

It keeps one project analysis per project root in this process - the daemon's engine,
``dbcheck.daemon.ProjectServer``, with its incremental index - and answers an editor from
the buffers it has open, saved or not: diagnostics on open, on change (debounced) and on
save, for the edited file and for every other open file of its project whose findings the
edit changed; quick fixes for every fix the command line has, a ``# noqa`` for any
finding, ``source.fixAll.dbcheck`` for the safe ones; the rule's documentation on hover.
Nothing it reads is imported or run, and it writes nothing but its cache (edits are the
editor's to apply)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

from dbcheck import __version__
from dbcheck.config import Config, ConfigError, find_config, load_config
from dbcheck.daemon import ProjectServer
from dbcheck.findings import SAFE, Finding, display_path, select_findings
from dbcheck.fix import plan_fixes
from dbcheck.reporters.sarif import DOCS_URL, level_of
from dbcheck.rules import RULES_BY_CODE

try:
    from lsprotocol import types as lsp
    from pygls.server import LanguageServer
    from pygls.uris import from_fs_path, to_fs_path
except ImportError:  # pragma: no cover - the extra is missing: main() says how to get it
    lsp = None  # type: ignore[assignment]
    LanguageServer = object  # type: ignore[assignment,misc]

FIX_ALL = "source.fixAll.dbcheck"
CONFIG_FILES = ("pyproject.toml", "dbcheck.toml", ".dbcheck.toml")
DEFAULT_DEBOUNCE = 0.15  # seconds of quiet typing before a buffer is analysed
RESCAN_AFTER = 5.0  # seconds after which typing looks at the files on disk again...
RESCAN_WHEN_QUIET = 1.0  # ...once the editor has been quiet this long (never on a keystroke's way)
WARM_FOR = 600.0  # seconds the first analysis may take in its own process
# "via load() -> Repo.get() (app/repo.py:12)": where a call-site finding's query is
_WHERE = re.compile(r"\(([^():\s]+\.py):(\d+)\)")
_NOQA = re.compile(r"#\s*noqa:\s?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*)", re.IGNORECASE)


def _config_stamp(folder: Path) -> tuple:
    """What tells whether the configuration a folder answers to may have changed: the
    size, time and inode of every configuration file in it and above it, and of what
    marks a project's root when none configures dbcheck."""
    stamp: list[tuple] = []
    for where in (folder, *folder.parents):
        for name in (*CONFIG_FILES, "setup.py", "setup.cfg", ".git"):
            try:
                st = os.stat(where / name)
            except OSError:
                continue
            # (the change time too: a copy that keeps the modification time - cp -p, rsync -t)
            stamp.append((str(where), name, st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino))
            if time.time_ns() - st.st_mtime_ns < 2_000_000_000:
                # written just now: a second write in the same clock tick would keep the
                # stamp (git's "racy" files), so this one is never taken as unchanged
                stamp.append(("racy", time.monotonic_ns()))
    return tuple(stamp)


@dataclass
class Project:
    """One project root's analysis and what was last published for its open files."""

    config: Config
    engine: Optional[ProjectServer] = None
    published: dict[str, list[Finding]] = field(default_factory=dict)  # uri -> findings
    versions: dict[str, Optional[int]] = field(default_factory=dict)  # uri -> version published
    timer: Optional[asyncio.TimerHandle] = None
    rescan: bool = True  # the next analysis looks at the tree again (see ProjectServer.findings_for)
    warming: Optional["subprocess.Popen[bytes]"] = None  # the first analysis, run as the CLI (see warm)
    warm_started: float = 0.0
    scanned_at: float = 0.0


@dataclass
class Settings:
    """What the editor may set (``initializationOptions`` or ``workspace/configuration``
    section ``dbcheck``): ``severity`` maps a code or prefix to error, warning,
    information or hint; ``debounce`` and ``rescanAfter`` (how old the last look at
    the files on disk may get while typing, see ``rescan_later``) are in milliseconds."""

    severity: dict[str, str] = field(default_factory=dict)
    debounce: float = DEFAULT_DEBOUNCE
    rescan_after: float = RESCAN_AFTER

    @classmethod
    def read(cls, raw: Any) -> "Settings":
        if not isinstance(raw, dict):
            return cls()
        severity = raw.get("severity")
        levels = {str(k).upper(): v.lower() for k, v in severity.items() if isinstance(v, str)} \
            if isinstance(severity, dict) else {}

        def seconds(key: str, default: float) -> float:
            value = raw.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
                return float(value) / 1000
            return default

        return cls(levels, seconds("debounce", DEFAULT_DEBOUNCE), seconds("rescanAfter", RESCAN_AFTER))


class DbcheckServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("dbcheck", __version__)
        self.projects: dict[str, Project] = {}  # config root -> project
        # folder -> (its configuration files' stamp, a [tool.dbcheck] found, config, error)
        self.configs: dict[Path, tuple[tuple, bool, Optional[Config], Optional[str]]] = {}
        self.settings = Settings()
        self.said: set[str] = set()  # configuration errors shown (once each, until a reload)
        self.marked: set[str] = set()  # documents whose last published diagnostics were not empty

    async def pull_settings(self) -> None:
        """``workspace/configuration`` section ``dbcheck``, when the client offers it."""
        workspace = self.client_capabilities.workspace
        if not (workspace and workspace.configuration):
            return
        try:
            answer = await self.get_configuration_async(
                lsp.ConfigurationParams([lsp.ConfigurationItem(section="dbcheck")]))
        except Exception:  # noqa: BLE001 - a client that cannot answer keeps the defaults
            return
        if answer and isinstance(answer[0], dict):
            self.settings = Settings.read(answer[0])

    # ------------------------------------------------------------------ projects

    def project_of(self, path: str, quiet: bool = False) -> Optional[Project]:
        """The project a file belongs to (found as the command line finds it, from the
        file's folder up), or None: a file in none of the workspace's folders and under
        no ``[tool.dbcheck]`` (a library's source opened by go-to-definition), a file the
        configuration excludes, or a configuration that is wrong (said once)."""
        folder = Path(os.path.dirname(path))
        stamp = _config_stamp(folder)
        known = self.configs.get(folder)
        if known is None or known[0] != stamp:
            # every analysis asks for each open file: the configuration files are read
            # again only when one of them on the way up changed
            try:
                found = find_config(folder) is not None
                known = (stamp, found, load_config(start=folder), None)
            except ConfigError as err:
                known = (stamp, True, None, f"dbcheck: {err}")
            self.configs[folder] = known
        _stamp, found, config, message = known
        if not found and not self.in_workspace(path):
            return None
        if config is None:
            if message is not None and not quiet and message not in self.said:
                self.said.add(message)
                self.show_message(message, lsp.MessageType.Error)
            return None
        if config.is_excluded(Path(path)):
            return None
        key = os.path.realpath(config.root)
        project = self.projects.get(key)
        if project is None or project.config != config:
            project = self.projects[key] = Project(config)
        return project

    def in_workspace(self, path: str) -> bool:
        real = os.path.realpath(path)
        folders = [to_fs_path(f.uri) for f in self.workspace.folders.values()]
        if self.workspace.root_path:
            folders.append(self.workspace.root_path)
        return any(real.startswith(os.path.realpath(f).rstrip(os.sep) + os.sep) for f in folders if f)

    def open_documents(self, project: Project) -> dict[str, str]:
        """uri -> file path of the open files of ``project``."""
        out = {}
        for uri in list(self.workspace.text_documents):
            path = to_fs_path(uri) if uri.startswith("file:") else None
            if path and path.endswith((".py", ".pyi")) and self.project_of(path, quiet=True) is project:
                out[uri] = path
        return out

    def project_holding(self, uri: str) -> Optional[Project]:
        for project in self.projects.values():
            if uri in project.published:
                return project
        return None

    # ------------------------------------------------------------------ analysis

    def schedule(self, uri: str, delay: Optional[float] = None, typed: bool = False) -> None:
        """Analyse the project of ``uri`` once the editor has been quiet for ``delay``.
        ``typed``: only a buffer changed - the tree is not looked at again on the way to
        this edit's diagnostics (see ``rescan_later``)."""
        path = to_fs_path(uri) if uri.startswith("file:") else None
        if not path or not path.endswith((".py", ".pyi")):
            return
        project = self.project_of(path)
        if project is None:
            self.forget(uri)  # nothing to say there (any more)
            return
        if project.timer is not None:
            project.timer.cancel()
        if not typed:
            project.rescan = True
        wait = self.settings.debounce if delay is None else delay
        project.timer = self.loop.call_later(wait, self.analyse, project)

    def rescan_later(self, project: Project) -> None:
        """A look at the tree (a checkout may have changed it) when the last one is older
        than ``rescanAfter``, once the editor is quiet: walking thousands of files is
        then never between a keystroke and its diagnostics."""
        if project.timer is None and not project.rescan \
                and time.monotonic() - project.scanned_at > self.settings.rescan_after:
            project.timer = self.loop.call_later(RESCAN_WHEN_QUIET, self.rescan, project)

    def rescan(self, project: Project) -> None:
        project.timer = None
        project.rescan = True
        self.analyse(project)

    def analyse(self, project: Project) -> None:
        project.timer = None
        documents = self.open_documents(project)
        if not documents:
            return
        if project.engine is None:
            if project.warming is None:
                project.warming = warm(project.config)
                project.warm_started = time.monotonic()
            if project.warming is not None and project.warming.poll() is None:
                if time.monotonic() - project.warm_started < WARM_FOR:
                    # not yet: look again soon, serving requests meanwhile
                    project.timer = self.loop.call_later(0.25, self.analyse, project)
                    return
                _kill_group(project.warming)
        root = str(project.config.root)
        try:
            here: Optional[str] = os.getcwd()
        except OSError:
            here = None  # the folder the server started in is gone
        rescan = project.rescan
        try:
            # paths are shown relative to the project root, as its command line shows them
            os.chdir(root)
            if project.engine is None:
                project.engine = ProjectServer(project.config)
            shown = {uri: display_path(Path(path)) for uri, path in documents.items()}
            sources = {shown[uri]: self.workspace.get_text_document(uri).source for uri in documents}
            project.rescan = False
            if rescan:
                project.scanned_at = time.monotonic()
            findings, errors = project.engine.findings_for(sources, sorted(set(shown.values())), rescan)
            # select / ignore / per-file-ignores, and the rules that are off by default
            findings = select_findings(findings, project.config)
        except Exception as err:  # noqa: BLE001 - one bad state must not stop the server
            project.rescan = project.rescan or rescan
            self.show_message_log(f"dbcheck: internal error: {type(err).__name__}: {err}", lsp.MessageType.Error)
            return
        finally:
            if here is not None:
                try:
                    os.chdir(here)
                except OSError:
                    pass
        for error in errors:
            self.show_message_log(f"dbcheck: {error}", lsp.MessageType.Warning)
        by_path: dict[str, list[Finding]] = {}
        for finding in findings:
            by_path.setdefault(finding.path, []).append(finding)
        for uri, path in shown.items():
            mine = by_path.get(path, [])
            document = self.workspace.get_text_document(uri)
            if uri in project.published and project.published[uri] == mine \
                    and project.versions.get(uri) == document.version:
                continue  # not edited, and another file's edit did not change its findings
            project.published[uri], project.versions[uri] = mine, document.version
            (self.marked.add if mine else self.marked.discard)(uri)
            self.publish_diagnostics(uri, [self.diagnostic(f, document.source, root) for f in mine],
                                     version=document.version)
        # after the answer, as the daemon does: the cache writes, and the collector (the
        # state kept is frozen between requests, so an edit's parse does not walk it)
        try:
            project.engine.flush()
        except OSError as err:
            self.show_message_log(f"dbcheck: cannot write the cache: {err}", lsp.MessageType.Warning)
        if not rescan:  # (a rescan that takes longer than rescanAfter must not schedule the next)
            self.rescan_later(project)

    def forget(self, uri: str) -> None:
        for project in self.projects.values():
            project.published.pop(uri, None)
            project.versions.pop(uri, None)
        if uri in self.marked:  # (a reload forgot the projects, not what the editor shows)
            self.marked.discard(uri)
            self.publish_diagnostics(uri, [])

    def closed(self, uri: str) -> None:
        """A file closed: its diagnostics go, and the project's other open files are
        analysed again (an unsaved buffer of it no longer stands for the file)."""
        project = self.project_holding(uri)
        self.forget(uri)
        if project is None:
            return
        project.rescan = True
        others = [u for u in self.open_documents(project) if u != uri]
        if others:
            self.schedule(others[0], 0)

    def fresh(self, uri: str) -> Optional[Project]:
        """The project of ``uri`` with findings for the document as it is now: a code
        action or a hover asked before the typing pause ended runs the analysis first."""
        project = self.project_holding(uri)
        document = self.workspace.get_text_document(uri)
        if project is not None and project.versions.get(uri) != document.version:
            if project.timer is not None:
                project.timer.cancel()
            self.analyse(project)
        return project

    def stop_warming(self) -> None:
        for project in self.projects.values():
            if project.warming is not None and project.warming.poll() is None:
                _kill_group(project.warming)

    def reload(self) -> None:
        """A configuration changed: every project is read again, every open file re-analysed."""
        self.stop_warming()
        for project in self.projects.values():
            if project.timer is not None:
                project.timer.cancel()
        self.projects.clear()
        self.configs.clear()
        self.said.clear()
        for uri in list(self.workspace.text_documents):
            self.schedule(uri, 0)

    # ------------------------------------------------------------------ conversions

    def severity(self, code: str) -> "lsp.DiagnosticSeverity":
        chosen = None
        for prefix, level in self.settings.severity.items():
            if code.startswith(prefix) and (chosen is None or len(prefix) > len(chosen[0])):
                chosen = (prefix, level)
        level = chosen[1] if chosen else {"error": "error", "warning": "warning", "note": "information"}[level_of(code)]
        return {"error": lsp.DiagnosticSeverity.Error, "warning": lsp.DiagnosticSeverity.Warning,
                "information": lsp.DiagnosticSeverity.Information, "info": lsp.DiagnosticSeverity.Information,
                "hint": lsp.DiagnosticSeverity.Hint}.get(level, lsp.DiagnosticSeverity.Warning)

    def diagnostic(self, finding: Finding, text: str, root: str) -> "lsp.Diagnostic":
        lines = _lines(text)
        line = max(finding.line - 1, 0)
        source_line = lines[line] if line < len(lines) else ""
        first = min(max(finding.column - 1, 0), len(source_line))
        last = max(len(source_line.rstrip()), first)
        start, end = _utf16(source_line, first), _utf16(source_line, last)
        places = [(where, int(number), "the query this call reaches") for where, number in _WHERE.findall(finding.message)]
        places += [(other.path, other.line, other.note) for other in finding.related]
        related = []
        for where, number, note in places:
            target = os.path.join(root, where)
            if os.path.isfile(target):
                place = lsp.Range(lsp.Position(number - 1, 0), lsp.Position(number - 1, 0))
                related.append(lsp.DiagnosticRelatedInformation(lsp.Location(from_fs_path(target), place), note))
        return lsp.Diagnostic(
            range=lsp.Range(lsp.Position(line, start), lsp.Position(line, end)),
            message=finding.message, severity=self.severity(finding.code), code=finding.code, source="dbcheck",
            code_description=lsp.CodeDescription(href=f"{DOCS_URL}#{finding.code.lower()}"),
            tags=[lsp.DiagnosticTag.Unnecessary] if finding.code == "DBC900" else None,
            related_information=related or None)

    def findings_at(self, uri: str, first: int, last: int) -> list[Finding]:
        project = self.project_holding(uri)
        if project is None:
            return []
        return [f for f in project.published[uri] if first <= f.line - 1 <= last]


def warm(config: Config) -> Optional["subprocess.Popen[bytes]"]:
    """Start analysing the project once as the command line does it - on every core, into
    the disk cache - so that the server's first answer costs a cold run, not a one-core
    one. A process of its own (forking workers from this one, whose threads serve the
    protocol, could deadlock them), started with Python's isolated paths and outside the
    checked tree, so nothing in the tree can stand in for dbcheck's own modules; it dies
    with the server (Linux), and the server waits for it without blocking requests."""
    try:
        return subprocess.Popen(
            [sys.executable, "-E", "-P", "-m", "dbcheck", "check", "--quiet", "--exit-zero",
             os.path.abspath(config.root)], cwd=os.path.dirname(os.path.abspath(__file__)),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,  # its workers with it: stopped as one group (stop_warming)
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
    except OSError:
        return None  # the server then analyses on one core: slower, not wrong


def _kill_group(process: "subprocess.Popen[bytes]") -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (OSError, AttributeError):
        process.kill()
    process.wait()


def _die_with_parent() -> None:
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - then it outlives a killed server, and finishes
        pass


_BREAK = re.compile(r"\r\n|\r|\n")


def _lines(text: str) -> list[str]:
    """The lines as LSP (and Python) count them: only \\n, \\r\\n and \\r end one
    (``str.splitlines`` also splits at a form feed or U+2028)."""
    return _BREAK.split(text)


def _lines_kept(text: str) -> list[str]:
    pieces, start = [], 0
    for end in _BREAK.finditer(text):
        pieces.append(text[start:end.end()])
        start = end.end()
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def _utf16(line: str, index: int) -> int:
    """A character index as LSP counts positions: UTF-16 code units."""
    return len(line[:index].encode("utf-16-le")) // 2


def _whole_text_edit(before: str, after: str) -> "lsp.TextEdit":
    """One edit turning ``before`` into ``after``: the lines between their common start
    and their common end."""
    old, new = _lines_kept(before), _lines_kept(after)
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    return lsp.TextEdit(lsp.Range(lsp.Position(head, 0), lsp.Position(len(old) - tail, 0)),
                        "".join(new[head:len(new) - tail]))


def noqa_edit(text: str, finding: Finding) -> Optional["lsp.TextEdit"]:
    """``# noqa: DBC501 <reason>`` on the finding's line (its code added to a ``# noqa:``
    already there)."""
    lines = _lines(text)
    if not 0 < finding.line <= len(lines):
        return None
    line = lines[finding.line - 1]
    found = _NOQA.search(line)
    if found is not None:
        # first in the list, so a reason written after the codes stays the reason
        if finding.code.upper() in {c.upper() for c in re.split(r"[,\s]+", found.group("codes"))}:
            return None
        at = _utf16(line, found.start("codes"))
        return lsp.TextEdit(lsp.Range(lsp.Position(finding.line - 1, at), lsp.Position(finding.line - 1, at)),
                            f"{finding.code}, ")
    end = _utf16(line, len(line.rstrip()))
    return lsp.TextEdit(lsp.Range(lsp.Position(finding.line - 1, end),
                                  lsp.Position(finding.line - 1, _utf16(line, len(line)))),
                        f"  # noqa: {finding.code} <reason>")


def fix_edit(text: str, findings: Sequence[Finding], unsafe: bool) -> Optional["lsp.TextEdit"]:
    """The edit the fixes of ``findings`` make to ``text`` (safe ones; ``unsafe`` too),
    or None when they change nothing or would not parse."""
    plans = plan_fixes([Finding("buffer", f.line, f.column, f.code, f.message, f.fix) for f in findings],
                       unsafe, read=lambda _path: text)
    if not plans:
        return None
    return _whole_text_edit(plans[0].before, plans[0].after)


def build_server() -> DbcheckServer:
    server = DbcheckServer()

    @server.feature(lsp.INITIALIZE)
    def initialize(ls: DbcheckServer, params: lsp.InitializeParams) -> None:
        ls.settings = Settings.read(params.initialization_options)

    @server.feature(lsp.INITIALIZED)
    async def initialized(ls: DbcheckServer, _params: lsp.InitializedParams) -> None:
        await ls.pull_settings()
        watchers = [lsp.FileSystemWatcher(glob_pattern=f"**/{name}") for name in CONFIG_FILES]
        capabilities = ls.client_capabilities.workspace
        dynamic = capabilities and capabilities.did_change_watched_files and \
            capabilities.did_change_watched_files.dynamic_registration
        if dynamic:
            try:
                await ls.register_capability_async(lsp.RegistrationParams([lsp.Registration(
                    "dbcheck-config", lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                    lsp.DidChangeWatchedFilesRegistrationOptions(watchers))]))
            except Exception:  # noqa: BLE001 - saving the file in the editor still reloads
                pass

    @server.feature(lsp.SHUTDOWN)
    def shutdown(ls: DbcheckServer, _params: None) -> None:
        ls.stop_warming()

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: DbcheckServer, params: lsp.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: DbcheckServer, params: lsp.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, typed=True)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: DbcheckServer, params: lsp.DidSaveTextDocumentParams) -> None:
        if params.text_document.uri.endswith(CONFIG_FILES):
            ls.reload()
        else:
            ls.schedule(params.text_document.uri, 0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: DbcheckServer, params: lsp.DidCloseTextDocumentParams) -> None:
        ls.closed(params.text_document.uri)

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched(ls: DbcheckServer, params: lsp.DidChangeWatchedFilesParams) -> None:
        if any(change.uri.endswith(CONFIG_FILES) for change in params.changes):
            ls.reload()

    @server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def configuration(ls: DbcheckServer, params: lsp.DidChangeConfigurationParams) -> None:
        settings = params.settings.get("dbcheck") if isinstance(params.settings, dict) else None
        if settings is not None:
            ls.settings = Settings.read(settings)
        else:
            await ls.pull_settings()
        ls.reload()

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def folders(ls: DbcheckServer, _params: lsp.DidChangeWorkspaceFoldersParams) -> None:
        ls.reload()

    @server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION, lsp.CodeActionOptions(
        code_action_kinds=[lsp.CodeActionKind.QuickFix, FIX_ALL], resolve_provider=False))
    def code_actions(ls: DbcheckServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        uri = params.text_document.uri
        ls.fresh(uri)
        document = ls.workspace.get_text_document(uri)
        text = document.source
        only = params.context.only

        def change(edit: lsp.TextEdit) -> lsp.WorkspaceEdit:
            # for this version of the document only: an editor rejects it once the text moved on
            return lsp.WorkspaceEdit(document_changes=[lsp.TextDocumentEdit(
                lsp.OptionalVersionedTextDocumentIdentifier(uri, document.version), [edit])])
        actions: list[lsp.CodeAction] = []
        if not only or any(kind.startswith(lsp.CodeActionKind.QuickFix) for kind in only):
            for finding in ls.findings_at(uri, params.range.start.line, params.range.end.line):
                diagnostics = [d for d in params.context.diagnostics if d.code == finding.code]
                if finding.fix is not None:
                    edit = fix_edit(text, [finding], unsafe=True)
                    if edit is not None:
                        safe = finding.fix.safety == SAFE
                        rule = RULES_BY_CODE.get(finding.code)
                        what = (rule.fix_description if rule is not None and rule.fix_description else "apply the fix")
                        actions.append(lsp.CodeAction(
                            f"{finding.code}: {what}" + ("" if safe else " (changes behaviour)"),
                            kind=lsp.CodeActionKind.QuickFix, diagnostics=diagnostics or None,
                            is_preferred=safe, edit=change(edit)))
                noqa = noqa_edit(text, finding)
                if noqa is not None:
                    actions.append(lsp.CodeAction(
                        f"{finding.code}: add '# noqa: {finding.code} <reason>'",
                        kind=lsp.CodeActionKind.QuickFix, diagnostics=diagnostics or None,
                        edit=change(noqa)))
        if not only or any(FIX_ALL.startswith(kind) for kind in only):
            everything = ls.findings_at(uri, 0, sys.maxsize)
            edit = fix_edit(text, [f for f in everything if f.fix is not None and f.fix.safety == SAFE], unsafe=False)
            if edit is not None:
                actions.append(lsp.CodeAction("dbcheck: apply every safe fix", kind=FIX_ALL,
                                              edit=change(edit)))
        return actions

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: DbcheckServer, params: lsp.HoverParams) -> Optional[lsp.Hover]:
        ls.fresh(params.text_document.uri)
        here = ls.findings_at(params.text_document.uri, params.position.line, params.position.line)
        if not here:
            return None
        parts = []
        for code in dict.fromkeys(f.code for f in here):
            rule = RULES_BY_CODE.get(code)
            if rule is not None:
                parts.append(f"### {code} {rule.name}\n\n{rule.documentation()}")
        return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, "\n\n---\n\n".join(parts))) if parts else None

    return server


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Serve over stdio until the client says exit."""
    if lsp is None:
        sys.stderr.write("dbcheck: error: 'dbcheck server' needs the lsp extra: pip install 'flake8-dbcheck[lsp]'\n")
        return 2
    build_server().start_io()
    return 0
