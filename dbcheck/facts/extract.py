"""Phase 1: one file in, plain facts out.

Each file is parsed once with libcst. The facts are plain data (tuples, strings,
numbers) that do not depend on any other file, so they can be cached by content and
interpreted later against the whole project (``index.build``).

Positions: libcst's PositionProvider costs about three parses. CPython's ``ast`` has
to parse the file anyway (DBC001 must report CPython's error line) and carries every
position, so statements are paired with their ``ast`` twins and every call and
comparison inside a statement takes its position from the ``ast`` call or comparison
at the same place in source order. Only files that the running interpreter cannot
parse but libcst can (newer grammar) pay for the PositionProvider.

Expressions are kept as the small tuples (``Expr``) described in ``index.facts``.
"""

from __future__ import annotations

import ast
import re
import sys
import warnings
from typing import Any, Callable, Iterator, Optional, Sequence, Union

import libcst as cst

from dbcheck.facts.model import (
    UNKNOWN, AttrFact, CallFact, ClassFact, Expr, FunctionFact, FunctionIR, ModuleFacts, is_property,
)
from dbcheck.facts.hashes import HASHING_CALL, hashed_writes
from dbcheck.facts.listeners import session_filters
from dbcheck.facts.ir import Call
from dbcheck.syntax.modules import BUILTIN_NAMES, resolve_relative


# --------------------------------------------------------------------------- positions

_NOT_WALKED = (ast.stmt, ast.excepthandler, ast.match_case, ast.expr_context)


def _ast_expression_positions(stmt: ast.AST) -> list[tuple[int, int]]:
    """Calls and comparisons of one statement (not of the statements nested in it),
    in the order libcst visits them: depth first, children in source order - which is
    the order of their positions, an enclosing node before the one starting where it
    does (``f(x) == y``: the comparison, then the call). Collected in any order and
    sorted once: every node's children sorted as they are walked cost twice as much,
    on every statement of every parsed file."""
    found: list[tuple[int, int, int]] = []
    stack: list[tuple[ast.AST, int]] = [(stmt, 0)]
    pop, push = stack.pop, stack.append
    while stack:
        node, depth = pop()
        kind = type(node)
        if kind is ast.Call or kind is ast.Compare:
            found.append((node.lineno, node.col_offset + 1, depth))  # type: ignore[attr-defined]
        elif kind is ast.Match:
            continue
        depth += 1
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for child in value:
                    if isinstance(child, ast.AST) and not isinstance(child, _NOT_WALKED):
                        push((child, depth))
            elif isinstance(value, ast.AST) and not isinstance(value, _NOT_WALKED):
                push((value, depth))
    found.sort()
    return [(line, column) for line, column, _depth in found]


def _plain_string(raw: str) -> Optional[str]:
    """The value of a string literal with nothing to unescape (no prefix but ``r`` / ``u``,
    no backslash unless raw), read off its quotes; None for the rest (literal_eval's job,
    a compile per literal: thousands per file)."""
    start = 0
    while start < len(raw) and raw[start] not in "'\"":
        start += 1
    prefix = raw[:start].lower()
    if prefix not in ("", "r", "u"):
        return None
    quote = raw[start:start + 3] if raw[start:start + 3] in ('"""', "'''") else raw[start:start + 1]
    if len(raw) < start + 2 * len(quote) or not raw.endswith(quote):
        return None
    inner = raw[start + len(quote):len(raw) - len(quote)]
    if "\r" in inner or "\\" in inner and prefix != "r":
        return None  # an escape, or a line break Python reads as "\n" (CRLF files)
    return inner


# What ``&`` joins when it builds a SQL condition: comparisons, calls (and_(), T.col.in_()),
# ``|`` and ``~`` of them, or another ``&``.
_CONDITION_TAGS = frozenset({"cmp", "call", "or", "not"})


class _Positions:
    """Where a statement, and each call/comparison inside it, starts."""

    def __init__(self, wrapper_positions: Optional[dict] = None, source: str = "") -> None:
        self._meta = wrapper_positions  # libcst node -> CodeRange, fallback mode only
        self._queue: list[tuple[int, int]] = []
        self._stmt = (1, 1)
        self._lines: Optional[list[str]] = None if source.isascii() else source.splitlines()

    def _in_characters(self, position: tuple[int, int]) -> tuple[int, int]:
        """CPython counts columns in UTF-8 bytes; findings count characters, as editors
        and flake8 do."""
        line, col = position
        if self._lines is None or line > len(self._lines) or self._lines[line - 1].isascii():
            return position
        return line, len(self._lines[line - 1].encode("utf-8", "surrogatepass")[: col - 1].decode("utf-8", "ignore")) + 1

    def enter(self, cst_stmt: cst.CSTNode, ast_stmt: Optional[ast.AST]) -> tuple[int, int]:
        if self._meta is not None:
            rng = self._meta.get(cst_stmt)
            self._stmt = (rng.start.line, rng.start.column + 1) if rng else (1, 1)
            return self._stmt
        if ast_stmt is None:
            return self._stmt
        self._stmt = self._in_characters((getattr(ast_stmt, "lineno", 1), getattr(ast_stmt, "col_offset", 0) + 1))
        self._queue = _ast_expression_positions(ast_stmt)
        if self._lines is not None:
            self._queue = [self._in_characters(p) for p in self._queue]
        self._queue.reverse()
        return self._stmt

    def next_expr(self, node: cst.CSTNode) -> tuple[int, int]:
        if self._meta is not None:
            rng = self._meta.get(node)
            return (rng.start.line, rng.start.column + 1) if rng else self._stmt
        return self._queue.pop() if self._queue else self._stmt


