"""DBC507's claim, checked against SQLAlchemy itself.

For every ``and`` / ``or`` / ``not`` finding DBC507 reports in the fixture projects, the
condition on that line is evaluated with the fixture's real mapped classes (the request
values stand in as integers) and compiled: the operand the message says reaches the query
must be in the SQL, the one it says is dropped must not, and what it says ``not`` makes of
an expression (True, False, a TypeError) must be what Python makes of it.
"""

from __future__ import annotations

import ast
import builtins
import re
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from dbcheck.config import load_config
from dbcheck.engine import analyze

sys.path.insert(0, str(Path(__file__).parent))
from test_differential_sqlalchemy import PROJECTS, imported  # noqa: E402

sa = pytest.importorskip("sqlalchemy")

_KEPT_DROPPED = re.compile(r"only `(.+?)` reaches the query \(`(.+?)` is dropped")
_CLASS_ATTRIBUTE = re.compile(r"\b([A-Z]\w*)\.(\w+)\b")


class _Value(int):
    """A request value or a row of it: ``user.id``, ``email.lower()`` and ``task_id`` all
    stand in as the integer 7, a literal SQLAlchemy binds."""

    def __new__(cls) -> "_Value":
        return super().__new__(cls, 7)

    def __getattr__(self, name: str) -> "_Value":
        if name.startswith("_"):  # not ``__clause_element__`` and the like: a plain value
            raise AttributeError(name)
        return _Value()

    def __call__(self, *args: object, **kwargs: object) -> "_Value":
        return _Value()


class _Namespace(dict):
    """The module's names; a local the function assigns is its first value (``cond =
    T.a == x``); any other name (a parameter) is a request value."""

    def __init__(self, names: dict[str, Any], assigned: dict[str, ast.expr], path: str) -> None:
        super().__init__(names)
        self.assigned, self.path = assigned, path

    def __missing__(self, key: str) -> Any:
        if key in self.assigned:
            value = self.assigned.pop(key)  # once: ``x = x + 1`` stays finite
            try:
                return eval(compile(ast.Expression(value), self.path, "eval"), self)
            except Exception:  # ``flask.request.args.get(...)`` outside a request: a request value
                return _Value()
        return getattr(builtins, key) if hasattr(builtins, key) else _Value()


def _first_assignments(path: str, line: int) -> dict[str, ast.expr]:
    """The first value each local of the function around ``line`` is assigned."""
    tree = ast.parse(Path(path).read_text())
    functions = [f for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and f.lineno <= line <= (f.end_lineno or f.lineno)]
    assigned: dict[str, ast.expr] = {}
    if functions:
        innermost = max(functions, key=lambda f: f.lineno)
        for node in ast.walk(innermost):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                if node.lineno < line:
                    assigned.setdefault(node.targets[0].id, node.value)
    return assigned


def _findings(project: str) -> list[Any]:
    root = PROJECTS[project].root
    result = analyze([root], load_config(start=root))
    return [f for f in result.findings if f.code == "DBC507"
            and f.message.startswith(("Python `and`", "Python `or`", "Python `not`"))]


def _module_name(project: str, path: str) -> str:
    rel = Path(path).resolve().relative_to(PROJECTS[project].root.resolve()).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _logic_nodes(path: str, line: int, op: str) -> Iterator[ast.expr]:
    """The ``and`` / ``or`` / ``not`` expressions of the statement at ``line``."""
    tree = ast.parse(Path(path).read_text())
    for stmt in ast.walk(tree):
        if isinstance(stmt, ast.stmt) and stmt.lineno <= line <= (stmt.end_lineno or stmt.lineno) \
                and not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For,
                                          ast.While, ast.With, ast.AsyncWith, ast.Try)):
            for node in ast.walk(stmt):
                if op == "not" and isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
                    yield node
                elif isinstance(node, ast.BoolOp) and type(node.op).__name__.lower() == op:
                    yield node


def _where_sql(module: Any, entity: str, condition: Any) -> str:
    model = getattr(module, entity)
    return str(sa.select(model).where(condition)).split("WHERE", 1)[1]


FINDINGS = {name: _findings(name) for name in PROJECTS}


def test_the_fixtures_have_python_boolean_findings() -> None:
    # the claims below are checked on at least this many filters
    assert sum(len(found) for found in FINDINGS.values()) >= 20


@pytest.mark.parametrize("project", sorted(PROJECTS))
def test_messages_match_what_sqlalchemy_compiles(project: str) -> None:
    wrong = []
    with imported(PROJECTS[project]):
        for finding in FINDINGS[project]:
            try:
                _check(project, finding)
            except Exception as err:  # an assertion, or SQLAlchemy refusing the condition
                wrong.append(f"{finding.path}:{finding.line}: {finding.message}\n    {err}")
    assert not wrong, "\n".join(wrong)


def _check(project: str, finding: Any) -> None:
    op = re.match(r"Python `(\w+)`", finding.message).group(1)
    module = sys.modules[_module_name(project, finding.path)]
    namespace = _Namespace(vars(module), _first_assignments(finding.path, finding.line), finding.path)
    nodes = list(_logic_nodes(finding.path, finding.line, op))
    assert nodes, f"no Python `{op}` at the line"
    code = compile(ast.Expression(nodes[0]), finding.path, "eval")
    if op == "not" or "or a TypeError when it runs" in finding.message:
        outcome = re.search(r"into (True|False|a TypeError)", finding.message)
        expected = outcome.group(1) if outcome else "a TypeError"
        if expected == "a TypeError":
            with pytest.raises(TypeError):
                eval(code, namespace)
        else:
            assert eval(code, namespace) is (expected == "True")
        return
    parts = _KEPT_DROPPED.search(finding.message)
    assert parts, "the message names no kept and dropped operand"
    kept, dropped = parts.group(1), parts.group(2)
    kept_columns, dropped_columns = _columns(module, kept), _columns(module, dropped)
    assert kept_columns or dropped_columns, f"no mapped column in `{kept}` or `{dropped}`"
    sql = _where_sql(module, (kept_columns or dropped_columns)[0][0], eval(code, namespace))
    for column in kept_columns:
        assert _occurrences(module, column, sql) >= 1, sql
    for column in dropped_columns:
        # what the dropped operand compares is in the SQL only as often as the kept one has it
        assert _occurrences(module, column, sql) == kept_columns.count(column), sql


def _occurrences(module: Any, column: tuple[str, str], sql: str) -> int:
    return len(re.findall(rf"\b{re.escape(_qualified(module, column))}\b", sql))


def _columns(module: Any, shown: str) -> list[tuple[str, str]]:
    """The ``Class.attribute`` references in a rendered condition that name mapped columns."""
    found = []
    for cls_name, attribute in _CLASS_ATTRIBUTE.findall(shown):
        cls = getattr(module, cls_name, None)
        if cls is not None and hasattr(cls, "__table__") and hasattr(getattr(cls, attribute, None), "property"):
            found.append((cls_name, attribute))
    return found


def _qualified(module: Any, shown: tuple[str, str]) -> str:
    """``table.column`` behind ``Class.attribute``, as the compiled SQL writes it."""
    cls = getattr(module, shown[0])
    column = getattr(cls, shown[1]).property.columns[0]
    return f"{column.table.name}.{column.name}"
