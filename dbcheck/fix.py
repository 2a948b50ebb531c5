"""``--fix``: apply the fixes the checks attached to their findings (``Finding.fix``),
keeping formatting and comments. This module never decides what to change or how safe
it is - the rule that found the problem did (see each rule's ``fix``); it only carries
out the edits (``dbcheck.findings.Edit``):

- ``keyword``: ``name=value`` on the column call (``mapped_column``, ``Column``, ``Field``);
- ``index``: ``index=True`` there, or an ``Index(...)`` in the class's ``__table_args__``;
- ``ondelete``: ``ondelete=...`` on the column's ``ForeignKey`` to a given table;
- ``noqa``: a code removed from a ``# noqa`` comment (the comment, if it was the only one).

A file is rewritten only if the result still parses, through a temporary file renamed
over it; running ``--fix`` again changes nothing.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from dbcheck.atomic import write_atomic
from dbcheck.findings import SAFE, UNSAFE, Edit, Finding, printable

_NOQA_COMMENT = re.compile(r"(?P<space>\s*)#\s*noqa:\s?(?P<codes>[A-Z]+[0-9]*(?:[,\s]+[A-Z]+[0-9]*)*)", re.IGNORECASE)
_COLUMN_CALLS = ("mapped_column", "Column", "Field")


@dataclass
class FileFix:
    path: str
    before: str
    after: str
    fixed: list[Finding] = field(default_factory=list)

    def diff(self) -> str:
        return "".join(difflib.unified_diff(
            self.before.splitlines(keepends=True), self.after.splitlines(keepends=True),
            fromfile=f"a/{self.path}", tofile=f"b/{self.path}"))


def _callee_name(call) -> str:
    import libcst as cst

    func = call.func
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return ""


def _with_keyword(call, name: str, value: str, replace: bool):
    """The call with ``name=value`` added (or, with ``replace``, set), in its own style."""
    import libcst as cst

    args = list(call.args)
    for i, arg in enumerate(args):
        if arg.keyword is not None and arg.keyword.value == name:
            if not replace:
                return call
            args[i] = arg.with_changes(value=cst.parse_expression(value))
            return call.with_changes(args=args)
    new = cst.Arg(keyword=cst.Name(name), value=cst.parse_expression(value),
                  equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                        whitespace_after=cst.SimpleWhitespace("")))
    if args:
        last = args[-1]
        if last.star == "**":  # keywords cannot follow **kwargs: leave the call alone
            return call
        if isinstance(last.comma, cst.Comma):
            # a trailing comma: one argument per line. The new argument takes the old
            # last comma (newline + the closing parenthesis' indent); the old last
            # argument gets the indentation the first argument has.
            new = new.with_changes(comma=last.comma)
            args[-1] = last.with_changes(comma=last.comma.with_changes(whitespace_after=call.whitespace_before_args))
            args.append(new)
        else:
            # no trailing comma: the whitespace before ")" (maybe a newline) moves after
            # the new argument, so a hanging ")" stays where it was
            args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
                                         whitespace_after_arg=cst.SimpleWhitespace(""))
            args.append(new.with_changes(whitespace_after_arg=last.whitespace_after_arg))
    else:
        args.append(new)
    return call.with_changes(args=args)


def _fix_source(source: str, edits: dict[int, list[Edit]]) -> tuple[str, set[int]]:
    """Apply the code edits (``{line: [edits]}``); the new source and the lines fixed. An
    ``index`` edit whose column cannot take ``index=True`` (an ``Annotated`` alias, a
    column factory) puts an ``Index(...)`` into the mapped class's ``__table_args__``."""
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    module = cst.parse_module(source)
    wrapper = MetadataWrapper(module)
    positions = wrapper.resolve(PositionProvider)
    done: set[int] = set()
    declined: set[int] = set()  # the column says index=... itself: that is the author's call

    class Fixer(cst.CSTTransformer):
        def leave_Call(self, original, updated):  # noqa: N802 - libcst's naming
            line = positions[original].start.line if original in positions else None
            wanted = edits.get(line or -1)
            if line is None or not wanted or _callee_name(original) not in _COLUMN_CALLS:
                return updated
            result = updated
            for edit in wanted:
                if edit.kind == "index":
                    if any(a.keyword is not None and a.keyword.value == "index" for a in original.args):
                        declined.add(line)
                        continue
                    result = _with_keyword(result, "index", "True", replace=False)
                elif edit.kind == "keyword":
                    name, value, how = edit.values
                    result = _with_keyword(result, name, value, replace=how == "replace")
                elif edit.kind == "ondelete":
                    result = self._ondelete(result, *edit.values)
            if result is not updated:
                done.add(line)
            return result

        @staticmethod
        def _ondelete(call, value: str, table: str):
            args = list(call.args)
            for i, arg in enumerate(args):
                inner = arg.value
                if isinstance(inner, cst.Call) and _callee_name(inner) == "ForeignKey" and inner.args:
                    target = inner.args[0].value
                    if isinstance(target, cst.SimpleString) and str(target.evaluated_value).split(".")[0] == table:
                        args[i] = arg.with_changes(value=_with_keyword(inner, "ondelete", value, replace=False))
                        return call.with_changes(args=args)
            for i, arg in enumerate(args):  # SQLModel: Field(foreign_key="users.id")
                if arg.keyword is not None and arg.keyword.value == "foreign_key":
                    return _with_keyword(call, "ondelete", value, replace=False)
            return call

    new = wrapper.module.visit(Fixer())
    leftover = {line: (edit.values[0], edit.values[1]) for line, wanted in edits.items()
                if line not in done and line not in declined for edit in wanted if edit.kind == "index"}
    if leftover:
        new, more = _index_in_table_args(new, positions, wrapper.module, leftover)
        done |= more
    return new.code, done