def _cst_statements(body: Sequence[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    for stmt in body:
        if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            yield from stmt.body
        else:
            yield stmt


def _block(node: Any) -> Sequence[cst.CSTNode]:
    body = getattr(node, "body", None)
    if isinstance(body, (cst.IndentedBlock, cst.SimpleStatementSuite)):
        return body.body
    return ()


def paired(cst_body: Sequence[cst.CSTNode], ast_body: Optional[Sequence[ast.stmt]]
           ) -> Iterator[tuple[cst.CSTNode, Optional[ast.stmt]]]:
    """The statements of one block with their ``ast`` twins (None without ``ast``)."""
    statements = list(_cst_statements(cst_body))
    if ast_body is None or len(ast_body) != len(statements):
        for stmt in statements:
            yield stmt, None
        return
    yield from zip(statements, ast_body)


def _ast_orelse(node: Optional[ast.AST]) -> Optional[list]:
    return getattr(node, "orelse", None) if node is not None else None


def nested_blocks(stmt: cst.CSTNode, twin: Optional[ast.AST]
                  ) -> Iterator[tuple[Sequence[cst.CSTNode], Optional[Sequence[ast.stmt]]]]:
    """The blocks nested in a compound statement, each with its ``ast`` twin."""
    ast_body = getattr(twin, "body", None) if twin is not None else None
    if isinstance(stmt, (cst.If,)):
        yield _block(stmt), ast_body
        orelse = stmt.orelse
        if isinstance(orelse, cst.If):
            yield [orelse], _ast_orelse(twin)
        elif isinstance(orelse, cst.Else):
            yield _block(orelse), _ast_orelse(twin)
    elif isinstance(stmt, (cst.For, cst.While)):
        yield _block(stmt), ast_body
        if stmt.orelse is not None:
            yield _block(stmt.orelse), _ast_orelse(twin)
    elif isinstance(stmt, (cst.Try, cst.TryStar)):
        yield _block(stmt), ast_body
        handlers = getattr(twin, "handlers", None) if twin is not None else None
        for i, handler in enumerate(stmt.handlers):
            ast_handler = handlers[i] if handlers and i < len(handlers) else None
            yield _block(handler), getattr(ast_handler, "body", None) if ast_handler else None
        if stmt.orelse is not None:
            yield _block(stmt.orelse), _ast_orelse(twin)
        if stmt.finalbody is not None:
            yield _block(stmt.finalbody), getattr(twin, "finalbody", None) if twin else None
    elif isinstance(stmt, (cst.With, cst.FunctionDef, cst.ClassDef)):
        yield _block(stmt), ast_body
    elif isinstance(stmt, cst.Match):
        cases = getattr(twin, "cases", None) if twin is not None else None
        for i, case in enumerate(stmt.cases):
            ast_case = cases[i] if cases and i < len(cases) else None
            yield _block(case), getattr(ast_case, "body", None) if ast_case else None


# --------------------------------------------------------------------------- expressions

_CMP_OPS = {
    cst.Equal: "==", cst.NotEqual: "!=", cst.LessThan: "<", cst.GreaterThan: ">",
    cst.LessThanEqual: "<=", cst.GreaterThanEqual: ">=", cst.In: "in", cst.NotIn: "not in",
    cst.Is: "is", cst.IsNot: "is not",
}


class ExprConverter:
    """libcst expression -> Expr, resolving names through the module's import table."""

    def __init__(self, module_names: dict[str, str], positions: _Positions) -> None:
        self.module_names = module_names  # alias -> qualified name
        # module names that still mean an earlier binding at the statement being read
        # (consulted first; see _ModuleExtractor._block)
        self.bound_so_far: dict[str, str] = {}
        self.positions = positions
        self.params: frozenset[str] = frozenset()
        self.locals: frozenset[str] = frozenset()
        self.class_names: set[str] = set()
        # the module, when it has ``from x import *``: a name it does not bind may come
        # from there (resolved through its star imports), unless a comprehension or a
        # walrus of the function binds it (``comprehended``)
        self.star_module: Optional[str] = None
        self.comprehended: frozenset[str] = frozenset()

    def name(self, ident: str) -> Expr:
        ident = sys.intern(ident)  # names recur in every file: one string each, project-wide
        if ident in self.params:
            return ("param", ident)
        if ident in self.locals:
            return ("local", ident)
        if ident in self.class_names:
            return ("self", ident)
        if ident in ("True", "False", "None"):
            return ("c", {"True": True, "False": False, "None": None}[ident])
        qualified = (self.bound_so_far.get(ident) if self.bound_so_far else None) or self.module_names.get(ident)
        if qualified is not None:
            return ("n", sys.intern(qualified))
        if ident in BUILTIN_NAMES:
            return ("n", sys.intern(f"builtins.{ident}"))
        if self.star_module is not None and ident not in self.comprehended:
            return ("n", sys.intern(f"{self.star_module}.{ident}"))
        return ("n", sys.intern(f"?.{ident}"))

    def convert(self, node: Optional[cst.CSTNode]) -> Expr:
        if node is None:
            return UNKNOWN
        handler = _HANDLERS.get(type(node))
        if handler is not None:
            return handler(self, node)
        inner = self.descend(node)
        return ("?", tuple(inner)) if inner else UNKNOWN

    def descend(self, node: cst.CSTNode) -> list[Expr]:
        """Visit what we do not model, so the calls inside keep their positions in step
        (and stay visible to the query analysis)."""
        out: list[Expr] = []
        for child in node.children:
            if isinstance(child, cst.BaseExpression):
                converted = self.convert(child)
                if converted[0] not in ("?", "c"):
                    out.append(converted)
            else:
                out.extend(self.descend(child))
        return out

    def _walrus(self, node: cst.NamedExpr) -> Expr:
        self.convert(node.target)
        value = self.convert(node.value)
        if isinstance(node.target, cst.Name):
            return ("walrus", node.target.value, value)
        return value

    def _ifexp(self, node: cst.IfExp) -> Expr:
        body = self.convert(node.body)
        test = self.convert(node.test)
        return ("ifexp", test, body, self.convert(node.orelse))

    def _comprehension(self, node: Any) -> Expr:
        # Source order: element(s) first, then each ``for ... in iterable if ...``.
        elements: tuple[Expr, ...]
        if isinstance(node, cst.DictComp):
            elements = (self.convert(node.key), self.convert(node.value))
        else:
            elements = (self.convert(node.elt),)
        iterables: list[Expr] = []
        tests: list[Expr] = []
        clause = node.for_in
        while clause is not None:
            self.convert(clause.target)
            iterable = self.convert(clause.iter)
            for cond in clause.ifs:
                test = self.convert(cond.test)
                tests.append(test)
                if _kept_if_in(node, clause, cond.test):
                    # ``[i for i in requested if i in allowed]``: what it keeps is of ``allowed``
                    iterable = test[2][0][1]
            iterables.append(iterable)
            clause = clause.inner_for_in
        return ("comp", elements, tuple(iterables), tuple(tests))

    def _name(self, node: cst.Name) -> Expr:
        return self.name(node.value)

    def _attribute(self, node: cst.Attribute) -> Expr:
        base = self.convert(node.value)
        if base[0] == "n":
            # interned: the same dotted names recur across thousands of files
            return ("n", sys.intern(f"{base[1]}.{node.attr.value}"))
        return ("attr", base, sys.intern(node.attr.value))

    def _call(self, node: cst.Call) -> Expr:
        line, col = self.positions.next_expr(node)
        func = self.convert(node.func)
        args: list[Expr] = []
        kwargs: list[tuple[str, Expr]] = []
        for arg in node.args:
            value = self.convert(arg.value)
            if arg.keyword is not None:
                kwargs.append((sys.intern(arg.keyword.value), value))
            elif arg.star == "**":
                kwargs.append(("**", value))
            elif arg.star == "*":
                args.append(("star", value))
            else:
                args.append(value)
        return ("call", func, tuple(args), tuple(kwargs), line, col)

    def _string(self, node: Union[cst.SimpleString, cst.ConcatenatedString]) -> Expr:
        if isinstance(node, cst.SimpleString):
            plain = _plain_string(node.value)
            if plain is not None:
                return ("c", plain)
        try:
            value = node.evaluated_value
        except Exception:  # noqa: BLE001 - any odd literal is simply unknown
            return UNKNOWN
        return ("c", value) if isinstance(value, (str, bytes)) else UNKNOWN

    def _number(self, node: Union[cst.Integer, cst.Float]) -> Expr:
        if node.value.isascii() and node.value.isdigit() and (node.value[0] != "0" or node.value == "0") \
                and len(node.value) <= 18:
            return ("c", int(node.value))  # the common case, without compiling the literal
        try:
            return ("c", ast.literal_eval(node.value))
        except (ValueError, SyntaxError):
            return UNKNOWN

    def _subscript(self, node: cst.Subscript) -> Expr:
        value = self.convert(node.value)
        items = []
        for element in node.slice:
            if isinstance(element.slice, cst.Index):
                items.append(self.convert(element.slice.value))
            else:
                self.descend(element.slice)
                items.append(UNKNOWN)
        return ("sub", value, tuple(items))

    def _binop(self, node: cst.BinaryOperation) -> Expr:
        left = self.convert(node.left)
        right = self.convert(node.right)
        if isinstance(node.operator, cst.BitOr):
            return ("or", left, right)
        if isinstance(node.operator, cst.Add):
            return ("add", left, right)
        if isinstance(node.operator, cst.BitAnd) and left[0] in _CONDITION_TAGS and right[0] in _CONDITION_TAGS:
            # ``(T.a == x) & (T.b == y)``: SQL's AND, as and_() builds it (positioned where
            # its left side is: the positions of calls are taken in order, this is none)
            line, col = (left[3], left[4]) if left[0] == "cmp" else (0, 0)
            return ("call", ("n", "sqlalchemy.and_"), (left, right), (), line, col)
        return ("?", tuple(e for e in (left, right) if e[0] not in ("?", "c")))

    def _fstring(self, node: cst.FormattedString) -> Expr:
        """f"%{x}": its literal text with a NUL where each expression goes, and the
        expressions inside."""
        text = "".join(part.value if isinstance(part, cst.FormattedStringText) else "\0" for part in node.parts)
        return ("fstr", text, tuple(self.descend(node)))

    def _sequence(self, node: Union[cst.Tuple, cst.List, cst.Set]) -> Expr:
        kind = {cst.Tuple: "tuple", cst.List: "list", cst.Set: "set"}[type(node)]
        items = []
        for element in node.elements:
            value = self.convert(element.value)
            items.append(("star", value) if isinstance(element, cst.StarredElement) else value)
        return (kind, tuple(items))

    def _dict(self, node: cst.Dict) -> Expr:
        pairs = []
        for element in node.elements:
            if isinstance(element, cst.DictElement):
                pairs.append((self.convert(element.key), self.convert(element.value)))
            else:
                pairs.append((("c", "**"), self.convert(element.value)))
        return ("dict", tuple(pairs))

    def _comparison(self, node: cst.Comparison) -> Expr:
        line, col = self.positions.next_expr(node)
        left = self.convert(node.left)
        targets = tuple(
            (_CMP_OPS.get(type(t.operator), "?"), self.convert(t.comparator))
            for t in node.comparisons
        )
        return ("cmp", left, targets, line, col)

    def _boolean(self, node: cst.BooleanOperation) -> Expr:
        left = self.convert(node.left)
        right = self.convert(node.right)
        return ("bool", "and" if isinstance(node.operator, cst.And) else "or", left, right)

    def _unary(self, node: cst.UnaryOperation) -> Expr:
        operand = self.convert(node.expression)
        if isinstance(node.operator, (cst.Not, cst.BitInvert)):
            # ``~T.col.any()``: SQLAlchemy's NOT, in a filter; ``not x``: Python's
            return ("not", operand, isinstance(node.operator, cst.Not))
        if isinstance(node.operator, cst.Minus) and operand[0] == "c" and isinstance(operand[1], (int, float)):
            return ("c", -operand[1])
        return UNKNOWN

    def _lambda(self, node: cst.Lambda) -> Expr:
        self.descend(node.params)
        return ("lambda", self.convert(node.body))

    def _paren_free(self, node: Any) -> Expr:
        return self.convert(node.expression)


_HANDLERS: dict[type, Callable[[ExprConverter, Any], Expr]] = {
    cst.Name: ExprConverter._name,
    cst.Attribute: ExprConverter._attribute,
    cst.Call: ExprConverter._call,
    cst.SimpleString: ExprConverter._string,
    cst.ConcatenatedString: ExprConverter._string,
    cst.Integer: ExprConverter._number,
    cst.Float: ExprConverter._number,
    cst.Subscript: ExprConverter._subscript,
    cst.BinaryOperation: ExprConverter._binop,
    cst.Tuple: ExprConverter._sequence,
    cst.List: ExprConverter._sequence,
    cst.Set: ExprConverter._sequence,
    cst.Dict: ExprConverter._dict,
    cst.Comparison: ExprConverter._comparison,
    cst.BooleanOperation: ExprConverter._boolean,
    cst.UnaryOperation: ExprConverter._unary,
    cst.Lambda: ExprConverter._lambda,
    cst.Await: ExprConverter._paren_free,
    cst.IfExp: ExprConverter._ifexp,
    cst.FormattedString: ExprConverter._fstring,
    cst.NamedExpr: ExprConverter._walrus,
    cst.ListComp: ExprConverter._comprehension,
    cst.SetComp: ExprConverter._comprehension,
    cst.GeneratorExp: ExprConverter._comprehension,
    cst.DictComp: ExprConverter._comprehension,
}


# --------------------------------------------------------------------------- the module pass

def _dotted(node: cst.BaseExpression) -> Optional[str]:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


def _collect_import(stmt: cst.CSTNode, module: str, is_package: bool,
                    names: dict[str, str], stars: list[str]) -> None:
    if isinstance(stmt, cst.Import):
        for alias in stmt.names:
            dotted = _dotted(alias.name)
            if not dotted:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                names[alias.asname.name.value] = dotted
            else:
                root = dotted.split(".")[0]
                names[root] = root
    elif isinstance(stmt, cst.ImportFrom):
        base = _dotted(stmt.module) if stmt.module is not None else ""
        level = len(stmt.relative)
        if level:
            base = resolve_relative(module, is_package, level, base or "")
        if not base:
            return
        if isinstance(stmt.names, cst.ImportStar):
            stars.append(base)
            return
        for alias in stmt.names:
            if not isinstance(alias.name, cst.Name):
                continue
            local = alias.name.value
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            names[local] = f"{base}.{alias.name.value}"


def _module_bindings(body: Sequence[cst.CSTNode], module: str, is_package: bool,
                     names: dict[str, str], stars: list[str], imports: dict[str, str]) -> None:
    """First pass over top-level statements (and ``if``/``try`` blocks, where
    ``TYPE_CHECKING`` imports and optional imports live): what each name means."""
    for stmt in _cst_statements(body):
        if isinstance(stmt, (cst.Import, cst.ImportFrom)):
            bound: dict[str, str] = {}
            _collect_import(stmt, module, is_package, bound, stars)
            imports.update(bound)
            names.update(bound)  # this statement's names only: a class above keeps its own
        elif isinstance(stmt, (cst.If, cst.Try)):
            for block, _ in nested_blocks(stmt, None):
                _module_bindings(block, module, is_package, names, stars, imports)
        else:
            names.update(_statement_bindings(stmt, module, is_package))


def _statement_bindings(stmt: cst.CSTNode, module: str, is_package: bool) -> dict[str, str]:
    """The module-level names one statement binds, and what each then means."""
    bound: dict[str, str] = {}
    if isinstance(stmt, (cst.Import, cst.ImportFrom)):
        _collect_import(stmt, module, is_package, bound, [])
    elif isinstance(stmt, (cst.ClassDef, cst.FunctionDef)):
        bound[stmt.name.value] = f"{module}.{stmt.name.value}"
    elif isinstance(stmt, (cst.Assign, cst.AnnAssign)):
        targets = stmt.targets if isinstance(stmt, cst.Assign) else [stmt]
        for target in targets:
            if isinstance(target.target, cst.Name):
                bound[target.target.value] = f"{module}.{target.target.value}"
    return bound


def _key_target(target: cst.BaseExpression) -> str:
    """``name{key}`` for a store under a literal string key (``filters["org_id"] = x``), ``name{?}``
    under a computed one."""
    if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name) and len(target.slice) == 1:
        index = target.slice[0].slice
        if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString):
            key = index.value.evaluated_value
            if isinstance(key, str) and key.isidentifier():
                return f"{target.value.value}{{{key}}}"
        elif isinstance(index, cst.Index) and isinstance(index.value, (cst.Name, cst.Attribute, cst.Call)):
            # ``kwargs[cls._user_column_name()] = uid``: a key computed at run time
            return f"{target.value.value}{{?}}"
    return ""


