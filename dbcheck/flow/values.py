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

from dbcheck.facts.ir import Expr, Sequence


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
    built_at: tuple = ()  # (path, line, column) where the helper named in ``note`` wrote it
    filtered: bool = False  # some filter was applied
    outer: tuple[str, ...] = ()  # joined tables that are outer-joined (read only if selected or filtered)
    # (table, local) for each ``T.<primary key> == <local>`` term: running the query vouches
    # for that local as an id of T from then on (see ``Env.vouched``)
    keys: tuple[tuple[str, str], ...] = ()
    anchors: frozenset = frozenset()  # the runs of the rows its terms compare with (``M.doc_id == doc.id``)
    asks: bool = False  # some term compares a column with who asks (``M.user_id == user.id``)
    sometimes: frozenset[str] = frozenset()  # tables scoped on some path that reached it, not all
    # the calls inside intermediate helpers it was reached through, innermost first:
    # ((path, line, column, the helper called there), ...) - a helper's query seen from
    # the callers of the function that calls the helper (see QueryAnalyzer._call_verdicts)
    through: tuple = ()
    # selects nothing but the tenant column (``select(Project.org_id).where(Project.id.in_(ids))``):
    # reads whose the rows are, to check them, and hands back nothing else
    owner_only: bool = False
    # (name, attribute) for each ``T.<attribute>.label(name)`` of the first entity's table:
    # the rows hand that column out under the label's name (``row.buffer_id``)
    labels: tuple[tuple[str, str], ...] = ()
    # tables a term pins to rows of who asks (``Comment.author_id == current_user.id``): with
    # the primary key pinned too, one row of their own (see QueryAnalyzer._apply_filter)
    mine: frozenset[str] = frozenset()
    # the entities a ``with_entities(...)`` replaced: in the FROM list only when a filter or a
    # join names them - judged then, as any table read (see QueryAnalyzer._query_method)
    replaced: tuple[str, ...] = ()
    # reached here only on a path a privilege test chose (``if not ctx.is_admin: q =
    # q.filter_by(project_id=...)`` left it as it was for administrators): what it reads
    # unscoped, the code says is for them
    privileged: bool = False


@dataclass(frozen=True)
class GetVal:
    table: str
    line: int
    column: int
    path: str
    checked: bool = False  # the function that loaded it checked the owner before returning it
    via: str = ""  # the helper that looked it up, when it was returned to this call: "load() (app/x.py:3)"


@dataclass(frozen=True)
class RowVal:
    """What one run of a query hands back: one row, or (``is_result``) the Result of
    ``session.execute`` that rows are taken from. An owner check of that row, next in
    the same function, scopes that run as a filter would
    (``t = q.filter_by(id=i).first(); if t.user_id != me: abort``)."""

    key: tuple  # the run's use: (path, line, column) of the query, (line, column) of the run
    function: str
    is_result: bool = False
    table: str = ""  # the table of the rows (the query's first entity)
    # the runs whose rows this one vouches for when it is found: a membership row
    # (``m = select(Member).where(Member.doc_id == doc.id, Member.user_id == me)``)
    anchors: frozenset = frozenset()
    labels: tuple[tuple[str, str], ...] = ()  # as QueryVal.labels
    slot: int = -1  # its place in the tuple a function returned (``return org, project, app``)


@dataclass(frozen=True)
class IdVal:
    """The id of a row of ``table`` the function already holds (``row``: the row itself,
    reached through a relationship, or created here): a row loaded here - judged where it
    was loaded -, created here, or reached from one through a key (``block.agent_id``,
    ``self.project_id`` in a model's method). A query filtered by it is as scoped as the
    row it came from."""

    table: str
    row: bool = False
    source: tuple = ()  # the run of the row it was read from, if any


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
    asker: bool = False  # every call handed who asks (``get_by_user(self.user.id)``)
    maybe_none: bool = False  # some call hands None on one path and something on another
    # handed back from a branch only administrators take (``if ctx.is_admin and
    # ctx.all_tenants: return query``): the caller's query, as it was, for them
    privileged: bool = False


