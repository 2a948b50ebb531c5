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
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

from dbcheck import __version__
from dbcheck.config import Config, ConfigError, load_config
from dbcheck.daemon import ProjectServer
from dbcheck.findings import SAFE, Finding, display_path
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
RESCAN_AFTER = 5.0  # seconds after which typing looks at the files on disk again
# "via load() -> Repo.get() (app/repo.py:12)": where a call-site finding's query is
_WHERE = re.compile(r"\(([^():\s]+\.py):(\d+)\)")
_NOQA = re.compile(r"#\s*noqa:\s?(?P<codes>[A-Z]+[0-9]*(?:[,\s]+[A-Z]+[0-9]*)*)", re.IGNORECASE)


@dataclass
class Project:
    """One project root's analysis and what was last published for its open files."""

    config: Config
    engine: Optional[ProjectServer] = None
    published: dict[str, list[Finding]] = field(default_factory=dict)  # uri -> findings
    versions: dict[str, Optional[int]] = field(default_factory=dict)  # uri -> version published
    timer: Optional[asyncio.TimerHandle] = None
    rescan: bool = True  # the next analysis looks at the tree again (see ProjectServer.findings_for)
    scanned_at: float = 0.0


@dataclass
class Settings:
    """What the editor may set (``initializationOptions`` or ``workspace/configuration``
    section ``dbcheck``): ``severity`` maps a code or prefix to error, warning,
    information or hint; ``debounce`` is in milliseconds."""

    severity: dict[str, str] = field(default_factory=dict)
    debounce: float = DEFAULT_DEBOUNCE

    @classmethod
    def read(cls, raw: Any) -> "Settings":
        if not isinstance(raw, dict):
            return cls()
        severity = raw.get("severity")
        debounce = raw.get("debounce")
        return cls({str(k).upper(): str(v).lower() for k, v in severity.items()} if isinstance(severity, dict) else {},
                   float(debounce) / 1000 if isinstance(debounce, (int, float)) and debounce >= 0 else DEFAULT_DEBOUNCE)


class DbcheckServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("dbcheck", __version__)
        self.projects: dict[str, Project] = {}  # config root -> project
        self.settings = Settings()

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

    def project_of(self, path: str) -> Optional[Project]:
        """The project a file belongs to (found as the command line finds it, from the
        file's folder up), or None when its configuration is wrong (said once)."""
        folder = os.path.dirname(path)
        try:
            config = load_config(start=Path(folder))
        except ConfigError as err:
            self.show_message(f"dbcheck: {err}", lsp.MessageType.Error)
            return None
        key = os.path.realpath(config.root)
        project = self.projects.get(key)
        if project is None or project.config != config:
            project = self.projects[key] = Project(config)
        return project

    def open_documents(self, project: Project) -> dict[str, str]:
        """uri -> file path of the open files of ``project``."""
        out = {}
        for uri in list(self.workspace.text_documents):
            path = to_fs_path(uri) if uri.startswith("file:") else None
            if path and path.endswith((".py", ".pyi")) and self.projects.get(self._key_of(path)) is project:
                out[uri] = path
        return out

    def _key_of(self, path: str) -> str:
        try:
            return os.path.realpath(load_config(start=Path(os.path.dirname(path))).root)
        except ConfigError:
            return ""

    # ------------------------------------------------------------------ analysis

    def schedule(self, uri: str, delay: Optional[float] = None, typed: bool = False) -> None:
        """Analyse the project of ``uri`` once the editor has been quiet for ``delay``.
        ``typed``: only a buffer changed - the tree is looked at again only if the last
        look is older than RESCAN_AFTER seconds (a checkout may have changed it)."""
        path = to_fs_path(uri) if uri.startswith("file:") else None
        if not path or not path.endswith((".py", ".pyi")):
            return
        project = self.project_of(path)
        if project is None:
            return
        if project.timer is not None:
            project.timer.cancel()
        if not typed or time.monotonic() - project.scanned_at > RESCAN_AFTER:
            project.rescan = True
        wait = self.settings.debounce if delay is None else delay
        project.timer = self.loop.call_later(wait, self.analyse, project)

    def analyse(self, project: Project) -> None:
        project.timer = None
        documents = self.open_documents(project)
        if not documents:
            return
        root = str(project.config.root)
        here = os.getcwd()
        try:
            # paths are shown relative to the project root, as its command line shows them
            os.chdir(root)
            if project.engine is None:
                warm(project.config)
                project.engine = ProjectServer(project.config)
            shown = {uri: display_path(Path(path)) for uri, path in documents.items()}
            sources = {shown[uri]: self.workspace.get_text_document(uri).source for uri in documents}
            rescan, project.rescan = project.rescan, False
            if rescan:
                project.scanned_at = time.monotonic()
            findings, errors = project.engine.findings_for(sources, sorted(set(shown.values())), rescan)
        except Exception as err:  # noqa: BLE001 - one bad state must not stop the server
            self.show_message_log(f"dbcheck: internal error: {type(err).__name__}: {err}", lsp.MessageType.Error)
            return
        finally:
            os.chdir(here)
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
            self.publish_diagnostics(uri, [self.diagnostic(f, document.source, root) for f in mine],
                                     version=document.version)
        # after the answer, as the daemon does: the cache writes, and the collector (the
        # state kept is frozen between requests, so an edit's parse does not walk it)
        try:
            project.engine.flush()
        except OSError as err:
            self.show_message_log(f"dbcheck: cannot write the cache: {err}", lsp.MessageType.Warning)

    def forget(self, uri: str) -> None:
        for project in self.projects.values():
            project.published.pop(uri, None)
            project.versions.pop(uri, None)
        self.publish_diagnostics(uri, [])

    def reload(self) -> None:
        """A configuration changed: every project is read again, every open file re-analysed."""
        for project in self.projects.values():
            if project.timer is not None:
                project.timer.cancel()
        self.projects.clear()
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
        lines = text.splitlines()
        line = max(finding.line - 1, 0)
        source_line = lines[line] if line < len(lines) else ""
        start = min(max(finding.column - 1, 0), len(source_line))
        end = len(source_line.rstrip()) if len(source_line.rstrip()) > start else start
        related = []
        for where, number in _WHERE.findall(finding.message):
            target = os.path.join(root, where)
            if os.path.isfile(target):
                place = lsp.Range(lsp.Position(int(number) - 1, 0), lsp.Position(int(number) - 1, 0))
                related.append(lsp.DiagnosticRelatedInformation(
                    lsp.Location(from_fs_path(target), place), "the query this call reaches"))
        return lsp.Diagnostic(
            range=lsp.Range(lsp.Position(line, start), lsp.Position(line, end)),
            message=finding.message, severity=self.severity(finding.code), code=finding.code, source="dbcheck",
            code_description=lsp.CodeDescription(href=f"{DOCS_URL}#{finding.code.lower()}"),
            tags=[lsp.DiagnosticTag.Unnecessary] if finding.code == "DBC900" else None,
            related_information=related or None)

    def findings_at(self, uri: str, first: int, last: int) -> list[Finding]:
        for project in self.projects.values():
            if uri in project.published:
                return [f for f in project.published[uri] if first <= f.line - 1 <= last]
        return []


