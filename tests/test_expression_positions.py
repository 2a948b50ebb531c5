"""Where each call and comparison of a statement starts, in libcst's visiting order: the
fast position-sorted walk equals the plain depth-first walk with children in source order
it replaced, on every statement of the fixtures and of this test suite."""

from __future__ import annotations

import ast
from pathlib import Path

from dbcheck.facts.extract import _ast_expression_positions

ROOT = Path(__file__).resolve().parent.parent
_NESTED = (ast.stmt, ast.excepthandler, ast.match_case)


def _start(node: ast.AST) -> tuple[int, int]:
    line = getattr(node, "lineno", None)
    if line is not None:
        return (line, getattr(node, "col_offset", 0))
    keys = [_start(child) for child in ast.iter_child_nodes(node)]
    return min(keys) if keys else (0, 0)


def depth_first(stmt: ast.AST) -> list[tuple[int, int]]:
    """The reference: depth first, each node's children sorted by where they start."""
    out: list[tuple[int, int]] = []
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Call, ast.Compare)):
            out.append((node.lineno, node.col_offset + 1))
        if isinstance(node, ast.Match):
            continue
        children = [c for c in ast.iter_child_nodes(node) if not isinstance(c, (*_NESTED, ast.expr_context))]
        stack.extend(reversed(sorted(children, key=_start)))
    return out


TRICKY = '''
x = f(a)(b) == g(c, *d, k=h(e), **i(j))
y = {k(1): v(2) for k, v in z(3) if w(4) < 5}
z = a(1) if b(2) > 0 else c(3)
d = {m(1): n(2), o(3): p(4)}
@deco(arg(1))
def fn(p=q(1), *, r=s(2)) -> t(3):
    return u(v(w(1)) != 2)
class K(base(1), metaclass=meta(2)):
    attr = call(1) in (x(2), y(3))
s = f"{fmt(1)} and {other(2) == 3}"
lam = lambda a=b(1): c(a) < d(2) < e(3)
'''


def test_tricky_shapes_keep_the_depth_first_order():
    tree = ast.parse(TRICKY)
    for node in ast.walk(tree):
        if isinstance(node, _NESTED):
            assert _ast_expression_positions(node) == depth_first(node), ast.unparse(node)[:60]


def test_every_statement_of_the_fixtures_and_tests_keeps_its_order():
    checked = 0
    for path in sorted([*ROOT.joinpath("fixtures").rglob("*.py"), *ROOT.joinpath("tests").rglob("*.py")]):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, _NESTED):
                assert _ast_expression_positions(node) == depth_first(node), f"{path}:{node.lineno}"
                checked += 1
    assert checked > 10_000
