"""The facts phase 1 produces for one file: plain data, no parser needed to read
them (the cache and the flake8 plugin load them without importing libcst).

Expressions are kept as small tuples (``Expr``):

    ("n", "sqlalchemy.orm.mapped_column")    a name, resolved through the import table
    ("c", value)                             a literal
    ("call", func, args, kwargs, line, col)  kwargs: tuple of (name, Expr); "**" for **kw
    ("sub", value, items)                    subscript: Mapped[Optional[int]]
    ("or", left, right)                      X | None
    ("tuple"|"list"|"set", items)
    ("dict", ((key, value), ...))
    ("attr", value, name)                    attribute of something that is not a name
    ("cmp", left, ((op, right), ...), line, col)
    ("bool", op, left, right)
    ("not", operand, python)                 ``not x`` (python: True) or ``~x``
    ("lambda", body)
    ("param", name)                          a parameter of the enclosing function
    ("self", name)                           a name bound earlier in the class body
    ("local", name)                          a name the enclosing function binds
    ("ifexp", test, body, orelse)            body if test else orelse
    ("add", left, right)                     left + right
    ("fstr", text, (inner, ...))             an f-string: its literal text, NUL for each {expression}
    ("comp", (element, ...), (iterable, ...), (test, ...))  a comprehension or generator expression
    ("?", (inner, ...))                      anything else, with the expressions inside it
"""

from __future__ import annotations

import marshal
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator, Optional

if TYPE_CHECKING:
    from dbcheck.facts.ir import Block

Expr = tuple  # see the module docstring

UNKNOWN: Expr = ("?",)


@dataclass
class AttrFact:
    """One statement in a class body that binds a name."""

    name: str
    line: int
    column: int
    annotation: Optional[Expr]
    value: Optional[Expr]
    declared_attr: bool = False  # a @declared_attr method: value is what it returns


@dataclass
class ClassFact:
    name: str
    line: int
    column: int
    bases: list[Expr]
    keywords: dict[str, Expr]
    decorators: list[Expr]
    attrs: list[AttrFact]
    dynamic: bool = False  # setattr/locals()/exec in the body: its attributes are unknowable
    methods: list[str] = field(default_factory=list)
    # attribute -> its @validates function hashes or encrypts what is assigned
    validators: dict[str, bool] = field(default_factory=dict)
    # nested class -> the names it binds (``class Meta: db_table = "tasks"``)
    nested: dict[str, dict[str, Expr]] = field(default_factory=dict)
    # ``self.<name> = <value>`` in ``__init__``: the value, or the annotation of the
    # parameter it was handed (``def __init__(self, dao: TaskDAO): self.dao = dao``)
    instance_attrs: dict[str, Expr] = field(default_factory=dict)
    # ``self.<name> = <parameter>`` in ``__init__``: the parameter's name (a repository
    # handed its model: ``RepositoryGeneric(session, Recipe)``)
    param_attrs: dict[str, str] = field(default_factory=dict)


@dataclass
class FunctionFact:
    """A module-level function that is a single ``return <expr>``: a column factory."""

    name: str
    params: list[str]
    defaults: dict[str, Expr]
    returns: Expr
    line: int