def _index_in_table_args(module, positions, original_module, leftover: dict[int, tuple[str, str]]):
    """Add ``Index(name, column)`` to ``__table_args__`` of the mapped class (one with
    ``__tablename__``) whose body holds each leftover line; import ``Index`` if needed."""
    import libcst as cst

    # Map the original class bodies' line spans to the indexes to add.
    wanted_by_class: dict[str, list[tuple[str, str, int]]] = {}
    for stmt in original_module.body:
        if not isinstance(stmt, cst.ClassDef) or stmt not in positions:
            continue
        span = positions[stmt]
        names = {getattr(t.target, "value", None)
                 for s in stmt.body.body if isinstance(s, cst.SimpleStatementLine)
                 for small in s.body if isinstance(small, cst.Assign) for t in small.targets}
        if "__tablename__" not in names:
            continue  # a mixin: one index name cannot serve every table it is mixed into
        for line, (name, column) in leftover.items():
            if span.start.line <= line <= span.end.line:
                wanted_by_class.setdefault(stmt.name.value, []).append((name, column, line))
    if not wanted_by_class:
        return module, set()
    done: set[int] = set()

    def index_call(name: str, column: str):
        return cst.parse_expression(f'Index("{name}", "{column}")')

    class AddIndexes(cst.CSTTransformer):
        def leave_ClassDef(self, original, updated):  # noqa: N802
            entries = wanted_by_class.get(updated.name.value)
            if not entries:
                return updated
            body = list(updated.body.body)
            calls = [index_call(name, column) for name, column, _line in entries]
            for i, stmt in enumerate(body):
                if not isinstance(stmt, cst.SimpleStatementLine) or not isinstance(stmt.body[0], cst.Assign):
                    continue
                assign = stmt.body[0]
                if getattr(assign.targets[0].target, "value", None) != "__table_args__":
                    continue
                value = assign.value
                if isinstance(value, cst.Tuple):
                    elements = list(value.elements)
                    position = len(elements)
                    if elements and isinstance(elements[-1].value, cst.Dict):
                        position -= 1  # the options dict stays last
                    for call in calls:
                        elements.insert(position, cst.Element(call, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))))
                        position += 1
                    new_value = value.with_changes(elements=elements)
                elif isinstance(value, cst.Dict):
                    new_value = cst.Tuple([cst.Element(c, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                                           for c in calls] + [cst.Element(value)])
                else:
                    return updated  # built at run time: leave it to a person
                body[i] = stmt.with_changes(body=[assign.with_changes(value=new_value)])
                break
            else:
                args = ", ".join(f'Index("{name}", "{column}")' for name, column, _line in entries)
                insert_at = next((i + 1 for i, s in enumerate(body) if isinstance(s, cst.SimpleStatementLine)
                                  and isinstance(s.body[0], cst.Assign)
                                  and getattr(s.body[0].targets[0].target, "value", None) == "__tablename__"), 0)
                body.insert(insert_at, cst.parse_statement(f"__table_args__ = ({args},)\n"))
            done.update(line for _n, _c, line in entries)
            return updated.with_changes(body=updated.body.with_changes(body=body))

    module = module.visit(AddIndexes())
    if done and "Index" not in _imported_names(module):
        module = _import_index(module)
    return module, done


def _imported_names(module) -> set[str]:
    import libcst as cst

    names: set[str] = set()
    for stmt in module.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                    for alias in small.names:
                        bound = alias.asname.name if alias.asname else alias.name
                        if isinstance(bound, cst.Name):
                            names.add(bound.value)
    return names


def _import_index(module):
    import libcst as cst

    body = list(module.body)
    last_import = max((i for i, s in enumerate(body) if isinstance(s, cst.SimpleStatementLine)
                       and isinstance(s.body[0], (cst.Import, cst.ImportFrom))), default=-1)
    body.insert(last_import + 1, cst.parse_statement("from sqlalchemy import Index\n"))
    return module.with_changes(body=body)


def _drop_noqa_codes(source: str, unused: dict[int, set[str]]) -> tuple[str, set[int]]:
    """Remove unused codes from ``# noqa:`` comments; lines keep their numbers."""
    lines = source.splitlines(keepends=True)
    done: set[int] = set()
    for number, codes in unused.items():
        if not 0 < number <= len(lines):
            continue
        line = lines[number - 1]
        match = _NOQA_COMMENT.search(line)
        if match is None:
            continue
        kept = [c for c in re.findall(r"[A-Z]+[0-9]*", match.group("codes"), re.IGNORECASE)
                if c.upper() not in codes]
        replacement = f"{match.group('space')}# noqa: {', '.join(kept)}" if kept else ""
        ending = line[len(line.rstrip("\r\n")):]
        new = (line[:match.start()] + replacement + line[match.end():].rstrip("\r\n")).rstrip() + ending
        if new != line:
            lines[number - 1] = new
            done.add(number)
    return "".join(lines), done


def _read_for_fix(path: str) -> str:
    from dbcheck.syntax.files import read_regular_file

    return read_regular_file(path, 64 * 1024 * 1024).decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def plan_fixes(findings: Sequence[Finding], unsafe: bool, read=_read_for_fix) -> list[FileFix]:
    """The files the attached fixes change (safe ones; with ``unsafe``, unsafe ones too),
    each as it is and as it would be."""
    allowed = {SAFE, UNSAFE} if unsafe else {SAFE}
    chosen: dict[str, list[Finding]] = {}
    for f in findings:
        if f.fix is not None and f.fix.safety in allowed:
            chosen.setdefault(f.path, []).append(f)
    plans: list[FileFix] = []
    for path, fixed in sorted(chosen.items()):
        unused: dict[int, set[str]] = {}
        code_edits: dict[int, list[Edit]] = {}
        for f in fixed:
            assert f.fix is not None
            for edit in f.fix.edits:
                if edit.kind == "noqa":
                    unused.setdefault(edit.line, set()).update(edit.values)
                else:
                    code_edits.setdefault(edit.line, []).append(edit)
        try:
            before = read(path)
            # comment edits first: they keep line numbers, which the code edits rely on
            text, noqa_done = _drop_noqa_codes(before, unused)
            after, done = _fix_source(text, code_edits) if code_edits else (text, set())
            done |= noqa_done
        except Exception:  # noqa: BLE001 - a file we cannot fix is left as it is
            continue
        if after != before and _parses(after):
            plans.append(FileFix(path, before, after, [f for f in fixed if f.line in done or any(
                e.line in done for e in f.fix.edits)]))  # type: ignore[union-attr]
    return plans


def _parses(source: str) -> bool:
    import libcst as cst

    try:
        cst.parse_module(source)
        compile(source, "<fixed>", "exec", dont_inherit=True)
    except Exception:  # noqa: BLE001
        return False
    return True


class FixError(Exception):
    """A fix that could not be written; ``str(err)`` names the file and why."""


def write_atomically(path: str, text: str, root: Optional[Path] = None) -> None:
    """Write ``text`` over ``path`` atomically. A symbolic link is written through: its
    target is replaced and the link kept - unless the target lies outside ``root`` (the
    project), which a fix never touches. Raises FixError."""
    target = Path(os.path.realpath(path))
    if root is not None and target != Path(path).absolute():
        real_root = os.path.realpath(root)
        if not (os.fspath(target) + os.sep).startswith(real_root.rstrip(os.sep) + os.sep):
            raise FixError(f"{printable(path)}: not fixed: it is a symbolic link to {printable(os.fspath(target))}, "
                           "outside the project")
    try:
        write_atomic(target, text.encode("utf-8"), keep_mode=True)
    except OSError as err:
        raise FixError(f"{printable(path)}: not fixed: cannot write ({err.strerror or err})") from None


def apply(plans: Sequence[FileFix], root: Optional[Path] = None) -> tuple[int, list[str]]:
    """Write every plan; (findings fixed, one message per file that could not be written).
    Every plan is tried: a full disk on one file leaves the others fixed."""
    fixed, errors = 0, []
    for plan in plans:
        try:
            write_atomically(plan.path, plan.after, root)
        except FixError as err:
            errors.append(str(err))
            plan.fixed = []
            continue
        fixed += len(plan.fixed)
    return fixed, errors


def summary(plans: Sequence[FileFix]) -> Optional[str]:
    written = [p for p in plans if p.fixed]
    if not written:
        return None
    count = sum(len(p.fixed) for p in written)
    return f"fixed {count} finding(s) in {len(written)} file(s)"