@dataclass(frozen=True)
class InstanceVal:
    """An instance of a project class (a repository): its methods can be followed."""

    qualname: str
    # (attribute, table): a mapped class its constructor was handed for an attribute
    # (``RepositoryGeneric(session, Recipe)`` sets ``self.model``)
    models: tuple = ()


@dataclass(frozen=True)
class DictVal:
    """A dict display whose string keys hold rows (``return {"model_record": record, ...}``):
    the caller's ``info["model_record"]`` is that row."""

    entries: tuple  # (key, frozenset of the rows / ids it holds), sorted by key


Val = Union[QueryVal, GetVal, RowVal, IdVal, ClassVal, ExprVal, ParamVal, InstanceVal, DictVal, None]


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
    via: str = ""  # a call reported for the helper's query it runs: "Report.get_by_id() (app/models.py:42)"
    # a helper's query reported once for the calls that leave it unscoped: those calls'
    # functions ("load", "anyones"), to say where the ids come from
    callers: tuple[str, ...] = ()


@dataclass
class QueryIndex:
    uses: list[QueryUse] = field(default_factory=list)  # every query that runs, where it is built
    # For the scoping rules: a query inside a helper the project calls is judged by what
    # the calls pass, at the calls that leave it unscoped - unless every call does.
    scoping_uses: list[QueryUse] = field(default_factory=list)
    unchecked_gets: list[QueryUse] = field(default_factory=list)
    # every primary-key lookup whose own function does not check the owner (judged there,
    # not at its callers)
    lookups_unchecked_here: list[QueryUse] = field(default_factory=list)
    # (path, line, code) of helpers' queries and lookups judged at their calls instead:
    # a ``# noqa`` there says "callers are responsible", and is not unused
    moved: list[tuple[str, int, str]] = field(default_factory=list)
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
    lists: set[Sequence] = set()
    for value in values:
        if isinstance(value, ExprVal) and isinstance(value.expr, Sequence):
            lists.add(value.expr)
            continue
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
                filtered=merged.filtered or value.filtered, note=merged.note or value.note,
                keys=tuple(k for k in merged.keys if k in value.keys), anchors=merged.anchors & value.anchors,
                asks=merged.asks and value.asks,
                sometimes=(merged.sometimes | value.sometimes | merged.scoped | value.scoped)
                - (merged.scoped & value.scoped))
        rest.add(merged)
    rest.update(ExprVal(seq) for seq in bounded_condition_lists(lists))
    return frozenset(rest)


# Paths that append different conditions to ``filters`` give different lists; past this
# many, the variants merge into what every path holds, which is all a filter can rely on.
MAX_CONDITION_LISTS = 4


def condition_list(tag: str, items: Iterable[Expr]) -> Sequence:
    """A list of AND-ed conditions in one order, so that paths adding the same
    conditions in another order meet as one value."""
    return Sequence(tag, tuple(sorted(set(items), key=repr)))


def bounded_condition_lists(lists: set[Sequence]) -> set[Sequence]:
    if len(lists) <= MAX_CONDITION_LISTS:
        return lists
    common = set.intersection(*(set(seq.items) for seq in lists))
    return {condition_list("list", common)}


def canonical_order(value: Optional[QueryVal]) -> tuple:
    """A key that orders query values the same way in every run (sets do not)."""
    return () if value is None else (value.line, value.column, value.path) + _canonical(value)


def _canonical(value: QueryVal) -> tuple:
    return (value.note == "", value.note, value.joined, value.outer,
            tuple((t.line, t.column_offset, t.table, t.column, t.op, t.wrapped or "", t.constant) for t in value.terms),
            tuple(sorted(value.scoped)), value.opaque, value.partial, value.filtered, value.subquery,
            value.keys, tuple(sorted(value.anchors)), value.asks, tuple(sorted(value.sometimes)), value.through, value.owner_only)


def flatten(values: Iterable[frozenset]) -> Iterator[Val]:
    for value in values:
        yield from value


def leq(smaller: ValueSet, larger: ValueSet) -> bool:
    """Whether ``larger`` already accounts for every path of ``smaller``: joining them
    changes nothing."""
    return join(set(smaller) | set(larger)) == larger
