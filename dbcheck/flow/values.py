"""The abstract values of the query analysis and their lattice.

A local holds a *set* of possible values, one per path that reached it. Values of one
origin (the place a query is built) are joined into one (``join``): what holds on every
path - the tenant filters and terms all paths share - so the number of possibilities is
bounded by the number of places queries are built, not ``2 ** branches``. ``leq`` is the
lattice's order: ``a <= b`` when ``b`` already accounts for every path of ``a``
(``join(a | b) == b``); loops iterate to a fixpoint of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterable, Iterator, NamedTuple, Optional, Union

from dbcheck.facts.ir import Expr


class Term(NamedTuple):
    """One AND-ed filter term: ``T.col <op> value`` on a known table (a named tuple:
    the incremental analysis decodes tens of thousands of them per run)."""

    table: str
    column: str
    op: str  # "==", "in", "range", "is", "notnull", "!=", "like", "other"
    wrapped: Optional[str]  # "lower", "ilike", "like%", "cast": the column is wrapped
    line: int
    column_offset: int
    constant: bool


@dataclass(frozen=True)
class QueryVal:
    kind: str  # "read" | "update" | "delete"
    tables: tuple[str, ...]  # entity tables (by name)
    joined: tuple[str, ...] = ()
    scoped: frozenset[str] = frozenset()
    terms: tuple[Term, ...] = ()
    line: int = 0
    column: int = 0
    path: str = ""
    opaque: bool = False
    param: Optional[str] = None  # derived from this parameter of the function analysed
    partial: bool = False  # a filter whose terms we could not list (or_, text(), a local)
    subquery: bool = False  # .subquery() / .scalar_subquery(): used inside another statement
    note: str = ""  # how it was built, for messages ("built by TaskRepo.base()")
    filtered: bool = False  # some filter was applied
    outer: tuple[str, ...] = ()  # joined tables that are outer-joined (read only if selected or filtered)


@dataclass(frozen=True)
class GetVal:
    table: str
    line: int
    column: int
    path: str
    checked: bool = False  # the function that loaded it checked the owner before returning it


@dataclass(frozen=True)
class RowVal:
    """What one run of a query hands back: one row, or (``is_result``) the Result of
    ``session.execute`` that rows are taken from. An owner check of that row, next in
    the same function, scopes that run as a filter would
    (``t = q.filter_by(id=i).first(); if t.user_id != me: abort``)."""

    key: tuple  # the run's use: (path, line, column) of the query, (line, column) of the run
    function: str
    is_result: bool = False


@dataclass(frozen=True)
class ClassVal:
    table: str


@dataclass(frozen=True)
class ExprVal:
    """A local holding an expression (a condition built before ``.where(cond)``)."""

    expr: Expr


@dataclass(frozen=True)
class ParamVal:
    name: str
    truthy: Optional[bool] = None


@dataclass(frozen=True)
class InstanceVal:
    """An instance of a project class (a repository): its methods can be followed."""

    qualname: str


Val = Union[QueryVal, GetVal, RowVal, ClassVal, ExprVal, ParamVal, InstanceVal, None]


@dataclass(frozen=True)
class QueryUse:
    """A query that runs: read, write, or a primary-key lookup."""

    kind: str  # "read" | "update" | "delete" | "get"
    query: Optional[QueryVal]
    get: Optional[GetVal]
    path: str
    line: int
    column: int
    function: str
    hint: str = ""  # "admin path" when the code around it says so
    run: tuple = ()  # (line, column) of the call that runs it: one statement can run twice


@dataclass
class QueryIndex:
    uses: list[QueryUse] = field(default_factory=list)  # every query that runs, where it is built
    # For the scoping rules: a query inside a helper the project calls is judged by what
    # the calls pass, at the calls that leave it unscoped - unless every call does.
    scoping_uses: list[QueryUse] = field(default_factory=list)
    unchecked_gets: list[QueryUse] = field(default_factory=list)
    replayed: list[str] = field(default_factory=list)  # modules taken from the last run's logs



ValueSet = frozenset  # of Val: the possible values of one local


def join(values: Iterable[Val]) -> ValueSet:
    """One value per query origin at a join point: what holds on every path (the
    tenant filters and terms all paths share). Keeps the number of possibilities
    bounded by the number of places queries are built, not 2**branches. The result does
    not depend on the order the values come in (a set's order changes from run to run):
    the values of one origin are folded in a canonical order."""
    groups: dict[tuple, list[QueryVal]] = {}
    rest: set = set()
    for value in values:
        if not isinstance(value, QueryVal):
            rest.add(value)
            continue
        key = (value.kind, value.tables, value.line, value.column, value.path, value.param)
        groups.setdefault(key, []).append(value)
    for group in groups.values():
        if len(group) == 1:
            rest.add(group[0])
            continue
        group.sort(key=_canonical)
        merged = group[0]
        for value in group[1:]:
            kept = set(value.terms)
            merged = replace(
                merged, scoped=merged.scoped & value.scoped, terms=tuple(t for t in merged.terms if t in kept),
                joined=tuple(t for t in merged.joined if t in value.joined),
                opaque=merged.opaque or value.opaque, partial=merged.partial or value.partial,
                filtered=merged.filtered or value.filtered, note=merged.note or value.note)
        rest.add(merged)
    return frozenset(rest)


def _canonical(value: QueryVal) -> tuple:
    return (value.note == "", value.note, value.joined, value.outer,
            tuple((t.line, t.column_offset, t.table, t.column, t.op, t.wrapped or "", t.constant) for t in value.terms),
            tuple(sorted(value.scoped)), value.opaque, value.partial, value.filtered, value.subquery)


def flatten(values: Iterable[frozenset]) -> Iterator[Val]:
    for value in values:
        yield from value


def leq(smaller: ValueSet, larger: ValueSet) -> bool:
    """Whether ``larger`` already accounts for every path of ``smaller``: joining them
    changes nothing."""
    return join(set(smaller) | set(larger)) == larger