@dataclass
class FunctionIR:
    """A function body reduced to what the query analysis follows: assignments,
    branches, loops, returns and raises, each with its expressions.

    Statements are tuples:
        ("assign", targets, value, line)    targets: tuple of local names ("" for others)
        ("expr", value, line)
        ("return", value or None, line)
        ("raise", line, exception or None)
        ("assert", test, line)
        ("if", test, then, orelse, line)
        ("loop", targets, iter or None, body, orelse, line, is_while)   for / while
        ("break", line), ("continue", line)
        ("with", ((expr, name or None), ...), body, line)
        ("try", body, (handler bodies), orelse, finalbody, line)
        ("branches", subject, (case bodies), line)            match
    """

    name: str
    qualname: str
    class_name: Optional[str]
    line: int
    column: int
    params: list[str]
    defaults: dict[str, Expr]
    decorators: list[Expr]
    # The statements, ``marshal``-encoded: a project's bodies are half its facts, and
    # held as live tuples they would dominate memory on large projects; each body is
    # decoded only while it is being interpreted (marshal is C, and cheap).
    code: bytes
    is_async: bool = False
    star_kwargs: str = ""  # the ``**kwargs`` parameter's name (the last of ``params``)
    # the classes parameters are annotated with (``chat_service: ChatServiceDep``), as
    # written: a method called on such a parameter is that class's; "return": the
    # function's return annotation; "local:<name>": a local's annotation (``task: Task = ...``)
    annotations: dict[str, Expr] = field(default_factory=dict)
    # the line of each parameter written on another line than the ``def`` (a long signature)
    param_lines: dict[str, int] = field(default_factory=dict)
    # parameters no code of the function reads or binds again (nested functions, lambdas and
    # comprehensions included), from the ``ast`` - the IR leaves out what queries cannot use
    unused_params: tuple[str, ...] = ()
    # ``row.owner_id = ...`` and ``setattr(row, "owner_id", ...)``: (local, attribute, line)
    # of each store into an attribute of a local (the IR keeps plain-name targets only)
    attribute_stores: tuple[tuple[str, str, int], ...] = ()
    # functions defined in the body (closures), read by the rules that look at a body as
    # written (DBC504/505/507); the query analysis does not interpret them
    nested: list["FunctionIR"] = field(default_factory=list)
    # the ``*args`` parameter's name (in ``params`` after the keyword-only ones), and the
    # keyword-only parameters: positional arguments bind neither
    star_args: str = ""
    kwonly: tuple[str, ...] = ()

    def with_nested(self) -> Iterator["FunctionIR"]:
        """This function, then the closures it defines (theirs too)."""
        yield self
        for inner in self.nested:
            yield from inner.with_nested()

    @property
    def body(self) -> "Block":
        """The statements, typed (``dbcheck.facts.ir``); decoded on every access."""
        from dbcheck.facts.ir import decode_body

        return decode_body(marshal.loads(self.code))

    @staticmethod
    def encode_body(body: tuple) -> bytes:
        return marshal.dumps(body)


@dataclass
class CallFact:
    """A call evaluated at module level: ``tasks = Table(...)``, ``Index(...)``."""

    target: Optional[str]
    value: Expr
    line: int
    column: int


@dataclass
class ModuleFacts:
    path: str
    module: str
    is_package: bool
    imports: dict[str, str] = field(default_factory=dict)
    star_imports: list[str] = field(default_factory=list)
    assignments: dict[str, Expr] = field(default_factory=dict)
    classes: list[ClassFact] = field(default_factory=list)
    functions: dict[str, FunctionFact] = field(default_factory=dict)
    bodies: list[FunctionIR] = field(default_factory=list)
    calls: list[CallFact] = field(default_factory=list)
    error: Optional[tuple[int, int, str]] = None  # (line, column, message) -> DBC001
    notice: Optional[str] = None  # skipped, with the reason
    noqa: dict[int, Optional[tuple[str, ...]]] = field(default_factory=dict)
    # file-level ``# dbcheck: noqa`` / ``# flake8: noqa`` (``dbcheck.facts.file_noqa``):
    # line -> the codes it names, None for every code
    file_noqa: dict[int, Optional[tuple[str, ...]]] = field(default_factory=dict)
    class_hints: list[str] = field(default_factory=list)  # class names of a file we could not parse
    # where the module writes a hash (``dbcheck.facts.hashes``): ``Class.attribute`` for
    # ``SessionToken(token=token_hash)``, ``.attribute`` when the class does not show
    # (``new_user.password = hash_password(raw)``, ``{"password": hash_password(raw)}``)
    hashed_names: list[str] = field(default_factory=list)
    skimmed: bool = False  # only syntax-checked: nothing in the project made it relevant
    identifiers: list[str] = field(default_factory=list)  # the names a skimmed file uses
    # ``do_orm_execute`` listeners: (line, the names the listener uses, reads only) - a
    # session-wide tenant filter (``dbcheck.facts.listeners``)
    session_filters: list[tuple[int, list[str], bool]] = field(default_factory=list)
    # What other modules can see of this one, positions left out (see ``interface_digest``)
    interface: str = ""
    key: str = ""  # the content key the engine found these facts under (not part of them)