def _is_type_checking(test: cst.BaseExpression) -> bool:
    return (isinstance(test, cst.Name) and test.value == "TYPE_CHECKING") or (
        isinstance(test, cst.Attribute) and test.attr.value == "TYPE_CHECKING")


def _target_name(conv: ExprConverter, target: cst.BaseExpression) -> str:
    """A local name bound by an assignment; ``name[]`` for a store into a container or an
    object (``context["package"] = pkg``, ``ctx.row = pkg``); "" for anything else."""
    if isinstance(target, cst.Name):
        return target.value
    conv.convert(target)  # keep call positions in step
    if isinstance(target, (cst.Subscript, cst.Attribute)) and isinstance(target.value, cst.Name):
        return f"{target.value.value}[]"
    if isinstance(target, (cst.Tuple, cst.List)) and target.elements \
            and all(isinstance(e, cst.Element) and isinstance(e.value, cst.Name) for e in target.elements):
        # ``rows, total = load(...)``: "(rows,total)", unpacked by the analysis
        return "(" + ",".join(e.value.value for e in target.elements) + ")"  # type: ignore[attr-defined]
    return ""


def _deleted_items(target: cst.BaseExpression) -> tuple[str, ...]:
    """The containers ``del`` takes items out of: ``del a[0], b.x`` -> (a, b)."""
    if isinstance(target, (cst.Subscript, cst.Attribute)) and isinstance(target.value, cst.Name):
        return (target.value.value,)
    if isinstance(target, (cst.Tuple, cst.List)):
        return tuple(n for e in target.elements for n in _deleted_items(e.value))
    return ()


def _target_names(target: cst.BaseExpression) -> tuple[str, ...]:
    if isinstance(target, cst.Name):
        return (target.value,)
    if isinstance(target, (cst.Tuple, cst.List)):
        return tuple(n for e in target.elements for n in _target_names(e.value))
    return ()


_COMPOUND = (cst.If, cst.For, cst.While, cst.With, cst.Try, cst.TryStar, cst.Match)


