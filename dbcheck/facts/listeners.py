"""Session-wide filters a project installs: an ``@event.listens_for(Session,
"do_orm_execute")`` listener (or ``event.listen(..., "do_orm_execute", fn)``) that adds a
tenant filter to every ORM statement (``stmt.where(table.c.tenant_id == tid)``,
``with_loader_criteria(...)``). Read from CPython's tree of the file, only when the file
names the event at all, so a parsed and a skimmed file are read the same way."""

from __future__ import annotations

import ast
from typing import Optional

EVENT = "do_orm_execute"
# What a listener checks to leave writes alone (``if not state.is_select: return``)
_READ_FLAGS = {"is_select"}
_WRITE_FLAGS = {"is_update", "is_delete", "is_insert"}


def session_filters(source: str, tree: Optional[ast.Module] = None) -> list[tuple[int, list[str], bool]]:
    """Per listener: (its line, the names its body uses, whether it filters reads only)."""
    if EVENT not in source:
        return []
    if tree is None:
        try:
            tree = ast.parse(source)
        except (SyntaxError, RecursionError, MemoryError, ValueError):
            return []
    functions: dict[str, ast.AST] = {}
    listeners: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.setdefault(node.name, node)
            if any(_names_event(dec) for dec in node.decorator_list):
                listeners.append(node)
        elif isinstance(node, ast.Call) and _names_event(node) and len(node.args) >= 3 \
                and isinstance(node.args[2], ast.Name):
            listeners.append(ast.Name(id=node.args[2].id))  # event.listen(Session, EVENT, fn)
    out: list[tuple[int, list[str], bool]] = []
    for listener in listeners:
        if isinstance(listener, ast.Name):
            found = functions.get(listener.id)
            if found is None:
                continue
            listener = found
        names = _names_in(listener)
        reads_only = bool(names & _READ_FLAGS) and not names & _WRITE_FLAGS
        out.append((getattr(listener, "lineno", 0), sorted(names), reads_only))
    return out


def _names_event(node: ast.AST) -> bool:
    """``listens_for(Session, "do_orm_execute")`` / ``event.listen(Session, "do_orm_execute", f)``."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else (func.id if isinstance(func, ast.Name) else "")
    return name in ("listens_for", "listen") and any(
        isinstance(arg, ast.Constant) and arg.value == EVENT for arg in node.args[1:2])


def _names_in(function: ast.AST) -> set[str]:
    """Attribute names, names, keywords and short strings in the listener's body."""
    names: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.keyword) and node.arg:
            names.add(node.arg)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier():
            names.add(node.value)
    return names
