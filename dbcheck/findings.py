"""The one record every rule produces, how its path is shown and which findings the
configuration lets through. Light on imports: the flake8 plugin's answer from the daemon
needs nothing else."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Optional

if TYPE_CHECKING:
    from dbcheck.config import Config

# A file that was not analysed (unreadable, over the size limit, beyond the parsers):
# reported at its line 1, never hidden by the configuration, and the run exits 2.
UNANALYSED = "DBC000"


SAFE = "safe"  # keeps what the code does (--fix)
UNSAFE = "unsafe"  # changes what it does, or needs a migration (--unsafe-fixes)


@dataclass(frozen=True)
class Edit:
    """One change a fix makes, applied by ``dbcheck.fix`` at ``line`` of the finding's file:

    - ``("keyword", (name, value, "replace" | "keep"))``: set ``name=value`` on the column
      call (``mapped_column``, ``Column``, ``Field``) at the line;
    - ``("index", (index name, column))``: ``index=True`` on that column call, or, where the
      column cannot take it (an ``Annotated`` alias, a factory), ``Index(name, column)`` in
      the mapped class's ``__table_args__``;
    - ``("ondelete", (value, target table))``: ``ondelete=value`` on the column's
      ``ForeignKey`` to that table (or on SQLModel's ``Field(foreign_key=...)``);
    - ``("noqa", (code,))``: drop ``code`` from the line's ``# noqa:`` comment.
    """

    kind: str
    line: int
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Fix:
    """What the check that found a problem knows will solve it: the edits and whether
    they keep behaviour (``SAFE``) or not (``UNSAFE``). ``index``: (index name, table,
    column) of an index the fix creates, for the migration ``--migration`` writes."""

    safety: str
    edits: tuple[Edit, ...]
    index: Optional[tuple[str, str, str]] = None

    def encode(self) -> tuple:
        return (self.safety, tuple((e.kind, e.line, e.values) for e in self.edits), self.index)

    @classmethod
    def decode(cls, payload: Optional[tuple]) -> Optional["Fix"]:
        if payload is None:
            return None
        safety, edits, index = payload
        return cls(str(safety), tuple(Edit(str(k), int(n), tuple(map(str, v))) for k, n, v in edits),
                   (str(index[0]), str(index[1]), str(index[2])) if index is not None else None)


@dataclass(frozen=True)
class Related:
    """Another place a finding is about - the other side of a relationship, the model a
    foreign key points at - which the language server shows beside the diagnostic.
    ``path`` is shown as the finding's own is."""

    path: str
    line: int
    note: str


@dataclass(frozen=True, order=True)
class Finding:
    """A problem at a place. ``line`` and ``column`` are 1-based, like flake8's output.
    ``fix``, when the problem has one, and ``related`` places are not part of the
    finding's identity (nor stored with cached results: the language server, which
    shows them, always analyses)."""

    path: str
    line: int
    column: int
    code: str
    message: str
    fix: Optional[Fix] = field(default=None, compare=False)
    related: tuple[Related, ...] = field(default=(), compare=False)

    def moved(self, path: str) -> "Finding":
        """The same finding under another spelling of its path."""
        return Finding(path, self.line, self.column, self.code, self.message, self.fix, self.related)

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "code": self.code,
            "message": self.message,
        }


def fingerprints(findings: "list[Finding]") -> dict[Finding, str]:
    """An identity for each finding that does not depend on its line: the rule, the
    file, the message (which names the table, column or query) and, for identical
    ones, their order in the file. Unrelated edits above a finding keep it."""
    import hashlib

    counts: dict[tuple[str, str, str], int] = {}
    out: dict[Finding, str] = {}
    for finding in sorted(findings):
        key = (finding.code, finding.path.replace("\\", "/"), finding.message)
        index = counts.get(key, 0)
        counts[key] = index + 1
        text = "\0".join((*key, str(index)))
        out[finding] = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return out