def _body_statements(body: Sequence[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    """Every statement of a function body, those of its nested blocks included (after
    the statement that holds them), not those of nested functions and classes."""
    for stmt in _cst_statements(body):
        yield stmt
        if isinstance(stmt, _COMPOUND):
            for block, _ in nested_blocks(stmt, None):
                yield from _body_statements(block)


def _function_imports(body: Sequence[cst.CSTNode], module: str, is_package: bool, names: dict[str, str]) -> None:
    """The imports of a function body, nested blocks included (not nested functions)."""
    for stmt in _body_statements(body):
        if isinstance(stmt, (cst.Import, cst.ImportFrom)):
            _collect_import(stmt, module, is_package, names, [])


def _assigned_names(body: Sequence[cst.CSTNode], imports: bool = True) -> set[str]:
    """Names a function body binds (not counting nested functions and classes); with
    ``imports`` False, the names only an import binds are left out."""
    names: set[str] = set()
    for stmt in _body_statements(body):
        if isinstance(stmt, cst.Assign):
            for t in stmt.targets:
                names.update(_target_names(t.target))
        elif isinstance(stmt, (cst.AnnAssign, cst.AugAssign)):
            names.update(_target_names(stmt.target))
        elif isinstance(stmt, cst.For):
            names.update(_target_names(stmt.target))
        elif isinstance(stmt, cst.With):
            for item in stmt.items:
                if item.asname is not None:
                    names.update(_target_names(item.asname.name))
        elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            names.add(stmt.name.value)
        elif imports and isinstance(stmt, (cst.Import, cst.ImportFrom)):
            if isinstance(stmt, cst.ImportFrom) and isinstance(stmt.names, cst.ImportStar):
                continue
            for alias in stmt.names:  # type: ignore[union-attr]
                bound = alias.asname.name if alias.asname is not None else alias.name
                if isinstance(bound, cst.Name):
                    names.add(bound.value)
                elif isinstance(bound, cst.Attribute):
                    root = _dotted(bound)
                    if root:
                        names.add(root.split(".")[0])
    return names


def _parameter_lines(twin: Optional[ast.AST], def_line: int) -> dict[str, int]:
    """The lines of parameters not on the ``def`` line (where a finding about one lands)."""
    args = getattr(twin, "args", None)
    if not isinstance(args, ast.arguments):
        return {}
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, *(a for a in (args.vararg, args.kwarg) if a)]
    return {a.arg: a.lineno for a in every if a.lineno != def_line}


def _unused_parameters(twin: Optional[ast.AST], named: set[str]) -> tuple[str, ...]:
    """The parameters the function never names again (``self`` / ``cls`` and ``_x`` aside);
    ``named``: every name its body mentions (``_scan_body``)."""
    args = getattr(twin, "args", None)
    if not isinstance(args, ast.arguments):
        return ()
    every = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs) if a.arg not in ("self", "cls")
             and not a.arg.startswith("_")]
    if not every:
        return ()
    if named & {"locals", "vars", "eval", "exec"}:
        return ()  # ``**locals()``: every parameter may be read
    body = getattr(twin, "body", ())
    return tuple(name for name in every if name not in named or not any(_reads(stmt, name) for stmt in body))


def _scan_body(twin: Optional[ast.AST]) -> tuple[set[str], tuple[tuple[str, str, int], ...]]:
    """(every name the function's body mentions, its attribute stores: ``row.owner_id = ...``
    / ``row.owner_id += ...`` / ``setattr(row, "owner_id", ...)``), in one walk of the body."""
    named: set[str] = set()
    found: list[tuple[str, str, int]] = []
    for stmt in getattr(twin, "body", ()):
        for node in ast.walk(stmt):
            kind = type(node)
            if kind is ast.Name:
                named.add(node.id)  # type: ignore[attr-defined]
                continue
            targets: list[ast.AST] = []
            if kind is ast.Assign:
                targets = [t for target in node.targets for t in ast.walk(target)]  # type: ignore[attr-defined]
            elif kind is ast.AugAssign or kind is ast.AnnAssign:
                targets = [node.target]  # type: ignore[attr-defined]
            elif kind is ast.Call:
                call: ast.Call = node  # type: ignore[assignment]
                if isinstance(call.func, ast.Name) and call.func.id == "setattr" and len(call.args) == 3 \
                        and isinstance(call.args[1], ast.Constant) and isinstance(call.args[1].value, str):
                    targets = [ast.Attribute(call.args[0], call.args[1].value, ast.Store(), lineno=call.lineno)]
            for target in targets:
                if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) \
                        and isinstance(target.ctx, ast.Store):
                    found.append((target.value.id, target.attr, target.lineno))
    return named, tuple(found)


def _bound_by(args: ast.arguments) -> set[str]:
    every = (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg)
    return {a.arg for a in every if a is not None}


def _reads(node: ast.AST, name: str) -> bool:
    """Whether ``node`` reads ``name`` of the enclosing function: a lambda, nested function
    or comprehension that binds the same name reads its own (``key=lambda user: user.email``)."""
    if isinstance(node, ast.Name):
        return node.id == name and not isinstance(node.ctx, ast.Store)
    if isinstance(node, ast.Lambda):
        outer: list[ast.AST] = [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]
        if name not in _bound_by(node.args):
            outer.append(node.body)
        return any(_reads(part, name) for part in outer)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        outer = [*node.decorator_list, *node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]
        if name not in _bound_by(node.args):
            outer.extend(node.body)
        return any(_reads(part, name) for part in outer)
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
        parts: list[ast.AST] = []
        for generator in node.generators:
            parts.append(generator.iter)  # evaluated before its own target is bound
            if any(isinstance(t, ast.Name) and t.id == name for t in ast.walk(generator.target)):
                return any(_reads(part, name) for part in parts)
            parts.extend(generator.ifs)
        parts.extend([node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt])
        return any(_reads(part, name) for part in parts)
    return any(_reads(child, name) for child in ast.iter_child_nodes(node))


def _is_declared_attr(decorators: list[Expr]) -> bool:
    for dec in decorators:
        target = dec[1] if dec[0] == "call" else dec
        if target[0] == "n" and ("declared_attr" in target[1] or target[1].endswith(".directive")):
            return True
    return False