def warm(config: Config) -> None:
    """The project analysed once as the command line does it - on every core, into the
    disk cache - so that the server's first answer costs a cold run, not a one-core one.
    A process of its own (forking workers from this one, whose threads serve the
    protocol, could deadlock them), started with Python's safe path and outside the
    checked tree, so nothing in the tree can stand in for dbcheck's own modules."""
    import subprocess

    try:
        subprocess.run([sys.executable, "-P", "-m", "dbcheck", "check", "--quiet", "--exit-zero",
                        os.path.abspath(config.root)], cwd=os.path.dirname(os.path.abspath(__file__)),
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=1800, check=False)
    except (OSError, subprocess.SubprocessError):
        pass  # the server then analyses on one core: slower, not wrong


def _whole_text_edit(before: str, after: str) -> "lsp.TextEdit":
    """One edit turning ``before`` into ``after``: the lines between their common start
    and their common end."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
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
    lines = text.splitlines()
    if not 0 < finding.line <= len(lines):
        return None
    line = lines[finding.line - 1]
    found = _NOQA.search(line)
    if found is not None:
        codes = found.group("codes")
        if finding.code in re.split(r"[,\s]+", codes):
            return None
        at = found.end("codes")
        return lsp.TextEdit(lsp.Range(lsp.Position(finding.line - 1, at), lsp.Position(finding.line - 1, at)),
                            f", {finding.code}")
    end = len(line.rstrip())
    return lsp.TextEdit(lsp.Range(lsp.Position(finding.line - 1, end), lsp.Position(finding.line - 1, len(line))),
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
        ls.forget(params.text_document.uri)

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
        text = ls.workspace.get_text_document(uri).source
        only = params.context.only
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
                            is_preferred=safe, edit=lsp.WorkspaceEdit(changes={uri: [edit]})))
                noqa = noqa_edit(text, finding)
                if noqa is not None:
                    actions.append(lsp.CodeAction(
                        f"{finding.code}: add '# noqa: {finding.code} <reason>'",
                        kind=lsp.CodeActionKind.QuickFix, diagnostics=diagnostics or None,
                        edit=lsp.WorkspaceEdit(changes={uri: [noqa]})))
        if not only or any(FIX_ALL.startswith(kind) for kind in only):
            everything = ls.findings_at(uri, 0, sys.maxsize)
            edit = fix_edit(text, [f for f in everything if f.fix is not None and f.fix.safety == SAFE], unsafe=False)
            if edit is not None:
                actions.append(lsp.CodeAction("dbcheck: apply every safe fix", kind=FIX_ALL,
                                              edit=lsp.WorkspaceEdit(changes={uri: [edit]})))
        return actions

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: DbcheckServer, params: lsp.HoverParams) -> Optional[lsp.Hover]:
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
