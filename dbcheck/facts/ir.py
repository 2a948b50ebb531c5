"""The typed IR of a function body, as the query analysis reads it.

The extractor lowers a body to plain tagged tuples (``("assign", targets, value, line)``,
``("call", func, args, kwargs, line, col)``), which ``marshal`` stores compactly in the
cache; ``decode_body`` turns them into the typed nodes below, one body at a time, while it
is interpreted. Each node is a ``NamedTuple`` whose first field is the tag, so a node is
also the very tuple it was decoded from: equal to it, hashable like it, and readable by
code that still walks plain ``Expr`` tuples (name resolution does). New code reads fields
by name and dispatches on the node's type.

Construct nodes with their class (``Name("app.models.Task")``; the tag is filled in) and
turn them back into the stored form with ``encode``.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Optional, Union


# ---------------------------------------------------------------------------- expressions

class _Name(NamedTuple):
    tag: str
    qualified: str  # resolved through the module's imports; "?.x" when unknown


class Name(_Name):
    """A name (or dotted chain of names) resolved through the import table."""

    __slots__ = ()

    def __new__(cls, qualified: str) -> "Name":
        return super().__new__(cls, "n", qualified)


class _Const(NamedTuple):
    tag: str
    value: Any


class Const(_Const):
    __slots__ = ()

    def __new__(cls, value: Any) -> "Const":
        return super().__new__(cls, "c", value)


class _Call(NamedTuple):
    tag: str
    func: "Expr"
    args: tuple["Expr", ...]  # a ``*x`` argument is a Star
    kwargs: tuple[tuple[str, "Expr"], ...]  # "**" names a ``**kw`` argument
    line: int
    column: int


class Call(_Call):
    __slots__ = ()

    def __new__(cls, func: "Expr", args: tuple = (), kwargs: tuple = (), line: int = 0, column: int = 0) -> "Call":
        return super().__new__(cls, "call", func, tuple(args), tuple(kwargs), line, column)


class _Subscript(NamedTuple):
    tag: str
    value: "Expr"
    items: tuple["Expr", ...]


class Subscript(_Subscript):
    __slots__ = ()

    def __new__(cls, value: "Expr", items: tuple = ()) -> "Subscript":
        return super().__new__(cls, "sub", value, tuple(items))


class _BinOr(NamedTuple):
    tag: str
    left: "Expr"
    right: "Expr"


class BinOr(_BinOr):
    """``X | None``."""

    __slots__ = ()

    def __new__(cls, left: "Expr", right: "Expr") -> "BinOr":
        return super().__new__(cls, "or", left, right)


class _Add(NamedTuple):
    tag: str
    left: "Expr"
    right: "Expr"


class Add(_Add):
    __slots__ = ()

    def __new__(cls, left: "Expr", right: "Expr") -> "Add":
        return super().__new__(cls, "add", left, right)


class Sequence(NamedTuple):
    """A tuple, list or set display (the tag says which)."""

    tag: str  # "tuple" | "list" | "set"
    items: tuple["Expr", ...]


class _DictDisplay(NamedTuple):
    tag: str
    pairs: tuple[tuple["Expr", "Expr"], ...]  # a ``**x`` entry has the key Const("**")


class DictDisplay(_DictDisplay):
    __slots__ = ()

    def __new__(cls, pairs: tuple = ()) -> "DictDisplay":
        return super().__new__(cls, "dict", tuple(pairs))


class _Attr(NamedTuple):
    tag: str
    value: "Expr"
    name: str


class Attr(_Attr):
    """An attribute of something that is not a name (``self.model``, ``f().x``)."""

    __slots__ = ()

    def __new__(cls, value: "Expr", name: str) -> "Attr":
        return super().__new__(cls, "attr", value, name)


class _Compare(NamedTuple):
    tag: str
    left: "Expr"
    ops: tuple[tuple[str, "Expr"], ...]  # ("==", right), ("is not", right), ...
    line: int
    column: int


class Compare(_Compare):
    __slots__ = ()

    def __new__(cls, left: "Expr", ops: tuple = (), line: int = 0, column: int = 0) -> "Compare":
        return super().__new__(cls, "cmp", left, tuple(ops), line, column)


class _BoolOp(NamedTuple):
    tag: str
    op: str  # "and" | "or"
    left: "Expr"
    right: "Expr"


class BoolOp(_BoolOp):
    __slots__ = ()

    def __new__(cls, op: str, left: "Expr", right: "Expr") -> "BoolOp":
        return super().__new__(cls, "bool", op, left, right)


class _Not(NamedTuple):
    tag: str
    operand: "Expr"
    python: bool  # Python's ``not`` (decided by Python), not ``~`` (SQLAlchemy's NOT)


class Not(_Not):
    """``not x`` and ``~x`` (SQLAlchemy's NOT in a filter)."""

    __slots__ = ()

    def __new__(cls, operand: "Expr", python: bool = False) -> "Not":
        return super().__new__(cls, "not", operand, python)


class _Lambda(NamedTuple):
    tag: str
    body: "Expr"


class Lambda(_Lambda):
    __slots__ = ()

    def __new__(cls, body: "Expr") -> "Lambda":
        return super().__new__(cls, "lambda", body)


class Local(NamedTuple):
    """A name the function binds: a parameter ("param"), a local ("local"), or a name
    bound earlier in the class body ("self")."""

    tag: str  # "param" | "local" | "self"
    name: str


def Param(name: str) -> Local:  # noqa: N802 - reads as a node class
    return Local("param", name)


def LocalName(name: str) -> Local:  # noqa: N802
    return Local("local", name)


class _IfExp(NamedTuple):
    tag: str
    test: "Expr"
    body: "Expr"
    orelse: "Expr"


class IfExp(_IfExp):
    __slots__ = ()

    def __new__(cls, test: "Expr", body: "Expr", orelse: "Expr") -> "IfExp":
        return super().__new__(cls, "ifexp", test, body, orelse)


class _FString(NamedTuple):
    tag: str
    text: str  # its literal text, with a NUL where each expression goes
    inner: tuple["Expr", ...]


class FString(_FString):
    __slots__ = ()

    def __new__(cls, text: str, inner: tuple = ()) -> "FString":
        return super().__new__(cls, "fstr", text, tuple(inner))


class _Comprehension(NamedTuple):
    tag: str
    elements: tuple["Expr", ...]
    iterables: tuple["Expr", ...]
    tests: tuple["Expr", ...]  # the ``if`` clauses, in source order


class Comprehension(_Comprehension):
    __slots__ = ()

    def __new__(cls, elements: tuple, iterables: tuple, tests: tuple = ()) -> "Comprehension":
        return super().__new__(cls, "comp", tuple(elements), tuple(iterables), tuple(tests))


class _Walrus(NamedTuple):
    tag: str
    name: str
    value: "Expr"


class Walrus(_Walrus):
    __slots__ = ()

    def __new__(cls, name: str, value: "Expr") -> "Walrus":
        return super().__new__(cls, "walrus", name, value)


class _Star(NamedTuple):
    tag: str
    value: "Expr"


class Star(_Star):
    """``*x`` in a call's arguments or a display."""

    __slots__ = ()

    def __new__(cls, value: "Expr") -> "Star":
        return super().__new__(cls, "star", value)


class _Opaque(NamedTuple):
    tag: str
    inner: tuple["Expr", ...]


class Opaque(_Opaque):
    """Anything else, with the expressions inside it (their calls may still run queries)."""

    __slots__ = ()

    def __new__(cls, inner: tuple = ()) -> "Opaque":
        return super().__new__(cls, "?", tuple(inner))


Expr = Union[Name, Const, Call, Subscript, BinOr, Add, Sequence, DictDisplay, Attr, Compare, BoolOp, Not,
             Lambda, Local, IfExp, FString, Comprehension, Walrus, Star, Opaque]


# ---------------------------------------------------------------------------- statements

class _Assign(NamedTuple):
    tag: str
    targets: tuple[str, ...]  # local names; "" for a target that is no plain name; "x[]" stores into x
    value: Expr
    line: int


class Assign(_Assign):
    __slots__ = ()

    def __new__(cls, targets: tuple, value: Expr, line: int = 0) -> "Assign":
        return super().__new__(cls, "assign", tuple(targets), value, line)


class _ExprStmt(NamedTuple):
    tag: str
    value: Expr
    line: int


class ExprStmt(_ExprStmt):
    __slots__ = ()

    def __new__(cls, value: Expr, line: int = 0) -> "ExprStmt":
        return super().__new__(cls, "expr", value, line)


class _Return(NamedTuple):
    tag: str
    value: Optional[Expr]
    line: int


class Return(_Return):
    __slots__ = ()

    def __new__(cls, value: Optional[Expr] = None, line: int = 0) -> "Return":
        return super().__new__(cls, "return", value, line)


class _Raise(NamedTuple):
    tag: str
    line: int
    exception: Optional[Expr]


class Raise(_Raise):
    __slots__ = ()

    def __new__(cls, exception: Optional[Expr] = None, line: int = 0) -> "Raise":
        return super().__new__(cls, "raise", line, exception)


class _Assert(NamedTuple):
    tag: str
    test: Expr
    line: int


class Assert(_Assert):
    __slots__ = ()

    def __new__(cls, test: Expr, line: int = 0) -> "Assert":
        return super().__new__(cls, "assert", test, line)


class _If(NamedTuple):
    tag: str
    test: Expr
    then: "Block"
    orelse: "Block"
    line: int


class If(_If):
    __slots__ = ()

    def __new__(cls, test: Expr, then: tuple = (), orelse: tuple = (), line: int = 0) -> "If":
        return super().__new__(cls, "if", test, tuple(then), tuple(orelse), line)


class _Loop(NamedTuple):
    tag: str
    targets: tuple[str, ...]  # the names a ``for`` binds; () for ``while``
    iterable: Optional[Expr]  # what ``for`` iterates, or the test of ``while``
    body: "Block"
    orelse: "Block"
    line: int
    is_while: bool


class Loop(_Loop):
    __slots__ = ()

    def __new__(cls, targets: tuple, iterable: Optional[Expr], body: tuple = (), orelse: tuple = (),
                line: int = 0, is_while: bool = False) -> "Loop":
        return super().__new__(cls, "loop", tuple(targets), iterable, tuple(body), tuple(orelse), line, is_while)


class _With(NamedTuple):
    tag: str
    items: tuple[tuple[Expr, Optional[str]], ...]  # (context manager, the name ``as`` binds)
    body: "Block"
    line: int


class With(_With):
    __slots__ = ()

    def __new__(cls, items: tuple, body: tuple = (), line: int = 0) -> "With":
        return super().__new__(cls, "with", tuple(items), tuple(body), line)


class _Try(NamedTuple):
    tag: str
    body: "Block"
    handlers: tuple["Block", ...]
    orelse: "Block"
    final: "Block"
    line: int


class Try(_Try):
    __slots__ = ()

    def __new__(cls, body: tuple = (), handlers: tuple = (), orelse: tuple = (), final: tuple = (),
                line: int = 0) -> "Try":
        return super().__new__(cls, "try", tuple(body), tuple(handlers), tuple(orelse), tuple(final), line)


class _Branches(NamedTuple):
    tag: str
    subject: Expr
    cases: tuple["Block", ...]
    line: int


class Branches(_Branches):
    """``match``: one of the cases runs, or none."""

    __slots__ = ()

    def __new__(cls, subject: Expr, cases: tuple = (), line: int = 0) -> "Branches":
        return super().__new__(cls, "branches", subject, tuple(cases), line)


class _Break(NamedTuple):
    tag: str
    line: int


class Break(_Break):
    __slots__ = ()

    def __new__(cls, line: int = 0) -> "Break":
        return super().__new__(cls, "break", line)


class _Continue(NamedTuple):
    tag: str
    line: int


class Continue(_Continue):
    __slots__ = ()

    def __new__(cls, line: int = 0) -> "Continue":
        return super().__new__(cls, "continue", line)


Stmt = Union[Assign, ExprStmt, Return, Raise, Assert, If, Loop, With, Try, Branches, Break, Continue]
Block = tuple  # of Stmt


# ---------------------------------------------------------------------------- the codec

_E, _B, _EO, _ES, _KW, _OPS, _PAIRS, _ITEMS, _BS, _X = range(10)  # how a field decodes

_EXPRESSIONS: dict[str, tuple[type, tuple[int, ...]]] = {
    "n": (Name, (_X,)),
    "c": (Const, (_X,)),
    "call": (Call, (_E, _ES, _KW, _X, _X)),
    "sub": (Subscript, (_E, _ES)),
    "or": (BinOr, (_E, _E)),
    "add": (Add, (_E, _E)),
    "tuple": (Sequence, (_ES,)),
    "list": (Sequence, (_ES,)),
    "set": (Sequence, (_ES,)),
    "dict": (DictDisplay, (_PAIRS,)),
    "attr": (Attr, (_E, _X)),
    "cmp": (Compare, (_E, _OPS, _X, _X)),
    "bool": (BoolOp, (_X, _E, _E)),
    "not": (Not, (_E, _X)),
    "lambda": (Lambda, (_E,)),
    "param": (Local, (_X,)),
    "local": (Local, (_X,)),
    "self": (Local, (_X,)),
    "ifexp": (IfExp, (_E, _E, _E)),
    "fstr": (FString, (_X, _ES)),
    "comp": (Comprehension, (_ES, _ES, _ES)),
    "walrus": (Walrus, (_X, _E)),
    "star": (Star, (_E,)),
    "?": (Opaque, (_ES,)),
}

_STATEMENTS: dict[str, tuple[type, tuple[int, ...]]] = {
    "assign": (Assign, (_X, _E, _X)),
    "expr": (ExprStmt, (_E, _X)),
    "return": (Return, (_EO, _X)),
    "raise": (Raise, (_X, _EO)),
    "assert": (Assert, (_E, _X)),
    "if": (If, (_E, _B, _B, _X)),
    "loop": (Loop, (_X, _EO, _B, _B, _X, _X)),
    "with": (With, (_ITEMS, _B, _X)),
    "try": (Try, (_B, _BS, _B, _B, _X)),
    "branches": (Branches, (_E, _BS, _X)),
    "break": (Break, (_X,)),
    "continue": (Continue, (_X,)),
}


def decode_expr(plain: tuple) -> Expr:
    """The typed node of a stored expression."""
    return _EXPR_DECODERS[plain[0]](plain)  # type: ignore[no-any-return]


def decode_body(plain: tuple) -> Block:
    """The typed statements of a stored body."""
    return tuple([_STMT_DECODERS[stmt[0]](stmt) for stmt in plain])


def _decode_field(kind: int, value: Any) -> Any:
    if kind == _X:
        return value
    if kind == _E:
        return decode_expr(value)
    if kind == _EO:
        return None if value is None else decode_expr(value)
    if kind == _ES:
        return tuple([decode_expr(v) for v in value])
    if kind == _B:
        return decode_body(value)
    if kind == _BS:
        return tuple([decode_body(b) for b in value])
    if kind == _KW:
        return tuple([(key, decode_expr(v)) for key, v in value])
    if kind == _OPS:
        return tuple([(op, decode_expr(v)) for op, v in value])
    if kind == _PAIRS:
        return tuple([(decode_expr(k), decode_expr(v)) for k, v in value])
    if kind == _ITEMS:
        return tuple([(decode_expr(e), name) for e, name in value])
    raise ValueError(kind)


def _decoder(cls: type, fields: tuple[int, ...]) -> Callable[[tuple], Any]:
    """A decoder for one tag, its fields' converters chosen once: leaves (most nodes are
    names, constants and locals) are made in one call."""
    make = tuple.__new__
    if all(kind == _X for kind in fields):
        return lambda plain: make(cls, plain)
    converters = [_CONVERTERS[kind] for kind in fields]
    if len(fields) == 1:
        (only,) = converters
        return lambda plain: make(cls, (plain[0], only(plain[1])))
    if len(fields) == 2:
        first, second = converters
        return lambda plain: make(cls, (plain[0], first(plain[1]), second(plain[2])))
    pairs = list(zip(range(1, len(fields) + 1), converters))
    return lambda plain: make(cls, (plain[0], *[convert(plain[i]) for i, convert in pairs]))


def _same(value: Any) -> Any:
    return value


def _maybe(value: Any) -> Any:
    return None if value is None else decode_expr(value)


def _many(values: tuple) -> tuple:
    return tuple([decode_expr(v) for v in values])


def _blocks(values: tuple) -> tuple:
    return tuple([decode_body(b) for b in values])


def _keyed(values: tuple) -> tuple:
    return tuple([(key, decode_expr(v)) for key, v in values])


def _pairs(values: tuple) -> tuple:
    return tuple([(decode_expr(k), decode_expr(v)) for k, v in values])


def _items(values: tuple) -> tuple:
    return tuple([(decode_expr(e), name) for e, name in values])


_CONVERTERS: dict[int, Callable[[Any], Any]] = {
    _X: _same, _E: lambda value: decode_expr(value), _EO: _maybe, _ES: _many,
    _B: lambda value: decode_body(value), _BS: _blocks, _KW: _keyed, _OPS: _keyed, _PAIRS: _pairs, _ITEMS: _items,
}


def _decode_call(plain: tuple) -> Call:
    tag, func, args, kwargs, line, column = plain
    return tuple.__new__(Call, (tag, decode_expr(func), tuple([decode_expr(a) for a in args]),
                                tuple([(k, decode_expr(v)) for k, v in kwargs]) if kwargs else (), line, column))


def _decode_attr(plain: tuple) -> Attr:
    return tuple.__new__(Attr, ("attr", decode_expr(plain[1]), plain[2]))


def _decode_opaque(plain: tuple) -> Opaque:
    return tuple.__new__(Opaque, ("?", tuple([decode_expr(e) for e in plain[1]]) if len(plain) > 1 else ()))


def _decode_loop(plain: tuple) -> Loop:
    values = [_decode_field(kind, value) for kind, value in zip(_STATEMENTS["loop"][1], plain[1:])]
    if len(plain) == 6:
        values.append(False)  # stored before loops said which kind they are
    return tuple.__new__(Loop, ("loop", *values))


_EXPR_DECODERS: dict[str, Callable[[tuple], Any]] = {tag: _decoder(cls, fields) for tag, (cls, fields) in _EXPRESSIONS.items()}
_EXPR_DECODERS.update({"call": _decode_call, "attr": _decode_attr, "?": _decode_opaque})
_STMT_DECODERS: dict[str, Callable[[tuple], Any]] = {tag: _decoder(cls, fields) for tag, (cls, fields) in _STATEMENTS.items()}
_STMT_DECODERS["loop"] = _decode_loop


def encode(node: Any) -> Any:
    """A node (or a block, or any value holding nodes) as the plain tuples stored."""
    if isinstance(node, Opaque) and not node.inner:
        return ("?",)
    if isinstance(node, (tuple, list)):
        return tuple(encode(item) for item in node)
    return node


# The table every dispatch on statement types starts from (``dbcheck.flow``).
STATEMENT_TYPES: tuple[type, ...] = tuple(cls for cls, _fields in _STATEMENTS.values())
EXPRESSION_TYPES: tuple[type, ...] = tuple(dict.fromkeys(cls for cls, _fields in _EXPRESSIONS.values()))

Decoder = Callable[[tuple], Block]