def _callee_text(node: cst.BaseExpression) -> str:
    """``bcrypt.hashpw``, ``PasswordHasher().hash``: a callee as written."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_callee_text(node.value)}.{node.attr.value}"
    if isinstance(node, cst.Call):
        return _callee_text(node.func) + "()"
    return ""


def _attributes_hashed_by(body: Sequence[cst.CSTNode]) -> list[str]:
    """``self.<name>`` attributes a method body assigns the result of a hashing call to
    (statements only, nested blocks included: cheap enough for every method)."""
    found: list[str] = []
    for stmt in _body_statements(body):
        if isinstance(stmt, cst.Assign) and isinstance(stmt.value, cst.Call) \
                and HASHING_CALL.search(_callee_text(stmt.value.func) + "("):
            for target in stmt.targets:
                t = target.target
                if isinstance(t, cst.Attribute) and isinstance(t.value, cst.Name) and t.value.value == "self":
                    found.append(t.attr.value)
    return found


def _validated_attributes(decorators: list[Expr]) -> list[str]:
    names: list[str] = []
    for dec in decorators:
        if dec[0] == "call" and dec[1][0] == "n" and dec[1][1].endswith("validates"):
            names.extend(arg[1] for arg in dec[2] if arg[0] == "c" and isinstance(arg[1], str))
    return names


_DYNAMIC_CALLS = ("builtins.setattr", "?.setattr", "?.locals", "?.exec", "?.vars")


def _mentions_dynamic(expr: Expr) -> bool:
    if expr and not isinstance(expr[0], str):  # a tuple of expressions
        return any(isinstance(part, tuple) and _mentions_dynamic(part) for part in expr)
    if expr[0] == "call" and expr[1][0] == "n" and expr[1][1] in _DYNAMIC_CALLS:
        return True
    return any(isinstance(part, tuple) and part and _mentions_dynamic(part) for part in expr[1:]
               if isinstance(part, tuple))


class _ModuleExtractor:
    def __init__(self, facts: ModuleFacts, positions: _Positions) -> None:
        self.facts = facts
        self.positions = positions
        names: dict[str, str] = {}
        self.names = names  # what each module-level name means once the module has run
        # Names that, at the statement being read, still mean what an earlier statement
        # bound, not what the module ends up binding (see _bind).
        self.rebound_later: dict[str, str] = {}
        self.conv = ExprConverter(names, positions)
        self.local_annotations: dict[str, tuple] = {}  # of the function being read
        self.nested_functions: list[FunctionIR] = []  # the closures the function being read defines
        # names a ``TYPE_CHECKING`` block declares by type (``app: ForgeApp``): what type
        # checkers read, whatever proxy the run-time branch assigns
        self.declared: set[str] = set()

    def run(self, module: cst.Module, tree: Optional[ast.Module]) -> None:
        _module_bindings(module.body, self.facts.module, self.facts.is_package,
                         self.names, self.facts.star_imports, self.facts.imports)
        if self.facts.star_imports:
            self.conv.star_module = self.facts.module
        self._block(module.body, tree.body if tree is not None else None)

    def _block(self, body: Sequence[cst.CSTNode], ast_body: Optional[Sequence[ast.stmt]]) -> None:
        conv = self.conv
        for stmt, twin in paired(body, ast_body):
            line, col = self.positions.enter(stmt, twin)
            # Class bodies, decorators and module-level statements run as the module is
            # imported, so a name means its binding so far (an import later shadowed by a
            # class of the same name); function bodies run later and see the final one.
            conv.bound_so_far = self.rebound_later
            try:
                if isinstance(stmt, cst.ClassDef):
                    self.facts.classes.append(self._class(stmt, twin, line, col))
                elif isinstance(stmt, cst.FunctionDef):
                    self._function(stmt, twin, line)
                    self.facts.bodies.append(self._function_ir(stmt, twin, None, line, col))
                elif isinstance(stmt, (cst.Assign, cst.AnnAssign)):
                    self._assignment(stmt, line, col)
                elif isinstance(stmt, cst.Expr):
                    value = conv.convert(stmt.value)
                    if value[0] == "call":
                        self.facts.calls.append(CallFact(None, value, line, col))
                elif isinstance(stmt, cst.If) and _is_type_checking(stmt.test):
                    self._declarations(_block(stmt))
                    for block, ast_block in nested_blocks(stmt, twin):
                        self._block(block, ast_block)
                elif isinstance(stmt, (cst.If, cst.Try)):
                    for block, ast_block in nested_blocks(stmt, twin):
                        self._block(block, ast_block)
            finally:
                conv.bound_so_far = {}
            self._bind(stmt)

    def _bind(self, stmt: cst.CSTNode) -> None:
        """The names ``stmt`` binds take effect for the statements after it."""
        for name, qualified in _statement_bindings(stmt, self.facts.module, self.facts.is_package).items():
            if self.names.get(name) == qualified:
                self.rebound_later.pop(name, None)
            else:
                self.rebound_later[name] = qualified

    def _declarations(self, body: Sequence[cst.CSTNode]) -> None:
        """``if TYPE_CHECKING: app: ForgeApp`` (``else: app = AppHolder()``): the module's
        ``app`` is an instance of ``ForgeApp``, as it is for the type checker."""
        for stmt in _cst_statements(body):
            if isinstance(stmt, cst.AnnAssign) and stmt.value is None and isinstance(stmt.target, cst.Name):
                annotation = self.conv.convert(stmt.annotation.annotation)
                if annotation[0] == "n":
                    self.facts.assignments[stmt.target.value] = Call(annotation)  # type: ignore[arg-type]  # a plain Name tuple
                    self.declared.add(stmt.target.value)

    def _assignment(self, stmt: Union[cst.Assign, cst.AnnAssign], line: int, col: int) -> None:
        if isinstance(stmt, cst.AnnAssign):
            self.conv.convert(stmt.annotation.annotation)
            targets = [stmt.target]
        else:
            targets = [t.target for t in stmt.targets]
        if stmt.value is None:
            return
        value = self.conv.convert(stmt.value)
        for target in targets:
            if isinstance(target, cst.Name) and target.value not in self.declared:
                self.facts.assignments[target.value] = value
                if value[0] == "call":
                    self.facts.calls.append(CallFact(target.value, value, line, col))

    def _function(self, stmt: cst.FunctionDef, twin: Optional[ast.AST], line: int) -> None:
        # Only module functions that end in their one return matter here: column factories
        # such as ``def fk(target): return mapped_column(ForeignKey(target), index=True)``,
        # after plain assignments (``key_type, kw = KEYS[name]``, whose values stay unknown).
        statements = [s for s in _cst_statements(_block(stmt))
                      if not (isinstance(s, cst.Expr) and isinstance(s.value, (cst.SimpleString, cst.ConcatenatedString)))]
        if not statements or not isinstance(statements[-1], cst.Return) or statements[-1].value is None \
                or not all(isinstance(s, (cst.Assign, cst.AnnAssign)) for s in statements[:-1]):
            return
        declared = [*stmt.params.params, *stmt.params.kwonly_params]
        params = [p.name.value for p in declared if p.name.value not in ("self", "cls")]
        conv = ExprConverter(self.names, _Positions({}))  # positions of factory bodies are not reported
        conv.params = frozenset(params)
        conv.locals = frozenset(_assigned_names(statements[:-1])) - conv.params
        defaults = {p.name.value: conv.convert(p.default) for p in declared if p.default is not None}
        self.facts.functions[stmt.name.value] = FunctionFact(
            stmt.name.value, params, defaults, conv.convert(statements[-1].value), line)

    # ---- function bodies for the query analysis

    def _function_ir(self, func: cst.FunctionDef, twin: Optional[ast.AST], class_name: Optional[str],
                     line: int, col: int, decorators: Optional[list[Expr]] = None,
                     enclosing: frozenset[str] = frozenset()) -> FunctionIR:
        """``enclosing``: for a closure, the names its enclosing function binds - read in
        the closure (and not bound by it) they are that function's locals, not globals."""
        conv = self.conv
        if decorators is None:
            decorators = [conv.convert(d.decorator) for d in func.decorators]
        params = func.params
        names = [p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)]
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                names.append(star.name.value)
        annotations = {}
        for p in (*params.posonly_params, *params.params, *params.kwonly_params):
            if p.annotation is not None and p.name.value not in ("self", "cls"):
                hint = conv.convert(p.annotation.annotation)
                if hint[0] in ("n", "sub"):  # ``ChatService``, ``Annotated[ChatService, Depends(...)]``
                    annotations[p.name.value] = hint
        if func.returns is not None:
            # what it returns, under a key no parameter can have (a provider for
            # ``db=Depends(get_db)``: ``def get_db() -> DatabaseManager``)
            hint = conv.convert(func.returns.annotation)
            if hint[0] in ("n", "sub"):
                annotations["return"] = hint
        saved = (conv.params, conv.locals, conv.class_names, conv.module_names, conv.bound_so_far, conv.comprehended)
        conv.params, conv.class_names = frozenset(names), set()
        if conv.star_module is not None:
            conv.comprehended = frozenset(_comprehension_targets(func))
        conv.bound_so_far = {}  # the body runs once the module has (see _block)
        # ``from app.models import Task`` inside the function (the usual cure for an
        # import cycle) names what a module-level import would, unless the function
        # also assigns the name
        local_imports: dict[str, str] = {}
        _function_imports(_block(func), self.facts.module, self.facts.is_package, local_imports)
        if local_imports:
            assigned = _assigned_names(_block(func), imports=False)
            conv.locals = frozenset(assigned | (_assigned_names(_block(func)) - set(local_imports)))
            conv.module_names = {**conv.module_names, **{k: v for k, v in local_imports.items() if k not in assigned}}
        else:
            conv.locals = frozenset(_assigned_names(_block(func)))
        if enclosing:
            conv.locals |= enclosing - conv.params
        try:
            defaults = {p.name.value: conv.convert(p.default)
                        for p in (*params.posonly_params, *params.params, *params.kwonly_params)
                        if p.default is not None}
            outer_annotations, self.local_annotations = self.local_annotations, {}
            outer_nested, self.nested_functions = self.nested_functions, []
            body = self._ir_block(_block(func), getattr(twin, "body", None) if twin is not None else None)
            annotations.update(self.local_annotations)
            nested = self.nested_functions
            self.local_annotations, self.nested_functions = outer_annotations, outer_nested
        finally:
            conv.params, conv.locals, conv.class_names, conv.module_names, conv.bound_so_far, conv.comprehended = saved
        owner = f"{self.facts.module}.{class_name}" if class_name else self.facts.module
        star_kwargs = params.star_kwarg.name.value if isinstance(params.star_kwarg, cst.Param) else ""
        star_args = params.star_arg.name.value if isinstance(params.star_arg, cst.Param) else ""
        qualname = f"{owner}.{func.name.value}"
        named, stores = _scan_body(twin)
        return FunctionIR(func.name.value, qualname, class_name, line, col, names,
                          defaults, decorators, FunctionIR.encode_body(body), func.asynchronous is not None,
                          star_kwargs, annotations, _parameter_lines(twin, line), _unused_parameters(twin, named),
                          stores, _as_closures(nested, qualname), star_args,
                          tuple(p.name.value for p in params.kwonly_params))

    def _ir_block(self, body: Sequence[cst.CSTNode], ast_body: Optional[Sequence[ast.stmt]]) -> tuple:
        conv = self.conv
        out: list[tuple] = []
        for stmt, twin in paired(body, ast_body):
            line, _col = self.positions.enter(stmt, twin)
            if isinstance(stmt, cst.Assign):
                targets = tuple(_target_name(conv, t.target) for t in stmt.targets)
                # ``filters["org_id"] = org``: the key too, for ``filter_by(**filters)``
                targets += tuple(key for key in (_key_target(t.target) for t in stmt.targets) if key)
                out.append(("assign", targets, conv.convert(stmt.value), line))
            elif isinstance(stmt, cst.AnnAssign):
                target = _target_name(conv, stmt.target)
                hint = conv.convert(stmt.annotation.annotation)
                if target.isidentifier() and hint[0] in ("n", "sub"):
                    self.local_annotations.setdefault(f"local:{target}", hint)  # ``task: Task = load(...)``
                if stmt.value is not None:
                    out.append(("assign", (target,), conv.convert(stmt.value), line))
            elif isinstance(stmt, cst.AugAssign):
                # ``where += " OR is_public"``, ``ids += more``: a store into the name, as
                # ``name[] = ...`` records one (its earlier value is no longer all it holds)
                target = _target_name(conv, stmt.target)
                store = f"{target}[]" if target.isidentifier() else target if target.endswith("[]") else ""
                out.append(("assign", (store,), conv.convert(stmt.value), line))
            elif isinstance(stmt, cst.Del):
                # ``del clauses[0]``: a store into the container, of nothing
                for name in _deleted_items(stmt.target):
                    out.append(("assign", (f"{name}[]",), ("c", None), line))
            elif isinstance(stmt, cst.Expr):
                out.append(("expr", conv.convert(stmt.value), line))
            elif isinstance(stmt, cst.Return):
                out.append(("return", conv.convert(stmt.value) if stmt.value is not None else None, line))
            elif isinstance(stmt, cst.Raise):
                out.append(("raise", line, conv.convert(stmt.exc) if stmt.exc is not None else None))
            elif isinstance(stmt, cst.Assert):
                out.append(("assert", conv.convert(stmt.test), line))
            elif isinstance(stmt, cst.If):
                test = conv.convert(stmt.test)
                blocks = [self._ir_block(b, a) for b, a in nested_blocks(stmt, twin)]
                out.append(("if", test, blocks[0], blocks[1] if len(blocks) > 1 else (), line))
            elif isinstance(stmt, cst.For):
                targets = _target_names(stmt.target)
                conv.convert(stmt.target)
                iterable = conv.convert(stmt.iter)
                blocks = [self._ir_block(b, a) for b, a in nested_blocks(stmt, twin)]
                out.append(("loop", targets, iterable, blocks[0], blocks[1] if len(blocks) > 1 else (), line, False))
            elif isinstance(stmt, cst.While):
                test = conv.convert(stmt.test)
                blocks = [self._ir_block(b, a) for b, a in nested_blocks(stmt, twin)]
                out.append(("loop", (), test, blocks[0], blocks[1] if len(blocks) > 1 else (), line, True))
            elif isinstance(stmt, cst.Break):
                out.append(("break", line))
            elif isinstance(stmt, cst.Continue):
                out.append(("continue", line))
            elif isinstance(stmt, cst.With):
                items = []
                for item in stmt.items:
                    value = conv.convert(item.item)
                    name = None
                    if item.asname is not None and isinstance(item.asname.name, cst.Name):
                        name = item.asname.name.value
                    items.append((value, name))
                blocks = [self._ir_block(b, a) for b, a in nested_blocks(stmt, twin)]
                out.append(("with", tuple(items), blocks[0] if blocks else (), line))
            elif isinstance(stmt, (cst.Try, cst.TryStar)):
                blocks = [self._ir_block(b, a) for b, a in nested_blocks(stmt, twin)]
                handlers = tuple(blocks[1:1 + len(stmt.handlers)])
                rest = blocks[1 + len(stmt.handlers):]
                orelse = rest[0] if stmt.orelse is not None and rest else ()
                final = rest[-1] if stmt.finalbody is not None and rest else ()
                out.append(("try", blocks[0], handlers, orelse, final, line))
            elif isinstance(stmt, cst.Match):
                blocks = [self._ir_block(b, a) for b, a in nested_blocks(stmt, twin)]
                out.append(("branches", UNKNOWN, tuple(blocks), line))
            elif isinstance(stmt, cst.FunctionDef):
                # a closure: kept beside the body (the rules that read code as written see it;
                # the query analysis, which cannot know its free variables, does not)
                self.nested_functions.append(self._function_ir(stmt, twin, None, line, _col,
                                                               enclosing=self.conv.params | self.conv.locals))
        return tuple(out)

    def _class(self, stmt: cst.ClassDef, twin: Optional[ast.AST], line: int, col: int,
               name: Optional[str] = None) -> ClassFact:
        conv = self.conv
        decorators = [conv.convert(d.decorator) for d in stmt.decorators]
        bases: list[Expr] = []
        keywords: dict[str, Expr] = {}
        for arg in stmt.bases:
            bases.append(conv.convert(arg.value))
        for arg in stmt.keywords:
            value = conv.convert(arg.value)
            if arg.keyword is not None:
                keywords[arg.keyword.value] = value
        fact = ClassFact(name or stmt.name.value, line, col, bases, keywords, decorators, [])
        previous = conv.class_names
        conv.class_names = set()
        try:
            self._class_body(stmt, twin, fact)
        finally:
            conv.class_names = previous
        return fact

    def _class_body(self, stmt: cst.ClassDef, twin: Optional[ast.AST], fact: ClassFact) -> None:
        conv = self.conv
        for inner, inner_twin in paired(_block(stmt), getattr(twin, "body", None) if twin else None):
            line, col = self.positions.enter(inner, inner_twin)
            if isinstance(inner, cst.AnnAssign) and isinstance(inner.target, cst.Name):
                annotation = conv.convert(inner.annotation.annotation)
                value = conv.convert(inner.value) if inner.value is not None else None
                fact.attrs.append(AttrFact(inner.target.value, line, col, annotation, value))
                conv.class_names.add(inner.target.value)
            elif isinstance(inner, cst.Assign):
                value = conv.convert(inner.value)
                for target in inner.targets:
                    if isinstance(target.target, cst.Name):
                        fact.attrs.append(AttrFact(target.target.value, line, col, None, value))
                        conv.class_names.add(target.target.value)
            elif isinstance(inner, cst.FunctionDef):
                self._method(inner, inner_twin, fact, line, col)
            elif isinstance(inner, cst.Expr):
                value = conv.convert(inner.value)
                if _mentions_dynamic(value):
                    fact.dynamic = True
            elif isinstance(inner, cst.ClassDef):
                # nested classes (Meta, Config) are not mapped attributes; their plain
                # assignments are kept for the dialects that read them (Django, Peewee)
                fact.nested[inner.name.value] = self._nested_class(inner)
                if inner.bases and any(isinstance(s, cst.FunctionDef) for s in _cst_statements(_block(inner))):
                    # ``class PersonQuery(Query): def get(...)`` inside the model, its
                    # ``query_class``: a class of its own (``Person.PersonQuery``), methods and all
                    self.facts.classes.append(
                        self._class(inner, inner_twin, line, col, name=f"{fact.name}.{inner.name.value}"))
            elif isinstance(inner, cst.If) and _is_type_checking(inner.test):
                continue  # annotations for type checkers bind nothing at run time
            elif isinstance(inner, (cst.If, cst.Try, cst.For, cst.With)):
                # Attributes bound conditionally cannot be known statically.
                fact.dynamic = True

    def _instance_attributes(self, func: cst.FunctionDef, fact: ClassFact) -> None:
        """``self.repo = TaskRepository(session)`` / ``self.dao = dao`` (an annotated
        parameter) in ``__init__``: what the instance's attribute holds, for calls through
        it (``self.repo.get(...)``) to be followed. Names bound once only."""
        params = {p.name.value: p for p in (*func.params.posonly_params, *func.params.params, *func.params.kwonly_params)}
        if not params:
            return
        self_name = next(iter(params))
        conv = ExprConverter(self.names, _Positions({}))
        conv.star_module = self.conv.star_module
        seen: dict[str, int] = {}
        for stmt in _cst_statements(_block(func)):
            target, value = None, None
            if isinstance(stmt, cst.Assign) and len(stmt.targets) == 1:
                target, value = stmt.targets[0].target, stmt.value
            elif isinstance(stmt, cst.AnnAssign) and stmt.value is not None:
                target, value = stmt.target, stmt.value
            if not (isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name)
                    and target.value.value == self_name and value is not None):
                continue
            name = target.attr.value
            seen[name] = seen.get(name, 0) + 1
            if isinstance(value, cst.Name) and value.value in params:
                fact.param_attrs[name] = value.value
                annotation = params[value.value].annotation
                if annotation is None:
                    continue
                fact.instance_attrs[name] = conv.convert(annotation.annotation)
            elif isinstance(value, cst.Call):
                fact.instance_attrs[name] = conv.convert(value)
            elif isinstance(value, cst.Attribute) and isinstance(value.value, cst.Name) and value.value.value in params:
                # ``self.list_items = repos.group_shopping_list_item`` (``repos: AllRepositories``):
                # an attribute of what the parameter is
                hint = params[value.value.value].annotation
                if hint is not None:
                    fact.instance_attrs[name] = ("attrof", conv.convert(hint.annotation), value.attr.value)
        for name, count in seen.items():
            if count > 1:
                fact.instance_attrs.pop(name, None)  # bound one way or another: unknown
                fact.param_attrs.pop(name, None)

    def _memoised_attribute(self, func: cst.FunctionDef, fact: ClassFact) -> None:
        """``@property def repos(self): if not self._repos: self._repos = AllRepositories(...);
        return self._repos`` (mealie's controllers): the attribute holds what the property
        builds, as if ``__init__`` had set it (when ``__init__`` binds it no other way)."""
        statements = list(_cst_statements(_block(func)))
        if len(statements) != 2 or not isinstance(statements[0], cst.If) or statements[0].orelse is not None:
            return
        returned = statements[1].value if isinstance(statements[1], cst.Return) else None
        if not (isinstance(returned, cst.Attribute) and isinstance(returned.value, cst.Name)
                and returned.value.value == "self"):
            return
        name = returned.attr.value
        inner = list(_cst_statements(_block(statements[0])))
        if len(inner) != 1 or not isinstance(inner[0], cst.Assign) or len(inner[0].targets) != 1:
            return
        target, value = inner[0].targets[0].target, inner[0].value
        if not (isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name)
                and target.value.value == "self" and target.attr.value == name and isinstance(value, cst.Call)):
            return
        if name in fact.instance_attrs or name in fact.param_attrs:
            return
        conv = ExprConverter(self.names, _Positions({}))
        conv.star_module = self.conv.star_module
        fact.instance_attrs[name] = conv.convert(value)

    def _nested_class(self, stmt: cst.ClassDef) -> dict[str, Expr]:
        """``class Meta: db_table = "tasks"``: the names the nested class binds to values
        (positions are not kept: a finding is never reported inside it)."""
        conv = ExprConverter(self.names, _Positions({}))
        values: dict[str, Expr] = {}
        for inner in _cst_statements(_block(stmt)):
            if isinstance(inner, cst.Assign) and len(inner.targets) == 1 and isinstance(inner.targets[0].target, cst.Name):
                values[inner.targets[0].target.value] = conv.convert(inner.value)
            elif isinstance(inner, cst.AnnAssign) and isinstance(inner.target, cst.Name) and inner.value is not None:
                values[inner.target.value] = conv.convert(inner.value)
        return values

    def _method(self, func: cst.FunctionDef, twin: Optional[ast.AST], fact: ClassFact,
                line: int, col: int) -> None:
        conv = self.conv
        decorators = [conv.convert(d.decorator) for d in func.decorators]
        fact.methods.append(func.name.value)
        if func.name.value == "__init__":
            self._instance_attributes(func, fact)
        elif is_property(decorators):
            self._memoised_attribute(func, fact)
        validated = _validated_attributes(decorators)
        if validated:
            # CTFd-style ``@validates("password") def ...: return hash_password(v)``: the
            # column stores what the validator returns, so read what it calls.
            body = cst.Module(body=[]).code_for_node(func.body)
            transforms = HASHING_CALL.search(body) is not None
            for name in validated:
                fact.validators[name] = transforms or fact.validators.get(name, False)
        for name in _attributes_hashed_by(_block(func)):
            # ``def set_password(self, raw): self.password = bcrypt.hashpw(...)``: the
            # column holds what the model's own method hashed, as with a validator.
            fact.validators[name] = True
        if not _is_declared_attr(decorators):
            self.facts.bodies.append(self._function_ir(func, twin, fact.name, line, col, decorators))
            return
        annotation = None
        if func.returns is not None:
            annotation = conv.convert(func.returns.annotation)
        returned: Optional[Expr] = None
        ambiguous = False
        # A declared_attr returns its column; the last plain ``return`` is what counts,
        # after statements that only prepare it (a default looked up in a try block, as
        # fief's ExpiresAt does). A return inside a branch makes the value unknowable.
        saved_locals, conv.locals = conv.locals, frozenset(_assigned_names(_block(func)))
        try:
            for inner, inner_twin in paired(_block(func), getattr(twin, "body", None) if twin else None):
                self.positions.enter(inner, inner_twin)
                if isinstance(inner, cst.Return) and inner.value is not None:
                    returned = conv.convert(inner.value)
                elif isinstance(inner, (cst.Import, cst.ImportFrom, cst.Expr)):
                    continue  # a docstring; a local import before the return (an import cycle)
                elif isinstance(inner, (cst.Assign, cst.AnnAssign, cst.If, cst.Try, cst.With)):
                    ambiguous = ambiguous or any(isinstance(s, cst.Return) for s in _body_statements([inner]))
                else:
                    ambiguous = True
        finally:
            conv.locals = saved_locals
        if ambiguous or (returned is not None and returned[0] == "local"):
            returned = None  # ``col = mapped_column(...); return col`` is not followed
        if returned is None:
            fact.dynamic = fact.dynamic or func.name.value not in ("__tablename__", "__table_args__", "__mapper_args__")
        fact.attrs.append(AttrFact(func.name.value, line, col, annotation, returned, declared_attr=True))