def is_property(decorators: list[Expr]) -> bool:
    """Whether a method is a ``@property`` / ``@functools.cached_property``."""
    for dec in decorators:
        target = dec[1] if dec[0] == "call" else dec
        if target[0] == "n" and isinstance(target[1], str) \
                and target[1].rsplit(".", 1)[-1] in ("property", "cached_property"):
            return True
    return False


def is_alembic_revision(module: ModuleFacts) -> bool:
    """An Alembic (or Flask-Migrate) revision script, wherever it lives: its ``revision``
    and ``down_revision`` globals say so."""
    return "revision" in module.assignments and "down_revision" in module.assignments


def _without_positions(expr: object) -> object:
    if not isinstance(expr, tuple):
        return expr
    if expr and expr[0] == "call" and len(expr) == 6:
        _c, func, args, kwargs, _line, _col = expr
        return ("call", _without_positions(func), tuple(_without_positions(a) for a in args),
                tuple((k, _without_positions(v)) for k, v in kwargs))
    if expr and expr[0] == "cmp" and len(expr) == 5:
        _c, left, ops, _line, _col = expr
        return ("cmp", _without_positions(left), tuple((op, _without_positions(r)) for op, r in ops))
    return tuple(_without_positions(e) for e in expr)


def interface_digest(facts: ModuleFacts) -> str:
    """A digest of everything the project index and other modules' analysis read from
    this module - imports, assignments, classes, factories, module-level calls, the
    signatures of its functions - but not their bodies, and no line numbers. Editing a
    function body, or moving code up or down, keeps it; what the analysis of other
    modules takes from a body is tracked per body (``dbcheck.flow.interpreter``)."""
    import hashlib

    strip = _without_positions
    shape = (
        facts.module, facts.is_package, sorted(facts.imports.items()), list(facts.star_imports),
        sorted((k, strip(v)) for k, v in facts.assignments.items()),
        [(c.name, strip(tuple(c.bases)), sorted((k, strip(v)) for k, v in c.keywords.items()),
          strip(tuple(c.decorators)),
          [(a.name, strip(a.annotation), strip(a.value), a.declared_attr) for a in c.attrs],
          c.dynamic, list(c.methods), sorted(c.validators.items()),
          sorted((name, sorted((k, strip(v)) for k, v in values.items())) for name, values in c.nested.items()),
          sorted((k, strip(v)) for k, v in c.instance_attrs.items()), sorted(c.param_attrs.items()))
         for c in facts.classes],
        sorted((name, list(f.params), sorted((k, strip(v)) for k, v in f.defaults.items()), strip(f.returns))
               for name, f in facts.functions.items()),
        [(b.name, b.qualname, b.class_name, list(b.params), sorted((k, strip(v)) for k, v in b.defaults.items()),
          strip(tuple(b.decorators)), b.is_async) for b in facts.bodies],
        [(c.target, strip(c.value)) for c in facts.calls],
        facts.error is not None, list(facts.class_hints), facts.skimmed, list(facts.hashed_names),
        [(names, reads_only) for _line, names, reads_only in facts.session_filters],
    )
    # repr, not marshal: marshal's bytes depend on which strings are interned and shared
    return hashlib.sha256(repr(shape).encode("utf-8", "surrogatepass")).hexdigest()[:32]