def display_path(path: Path, cwd: Optional[str] = None) -> str:
    """How a path is shown: relative to the working directory when under it."""
    raw = os.fspath(path)
    if not os.path.isabs(raw):
        # the common case (paths found under a relative argument): no system calls
        normal = os.path.normpath(raw)
        if normal != os.pardir and not normal.startswith(os.pardir + os.sep):
            return normal
    cwd = cwd or os.getcwd()
    absolute = os.path.normpath(os.path.join(cwd, raw))
    if absolute.startswith(cwd + os.sep):
        return absolute[len(cwd) + 1:]
    rel = os.path.relpath(absolute, cwd)
    if rel.startswith(os.pardir + os.sep) or rel == os.pardir:
        return absolute
    return rel


def printable(text: str) -> str:
    """``text`` with control characters (newlines included) escaped, for output a human
    or a CI log reads: a file named ``"a\\n::error::x.py"`` must not print a line of its own."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def select_findings(findings: Iterable[Finding], config: Config) -> list[Finding]:
    """``select`` / ``ignore`` / ``per-file-ignores``, flake8's way. A file that was not
    analysed is always reported."""
    kept = []
    enabled: dict[tuple[str, str], bool] = {}
    for finding in findings:
        if finding.code == UNANALYSED:
            kept.append(finding)
            continue
        key = (finding.code, finding.path)
        if key not in enabled:
            enabled[key] = config.is_code_enabled(finding.code, Path(finding.path))
        if enabled[key]:
            kept.append(finding)
    return sorted(set(kept))


# The first word of every fix hint a rule's message gives (``dbcheck/rules/*.py``: the
# ``message`` / ``messages`` templates, DBC304's problems), and a few more imperatives a
# new message may start its hint with. A word here splits a message only where it follows
# ": " or "; " outside brackets and quotes, and is followed by a space or the end.
HINT_VERBS = frozenset((
    # in the messages today
    "add", "build", "compare", "exclude", "filter", "load", "remove", "reverse", "state", "store", "use",
    # imperatives a hint may open with
    "call", "change", "check", "declare", "define", "drop", "give", "keep", "list", "make", "mark", "move",
    "pass", "rename", "replace", "return", "say", "scope", "set", "wrap",
))
_OPENING = "([{"
_CLOSING = ")]}"


def split_hint(message: str) -> tuple[str, Optional[str]]:
    """(the problem, the fix hint) of a message: the hint starts after the first ": " or
    "; " outside brackets, quotes and backticks whose next word is an imperative verb
    (``HINT_VERBS``): ``"... is nullable: add nullable=False (...)"`` -> ``("... is
    nullable", "add nullable=False (...)")``. ``(message, None)`` when there is no hint.
    The separator is the two characters between them: ``problem + message[len(problem):
    len(problem) + 2] + hint == message``. The message stays the finding's identity; this
    is only how the outputs show it."""
    at, quote_open, depth = _hint_start(message, quotes=True, brackets=True)
    if at is None and (quote_open or depth):
        # a name or a rendered expression in the message left a quote or a bracket
        # open: read the message again without what it unbalanced
        at, _open, _depth = _hint_start(message, quotes=not quote_open, brackets=not depth)
    if at is None:
        return message, None
    return message[:at], message[at + 2:]


def _hint_start(message: str, quotes: bool, brackets: bool) -> tuple[Optional[int], bool, int]:
    """(where the separator before the hint is, whether a quote was left open, the
    bracket depth at the end)."""
    depth = 0
    quote = ""
    size = len(message)
    for i, char in enumerate(message):
        if quote:
            if char == quote:
                quote = ""
        elif char in _OPENING:
            depth += brackets
        elif char in _CLOSING:
            depth = max(depth - brackets, 0)
        elif char == "`" or char == '"':
            quote = char if quotes else ""
        elif char == "'":
            # a quote opens after a space or punctuation; after a letter it is an
            # apostrophe ("the request's 'member_id'", "the row's value")
            if quotes and (i == 0 or not message[i - 1].isalnum()):
                quote = char
        elif (char == ":" or char == ";") and depth == 0 and i + 1 < size and message[i + 1] == " ":
            start = i + 2
            end = start
            while end < size and "a" <= message[end] <= "z":
                end += 1
            if end > start and (end == size or message[end] == " ") and message[start:end] in HINT_VERBS:
                return i, False, 0
    return None, bool(quote), depth