def _noqa_comments(source: str) -> dict[int, Optional[tuple[str, ...]]]:
    """line -> codes of ``# noqa: A1,B2`` (None for a bare ``# noqa``)."""
    from dbcheck.syntax.noqa import parse_noqa_lines

    return parse_noqa_lines(source)


def _file_noqa_comments(source: str) -> dict[int, Optional[tuple[str, ...]]]:
    from dbcheck.facts.file_noqa import parse_file_noqa

    return parse_file_noqa(source)


def extract_module(source: str, path: str, module: str, is_package: bool) -> ModuleFacts:
    """Parse one file once and return its facts. Never raises for bad input."""
    with warnings.catch_warnings():
        # SyntaxWarnings of the analysed code (invalid escapes...) are not ours to print
        warnings.simplefilter("ignore")
        return _extract_module(source, path, module, is_package)


def _extract_module(source: str, path: str, module: str, is_package: bool) -> ModuleFacts:
    facts = ModuleFacts(path=path, module=module, is_package=is_package)
    facts.noqa = _noqa_comments(source)
    facts.file_noqa = _file_noqa_comments(source)
    tree: Optional[ast.Module] = None
    syntax_error: Optional[SyntaxError] = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning for odd escapes is not ours to report
            tree = ast.parse(source, filename=path)
    except SyntaxError as err:
        syntax_error = err
    except (RecursionError, MemoryError, ValueError) as err:
        facts.notice = f"too deeply nested or too large for the Python parser ({type(err).__name__})"
        return facts
    if syntax_error is not None and _too_deep_for_libcst(source, syntax_error):
        facts.error = _error_position(syntax_error)
        return facts
    if tree is not None and _long_boolean_chain(source, tree):
        facts.notice = "a boolean expression too long to analyse"
        return facts
    try:
        module_node = cst.parse_module(source)
    except (RecursionError, MemoryError, Exception) as err:  # noqa: BLE001 - the parser must not stop the run
        if syntax_error is not None:
            facts.error = _error_position(syntax_error)
        else:
            reason = str(err).splitlines()[0] if isinstance(err, cst.ParserSyntaxError) else type(err).__name__
            facts.notice = f"libcst cannot parse this file, although Python can ({reason})"
        facts.class_hints = _class_hints(source)
        return facts
    if syntax_error is not None:
        # Valid for a newer Python than this one. Its newer syntax blanked out in place,
        # CPython usually parses it, and its tree gives the positions as for any file;
        # else libcst's PositionProvider does (several times the cost of the parse).
        tree = _parse_as_this_python(source, path)
        positions = _Positions(source=source) if tree is not None else _Positions(_metadata_positions(module_node))
    else:
        positions = _Positions(source=source)
    try:
        _ModuleExtractor(facts, positions).run(module_node, tree)
    except RecursionError:
        facts.notice = "too deeply nested to analyse"
    # From the text, not the tree: a write in any statement or expression counts (and a
    # skimmed file is read the same way, see phase1.skim).
    facts.hashed_names = hashed_writes(source)
    facts.session_filters = session_filters(source, tree)
    return facts


def _parse_as_this_python(source: str, path: str) -> Optional[ast.Module]:
    """CPython's tree of a file written for a newer Python, with the newer syntax dbcheck
    does not read blanked out so that nothing else moves: PEP 695 type parameters
    (``class Box[T](Base):``) and ``type`` aliases, PEP 758 ``except A, B:``. None when
    the file has anything else this Python cannot parse."""
    import io
    import tokenize

    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(source).readline)
                  if t.type not in (tokenize.COMMENT, tokenize.NL)]
    except (tokenize.TokenError, SyntaxError, ValueError):
        return None
    lines = source.splitlines(keepends=True)
    # (row, start column, end column, replacement), rows 1-based; applied right to left
    edits: list[tuple[int, int, int, str]] = []

    def blank(start: tuple[int, int], end: tuple[int, int], first: str = "") -> bool:
        (row, col), (end_row, end_col) = start, end
        if row == end_row:
            edits.append((row, col, end_col, first.ljust(end_col - col)))
            return True
        edits.append((row, col, len(lines[row - 1].rstrip("\r\n")), first))
        for middle in range(row + 1, end_row):
            edits.append((middle, 0, len(lines[middle - 1].rstrip("\r\n")), ""))
        edits.append((end_row, 0, end_col, " " * end_col))
        return True

    def closing(i: int) -> int:
        depth = 0
        for j in range(i, len(tokens)):
            if tokens[j].string in "([{" and tokens[j].type == tokenize.OP:
                depth += 1
            elif tokens[j].string in ")]}" and tokens[j].type == tokenize.OP:
                depth -= 1
                if depth == 0:
                    return j
        return -1

    starts_statement = True
    for i, tok in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        after = tokens[i + 2] if i + 2 < len(tokens) else None
        if tok.type == tokenize.NAME and tok.string in ("class", "def") and following is not None and \
                following.type == tokenize.NAME and after is not None and after.string == "[":
            end = closing(i + 2)
            if end < 0 or tokens[end].start[0] != after.start[0]:
                return None  # type parameters over several lines
            blank(after.start, tokens[end].end)
        elif starts_statement and tok.type == tokenize.NAME and tok.string == "type" and following is not None \
                and following.type == tokenize.NAME and after is not None and after.string in ("=", "["):
            end = next((j for j in range(i, len(tokens)) if tokens[j].type == tokenize.NEWLINE), len(tokens) - 1)
            blank(tok.start, tokens[end].start, "pass")
        elif tok.type == tokenize.NAME and tok.string == "except":
            j = i + 1 + (following is not None and following.string == "*")
            depth, comma, bare = 0, False, True
            first = tokens[j] if j < len(tokens) else None
            while j < len(tokens) and not (depth == 0 and tokens[j].string == ":"):
                if tokens[j].string in "([{":
                    depth += 1
                elif tokens[j].string in ")]}":
                    depth -= 1
                elif depth == 0 and tokens[j].string == ",":
                    comma = True
                elif depth == 0 and tokens[j].string == "as":
                    bare = False
                j += 1
            if comma and bare and first is not None and j < len(tokens) and first.start[0] == tokens[j].start[0]:
                row = first.start[0]
                edits.append((row, tokens[j].start[1], tokens[j].start[1], ")"))
                edits.append((row, first.start[1], first.start[1], "("))
        starts_statement = tok.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT) or tok.string in (";", ":")
    if not edits:
        return None
    for row, start, end, text in sorted(edits, key=lambda e: (e[0], e[1], e[2]), reverse=True):
        line = lines[row - 1]
        lines[row - 1] = line[:start] + text + line[end:]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse("".join(lines), filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _metadata_positions(module_node: cst.Module) -> dict:
    from libcst.metadata import MetadataWrapper, PositionProvider

    wrapper = MetadataWrapper(module_node, unsafe_skip_copy=True)
    return dict(wrapper.resolve(PositionProvider))


# libcst's native parser overflows its stack (and takes the process down) on nesting
# CPython refuses or flattens, so such files never reach it.
_MAX_LIBCST_NESTING = 1000
_BRACKETS = re.compile(r"[()\[\]{}]")


def _too_deep_for_libcst(source: str, err: SyntaxError) -> bool:
    if "too many" in (err.msg or ""):  # nested parentheses, indentation levels, nested blocks
        return True
    depth = deepest = 0
    for match in _BRACKETS.finditer(source):
        depth += 1 if match.group() in "([{" else -1
        deepest = max(deepest, depth)
    return deepest > _MAX_LIBCST_NESTING


def _long_boolean_chain(source: str, tree: ast.Module) -> bool:
    """``a and b and ...`` is flat for CPython but nested for libcst."""
    if source.count(" and ") + source.count(" or ") < _MAX_LIBCST_NESTING:
        return False
    return any(isinstance(node, ast.BoolOp) and len(node.values) > _MAX_LIBCST_NESTING
               for node in ast.walk(tree))


_CLASS_LINE = re.compile(r"^[ \t]*class[ \t]+([A-Za-z_][A-Za-z0-9_]*)", re.MULTILINE)


def _class_hints(source: str) -> list[str]:
    return _CLASS_LINE.findall(source)


def _error_position(err: SyntaxError) -> tuple[int, int, str]:
    line = err.lineno or 1
    col = err.offset or 1
    return (line, max(col, 1), f"{err.msg}")


def _kept_if_in(node: Any, clause: cst.CompFor, test: cst.BaseExpression) -> bool:
    """``x in <expr>`` as the test of a one-clause comprehension whose element is ``x``,
    the name the clause binds."""
    return (not isinstance(node, cst.DictComp) and clause.inner_for_in is None and node.for_in is clause
            and isinstance(clause.target, cst.Name) and isinstance(node.elt, cst.Name)
            and node.elt.value == clause.target.value and isinstance(test, cst.Comparison)
            and len(test.comparisons) == 1 and isinstance(test.comparisons[0].operator, cst.In)
            and isinstance(test.left, cst.Name) and test.left.value == clause.target.value)


def _comprehension_targets(node: cst.CSTNode) -> set[str]:
    """The names comprehensions and walruses inside ``node`` bind."""
    found: set[str] = set()
    stack: list[cst.CSTNode] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.NamedExpr) and isinstance(current.target, cst.Name):
            found.add(current.target.value)
        elif isinstance(current, cst.CompFor):
            targets: list[cst.BaseExpression] = [current.target]
            while targets:
                target = targets.pop()
                if isinstance(target, cst.Name):
                    found.add(target.value)
                elif isinstance(target, (cst.Tuple, cst.List)):
                    targets.extend(element.value for element in target.elements)
        stack.extend(current.children)
    return found


def _as_closures(nested: list[FunctionIR], outer: str) -> list[FunctionIR]:
    """Closures named as Python names them (``app.cli.main.<locals>._doit``): never the
    name of a module-level function, whose callers and returns are another matter."""
    import dataclasses

    renamed = []
    for inner in nested:
        qualname = f"{outer}.<locals>.{inner.name}"
        renamed.append(dataclasses.replace(inner, qualname=qualname, nested=_as_closures(inner.nested, qualname)))
    return renamed
