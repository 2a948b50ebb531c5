"""The query analysis: a small abstract interpreter over each function's IR that finds
every query the project builds and runs, with the tables it reads or writes, the tenant
filters applied to it on every path, and its AND-ed filter terms. The scoping rules
(DBC5xx) and the index-coverage rules (DBC4xx) read its result (``QueryIndex``).

A local holds a set of possible values, one per path (``dbcheck.flow.values``); an
``if`` interprets both branches and joins them, and a branch that returns or raises
does not reach the code after it. So ``stmt = select(T)``; ``if x: stmt =
stmt.where(T.user_id == uid)``; ``run(stmt)`` reaches ``run`` with two possibilities,
one of them unscoped.

Project functions that take or build queries are summarised per call (with what the
call passes, so ``read(id, actor=None)`` scoped only ``if actor`` scopes the calls
that pass an actor). Anything the analysis cannot follow makes the query opaque, and
opaque queries are never reported.

Every change interpreting a module makes to the shared state is an operation
(``apply``); with ``log`` set they are also recorded, so the incremental analysis
(``dbcheck.incremental``) can replay a module whose inputs did not change.
"""

from __future__ import annotations

import collections
import contextlib
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Optional

from dbcheck.dialects import KNOWLEDGE
from dbcheck.dialects.flask_sqlalchemy import DB_OBJECT
from dbcheck.facts.ir import (
    Add, Assert, Assign, Attr, BinOr, Block, BoolOp, Branches, Break, Call, Compare, Comprehension, Const, Continue,
    DictDisplay, Expr, ExprStmt, FString, If, IfExp, Lambda, Local, Loop, Name, Not, Opaque, Raise, Return, Sequence,
    Star, Subscript, Try, Walrus, With,
)
from dbcheck.facts.model import AttrFact, FunctionIR, ModuleFacts, is_alembic_revision, is_property
from dbcheck.flow.env import FALSY, UNVETTED, Context, Env, LoopFrame
from dbcheck.flow.policy import (
    ACCESS_CHECK, CHECK_WORDS, CONVERSIONS, PREDICATE, TENANT_ROW, decorated_by, exits, is_abort, mentions_privilege,
    names_identity_loader, names_who_asks, owner_attribute_base, owner_attributes, owner_comparisons,
    parent_comparisons, privileged_side, unconverted, unscoped_table,
)
from dbcheck.flow.values import (
    ClassVal, DictVal, ExprVal, GetVal, IdVal, InstanceVal, ParamVal, QueryIndex, QueryUse, QueryVal, RowVal, Term, Val, ValueSet,
    bounded_condition_lists, canonical_order, condition_list, flatten, join,
)
from dbcheck.schema.index import camel_to_snake
from dbcheck.schema.model import RelationshipModel, TableModel
from dbcheck.schema.tenancy import owned_by_tenant, tenant_columns_of, tenant_owned
from dbcheck.semantic.classes import attributes_of, is_protocol, mro
from dbcheck.syntax.noqa import is_suppressed
from dbcheck.semantic.symbols import ClassAttr, ClassRef, Function, FunctionBody, Lib, Value, lib_name_of

if TYPE_CHECKING:
    from dbcheck.config import Config
    from dbcheck.flow.view import ProjectView
    from dbcheck.schema.index import ClassInfo

MAX_DEPTH = 6
# Tables of the people who sign in: a key to one compared with who asks reads their own rows
IDENTITY_TABLES = frozenset({"users", "user", "accounts", "account", "auth_user", "customers", "members"})
# the words of a table of grants' name, its account key, and a key that says who wrote a row
_GRANT_WORDS = frozenset({"access", "accesses", "member", "members", "membership", "memberships", "permission",
                          "permissions", "grant", "grants", "acl", "acls", "collaborator", "collaborators",
                          "participant", "participants"})
_ACCOUNT_KEY = re.compile(r"(?:^|_)(?:user|member|account|principal)_?id$")
_AUTHOR_KEY = re.compile(r"(?:^|_)(?:user|author|creator|owner|created_by|uploaded_by|uploader|submitted_by|"
                         r"submitter|posted_by|poster|writer)(?:_id)?$")
# a tenant table's column that names one tenant though no unique constraint says so
# (Barbican's 2013 ``Tenant.keystone_id``, a project's ``external_id``, ``slug``)
_TENANT_IDENTIFIER = re.compile(r"^(?:(?:keystone|external|ext|remote|public|global)_id|uuid|slug)$")
_NONE_VALUE = ExprVal(Const(None))
_MAYBE_NONE = ("maybe-none",)  # a summary's signature entry: the parameter is None on some path
_ABSENT = _NONE_VALUE  # a key a dict built here does not hold (yet): as if it held None
_BUILT_HERE, _NOT_BUILT_HERE = frozenset({ExprVal(Const(True))}), frozenset({ExprVal(Const(False))})
_EMPTY_LIST = ExprVal(Sequence("list", ()))  # ``rows = []``: read as an empty condition list too
MAX_THROUGH = 3  # calls up a helper's query is judged at, through the functions calling it
MAX_INNER_USES = 400  # queries one summary hands on to its callers
QUERY_SELF = "<query>"  # ``models`` entry: the method runs on a query of this table (a query_class's)
MAX_OVERRIDES = 32  # subclasses a base method calling overridden ``self.<m>()`` is interpreted as
_API = KNOWLEDGE.query_api


class QueryAnalyzer:
    def __init__(self, index: "ProjectView", config: "Config") -> None:
        self.index = index
        self.config = config
        self.result = QueryIndex()
        self._summaries: dict[tuple, tuple[frozenset, frozenset, tuple, frozenset]] = {}
        self._summary_reads: dict[tuple, Any] = {}
        # the operations of the module being interpreted, when the caller keeps them
        self.log: Optional[list] = None
        self._applied_here: set[tuple] = set()  # operations applied once per module (see _apply_once)
        self._gets: dict[tuple[str, int, int], tuple[GetVal, str, str]] = {}
        self._returned_gets: dict[str, list[tuple[str, int, int]]] = {}
        # lookups by a parameter of their function, and whether each call of it handed
        # that parameter the id of a row the caller holds
        self._get_params: dict[tuple[str, int, int], tuple[str, str]] = {}
        self._param_calls: dict[tuple[str, str], set[tuple[bool, str]]] = {}
        self._refusers: dict[str, bool] = {}  # check functions by qualname: see _refuses_other_owners
        self._called: set[str] = set()
        self._conditions_read: set[str] = set()  # locals whose condition is being read (see _condition)
        self._guarded: set[str] = set()  # functions that hand their parameters to an access check
        self._checked_rows: set[tuple] = set()  # runs of a query whose row's owner is checked next
        # query origin -> (the use at a top-level call site, the query as that call builds it)
        self._observed: dict[tuple[str, int, int], list[tuple[QueryUse, QueryVal]]] = {}
        # a call's row handed on: call site -> the calls of its function that receive it
        self._forwards: dict[tuple[str, int, int], list[QueryUse]] = {}
        # queries scoped whenever the function is told who asks (``if actor: ...``)
        self._conditional: set[tuple[str, int, int]] = set()
        # ... or whenever the object was built for a tenant (``if self.group_id: ...``)
        self._instance_conditional: set[tuple[str, int, int]] = set()
        self._returned_rows: set[tuple[str, int, int]] = set()  # queries whose rows their function returns
        # calls a function makes to itself handing on something else than what it was given
        self._foreign_recursion: set[tuple[str, int, int]] = set()
        self._noqa_by_path: Optional[dict[str, dict]] = None
        self._held: list[_Held] = []  # interpretations whose effects are held back, innermost last
        self._inlining: set[str] = set()  # condition helpers being inlined (see _inlined_condition)
        # bodies decoded lately: a helper is summarised once per way it is called
        self._decoded: collections.OrderedDict[int, Block] = collections.OrderedDict()
        # per module (as summaries are): the subclasses overriding a base class's methods
        self._overriders: dict[str, list[tuple["ClassInfo", set[str]]]] = {}
        # per module too: the column a mapped class's hybrid property compares (see
        # _hybrid_expression), asked for every attribute that is no column
        self._hybrids: dict[tuple[str, str], Optional[tuple[str, str, None]]] = {}
        # classes in method resolution order by qualname, with what resolving the bases read
        # (noted again at every use, as a summary's reads are): asked for at every method
        # call and attribute of an instance
        self._mros: dict[str, tuple[list["ClassRef"], Any]] = {}

    # ------------------------------------------------------------------ driver

    def interpret_module(self, module: ModuleFacts) -> None:
        """Interpret every function body of ``module``, applying (and, with ``log``,
        recording) what it adds to the shared state."""
        self._applied_here = set()
        # Summaries are shared within a module, never across: one computed under
        # another module's call chain (cut at the depth limit, or resolved to nothing
        # inside a recursion) would make this module's result depend on which module
        # came first - and a replayed module computes nothing.
        self._summaries, self._summary_reads = {}, {}
        self._overriders, self._hybrids = {}, {}
        self.index.note("bodies", module.path)
        for body in module.bodies:
            cls = self._class_of(module, body)
            ctx = Context(module, body, cls)
            env = _entry_env(body)
            if any(names_identity_loader(d) for d in body.decorators):
                # ``@login_manager.user_loader``: who the session names, before any tenant is known
                self._apply_once(("guarded", body.qualname))
            before = len(self.result.uses)
            self._body_and_closures(module, body, cls, env, ctx)
            for value in flatten(ctx.returns):
                if isinstance(value, GetVal):
                    self._apply(("ret", body.qualname, (value.path, value.line, value.column)))
                elif isinstance(value, RowVal) and len(value.key) == 5:
                    self._apply_once(("rret", value.key[:3]))
            self._note_conditional_scope(module, body, cls, self.result.uses[before:])
            if cls is not None and body.class_name is not None:
                self._dispatched(module, body, cls, self._statements(body))

    def _body_and_closures(self, module: ModuleFacts, body: FunctionIR, cls: Optional["ClassInfo"], env: Env,
                           ctx: Context) -> None:
        """Interpret ``body``, then the functions it defines, each from the locals at its
        ``def`` (those at the end of the body for a ``def`` no statement follows): its free
        variables are what the enclosing function held there, so a row it loaded scoped
        stays scoped. Only closures that take nothing but ``*args`` / ``**kwargs`` are
        judged: what the enclosing function's local calls hand a parameter is not followed,
        and a callback is usually handed rows it holds (``_billing_of(grant)`` for each
        grant of a scoped select)."""
        if body.nested:
            ctx.closures = sorted(body.nested, key=lambda f: f.line)
        end = self._block(self._statements(body), env, ctx) or env
        for inner in body.nested:
            if any(p not in (inner.star_kwargs, "args") for p in inner.params):
                continue
            inner_env = ctx.closure_envs.get(id(inner)) or end.snapshot()
            for p in inner.params:
                inner_env.set(p, frozenset({ParamVal(p)}))
            self._body_and_closures(module, inner, cls, inner_env, Context(module, inner, cls))

    def _note_conditional_scope(self, module: ModuleFacts, body: FunctionIR, cls: Optional["ClassInfo"],
                                uses: list[QueryUse]) -> None:
        """A query unscoped only on the paths where the function was not told who asks
        (``read(id, actor=None)`` scoping ``if actor:``) is scoped by its callers'
        choice: judged at the calls the project makes, never at the function itself."""
        unscoped = [use for use in uses if use.query is not None and not use.query.opaque
                    and unscoped_table(self.index, self.config, use.query) is not None]
        if not unscoped:
            return
        params = [p for p in body.params if p not in ("self", "cls")] if body.class_name else list(body.params)
        signature = tuple(True if names_who_asks(Local("param", p), self.config) else None for p in params)
        if any(signature):
            self._note_scoped_when_told(module, body, cls, signature, False, unscoped, "cond")
            unscoped = [use for use in unscoped if (use.path, use.line, use.column) not in self._conditional]
        if unscoped and body.class_name and body.params and body.params[0] == "self":
            # A repository built for one tenant (``Repo(session, group_id=...)``) that
            # scopes ``if self.group_id:``: who built it is out of reach, so the query
            # is as scoped as the object - never reported, here or at its calls.
            self._note_scoped_when_told(module, body, cls, tuple(None for _ in params), True, unscoped, "icond")

    def _note_scoped_when_told(self, module: ModuleFacts, body: FunctionIR, cls: Optional["ClassInfo"],
                               signature: tuple, self_told: bool, unscoped: list[QueryUse], kind: str) -> None:
        _results, _escapes, inner, _vouched = self._summary(module, body, signature, cls, 1, self_told)
        by_origin: dict[tuple, list[QueryVal]] = {}
        for _kind, query in inner:
            by_origin.setdefault((query.path, query.line, query.column), []).append(query)
        for use in unscoped:
            origin = (use.path, use.line, use.column)
            told = by_origin.get(origin)
            if told and all(not q.opaque and unscoped_table(self.index, self.config, q) is None for q in told):
                self._apply_once((kind, origin))

    def finish(self) -> QueryIndex:
        """The result, once every module was interpreted or replayed: queries in helpers
        judged at their callers, lookups returned to a project caller judged there."""
        self._judge_scoping()
        # Every lookup its own function does not check, wherever it is judged (DBC506
        # reads the function as written)
        self.result.lookups_unchecked_here = [
            QueryUse("get", None, get, get.path, get.line, get.column, function)
            for (get, var, function) in self._gets.values() if var != "__checked__" and function not in self._guarded]
        # A lookup returned to a project caller is judged at the caller's call, where
        # the owner may be checked; one returned to a framework (a view) is judged here.
        for qualname, keys in self._returned_gets.items():
            if qualname in self._called:
                for key in keys:
                    if self._gets.pop(key, None) is not None:
                        self.result.moved.append((key[0], key[1], "DBC502"))
        for key, (function, param) in self._get_params.items():
            # ``dao.delete(domain_id=domain_id)`` after ``dao.get_by_id(domain_id, org)``:
            # a lookup by a parameter every call hands a held id is that row again
            calls = self._param_calls.get((function, param), set())
            if calls and all(held for held, _caller in calls) and function in self._called \
                    and self._gets.pop(key, None) is not None:
                self.result.moved.append((key[0], key[1], "DBC502"))
        for key, (get, var, function) in self._gets.items():
            if var != "__checked__" and function not in self._guarded:
                by = self._get_params.get(key)
                calls = self._param_calls.get(by, set()) if by is not None else set()
                callers = tuple(sorted({caller.rsplit(".", 1)[-1] for held, caller in calls if not held}))
                self.result.unchecked_gets.append(
                    QueryUse("get", None, get, get.path, get.line, get.column, function, callers=callers))
        return self.result

    def records_anything(self) -> bool:
        """Whether what was interpreted recorded a query, a lookup or an observed call."""
        return bool(self.result.uses or self._gets or self._observed)

    def _statements(self, body: FunctionIR) -> Block:
        """The typed statements of ``body``, decoded once while it is among the last
        ``DECODED_BODIES`` used (bodies are kept encoded: half a project's facts)."""
        key = id(body)
        found = self._decoded.get(key)
        if found is not None:
            self._decoded.move_to_end(key)
            return found
        decoded = self._decoded[key] = body.body
        if len(self._decoded) > DECODED_BODIES:
            self._decoded.popitem(last=False)
        return decoded

    def _mro(self, ref: "ClassRef") -> list["ClassRef"]:
        tracking = self.index.tracking
        found = self._mros.get(ref.qualname)
        if found is not None and (found[1] is not None or not tracking):
            if tracking:
                self.index.merge_reads(found[1])
            return found[0]
        if tracking:
            self.index.open_reads()
        order = mro(self.index.symbols, ref)
        reads = self.index.close_reads() if tracking else None
        if tracking:
            self.index.merge_reads(reads)
        self._mros[ref.qualname] = (order, reads)
        return order

    def _attributes_in_mro(self, ref: "ClassRef") -> list[tuple[AttrFact, "ClassRef"]]:
        """Attributes visible on ``ref``: own first, then its bases', the first binding wins."""
        return attributes_of(self._mro(ref))

    def _table_named(self, name: str) -> Optional[TableModel]:
        if not name:
            return None
        found = self.index.tables_named(name)
        return found[0] if found else None

    def apply(self, op: tuple) -> None:
        """Every change the interpretation of a module makes to the shared state (held
        back while a loop's first pass is, see ``_held_back``)."""
        if self._held:
            self._held[-1].ops.append((False, op))
            return
        if self.log is not None:
            self.log.append(op)
        kind = op[0]
        if kind == "use":
            self.result.uses.append(op[1])
        elif kind == "get":
            self._gets.setdefault(op[1], (op[2], "", op[3]))
            if op[4]:
                self._get_params.setdefault(op[1], (op[3], op[4]))
        elif kind == "pcall":
            self._param_calls.setdefault((op[1], op[2]), set()).add((op[3], op[4]))
        elif kind == "check":
            if op[1] in self._gets:
                self._gets[op[1]] = (op[2], "__checked__", "")
        elif kind == "ret":
            self._returned_gets.setdefault(op[1], []).append(op[2])
        elif kind == "called":
            self._called.add(op[1])
        elif kind == "guarded":
            self._guarded.add(op[1])
        elif kind == "rowcheck":
            self._checked_rows.add(op[1])
        elif kind == "recur":
            self._foreign_recursion.add(op[1])
        elif kind == "obs":
            self._observed.setdefault(op[1], []).append((op[2], op[3]))
        elif kind == "fwd":
            self._forwards.setdefault(op[1], []).append(op[2])
        elif kind == "cond":
            self._conditional.add(op[1])
        elif kind == "icond":
            self._instance_conditional.add(op[1])
        elif kind == "rret":
            self._returned_rows.add(op[1])

    _apply = apply

    def _apply_once(self, op: tuple) -> None:
        """An operation that only adds to a set: once in a module's log is enough."""
        if self._held:
            self._held[-1].ops.append((True, op))
        elif op not in self._applied_here:
            self._applied_here.add(op)
            self._apply(op)

    def _judge_scoping(self) -> None:
        origins = {(use.path, use.line, use.column) for use in self.result.uses}
        for origin, observed in self._observed.items():
            if origin not in origins:
                # A query whose table only its callers tell (a mixin's classmethod on
                # ``cls``: ``Token.purge_expired(db)``): judged at each call.
                verdict = self._call_verdicts(observed)
                self.result.scoping_uses.extend(verdict[0] + verdict[3])
        for use in self.result.uses:
            origin = (use.path, use.line, use.column)
            if use.run and origin + use.run in self._checked_rows or origin in self._instance_conditional:
                continue
            # a recursive call hands on what its own callers gave it, or rows reached from
            # it (``count(sub) for sub in directory.subdirectories``): the callers say
            observed = [o for o in self._observed.get(origin, ()) if o[0].function != use.function
                        or _where_of(o[0]) in self._foreign_recursion]
            if use.function not in self._called or not observed:
                if origin not in self._conditional:
                    self.result.scoping_uses.append(use)
                continue
            unscoped, scoped, checked, inner, far = self._call_verdicts(observed)
            code = "DBC501" if use.kind == "read" else "DBC503"
            if inner and (origin in self._conditional or not (scoped or checked)):
                # a call that leaves out the scoping argument is that call's choice; and
                # with no call scoping it, the helper is reported once as before
                unscoped = unscoped + (inner if origin in self._conditional else far or inner)
            elif inner and not unscoped:
                # scoped by some calls, reached unscoped through functions whose callers
                # vary: reported once, at the helper, rather than at every call up the chain
                # - as those calls run it (its own run may scope: Tracim's
                # find_one_by_unique_property, scoped unless built with the filter off)
                reached = next((o for o in far or inner if o.query is not None
                                and unscoped_table(self.index, self.config, o.query) is not None), None)
                judged = use
                if reached is not None and reached.query is not None and use.query is not None \
                        and unscoped_table(self.index, self.config, use.query) is None:
                    judged = replace(use, query=replace(reached.query, path=use.path, line=use.line,
                                                        column=use.column, note=use.query.note))
                self.result.scoping_uses.append(replace(judged, callers=_callers_of(far or inner)))
            if use.query is not None and not use.query.tables:
                # ``select(cls)`` in a mixin: no table of its own, each call's is judged
                self.result.scoping_uses.extend(unscoped)
            elif scoped and unscoped or origin in self._conditional:
                # scoped by what the calls pass: judged at the calls that leave it unscoped
                self.result.scoping_uses.extend(unscoped)
                self.result.moved.append((use.path, use.line, code))
            elif unscoped and checked:
                # a lookup whose callers check the row it hands back: the calls that do not
                # are where a request's id reaches it unchecked
                self.result.scoping_uses.extend(unscoped)
                self.result.moved.append((use.path, use.line, code))
            elif unscoped and not scoped:
                # No call scopes it or checks its row: the helper's own design, reported
                # once where it is built - unless a noqa there says it is a lookup by design
                # whose callers are responsible, which moves the finding to them.
                by_design = origin in self._returned_rows and not (use.query is not None and use.query.sometimes)
                if by_design and self._suppressed_at(use.path, use.line, code):
                    self.result.scoping_uses.extend(unscoped)
                    self.result.moved.append((use.path, use.line, code))
                else:
                    judged = use
                    if use.query is not None and use.query.opaque and unscoped[0].query is not None:
                        # opaque as written (``.filter(*filters)`` of a parameter), read as
                        # its calls run it: the query of one that leaves it unscoped
                        judged = replace(use, query=replace(unscoped[0].query, path=use.path, line=use.line,
                                                            column=use.column, note=use.query.note))
                    self.result.scoping_uses.append(replace(judged, callers=_callers_of(unscoped)))
            elif scoped or checked:
                self.result.moved.append((use.path, use.line, code))  # every call scopes or checks it
            else:
                # no call could be judged: where it is built
                self.result.scoping_uses.append(use)

    def _suppressed_at(self, path: str, line: int, code: str) -> bool:
        """Whether a ``# noqa`` on that line names ``code`` (or is bare)."""
        if self._noqa_by_path is None:
            self._noqa_by_path = {m.path: m.noqa for m in self.index.modules.values()}
        noqa = self._noqa_by_path.get(path, {})
        return is_suppressed(code, noqa.get(line), line in noqa)

    def _call_verdicts(self, observed: list[tuple[QueryUse, QueryVal]]
                       ) -> tuple[list[QueryUse], list[QueryUse], list[QueryUse], list[QueryUse], list[QueryUse]]:
        """(the calls that leave the query unscoped, those that scope it, those whose caller
        owner-checks the row it returns, the unscoped calls inside functions some caller
        above reaches unscoped, and those callers' calls) - one verdict per call, unscoped if any path through the
        callee is; opaque calls are none of them."""
        verdicts: dict[tuple[str, int, int], tuple[QueryUse, bool, bool]] = {}
        # A call inside a function the project calls (``repo.tasks_of(run_id)`` in
        # ``get_tasks(run_id)``) is scoped when every way the project reaches it scopes the
        # query - each caller passes the id of a row it holds. Only ever a reason for
        # silence: a call some caller reaches unscoped keeps its own verdict, reported
        # once there rather than at every caller up the chain.
        evidence = [(site, query, not query.opaque and unscoped_table(self.index, self.config, query) is None)
                    for site, query in observed if query.through]
        reached = _reached(evidence, frozenset())
        # A call unscoped only as its own function reads it alone - whose every caller
        # reaches it scoped (Tracim's move_recursively(item) -> save(item)) - is that
        # function's parameter unbound, not evidence against the calls it goes through.
        unbound = frozenset(_where_of(site) for site, query, ok in evidence
                            if not ok and not query.opaque and reached.get(_where_of(site)) is True)
        if unbound:
            reached = _reached(evidence, unbound)
        far: list[QueryUse] = [  # where the unscoped calls inside functions the project calls are reached from
            site for site, query, ok in evidence  # (a caller that checks the row handed up to it is not one)
            if not query.opaque and not ok and _where_of(site) not in self._checked_rows | unbound]
        vouched_sites: list[QueryUse] = []
        by_held: dict[tuple, bool] = {}
        for site, query in observed:
            where = _where_of(site)
            if query.through:
                continue  # evidence for the calls it went through, never reported itself
            bad = unscoped_table(self.index, self.config, query) is not None
            held_only = not bad and not query.opaque and not self._tenant_scoped(query)
            by_held[where] = by_held.get(where, True) and held_only
            if bad and reached.get(where):
                # unscoped as written, scoped by every caller up the chain: silent, and no
                # reason by itself to judge the helper's other calls one by one
                vouched_sites.append(site)
                continue
            kept, was_bad, was_opaque = verdicts.get(where, (site, False, False))
            if bad and (not was_bad or canonical_order(site.query) < canonical_order(kept.query)):
                kept = site  # the call is reported with a way it leaves the query unscoped
            verdicts[where] = (kept, was_bad or bad, was_opaque or query.opaque)
        unscoped: list[QueryUse] = []
        scoped: list[QueryUse] = []
        checked: list[QueryUse] = []
        inner: list[QueryUse] = []
        for where, (site, bad, opaque) in verdicts.items():
            if bad:
                sites = self._unchecked_sites(site, set())
                # a call inside a function the project calls, which some caller above
                # reaches unscoped: what it is handed is its callers' to say
                (inner if reached.get(where) is False else unscoped).extend(sites)
                if not sites:
                    checked.append(site)
            elif not opaque and not by_held.get(where, False):
                scoped.append(site)
            elif not opaque:
                # scoped only by the id of a row its caller holds: silent, and no sign that
                # the helper is meant to be scoped by what its calls pass
                vouched_sites.append(site)
        if vouched_sites and not unscoped and not inner and not checked:
            scoped.extend(vouched_sites)
        return unscoped, scoped, checked, inner, far

    def _tenant_scoped(self, query: QueryVal) -> bool:
        """Scoped by a tenant term (``T.org_id == actor.org_id``, the tenant row), not
        only by the id of a row held."""
        return TENANT_ROW in query.scoped or any(
            term.column in self.config.tenant_columns and not term.constant for term in query.terms)

    def _unchecked_sites(self, site: QueryUse, seen: set) -> list[QueryUse]:
        """The calls where the row a call hands back is never owner-checked: the call
        itself, or - when its function returns the row to project callers - theirs
        (``read(id)`` -> ``load(id)`` -> a view that checks)."""
        where = _where_of(site)
        if where in self._checked_rows:
            return []
        ups = self._forwards.get(where)
        if not ups or where in seen:
            return [site]
        seen.add(where)
        found: list[QueryUse] = []
        for up in ups:
            for far in self._unchecked_sites(up, seen):
                query = replace(site.query, line=far.line, column=far.column, path=far.path) if site.query else None
                found.append(replace(far, kind=site.kind, query=query, via=site.via, hint=far.hint or site.hint))
        return found

    def _class_of(self, module: ModuleFacts, body: FunctionIR) -> Optional["ClassInfo"]:
        if body.class_name is None:
            return None
        return self.index.classes.get(f"{module.module}.{body.class_name}")

    # ------------------------------------------------------------------ statements

    def _block(self, stmts: Block, env: Env, ctx: Context) -> Optional[Env]:
        """Interpret a block; None when no path through it reaches its end (each path
        returns, raises, breaks or continues)."""
        for stmt in stmts:
            ctx.line = stmt.line
            while ctx.closures and ctx.closures[0].line < stmt.line:
                ctx.closure_envs[id(ctx.closures.pop(0))] = env.snapshot()
            result = _TRANSFER[type(stmt)](self, stmt, env, ctx)
            if result is None:
                return None
            env = result
        return env

    # One transfer function per statement type (``_TRANSFER``): the environment after
    # the statement, or None when the statement leaves the block.

    def _assign(self, stmt: Assign, env: Env, ctx: Context) -> Optional[Env]:
        unpacked = _unpacked(stmt.targets[0]) if len(stmt.targets) == 1 else None
        if unpacked and isinstance(stmt.value, Sequence) and len(stmt.value.items) == len(unpacked) \
                and not any(isinstance(i, Star) for i in stmt.value.items):
            # ``a, b = x, y``: each its own
            for name, item in zip(unpacked, stmt.value.items):
                env.set(name, self._eval(item, env, ctx))
            return env
        result = self._eval(stmt.value, env, ctx)
        if isinstance(stmt.value, Call) and result and all(isinstance(v, QueryVal) and v.subquery for v in result):
            # a subquery kept as written too, for a filter that uses it as a condition
            result = result | {ExprVal(stmt.value)}
        if (isinstance(stmt.value, Call) and result <= {None} and names_who_asks(stmt.value, self.config)
                or isinstance(stmt.value, IfExp) and names_who_asks(stmt.value.body, self.config)
                and names_who_asks(stmt.value.orelse, self.config)) \
                and len(stmt.targets) == 1 and stmt.targets[0] and not stmt.targets[0].endswith(("]", "}", ")")):
            # ``customer = get_customer(auth_subject)``, ``uid = user_id if user_id is not None else
            # current_user.id``: who asks, by another name
            result = frozenset({ParamVal(stmt.targets[0], True, asker=True)})
        if result == NOTHING and isinstance(stmt.value, (BinOr, Call)):
            # ``cond = (T.a == 1) | (T.b == 2)``, ``field = json_field(T.meta, "k")``:
            # kept as written, for a filter to read (``.where(cond)``, ``field == v``)
            result = frozenset({ExprVal(stmt.value)})
        elif result == NOTHING and isinstance(stmt.value, Sequence) and stmt.value.tag in ("list", "tuple") \
                and (all(_looks_like_condition(item) for item in stmt.value.items)
                     or (stmt.value.items and all(_sql_piece(item) for item in stmt.value.items))):
            # ``filters = [T.a == 1, T.user_id == me]``, ANDed later by ``.filter(*filters)``;
            # ``where_clauses = [f"({access_filter})", "filename = :filename"]`` for a join
            result = frozenset({ExprVal(condition_list(stmt.value.tag, stmt.value.items))})
        pairs = _dict_pairs(stmt.value)
        if pairs is not None:
            # ``filters = {"org_id": org, ...}`` / ``dict(org_id=org)``: its keys, for
            # ``filter_by(**filters)`` - a tenant column it leaves out is absent until set
            # (``if user_id is not None: filters["user_id"] = user_id``)
            for target in stmt.targets:
                if target and not target.endswith(("[]", "}")):
                    env.set(f"{target}{{#}}", _BUILT_HERE)
                    for key, value in pairs:
                        env.set(f"{target}{{{key}}}", frozenset({ExprVal(value)}))
                    for column in self.config.tenant_columns:
                        if all(key != column for key, _value in pairs):
                            env.set(f"{target}{{{column}}}", frozenset({_ABSENT}))
        if pairs is None:
            for target in stmt.targets:
                if target and target.isidentifier() and env.get(f"{target}{{#}}", frozenset()):
                    env.set(f"{target}{{#}}", _NOT_BUILT_HERE)  # bound anew to another value
        for target in stmt.targets:
            if target and target in env.vouched:
                del env.vouched[target]  # bound anew: what was looked up by it is not this
            if target and target in env.checked and not _reads_local(stmt.value, target):
                env.checked.discard(target)  # bound anew: the check was of what it held before
            if target and target.isidentifier() and isinstance(stmt.value, Local) and stmt.value.name in env.vouched:
                # ``source_id = session_id`` of an id looked up scoped: the id of that row
                tables = env.vouched[stmt.value.name] - {FALSY, UNVETTED}
                env.vouched[target] = env.vouched[stmt.value.name]
                if tables:
                    env.set(target, frozenset(IdVal(table) for table in tables))
                    continue
            names = _unpacked(target)
            if names is not None:
                # ``rows, total = load(...)``: each name may be any of what came back
                # (a held row only when every value is one, so nothing is assumed) - or,
                # for rows a tuple handed back in their places, the rows of its place
                unplaced = frozenset(v for v in result if not isinstance(v, RowVal) or v.slot < 0)
                for place, name in enumerate(names):
                    env.set(name, unplaced | frozenset(replace(v, slot=-1) for v in result
                                                       if isinstance(v, RowVal) and v.slot == place))
            elif target.endswith("}"):
                env.set(target, frozenset({ExprVal(stmt.value)}))  # what the key holds, as written
            elif target.endswith("[]"):
                # what was stored into ``name``: handed on with it (see _owner_checked_by_call)
                env.set(target, env.get(target, frozenset()) | result)
                base = target[:-2]
                if any(_held_item(v) for v in env.get(base, NOTHING)):
                    # ``ids += request_ids`` / ``ids[0] = x`` on a list of held ids or rows: not
                    # all of it held any more - unless what came in is held ids too
                    added = result if result and all(_held_item(v) for v in result) else frozenset({None})
                    env.set(base, env.get(base, NOTHING) | added)
            elif target:
                env.set(target, result)
        # ``error, code = can_view_activity(auth_user_id, activity.user_id)`` then ``if
        # error: return``: the check counts where the ``if`` leaves on what it answered
        verdict = frozenset({ExprVal(stmt.value)}) if isinstance(stmt.value, Call) and \
            _check_name(stmt.value) else NOTHING
        for name in (unpacked or stmt.targets):
            if name and name.isidentifier() and (verdict or env.get(f"{name}?check", NOTHING)):
                env.set(f"{name}?check", verdict)
        return env

    def _verdict_acted_on(self, test: Expr, env: Env, ctx: Context) -> None:
        """``if error:`` / ``if not allowed:`` whose branch leaves, on what a check call
        assigned: that call guards the function, as ``if not check(...)`` would."""
        while isinstance(test, Not):
            test = test.operand
        if isinstance(test, Compare) and len(test.ops) == 1 and test.ops[0][1] == NONE:
            test = test.left  # ``if error is not None:``
        if not isinstance(test, Local) or test.tag != "local":
            return
        for value in env.get(f"{test.name}?check", NOTHING):
            call = value.expr if isinstance(value, ExprVal) else None
            if not isinstance(call, Call):
                continue
            guarding, ctx.guarding = ctx.guarding, True
            try:
                values = [self._peek(arg, env, ctx) for arg in call.args] + \
                    [self._peek(arg, env, ctx) for _key, arg in call.kwargs]
                self._owner_checked_by_call(_check_name(call), values, call, env, ctx)
            finally:
                ctx.guarding = guarding

    def _expression(self, stmt: ExprStmt, env: Env, ctx: Context) -> Optional[Env]:
        ctx.guarding = True
        self._eval(stmt.value, env, ctx)
        ctx.guarding = False
        return None if is_abort(stmt.value) else env

    def _return(self, stmt: Return, env: Env, ctx: Context) -> Optional[Env]:
        if stmt.value is not None and not isinstance(stmt.value, (Local, Attr)):
            # ``return bool(obj and obj.workspace_id == self.workspace_id)``: the row is
            # looked up to answer whether it is the tenant's, and does not leave
            for group in owner_comparisons(stmt.value, self.config, True):
                for var in group:
                    if not any(isinstance(v, RowVal) for v in env.get(var, frozenset())):
                        for value in env.get(var, frozenset()):
                            self._mark_checked(value, ctx, rows=False)
        if stmt.value is not None:
            value = self._eval(stmt.value, env, ctx)
            if isinstance(stmt.value, Sequence) and stmt.value.tag == "list" and not stmt.value.items:
                value = frozenset({_EMPTY_LIST})  # ``except NoResultFound: return []``: no rows
            if isinstance(stmt.value, Sequence) and stmt.value.tag == "tuple":
                # ``return incidents, total`` / ``return org, project, app``: the rows in it,
                # each in its place, for a caller that unpacks it (``rows, n = load(...)``);
                # nothing else of a tuple is followed
                value = frozenset(replace(v, slot=slot) for slot, item in enumerate(stmt.value.items)
                                  for v in self._peek(item, env, ctx) if isinstance(v, RowVal))
            # a lookup owner-checked here is returned checked, as itself or converted
            # (``return CredentialOut.model_validate(credential)``)
            checked = {v for name in env.checked for v in env.get(name, NOTHING) if isinstance(v, GetVal)}
            if checked:
                value = frozenset(replace(v, checked=True) if v in checked else v for v in value)
            # ``return Server.query``: a query with no call of its own is where it is returned
            value = frozenset(replace(v, line=stmt.line, column=1) if isinstance(v, QueryVal) and v.line == 0 else v
                              for v in value)
            ctx.returns.append(self._texts_resolved(value, env, ctx))
        return None

    def _raise(self, stmt: Raise, env: Env, ctx: Context) -> Optional[Env]:
        return None

    def _assert(self, stmt: Assert, env: Env, ctx: Context) -> Optional[Env]:
        self._eval(stmt.test, env, ctx)
        self._note_owner_check(stmt.test, env, ctx)
        return env

    def _if(self, stmt: If, env: Env, ctx: Context) -> Optional[Env]:
        ctx.guarding = ctx.testing = bool(exits(stmt.then))
        ctx.answering = exits(stmt.then) == "return"
        self._eval(stmt.test, env, ctx)
        ctx.guarding = ctx.testing = ctx.answering = False
        truth = self._truth(stmt.test, env, ctx)
        # Only a check whose branch leaves counts, in either form: ``if t.user_id != me:
        # abort(403)`` (or ``continue`` in a loop) or ``if t.user_id == me: return t``.
        self._note_owner_check(stmt.test, env, ctx, only_if_exits=stmt.then)
        if exits(stmt.then):
            self._verdict_acted_on(stmt.test, env, ctx)
        outs = []
        # the branch only administrators take: what it runs or leaves unscoped is theirs
        side = self._privileged_test(stmt.test, env)
        truthy_when = _truthy_local(stmt.test)  # (name, whether the then-branch has it truthy)
        if truth is not False:
            privileged = side is True
            ctx.privileged += privileged
            then = env.child()
            if privileged:
                _mark_privileged(then)
            if truthy_when is not None and truthy_when[1]:
                _narrow_to_truthy(then, truthy_when[0])
            outs.append(self._block(stmt.then, then, ctx))
            ctx.privileged -= privileged
        if truth is not True:
            otherwise = env.child()
            if side is False:
                _mark_privileged(otherwise)
            if isinstance(stmt.test, Local) and stmt.test.tag in ("param", "local"):
                otherwise.vouched[stmt.test.name] = frozenset({FALSY})  # ``if folder_id:``'s else
            if truthy_when is not None and not truthy_when[1]:
                # ``if not parent_class: raise``: below it, one of the classes it was set to
                _narrow_to_truthy(otherwise, truthy_when[0])
            ctx.privileged += side is False
            outs.append(self._block(stmt.orelse, otherwise, ctx))
            ctx.privileged -= side is False
        live = [e for e in outs if e is not None]
        if not live:
            return None
        env.join(live)
        return env

    def _with(self, stmt: With, env: Env, ctx: Context) -> Optional[Env]:
        for expr, name in stmt.items:
            value = self._eval(expr, env, ctx)
            if name:
                env.set(name, value)
        return None if self._block(stmt.body, env, ctx) is None else env

    def _try(self, stmt: Try, env: Env, ctx: Context) -> Optional[Env]:
        out = self._block(stmt.body, env.child(), ctx)
        if out is not None and stmt.orelse:
            out = self._block(stmt.orelse, out, ctx)
        outs = [out] + [self._block(h, env.child(), ctx) for h in stmt.handlers]
        live = [e for e in outs if e is not None]
        if stmt.final:
            self._block(stmt.final, env.child(), ctx)
        if not live:
            return None
        env.join(live)
        return env

    def _branches(self, stmt: Branches, env: Env, ctx: Context) -> Optional[Env]:
        outs = [self._block(case, env.child(), ctx) for case in stmt.cases]
        env.join([e for e in outs if e is not None], include_self=True)
        return env

    def _break(self, stmt: Break, env: Env, ctx: Context) -> Optional[Env]:
        if ctx.loops:
            ctx.loops[-1].breaks.append(env)
        return None

    def _continue(self, stmt: Continue, env: Env, ctx: Context) -> Optional[Env]:
        if ctx.loops:
            ctx.loops[-1].continues.append(env)
        return None

    # ------------------------------------------------------------------ loops

    def _loop(self, stmt: Loop, env: Env, ctx: Context) -> Optional[Env]:
        """A loop runs its body any number of times. Its first pass is interpreted from
        the entry state with its effects held back: when nothing the body assigns reaches
        the head any different (the common case), the entry state was the fixpoint and
        the effects are kept - one pass, as straight-line code. Otherwise the head state
        is iterated to a fixpoint without effects (what holds on entry joined with what
        every path back to the head - the end of the body, a ``continue`` - carries), and
        the body is interpreted once more from it with effects on: a query that only runs
        from the second iteration is seen, and seen once. The loop is left from the head
        (the test false, the iterator done: then ``else`` runs) or by a ``break``. A loop
        that does not settle within ``MAX_LOOP_PASSES`` passes makes the queries it
        carries opaque: never reported on a guess."""
        filtering = self._filter_by_loop(stmt, env)
        if filtering is not None:
            return self._block((filtering,), env, ctx)
        element = NOTHING
        if not stmt.is_while and stmt.iterable is not None:
            element = self._iterated(self._eval(stmt.iterable, env, ctx), ctx, (stmt.line, 0))
        pairs = len(stmt.targets) == 2 and isinstance(stmt.iterable, Call) and isinstance(stmt.iterable.func, Attr) \
            and stmt.iterable.func.name == "items" and not stmt.iterable.args
        if pairs and stmt.iterable is not None:
            # ``for key, row in rows_by_key.items()``: the second target is the row
            collection = self._peek(stmt.iterable.func.value, env, ctx)  # type: ignore[union-attr]
            element = frozenset(replace(v, is_result=False) for v in collection
                                if isinstance(v, RowVal) and v.is_result) if len(collection) == 1 else NOTHING
        elif len(stmt.targets) != 1:
            element = NOTHING  # ``for a, b in ...``: no row of its own
        for target in stmt.targets:
            env.set(target, NOTHING)
        with self._held_back(ctx) as held:
            head, frame = self._loop_pass(stmt, env, ctx, {}, frozenset(), element)
        carried, checked, targets_after = self._back_edges(stmt, env, frame)
        # only what the body may read before it assigns it reaches the next iteration
        read_first = _read_before_assigned(stmt)
        carried = {key: values for key, values in carried.items() if key in read_first}
        if all(values == env.get(key, NOTHING) for key, values in carried.items()):
            self._release(held, ctx)
        else:
            if len(self._held) < MAX_QUIET_NESTING:
                settled = False
                for _ in range(MAX_LOOP_PASSES):
                    with self._held_back(ctx):
                        _head, frame = self._loop_pass(stmt, env, ctx, carried, checked, element)
                    new_carried, new_checked, _after = self._back_edges(stmt, env, frame)
                    new_carried = {key: values for key, values in new_carried.items() if key in read_first}
                    if new_carried == carried and new_checked <= checked:
                        settled = True
                        break
                    carried, checked = new_carried, checked | new_checked
                if not settled:
                    carried = {key: _opaque(values) for key, values in carried.items()}
            else:
                # nested too deep to settle: one pass from the entry (a second iteration's
                # queries may be missed, nothing is reported on a guess)
                carried = {key: _opaque(values) for key, values in carried.items()}
            head, frame = self._loop_pass(stmt, env, ctx, carried, checked, element)
            _carried, checked, targets_after = self._back_edges(stmt, env, frame)
        leaving: list[Optional[Env]] = list(frame.breaks)
        if not (stmt.is_while and _always_true(stmt.iterable)):
            normal = head.child()
            for target, values in targets_after.items():
                normal.set(target, values)  # the last element (or none: NOTHING is in there)
            normal.checked |= checked
            leaving.append(self._block(stmt.orelse, normal, ctx) if stmt.orelse else normal)
        live = [e for e in leaving if e is not None]
        if not live:
            return None
        env.join(live)
        return env

    def _filter_by_loop(self, stmt: Loop, env: Env) -> Optional[Assign]:
        """``for key, value in kwargs.items(): q = q.where(getattr(model, key) == value)``
        over a ``**kwargs`` whose keys every call names (a project's ``get_or_create``):
        read as ``q = q.filter_by(**kwargs)``, which it is."""
        iterable = stmt.iterable
        if stmt.is_while or len(stmt.targets) != 2 or len(stmt.body) != 1 or stmt.orelse \
                or not isinstance(iterable, Call) or iterable.args or not isinstance(iterable.func, Attr) \
                or iterable.func.name != "items" or not isinstance(iterable.func.value, Local) \
                or self._dict_keys(iterable.func.value.name, env) is None:
            return None
        assign = stmt.body[0]
        if not isinstance(assign, Assign) or len(assign.targets) != 1:
            return None
        call = assign.value
        if not isinstance(call, Call) or not isinstance(call.func, Attr) or call.func.name not in ("where", "filter") \
                or call.func.value != Local("local", assign.targets[0]) or len(call.args) != 1 or call.kwargs:
            return None
        test = call.args[0]
        key, value = stmt.targets
        if not isinstance(test, Compare) or test.ops != (("==", Local("local", value)),) \
                or not isinstance(test.left, Call) or not isinstance(test.left.func, Name) \
                or test.left.func.qualified.rsplit(".", 1)[-1] != "getattr" or len(test.left.args) != 2 \
                or test.left.args[1] != Local("local", key):
            return None
        filter_by = Call(Attr(call.func.value, "filter_by"), (), (("**", iterable.func.value),),
                         call.line, call.column)
        return Assign(assign.targets, filter_by, assign.line)

    def _loop_pass(self, stmt: Loop, env: Env, ctx: Context, carried: dict[str, frozenset],
                   checked: frozenset[str], element: ValueSet = frozenset({None})) -> tuple[Env, "LoopFrame"]:
        """One interpretation of the body from the head state ``carried``; the target
        holds ``element`` (a row of the rows iterated)."""
        head = env.child()
        for key, values in carried.items():
            head.set(key, values)
        head.checked |= checked
        for target in stmt.targets:
            head.set(target, NOTHING)  # rebound at every iteration
        body_entry = head.child()
        if element != NOTHING and len(stmt.targets) == 2:
            body_entry.set(stmt.targets[1], element)
        elif element != NOTHING:
            for target in stmt.targets:
                body_entry.set(target, element)
        frame = LoopFrame()
        ctx.loops.append(frame)
        try:
            if stmt.is_while and stmt.iterable is not None:
                self._eval(stmt.iterable, head, ctx)  # the test runs at every head
            out = self._block(stmt.body, body_entry, ctx)
        finally:
            ctx.loops.pop()
        frame.back = [e for e in [out, *frame.continues] if e is not None]
        return head, frame

    def _back_edges(self, stmt: Loop, env: Env, frame: "LoopFrame"
                    ) -> tuple[dict[str, frozenset], frozenset[str], dict[str, frozenset]]:
        """(the head state: every local the body assigns, joined over the entry and every
        path back to the head; the locals checked on some path; the loop targets' values
        after the loop)."""
        keys: set[str] = set()
        for back in frame.back:
            keys |= back.assigned_up_to(env)
        targets = set(stmt.targets)
        carried: dict[str, frozenset] = {}
        after: dict[str, frozenset] = {}
        for key in keys:
            values: set = set(env.get(key, NOTHING)) if key not in targets else set(NOTHING)
            for back in frame.back:
                values |= back.get(key, NOTHING)
            if key in targets:
                after[key] = join(values)
            else:
                carried[key] = join(values)
        for target in targets - keys:
            after[target] = NOTHING
        checked: set[str] = set()
        for back in frame.back:
            checked |= back.checked
        return carried, frozenset(checked), after

    @contextlib.contextmanager
    def _held_back(self, ctx: Context) -> Iterator["_Held"]:
        """Interpretation whose effects are held back: the operations it would apply,
        what a summary returns, runs or records. ``_release`` keeps them; otherwise they
        are dropped (a loop's head being settled)."""
        held = _Held(ctx.returns, ctx.executed, ctx.inner_uses)
        ctx.returns, ctx.executed, ctx.inner_uses = [], set(), []
        self._held.append(held)
        try:
            yield held
        finally:
            self._held.pop()
            held.returns, held.executed, held.inner_uses, ctx.returns, ctx.executed, ctx.inner_uses = (
                ctx.returns, ctx.executed, ctx.inner_uses, held.returns, held.executed, held.inner_uses)

    def _release(self, held: "_Held", ctx: Context) -> None:
        """Keep what a held-back interpretation did, as if it had run with effects."""
        for once, op in held.ops:
            (self._apply_once if once else self.apply)(op)
        ctx.returns.extend(held.returns)
        ctx.executed.update(held.executed)
        ctx.inner_uses.extend(held.inner_uses)

    def _truth(self, test: Expr, env: Env, ctx: Optional[Context] = None) -> Optional[bool]:
        """What we know of a test on a parameter whose truthiness the caller fixed, or on
        the model class of the object a method runs for (``if self.model_class == Workspace``
        in a base view interpreted as one of its subclasses)."""
        negate = False
        if isinstance(test, Not):
            negate, test = True, test.operand
        if ctx is not None and isinstance(test, BoolOp):
            left, right = self._truth(test.left, env, ctx), self._truth(test.right, env, ctx)
            known = (False if False in (left, right) else True if left is right is True else None) \
                if test.op == "and" else (True if True in (left, right) else False if left is right is False else None)
            return None if known is None else (not known) if negate else known
        if ctx is not None and isinstance(test, Call) and isinstance(test.func, Name) \
                and test.func.qualified in ("builtins.isinstance", "?.isinstance") and len(test.args) == 2:
            known = self._row_is_instance(test.args[0], test.args[1], env, ctx)
            return None if known is None else (not known) if negate else known
        if ctx is not None and isinstance(test, Call) and isinstance(test.func, Name) \
                and test.func.qualified in ("builtins.issubclass", "?.issubclass") and len(test.args) == 2:
            known = self._class_is_subclass(test.args[0], test.args[1], env, ctx)
            return None if known is None else (not known) if negate else known
        if ctx is not None and isinstance(test, Compare) and len(test.ops) == 1 \
                and test.ops[0][0] in ("==", "!=", "is", "is not"):
            same = self._same_class_attribute(test.left, test.ops[0][1], ctx)
            if same is not None:
                result = same if test.ops[0][0] in ("==", "is") else not same
                return (not result) if negate else result
        if isinstance(test, Compare) and len(test.ops) == 1 and test.ops[0][1] == NONE \
                and test.ops[0][0] in ("is", "is not"):
            value = self._truth(test.left, env)
            if value is None:
                return None
            result = value if test.ops[0][0] == "is not" else not value
            return (not result) if negate else result
        if isinstance(test, Attr) and test.value == Local("param", "self") \
                and names_who_asks(Local("param", test.name), self.config) \
                and env.get("self", frozenset()) == frozenset({ParamVal("self", True)}):
            return not negate  # the summary of a method whose object was built for a tenant
        if ctx is not None and ctx.cls is not None and isinstance(test, Attr) and test.value == Local("param", "self"):
            built = [value for attribute, value in ctx.instance_models
                     if attribute == test.name and isinstance(value, bool)]
            flag = built[0] if built else self._constructor_flag(ctx.cls, test.name)
            if flag is not None:
                return (not flag) if negate else flag
        if isinstance(test, Local) and test.tag in ("param", "local"):
            values = env.get(test.name, frozenset())
            truths = {v.truthy for v in values if isinstance(v, ParamVal)}
            if len(values) == 1 and len(truths) == 1 and None not in truths:
                truth = truths.pop()
                return (not truth) if negate else truth
            if values and all(isinstance(v, RowVal) and v.key == () and not v.is_result for v in values):
                # a row the caller holds, handed in (the "row" signature): a mapped object is
                # truthy, so ``if workspace:`` takes its branch (Tracim's ContentApi._base_query)
                return not negate
        return None

    def _constructor_flag(self, cls: "ClassInfo", name: str) -> Optional[bool]:
        """``self.<name>`` that ``__init__`` set from one of its parameters and nowhere else:
        a flag's default (``disable_user_workspaces_filter=False``), or - handed who asks
        with no default (``current_user``) - set. An object built the usual way scopes as
        its class says by default (Tracim's ``ContentApi``); what a caller turns off is its
        own statement to make."""
        found = self._find_method(cls, "__init__")
        if found is None:
            return None
        body = found[1]
        for ref in self._mro(cls.ref):
            if ref.fact.name != body.class_name:
                continue
            param = ref.fact.param_attrs.get(name)
            if param is None or param not in body.params:
                return None
            default = body.defaults.get(param)
            if (flag := _const_bool(default)) is not None:
                return flag
            if default is None and names_who_asks(Local("param", param), self.config):
                return True
            return None
        return None

    def _row_is_instance(self, value: Expr, kind: Expr, env: Env, ctx: Context) -> Optional[bool]:
        """``isinstance(objects[0], Workspace)`` on rows of another table: False (rows of the
        same table may be of a subclass: not known)."""
        if not isinstance(kind, Name):
            return None
        table = self._class_table(self.index.symbols.lookup(kind))
        if isinstance(value, Subscript):
            value = value.value
        held = self._peek(value, env, ctx) - {_EMPTY_LIST}
        tables = {v.table for v in held if isinstance(v, RowVal)}
        if not table or not held or len(tables) != len(held) or "" in tables or table in tables:
            return None
        return False

    def _class_is_subclass(self, value: Expr, kind: Expr, env: Env, ctx: Context) -> Optional[bool]:
        """``issubclass(model, SecureModelBase)`` where the callers handed mapped classes:
        whether each of them is one."""
        base = self.index.symbols.lookup(kind) if isinstance(kind, Name) else None
        held = self._peek(value, env, ctx)
        if not isinstance(base, ClassRef) or not held or not all(isinstance(v, ClassVal) for v in held):
            return None
        answers = set()
        for value_class in held:
            infos = [self.index.classes.get(table.qualname) for table in self.index.tables_named(value_class.table)
                     if table.qualname]
            refs = [info.ref for info in infos if info is not None]
            if not refs:
                return None
            answers |= {any(r.qualname == base.qualname for r in self._mro(ref)) for ref in refs}
        return answers.pop() if len(answers) == 1 else None

    def _same_class_attribute(self, left: Expr, right: Expr, ctx: Context) -> Optional[bool]:
        """``self.model_class`` / ``self.__class__.model_class`` against a mapped class, when
        the class the method runs for names one: whether they are the same."""
        if ctx.cls is None or not isinstance(left, Attr) or not isinstance(right, Name):
            return None
        owner = left.value
        if isinstance(owner, Attr) and owner.name == "__class__":
            owner = owner.value
        if owner != Local("param", "self"):
            return None
        mine = self._self_attribute(ctx.cls, left.name, ctx.instance_models)
        other = self._class_table(self.index.symbols.lookup(right))
        if not isinstance(mine, ClassVal) or not other:
            return None
        return mine.table == other

    # ------------------------------------------------------------------ owner checks (DBC502)

    def _note_owner_check(self, test: Expr, env: Env, ctx: Context, only_if_exits: Optional[Block] = None) -> None:
        """``assert`` (``only_if_exits`` None) or ``if`` whose branch leaves: a branch that
        refuses (raise, abort, continue) must be taken when the row is not the tenant's
        (``if t.user_id != me: raise``; ``if t.user_id == me: raise`` guards the
        opposite), one that returns may be either (``if t.user_id == me: return t``)."""
        says_owner: Optional[bool] = True
        refuses_by_return = False
        rows = only_if_exits is not None  # an assert vouches for a lookup, not for a query (python -O)
        if only_if_exits is not None:
            exit_kind = exits(only_if_exits)
            if not exit_kind:
                return
            # (a bare ``return`` refuses: the function does nothing for another tenant's
            # row; ``return t`` / ``return False`` answers the caller, who must act on it)
            refuses_by_return = exit_kind == "return" and _bare_return(only_if_exits) \
                and not _returns_value(ctx.function.body)
            says_owner = None if exit_kind == "return" and not refuses_by_return else False
        checked_before = frozenset(env.checked)

        def tenants(name: str) -> bool:
            # checked before this test, against the tenant (not only against another row)
            return name in checked_before and not env.get(f"{name}?rowcmp", NOTHING)

        for group in owner_comparisons(test, self.config, says_owner):
            for var in group:
                # A row compared with another row loaded here (``member.org_id !=
                # key.org_id``) is checked against that row, not against the tenant: it
                # vouches for a lookup (DBC502), never for the query that loaded it.
                against_row = any(isinstance(v, (RowVal, GetVal)) for other in group if other != var
                                  for v in env.get(other, frozenset()))
                if against_row and any((other != var and other == "self") or tenants(other) for other in group):
                    # ``if self.household_id != other.household_id: return`` in a model's
                    # method, or against a row already checked here: the tenant's
                    against_row = False
                self._checked_local(var, env, ctx, rows and not against_row)
                if against_row:
                    env.set(f"{var}?rowcmp", frozenset({None}))  # checked against a row, not the tenant
                partners = [other for other in group if other != var]
                # (a bare ``return`` stops this function, not its caller, who may go on
                # with the row: it vouches for nothing upwards)
                if rows and not against_row and not refuses_by_return \
                        and all(other == "self" or tenants(other) for other in partners):
                    # ``if shelf.user_id != me: return False`` answers the caller, who must
                    # act on it; a raise stops the caller too (``a.owner != b.owner``
                    # between two rows handed in checks neither against the tenant)
                    self._param_row_checked(var, env, ctx, CHECKED_ROW_IF if says_owner is None else CHECKED_ROW)
        if only_if_exits is not None and says_owner is False:
            for child, parent in parent_comparisons(test, says_owner):
                if parent in env.checked and child not in env.checked:
                    # ``if not facet.scenario.id == scenario.id: abort(403)`` after the
                    # scenario's own check: the facet is one of the tenant's
                    self._checked_local(child, env, ctx, False)

    def _checked_local(self, name: str, env: Env, ctx: Context, rows: bool) -> None:
        """The local ``name`` is checked from here on, and so is each value it holds (a
        query's row only with ``rows``: see _mark_checked)."""
        env.checked.add(name)
        for value in env.get(name, frozenset()):
            self._mark_checked(value, ctx, rows)

    def _param_row_checked(self, name: str, env: Env, ctx: Context, kind: str = "") -> None:
        """A callee checks the owner of the row its caller handed it (``if not
        check_shelf_edit_permissions(cur_shelf): return False`` in
        ``delete_shelf_helper(cur_shelf)``): the caller's row is checked - when the check
        answers with what it returns, only where the caller's ``if`` leaves on it."""
        if ctx.summary and name in ctx.function.params and any(
                isinstance(v, RowVal) and not v.key and not v.is_result for v in env.get(name, frozenset())):
            ctx.vouched_params.add((name, kind or CHECKED_ROW))

    def _mark_checked(self, value: Val, ctx: Context, rows: bool = True) -> None:
        if isinstance(value, GetVal):
            # logged whether or not the lookup is known yet: a replay re-applies the test
            self._apply(("check", (value.path, value.line, value.column), value))
        elif rows and isinstance(value, RowVal) and not value.is_result and value.function == ctx.function.qualname \
                and not ctx.summary:
            # only where the query ran: a helper's other callers may not check
            self._apply(("rowcheck", value.key))
        elif rows and isinstance(value, IdVal) and value.row and len(value.source) == 5 and not ctx.summary \
                and value.source[0] == ctx.module.path:
            # ``conn = model.connection; if conn.workspace_id != ws: continue``: the row the
            # run reached through a relationship is checked, and with it the run
            self._apply(("rowcheck", value.source))

    # ------------------------------------------------------------------ expressions

    def _eval(self, expr: Optional[Expr], env: Env, ctx: Context) -> ValueSet:
        """The possible values of an expression (evaluating what runs inside it)."""
        if expr is None:
            return NOTHING
        return _EVAL[type(expr)](self, expr, env, ctx)

    def _eval_local(self, expr: Local, env: Env, ctx: Context) -> ValueSet:
        return env.get(expr.name, NOTHING) if expr.tag != "self" else NOTHING

    def _eval_const(self, expr: Const, env: Env, ctx: Context) -> ValueSet:
        return frozenset({ExprVal(expr)})

    def _eval_subscript(self, expr: Subscript, env: Env, ctx: Context) -> ValueSet:
        values = self._eval(expr.value, env, ctx)
        self._eval_each(expr.items, env, ctx)
        queries = [v for v in values if isinstance(v, QueryVal) and v.kind == "read" and not v.subquery]
        if queries and len(expr.items) == 1:
            # ``query[offset:offset + limit]`` / ``query[0]``: a legacy Query runs when it
            # is sliced or indexed (Barbican's get_by_create_date)
            one = isinstance(expr.items[0], Const)
            rows: set = set()
            for query in queries:
                row = self._use(query, ctx, "read", (ctx.line, 0), env)
                if row is not None:
                    rows.add(row if one else replace(row, is_result=True))
            return frozenset(rows) if len(rows) == 1 else NOTHING
        return _one_of(_unless_stored_into(values, expr.value, env), expr.items)

    def _eval_name(self, expr: Name, env: Env, ctx: Context) -> ValueSet:
        if expr.qualified.startswith("?.") and "." not in expr.qualified[2:]:
            # a name bound by a walrus or a comprehension inside the function
            found = env.get(expr.qualified[2:], frozenset())
            if found:
                return found
        return frozenset({self._name_value(expr, ctx)})

    def _eval_walrus(self, expr: Walrus, env: Env, ctx: Context) -> ValueSet:
        value = self._eval(expr.value, env, ctx)
        env.set(expr.name, value)
        return value

    def _eval_each(self, exprs: Iterable[Expr], env: Env, ctx: Context) -> ValueSet:
        for inner in exprs:
            self._eval(inner, env, ctx)
        return NOTHING

    def _eval_sequence(self, expr: Sequence, env: Env, ctx: Context) -> ValueSet:
        return self._eval_each(expr.items, env, ctx)

    def _eval_dict(self, expr: DictDisplay, env: Env, ctx: Context) -> ValueSet:
        entries = []
        for key, value in expr.pairs:
            self._eval(key, env, ctx)
            held = self._eval(value, env, ctx) - {_NONE_VALUE, _EMPTY_LIST}  # falsy: no row to use
            if isinstance(key, Const) and isinstance(key.value, str) and key.value != "**" and held and \
                    all(isinstance(v, (RowVal, GetVal, IdVal)) for v in held):
                entries.append((key.value, held))
        # ``return {"model_record": record, "project": name}``: the rows it carries
        return frozenset({DictVal(tuple(sorted(entries, key=lambda e: e[0])))}) if entries else NOTHING

    def _eval_opaque(self, expr: Opaque, env: Env, ctx: Context) -> ValueSet:
        return self._eval_each(expr.inner, env, ctx)

    def _eval_ifexp(self, expr: IfExp, env: Env, ctx: Context) -> ValueSet:
        tested = self._eval(expr.test, env, ctx)
        if tested and not _stored_into(expr.test, env) and all(
                isinstance(v, ExprVal) and isinstance(v.expr, Sequence) and v.expr.items for v in tested):
            # ``" AND ".join(clauses) if clauses else "TRUE"`` of a list that holds items
            # on every path: the list is true
            return self._eval(expr.body, env, ctx)
        body, orelse = self._eval(expr.body, env, ctx), self._eval(expr.orelse, env, ctx)
        side = self._privileged_test(expr.test, env)
        if side is not None:
            # ``model_query(M) if ctx.is_admin else secure_query(M)``: the administrators' side
            if side:
                body = _privileged_values(body)
            else:
                orelse = _privileged_values(orelse)
        return body | orelse

    def _eval_comprehension(self, expr: Comprehension, env: Env, ctx: Context) -> ValueSet:
        rows = NOTHING
        outer = env
        if len(expr.iterables) == 2:
            # ``[a.id for p in projects for a in p.applications]``: the rows the second
            # iterable reaches from each row of the first
            first = self._iterated(self._eval(expr.iterables[0], env, ctx), ctx, (ctx.line, -1))
            name = _comprehension_target(expr.iterables[1], env)
            if first != NOTHING and name is not None:
                outer = env.child()
                outer.set(name, first)
                rows = self._iterated(self._eval(_bound_target(expr.iterables[1], name), outer, ctx), ctx,
                                      (ctx.line, -1))
        else:
            for iterable in expr.iterables:
                rows = self._iterated(self._eval(iterable, env, ctx), ctx, (ctx.line, -1))
        target = _comprehension_target(expr.elements[-1], outer) if expr.elements else None
        if len(expr.iterables) > 2 or rows == NOTHING or target is None:
            self._eval_each(expr.elements, env, ctx)
            return NOTHING
        # ``[count(d.id) for d in rows]``: each call is handed one of the rows
        inner = outer.child()
        inner.set(target, rows)
        self._eval_each(tuple(_bound_target(e, target) for e in expr.elements), inner, ctx)
        # ``{t.key: t for t in rows}``, ``[t.id for t in rows]``: the rows (or their ids)
        # the function holds, kept in a collection
        element = expr.elements[-1]
        held = self._peek(Local("local", target) if isinstance(element, Name) and element.qualified == f"?.{target}"
                          else _unfolded(element), inner, ctx)
        if len(held) != 1:
            return NOTHING
        value = next(iter(held))
        if isinstance(value, RowVal) and not value.is_result:
            return frozenset({replace(value, is_result=True)})
        if isinstance(value, IdVal):
            return frozenset({value})
        return NOTHING

    def _eval_compare(self, expr: Compare, env: Env, ctx: Context) -> ValueSet:
        self._eval(expr.left, env, ctx)
        for _op, right in expr.ops:
            self._eval(right, env, ctx)
        return frozenset({ExprVal(expr)})

    def _eval_boolean(self, expr: BoolOp, env: Env, ctx: Context) -> ValueSet:
        guarding = ctx.guarding
        for operand, other in ((expr.left, expr.right), (expr.right, expr.left)):
            # a check guards only where the function goes on just when it passed:
            # ``if not a or not b: abort`` needs both, ``if not (a or b): abort`` either one,
            # ``if a and b: abort`` neither - but ``if not can_view(row, user) and not
            # user.is_admin: abort`` guards every other user (FitTrackee's get_workout)
            if guarding and not ctx.answering:
                # (a branch that returns answers the caller, who acts on it: not narrowed)
                ctx.guarding = (not ctx.negated and expr.op == "or" and _failed_check(operand)) \
                    or (ctx.negated and expr.op == "and") \
                    or (not ctx.negated and expr.op == "and" and _fails_but_for_admins(operand, other))
            try:
                self._eval(operand, env, ctx)
            finally:
                ctx.guarding = guarding
        if expr.op == "or":
            # ``insecure = ctx.is_admin or insecure`` where no call passes ``insecure``:
            # the other side is the whole answer
            for operand, other in ((expr.left, expr.right), (expr.right, expr.left)):
                if self._known_falsy(operand, env):
                    return frozenset({ExprVal(other)})
        return frozenset({ExprVal(expr)})

    def _known_falsy(self, expr: Expr, env: Env) -> bool:
        if isinstance(expr, Const):
            return not expr.value
        if isinstance(expr, Local) and expr.tag in ("param", "local"):
            values = env.get(expr.name, NOTHING)
            return bool(values) and all(_falsy_param(v) for v in values)
        return False

    def _privileged_test(self, test: Expr, env: Env) -> Optional[bool]:
        """privileged_side of a test, through a local that holds one (``insecure =
        ctx.is_admin``; ``if insecure:``)."""
        if isinstance(test, Local) and test.tag in ("param", "local"):
            # (``if context.has_ctx(): insecure = ctx().is_admin or insecure``: False on the
            # other path, so true only for administrators)
            values = env.get(test.name, NOTHING)
            held = [v for v in values if not _falsy_param(v)]
            if held and all(isinstance(v, ExprVal) for v in held):
                sides = {privileged_side(v.expr) for v in held}
                if sides == {True} or (sides == {False} and len(held) == len(values)):
                    return sides.pop()
            return None
        if isinstance(test, Not):
            side = self._privileged_test(test.operand, env)
            return None if side is None else not side
        return privileged_side(test)

    def _eval_not(self, expr: Not, env: Env, ctx: Context) -> ValueSet:
        ctx.negated = not ctx.negated
        try:
            self._eval(expr.operand, env, ctx)
        finally:
            ctx.negated = not ctx.negated
        return frozenset({ExprVal(expr)})

    def _eval_fstring(self, expr: FString, env: Env, ctx: Context) -> ValueSet:
        self._eval_each(expr.inner, env, ctx)
        return frozenset({ExprVal(expr)})

    def _eval_nothing(self, expr: Expr, env: Env, ctx: Context) -> ValueSet:
        return NOTHING

    def _name_value(self, expr: Name, ctx: Context) -> Val:
        sym = self.index.symbols.lookup(expr)
        table = self._class_table(sym)
        if table is not None:
            return ClassVal(table)
        if isinstance(sym, ClassAttr) and sym.path and sym.path[-1] == "query" and len(sym.path) == 1:
            table = self._class_table(sym.cls)
            if table is not None:
                return QueryVal("read", (table,), line=0, path=ctx.module.path)
        return None

    def _class_table(self, sym: object) -> Optional[str]:
        if isinstance(sym, ClassRef):
            info = self.index.classes.get(sym.qualname)
            if info is not None and info.mapped and info.table is not None and info.table.key:
                return info.table.key
        return None

    def _table_object(self, sym: object) -> Optional[str]:
        """The name of the table a module-level ``watchlist = Table("watchlist", ...)``
        builds, for ``select(watchlist)``, ``watchlist.c.user_id``, ``watchlist.delete()``.
        (A module-level value is a stored expression: a plain tagged tuple.)"""
        if not isinstance(sym, Value) or sym.expr[0] != "call" or not sym.expr[2]:
            return None
        if self.index.symbols.lib_name(sym.expr[1]) != "sa:Table":
            return None
        name = sym.expr[2][0]
        if name[0] == "c" and isinstance(name[1], str) and self.index.tables_named(name[1]):
            return str(name[1])
        return None

    def _eval_attribute(self, expr: Attr, env: Env, ctx: Context) -> ValueSet:
        # (a tenant's own row checked here - ``ViewOrganizationPermission(org.id).can()`` -
        # reaches that tenant's rows)
        checked = isinstance(expr.value, Local) and expr.value.name in env.checked
        return self._attributes(self._eval(expr.value, env, ctx), expr.name, ctx, checked)

    def _attributes(self, base: ValueSet, name: str, ctx: Context, checked: bool = False) -> ValueSet:
        out: set = set()
        for value in base:
            if value == _NONE_VALUE and len(base) > 1:
                continue  # ``None.<name>`` raises: that path does not get here
            row = self._held_row(value, ctx)
            if isinstance(value, RowVal) and value.labels:
                name = dict(value.labels).get(name, name)  # ``row.buffer_id`` of ``T.id.label("buffer_id")``
            found = self._row_attribute(row[0], name, row[1], checked) if row is not None else None
            if found is None and row is not None and not isinstance(value, ParamVal):
                found = self._row_property(row[0], name, row[1], checked)
            if found is not None or (row is not None and not isinstance(value, ParamVal)):
                out.add(found)
            elif isinstance(value, ClassVal) and name == "query":
                out.add(QueryVal("read", (value.table,), path=ctx.module.path))
            elif isinstance(value, InstanceVal):
                out.add(self._instance_attribute(value, name))
            elif isinstance(value, ParamVal) and value.name in ("self", "cls") and ctx.cls is not None:
                own = _own_table(ctx) if name == "query" else None
                # ``cls.query`` in a model's classmethod (Flask-SQLAlchemy's query property)
                out.add(QueryVal("read", (own.key,), path=ctx.module.path) if own is not None and own.key
                        else self._self_attribute(ctx.cls, name, ctx.instance_models))
            else:
                out.add(None)
        return frozenset(out)

    def _held_row(self, value: Val, ctx: Context) -> Optional[tuple[str, tuple]]:
        """(table, run) when ``value`` is one row the function holds: a row a query here
        handed back, a lookup's row, a row reached through a relationship or created here,
        or ``self`` in a mapped class's method (as scoped as wherever it was loaded)."""
        if isinstance(value, RowVal) and not value.is_result and value.table:
            return value.table, value.key
        if isinstance(value, GetVal):
            return value.table, (value.path, value.line, value.column)
        if isinstance(value, IdVal) and value.row:
            return value.table, value.source
        if isinstance(value, InstanceVal):
            info = self.index.classes.get(value.qualname)
            if info is not None and info.mapped and info.table is not None and info.table.key:
                return info.table.key, ()
        if isinstance(value, ParamVal) and value.name == "self":
            own = _own_table(ctx)
            if own is not None and own.key:
                return own.key, ()
        if isinstance(value, ParamVal):
            injected = self._checked_injection(value.name, ctx)
            if injected is not None:
                return injected, ()
        return None

    def _checked_injection(self, param: str, ctx: Context) -> Optional[str]:
        """The table of a row a decorator named like a check hands the function:
        ``@check_workout(only_owner=False) def likes(auth_user, workout: Workout, ...)``
        (FitTrackee) - the decorator loaded the row and checked who may see it; the
        function holds it as scoped as that check."""
        hint = ctx.function.annotations.get(param)
        if hint is None or not ctx.function.decorators:
            return None
        sym = self.index.symbols.lookup(hint)
        info = self.index.classes.get(sym.qualname) if isinstance(sym, ClassRef) else None
        if info is None or not info.mapped or info.table is None or not info.table.key:
            return None
        # the decorator names the check and the row: ``check_workout`` for a Workout,
        # ``check_workout_comment`` for a Comment (not ``validate_call``, ``require_post``)
        words = f"_{camel_to_snake(info.ref.fact.name)}"
        for decorator in ctx.function.decorators:
            name = decorated_by(decorator)[1].lower()
            if _CHECKED_ROW_DECORATOR.match(name) and f"{words}_" in f"{name}_":
                return info.table.key
        return None

    def _row_attribute(self, table_name: str, attribute: str, source: tuple, own: bool = False) -> Val:
        """``row.<attribute>`` of a held row: the row's own id, the id a foreign key
        holds (``block.current_history_id``), or the row a many-to-one relationship
        reaches (``block.agent``)."""
        table = self._table_named(table_name)
        if table is None:
            return None
        col = table.column_by_attribute(attribute)
        if col is not None:
            if self._is_row_key(table_name, col.name):
                return IdVal(table_name, False, source)
            targets = {fk.target_table for fk in col.foreign_keys if fk.target_table}
            targets |= {parent for _column, parent in self._declared_parents(table_name, col.name)}
            if not targets:
                targets = self._implied_parents(table_name, col.name)
            if len(targets) == 1:
                return IdVal(targets.pop(), False, source)
            if not targets and col.name.endswith("_id") and col.name not in self.config.tenant_columns \
                    and owned_by_tenant(self.index, self.config, table_name):
                # a tenant's row's ``event_object_id`` (``self``'s in a method of its model
                # too): the id of a row of some table, kept on this row (a polymorphic
                # reference): the row it names, by its key, is as scoped as the row holding
                # it - judged where that row was loaded. (A shared row's reference may name
                # any tenant's row, as its children may.)
                return IdVal(ANY_TABLE, False, source)
            return None
        for rel in table.relationships:
            if rel.attribute == attribute and not rel.secondary and self._many_to_one_column(table, attribute):
                target = self._relationship_table(rel)
                return IdVal(target, True, source) if target else None
        info = self.index.classes.get(table.qualname) if table.qualname else None
        aliased = self._hybrid_expression(info, attribute) if info is not None else None
        if aliased is not None:
            # ``content.content_id``, a hybrid whose SQL side is ``ContentRevisionRO.content_id``
            # (a key to ``content``): the id that column holds for this row (Tracim)
            other = self._table_named(aliased[0])
            col = other.column(aliased[1]) if other is not None else None
            targets = {fk.target_table for fk in col.foreign_keys if fk.target_table} if col is not None else set()
            if len(targets) == 1:
                return IdVal(targets.pop(), False, source)
            return None
        # (the children of a shared row, or of a user looked up by id, may be anyone's; those
        # of a tenant's row checked here are that tenant's)
        children = self._children_table(table, attribute) if owned_by_tenant(self.index, self.config, table_name) \
            or (own and table_name == self.config.tenant_table) else None
        if children is not None:
            # ``directory.subdirectories``: the rows whose key names this one, as scoped as it
            return RowVal(source, "", is_result=True, table=children)
        return None

    def _row_property(self, table_name: str, attribute: str, source: tuple, own: bool = False) -> Val:
        """``project.active_applications`` / ``application.default_app_env`` of a held row:
        a ``@property`` of its model that hands back rows of one table reached from the
        row itself (``[a for a in self.project_applications if a.deleted_at is None]``),
        as held as that row (cabotage)."""
        if table_name == self.config.tenant_table and not own:
            return None  # (a tenant row not checked here may be any tenant's)
        info = self._model_class(table_name)
        found = self._find_method(info, attribute) if info is not None else None
        if found is None or not is_property(found[1].decorators):
            return None
        results = self._summary(found[0], found[1], (), info, MAX_DEPTH - 3,
                                self_checked=table_name == self.config.tenant_table)[0]
        rows = {(v.table, v.is_result) for v in results if isinstance(v, RowVal) and v.table}
        if len(rows) != 1 or any(not isinstance(v, RowVal) and v != _NONE_VALUE for v in results):
            return None
        (table_of_rows, is_result), = rows
        return RowVal(source, "", is_result=is_result, table=table_of_rows)

    def _children_table(self, table: TableModel, attribute: str) -> Optional[str]:
        """The table of a one-to-many collection of ``table``'s rows: a relationship whose
        target holds the only foreign key to ``table`` (``project.tasks``), or the backref
        of a many-to-one relationship to it (``parent = relationship(..., backref="children")``)."""
        for rel in table.relationships:
            if rel.secondary or rel.primaryjoin:
                continue
            target = self._relationship_table(rel)
            if target is None:
                continue
            if rel.attribute == attribute and target != table.key:
                child = self._table_named(target)
                keys = [fk for cols, fk in child.all_foreign_keys()
                        if len(cols) == 1 and fk.target_table == table.key] if child is not None else []
                if len(keys) == 1:
                    return target
        # ``directory = relationship("Directory", backref="notes")`` on the child: ``directory.notes``
        found = {child.key for child in self.index.tables_with_backref(attribute) for rel in child.relationships
                 if rel.backref == attribute and not rel.secondary and not rel.primaryjoin and child.key
                 and self._relationship_table(rel) == table.key and self._many_to_one_column(child, rel.attribute)}
        return found.pop() if len(found) == 1 else None

    def _implied_parents(self, table_name: str, column: str) -> set[str]:
        """The table a key column with no foreign key names by convention, in schemas
        that declare none: ``workflow_runs.workflow_id`` -> ``workflows`` when that table's
        primary key is ``workflow_id`` (or ``id``). Only vouches: a row reached this way
        is as scoped as the row its key was read from."""
        if not column.endswith("_id") or len(column) <= 3:
            return set()
        base = column[:-3]
        names = {base, base + "s", base + "es"} | ({base[:-1] + "ies"} if base.endswith("y") else set())
        found = set()
        for name in sorted(names):
            for table in self.index.tables_named(name):
                if table.key and table.key != table_name and table.primary_key in ([column], ["id"]):
                    found.add(table.key)
        return found

    def _names_the_tenant(self, table_name: str, column: str) -> bool:
        """Whether ``table.column`` is a key to the tenant table (a foreign key, or an
        ``owned-through`` key declared to it) of a table without a tenant column of its own
        (on ``tasks``, ``assignee_id == me`` reads rows owned by others)."""
        table = self._table_named(table_name)
        if table is None:
            return False
        if tenant_owned(self.index, self.config, table_name) is not None:
            # A tenant's rows keyed to another account (``assignee_id == me``) may be
            # anyone's - unless the tenant is an organization and the key is to who signs
            # in (a customer portal's ``Order.customer_id == <the signed-in customer>``):
            # every such person belongs to one tenant, and so do their rows.
            return self.config.tenant_table not in IDENTITY_TABLES and any(
                cols == [column] and self._single_tenant_identity(fk.target_table)
                for cols, fk in table.all_foreign_keys())
        if any(parent == self.config.tenant_table for _column, parent in self._declared_parents(table_name, column)):
            return True
        # a key to who asks: the tenant, or (tenants of many users) the users' table
        return any(cols == [column] and (fk.target_table == self.config.tenant_table
                                         or self._single_tenant_identity(fk.target_table))
                   for cols, fk in table.all_foreign_keys())

    def _own_key(self, table_name: str, column: str) -> bool:
        """Whether ``table.column`` says who wrote a row (``author_id``, ``comment_user_id``,
        a key to the table of people who sign in) under a tenant that is not that person:
        a row by its key that who asks wrote is theirs (see ``_own_rows``)."""
        table = self._table_named(table_name)
        return table is not None and self.config.tenant_table not in IDENTITY_TABLES \
            and bool(_AUTHOR_KEY.search(column)) and _keys_identity(table, column)

    def _grant_key(self, table_name: str, column: str) -> bool:
        """``UserCaseAccess.user_id``: the account key of a table of grants - rows that give
        an account access to a tenant (a membership, ``user_case_access``, ``project_member``),
        named so, with a key to the tenant. Filtered by who asks, the grants of who asks:
        what scoping is computed from, not another tenant's data."""
        table = self._table_named(table_name)
        if table is None or not _ACCOUNT_KEY.search(column) or not tenant_columns_of(table, self.config):
            return False
        if not _keys_identity(table, column):
            return False
        words = set(_name_words(f"{table.name or ''} {table.class_name or ''}"))
        if words & _GRANT_WORDS:
            return True
        # an association of accounts with tenants however it is named (``user_orgs``,
        # Tracim's ``user_workspace``): the account and the tenant are its key together
        tenants = {c.name for c in tenant_columns_of(table, self.config)}
        keys: list[list[Optional[str]]] = [list(table.primary_key), *(u.columns for u in table.unique_constraints)]
        return any(column in key and tenants & set(key) for key in keys)

    def _names_an_account(self, value: Expr, env: Env) -> bool:
        """Who asks, or an account's key handed in (``user_id``): a grant table filtered by
        it lists that account's memberships - what scoping is computed from (Tracim's
        ``RoleApi._get_all_for_user``, AgentOps' ``UserOrgModel.get_all_for_user``)."""
        if self._who_asks(value, env):
            return True
        value = unconverted(value)
        return isinstance(value, Local) and value.tag == "param" and bool(_ACCOUNT_KEY.search(value.name))

    def _loaded(self, value: Expr, env: Env) -> bool:
        """Whether ``value`` is read off a row this function looked up (``member =
        session.get(User, member_id)``; ``member.id``): someone, not who asks."""
        while isinstance(value, Attr):
            value = value.value
        held = env.get(value.name, frozenset()) if isinstance(value, Local) else frozenset()
        return any(isinstance(v, (GetVal, RowVal)) for v in held)

    def _single_tenant_identity(self, table_name: Optional[str]) -> bool:
        """A table of people who sign in, each of whom belongs to one tenant (a NOT NULL
        tenant column): their rows are their tenant's. Users who join several
        organizations through memberships (tracecat, airweave) are not."""
        if not table_name or table_name not in IDENTITY_TABLES or table_name == self.config.tenant_table:
            return False
        table = self._table_named(table_name)
        return table is not None and any(c.nullable is False for c in tenant_columns_of(table, self.config))

    def _declared_parents(self, table_name: str, column: Optional[str] = None) -> list[tuple[str, str]]:
        """(column, parent table) of the ``owned-through`` keys declared for a table."""
        found = []
        for child, parent_column, parent in self.config.owned_through:
            if child == table_name and (column is None or parent_column == column):
                found.append((parent_column, parent))
        return found

    def _instance_of(self, expr: Any) -> Val:
        """The instance a stored expression makes or names: ``TaskRepo(session)``, or an
        annotation (``TaskRepo``, ``Optional[TaskRepo]``, ``TaskRepo | None``)."""
        if not isinstance(expr, tuple) or not expr:
            return None
        call = expr
        if expr[0] == "call":
            expr = expr[1]
        elif expr[0] == "sub" and expr[2]:
            expr = expr[2][0]
        elif expr[0] == "or":
            expr = expr[1]
        made = self.index.symbols.lookup(expr)
        if isinstance(made, ClassRef) and self.index.classes.get(made.qualname) is not None:
            qualname = self._implementation(made)
            return InstanceVal(qualname, self._constructor_models(qualname, call))
        return None

    def _injected_instance(self, param: str, ctx: Context) -> Optional["InstanceVal"]:
        """The service a framework hands a parameter: ``svc: Annotated[ChatService,
        Depends(...)]`` (or a module alias of it, quivr's ``ChatServiceDep``) or ``svc:
        ChatService = Depends(...)``. A plain annotation says the class, not how the
        caller built the instance (a repository scoped to one group): not followed."""
        default = ctx.function.defaults.get(param)
        injected = _is_depends(default)
        hint = ctx.function.annotations.get(param)
        if hint is not None:
            return self._annotated_instance(hint, injected)
        if not injected or not default[2]:  # type: ignore[index]
            return None
        # ``db=Depends(get_db)`` with ``def get_db() -> DatabaseManager`` (or one that
        # yields it: ``-> Iterator[DatabaseManager]``): what the provider says it hands over
        provider = self.index.symbols.lookup(default[2][0])  # type: ignore[index]
        body = provider.body if isinstance(provider, FunctionBody) else \
            _function_body(provider.module, provider.fact.name) if isinstance(provider, Function) else None
        if body is None:
            return None
        returned = body.annotations.get("return")
        if isinstance(returned, tuple) and returned[:1] == ("sub",) and returned[2] and \
                (self.index.symbols.lib_name(returned[1]) or "").rsplit(":", 1)[-1].rsplit(".", 1)[-1] in _YIELDED:
            returned = returned[2][0]
        return self._annotated_instance(returned, True)

    def _annotated_instance(self, hint: Any, injected: bool, depth: int = 0) -> Optional["InstanceVal"]:
        if not isinstance(hint, tuple) or not hint or depth > 2:
            return None
        if hint[0] == "sub":
            base = self.index.symbols.lib_name(hint[1]) if isinstance(hint[1], tuple) and hint[1][:1] == ("n",) \
                else None
            if base not in ("typing:Annotated", "typing:Optional", "typing_extensions:Annotated") or not hint[2]:
                return None
            injected = injected or (base != "typing:Optional" and any(_is_depends(item) for item in hint[2][1:]))
            return self._annotated_instance(hint[2][0], injected, depth + 1)
        if hint[0] != "n":
            return None
        made = self.index.symbols.lookup(hint)
        if isinstance(made, Value) and not made.rest:
            return self._annotated_instance(made.expr, injected, depth + 1)
        if injected and isinstance(made, ClassRef) and self.index.classes.get(made.qualname) is not None:
            return InstanceVal(self._implementation(made))
        return None

    def _implementation(self, ref: ClassRef) -> str:
        """A ``Protocol`` the project implements once (``sync_repo: SyncRepositoryProtocol``
        with ``class SyncRepository(SyncRepositoryProtocol)``): that class, whose methods
        run; any other class is itself."""
        found = self._protocol_implementations(ref)
        return found[0] if len(found) == 1 else ref.qualname

    def _protocol_implementations(self, ref: ClassRef) -> list[str]:
        """The project classes implementing a ``Protocol`` (by name, or else by defining
        its methods); none for any other class."""
        if not is_protocol(self.index.symbols, ref.fact):
            return []
        return self.index.implementations_of(ref.qualname)

    def _constructor_models(self, qualname: str, call: Any, env: Optional[Env] = None) -> tuple:
        """(attribute, table) for each ``self.<attribute> = <parameter>`` of the class's
        ``__init__`` whose argument in ``call`` is a mapped class (``CRUDSync(Sync)``,
        ``RepositoryGeneric(session, PK_ID, Recipe, RecipeOut)``)."""
        info = self.index.classes.get(qualname)
        if info is None or not isinstance(call, tuple) or not call or call[0] != "call":
            return ()
        found = self._find_method(info, "__init__")
        if found is None:
            return ()
        params = [p for p in found[1].params if p != "self"]
        args, kwargs = call[2], call[3]
        given: dict[str, Any] = dict(zip(params, args))
        given.update((key, value) for key, value in kwargs if key in params)
        models: list[tuple[str, Any]] = []
        for ref in self._mro(info.ref):
            for attribute, param in sorted(ref.fact.param_attrs.items()):
                arg = given.get(param)
                table = self._model_argument(arg, env) if arg is not None else None
                if table and attribute not in (m[0] for m in models):
                    models.append((attribute, table))
                elif (flag := _const_bool(arg)) is not None and attribute not in (m[0] for m in models):
                    # ``ContentApi(user, disable_user_workspaces_filter=True)``: the flag as built
                    models.append((attribute, flag))
        return tuple(models)

    def _model_argument(self, arg: Any, env: Optional[Env]) -> Optional[str]:
        """The table of a mapped class handed as an argument: named, or a local holding one."""
        if isinstance(arg, tuple) and arg and arg[0] == "n":
            return self._class_table(self.index.symbols.lookup(arg))
        if env is not None and isinstance(arg, Local):
            held = env.get(arg.name, frozenset())
            if len(held) == 1 and isinstance(next(iter(held)), ClassVal):
                return next(iter(held)).table
        return None

    def _instance_attribute(self, receiver: Val, name: str) -> Val:
        """``instance.<name>``, set in its class's ``__init__`` to an instance of a project
        class (``self.tasks = TaskRepository(...)``)."""
        if not isinstance(receiver, InstanceVal):
            return None
        info = self.index.classes.get(receiver.qualname)
        if info is None:
            return None
        for ref in self._mro(info.ref):
            held = ref.fact.instance_attrs.get(name)
            if held is not None and held[0] == "attrof":
                return self._instance_attribute(self._instance_of(held[1]), held[2])
            if held is not None:
                return self._instance_of(held)
        if not info.mapped and info.style == "none":
            # ``class ForgeApp: DATABASE: AgentDB`` - declared by its type, set elsewhere
            for ref in self._mro(info.ref):
                for attr in ref.fact.attrs:
                    if attr.name == name and attr.value is None and attr.annotation and attr.annotation[0] == "n":
                        return self._instance_of(attr.annotation)
            return self._property_instance(info, name, receiver.models)
        return None

    def _property_instance(self, info: "ClassInfo", name: str, models: tuple) -> Val:
        """``self.repos`` / ``repos.recipes``: a ``@property`` / ``@cached_property`` that
        builds and returns one instance of a project class (mealie's controllers)."""
        found = self._find_method(info, name)
        if found is None or not is_property(found[1].decorators):
            return None
        results = self._summary(found[0], found[1], (), info, MAX_DEPTH - 3, models=models)[0]
        instances = {v for v in results if isinstance(v, InstanceVal)}
        return next(iter(instances)) if len(instances) == 1 and len(results) == 1 else None

    def _self_attribute(self, cls: "ClassInfo", name: str, models: tuple = ()) -> Val:
        """``self.model`` in a repository: the mapped class its constructor was handed
        (``models``), the class attribute (or the type argument of a generic base) naming
        one; ``self.repo`` set in ``__init__``."""
        for attribute, table in models:
            if attribute == name and isinstance(table, str):
                return ClassVal(table)
        symbols = self.index.symbols
        held = self._instance_attribute(InstanceVal(cls.ref.qualname, models), name)
        if held is not None:
            return held
        for attr, _owner in self._attributes_in_mro(cls.ref):
            if attr.name == name and attr.value is not None:
                table = self._class_table(symbols.lookup(attr.value))
                return ClassVal(table) if table else None
        if name in ("model", "model_class", "model_cls", "entity", "__model__"):
            for ref in self._mro(cls.ref):
                for base in ref.fact.bases:
                    if base[0] == "sub":
                        for arg in base[2]:
                            table = self._class_table(symbols.lookup(arg))
                            if table:
                                return ClassVal(table)
        return None

    # ------------------------------------------------------------------ calls

    def _eval_call(self, expr: Call, env: Env, ctx: Context) -> ValueSet:
        expr = self._queued_call(expr)
        func = expr.func
        # A name chain like ``Task.query.filter_by`` or ``select``: resolve it whole.
        if isinstance(func, Name):
            if func.qualified.startswith("?.") and ctx.guarding and _check_name(expr):
                # ``project.org.is_user_member(...)`` where a walrus bound ``project``
                parts = func.qualified[2:].split(".")[:-1]
                checked: Expr = Local("local", parts[0]) if parts else Opaque()
                for part in parts[1:]:
                    checked = Attr(checked, part)
                self._checked_by_own_method(checked, expr, env, ctx)
            sym = self.index.symbols.lookup(func)
            if isinstance(sym, Lib) and sym.name == DB_OBJECT and sym.rest and sym.rest[-1] in _API.db_methods:
                # db.get_or_404(T, id), db.first_or_404(stmt), db.session.execute(stmt)
                return self._method_call(None, sym.rest[-1], expr, env, ctx, func)
            lib = lib_name_of(sym)
            if lib is not None and lib.startswith("ext:") and _session_method(lib):
                # ``from fastapi_sqlalchemy import db; db.session.query(T)``: a session kept
                # by a library the project uses, run as any session is
                return self._method_call(None, lib.rsplit(".", 1)[-1], expr, env, ctx, func)
            if lib is not None:
                return self._library_call(lib, expr, env, ctx)
            if isinstance(sym, ClassAttr):
                return self._class_attr_call(sym, expr, env, ctx)
            if isinstance(sym, Function):
                return self._project_call(sym.module, sym.fact.name, None, expr, env, ctx)
            if isinstance(sym, ClassRef):
                self._eval_args(expr, env, ctx)
                return frozenset({InstanceVal(sym.qualname, self._constructor_models(sym.qualname, expr, env))})
            if isinstance(sym, FunctionBody):
                return self._project_call(sym.module, sym.body.name, sym.body, expr, env, ctx)
            if isinstance(sym, Value) and sym.rest and sym.expr and sym.expr[0] == "call":
                # ``Chats = ChatTable()`` at module level: ``Chats.get_chat_by_id(id)``, and
                # through the instance's attributes: ``app.DATABASE.tasks.get_task(id)``
                receiver: Val = self._instance_of(sym.expr)
                for name in sym.rest[:-1]:
                    receiver = self._instance_attribute(receiver, name)
                if receiver is not None:
                    return self._method_call(receiver, sym.rest[-1], expr, env, ctx, func)
            if isinstance(sym, Value) and len(sym.rest) == 1 and sym.rest[0] in ("select", "update", "delete"):
                table = self._table_object(replace(sym, rest=()))  # watchlist.delete().where(...)
                if table is not None:
                    self._eval_args(expr, env, ctx)
                    kind = "read" if sym.rest[0] == "select" else sym.rest[0]
                    return frozenset({QueryVal(kind, (table,), line=expr.line, column=expr.column,
                                               path=ctx.module.path)})
            if "." in func.qualified and sym is None or isinstance(sym, (Lib, Value)):
                # db.session.execute(stmt), session.get(T, id) on a module-level session
                return self._method_call(None, func.qualified.rsplit(".", 1)[-1], expr, env, ctx, func)
            return self._unknown_call(func, expr, env, ctx)
        if isinstance(func, Attr) and isinstance(func.value, Call) and isinstance(func.value.func, Name) \
                and func.value.func.qualified.removeprefix("?.").removeprefix("builtins.") == "super" and ctx.cls is not None:
            # ``super().get(db, id=id, ctx=ctx)``: the next class's method, on this instance
            found = self._super_method(ctx, func.name)
            if found is not None:
                return self._project_call(found[0], found[1].name, found[1], expr, env, ctx, self_cls=ctx.cls,
                                          models=ctx.instance_models)
        if func == CLS and ctx.cls is not None and not ctx.cls.mapped:
            # ``return cls(id=app.id, ...)`` in a schema's own ``from_orm``: an instance
            self._eval_args(expr, env, ctx)
            return frozenset({InstanceVal(ctx.cls.ref.qualname)})
        if isinstance(func, Attr) and func.name in _MUTATORS and isinstance(func.value, Local) \
                and func.value.tag in ("local", "param"):
            # ``clauses.clear()``, ``ids.pop()``, ``by_name.update(extra)``: what it was bound
            # to is no longer all, or none, of what it holds
            env.set(f"{func.value.name}[]", env.get(f"{func.value.name}[]", frozenset()) | {_NONE_VALUE})
        if isinstance(func, Attr) and func.name in ("append", "add") and len(expr.args) == 1 \
                and isinstance(func.value, Local) and func.value.tag == "local":
            held = self._peek(expr.args[0], env, ctx)
            current = env.get(func.value.name, NOTHING)
            if held and all(isinstance(v, RowVal) and not v.is_result for v in held) \
                    and all((isinstance(v, RowVal) and v.is_result) or v == _EMPTY_LIST for v in current):
                # ``candidates.append(folder)`` of a row held here: iterating the list
                # hands back those rows
                env.set(func.value.name, (current - {_EMPTY_LIST}) | frozenset(replace(v, is_result=True) for v in held))
                return NOTHING
            if held and current and all(isinstance(v, IdVal) for v in held) \
                    and all(isinstance(v, IdVal) or v == _EMPTY_LIST for v in current):
                # ``ae_ids.append(ae.id)`` of rows held here, into a list that held nothing
                # else: the ids it holds, as ``[ae.id for ae in ...]`` would (cabotage)
                env.set(func.value.name, (current - {_EMPTY_LIST}) | held)
                return NOTHING
            if any(_held_item(v) for v in current):
                # something else added to a list of held rows or ids: not all of it is held
                env.set(func.value.name, current | {None})
        if isinstance(func, Attr) and func.name in ("extend", "insert", "update") and isinstance(func.value, Local) \
                and func.value.tag == "local" and any(_held_item(v) for v in env.get(func.value.name, NOTHING)):
            env.set(func.value.name, env.get(func.value.name, NOTHING) | {None})
        if isinstance(func, Attr) and func.name in ("append", "extend") and len(expr.args) == 1 \
                and isinstance(func.value, Local) and func.value.tag in ("local", "param") \
                and _condition_lists(env.get(func.value.name, NOTHING)):
            # ``filters.append(T.user_id == me)``: the list is handed to ``.filter(*filters)``
            self._eval_args(expr, env, ctx)
            name = func.value.name
            env.set(name, _extended_condition_lists(env.get(name, NOTHING), func.name, expr.args[0], env))
            return NOTHING
        if isinstance(func, Attr):
            if ctx.guarding and _check_name(expr):
                self._checked_by_own_method(func.value, expr, env, ctx)
            if ctx.guarding and func.name in _PERMISSION_TESTS and isinstance(func.value, Call) \
                    and not expr.args and not expr.kwargs:
                self._checked_by_permission(func.value, env, ctx)
            out: set = set()
            for receiver in self._eval(func.value, env, ctx):
                out |= self._method_call(receiver, func.name, expr, env, ctx, func)
            return frozenset(out)
        self._eval_args(expr, env, ctx)
        return NOTHING

    def _checked_by_own_method(self, receiver: Expr, expr: Call, env: Env, ctx: Context) -> None:
        """``if not project.org.is_user_member(user_id): raise`` (AgentOps): a model's own
        check, asked of a held row or of its tenant about who asks, that stops the function
        when it fails - the row is checked as by comparing its tenant column."""
        args = tuple(expr.args) + tuple(v for _k, v in expr.kwargs)
        if not any(self._who_asks(arg, env) for arg in args):
            if self._own_access_check(receiver, expr, env):
                self._checked_local(receiver.name, env, ctx, True)  # type: ignore[union-attr]
                self._param_row_checked(receiver.name, env, ctx)  # type: ignore[union-attr]
            return
        base = owner_attribute_base(receiver, owner_attributes(self.config), self.config.tenant_columns)
        if base is None and isinstance(receiver, Local) and receiver.tag in ("local", "param") and any(
                isinstance(v, (RowVal, GetVal)) for v in env.get(receiver.name, frozenset())):
            base = receiver.name  # ``org.is_user_admin_or_owner(user_id)``; ``doc.is_shared_with(user)``
        if base is None:
            return
        self._checked_local(base, env, ctx, True)
        self._param_row_checked(base, env, ctx)

    def _model_class(self, table_name: str) -> Optional["ClassInfo"]:
        """The mapped class of ``table_name``."""
        table = self._table_named(table_name)
        info = self.index.classes.get(table.qualname) if table is not None and table.qualname else None
        return info if info is not None and info.mapped else None

    def _model_method(self, table_name: str, method: str) -> Optional[tuple["ClassInfo", tuple[ModuleFacts, FunctionIR]]]:
        """The project method ``method`` of the mapped class of ``table_name`` (its own or a
        mixin's), not a property."""
        info = self._model_class(table_name)
        if info is None:
            return None
        found = self._find_method(info, method)
        if found is None or is_property(found[1].decorators):
            return None
        return info, found

    def _own_access_check(self, receiver: Expr, expr: Call, env: Env) -> bool:
        """``category.checkAuthorized()`` (KitchenOwl): an access check the row's own model
        defines - named as one (``check_access``, ``authorize``), asked of a held row and
        of nothing else, answering for who asks without being told (the request's
        identity) and raising when it fails."""
        func = expr.func
        if not isinstance(func, Attr) or not ACCESS_CHECK.search(func.name.lower()) \
                or not isinstance(receiver, Local) or receiver.tag not in ("local", "param"):
            return False
        if any(not self._is_constant(arg) for arg in tuple(expr.args) + tuple(v for _k, v in expr.kwargs)):
            return False  # (told whose access to check: not this shape)
        tables = {v.table for v in env.get(receiver.name, frozenset())
                  if isinstance(v, (RowVal, GetVal)) and not (isinstance(v, RowVal) and v.is_result)}
        if len(tables) != 1:
            return False
        found = self._model_method(next(iter(tables)), func.name)
        return found is not None and _refuses_who_asks(found[1][1].body)

    def _checked_by_permission(self, permission: Call, env: Env, ctx: Context) -> None:
        """``if not ViewApplicationPermission(image.application.id).can(): abort(403)``
        (Flask-Principal, cabotage): a permission made for a held row - by its key or the
        key of a row it reaches - and tested against who asks (the request's identity),
        stopping the function when it fails, checks that row."""
        func = permission.func
        name = func.name if isinstance(func, Attr) else func.qualified.rsplit(".", 1)[-1] \
            if isinstance(func, Name) else ""
        if not name.endswith("Permission") or name == "Permission":
            return  # (a bare ``Permission(need)`` is handed needs, not a row)
        for arg in tuple(permission.args) + tuple(v for _k, v in permission.kwargs):
            base = arg
            while isinstance(base, Attr):
                base = base.value
            if base is arg or not isinstance(base, Local) or base.tag not in ("local", "param"):
                continue  # a row's own key or a key it reaches, not the row handed whole
            if base.tag == "local" and not any(
                    isinstance(v, (RowVal, GetVal)) for v in env.get(base.name, frozenset())):
                continue
            self._checked_local(base.name, env, ctx, True)
            self._param_row_checked(base.name, env, ctx)

    def _eval_args(self, expr: Call, env: Env, ctx: Context) -> list[ValueSet]:
        values = [self._eval(arg.value if isinstance(arg, Star) else arg, env, ctx) for arg in expr.args]
        for _key, value in expr.kwargs:
            self._eval(value, env, ctx)
        return values

    def _library_call(self, lib: str, expr: Call, env: Env, ctx: Context) -> ValueSet:
        args = expr.args
        name = lib.split(":", 1)[-1]
        if lib.startswith("sa:") or lib.startswith("sqlmodel:"):
            if name == "select":
                values = self._eval_args(expr, env, ctx)
                of_subquery = self._select_of_subquery(args, env, ctx)
                if of_subquery:
                    return of_subquery
                if len(args) == 1 and isinstance(args[0], Call) and values[0] and all(
                        isinstance(v, QueryVal) and v.subquery and v.tables for v in values[0]):
                    # ``select(exists().where(...))``: that statement, run for its answer (a
                    # subquery held in a local, ``select(subq)``, is still not followed: the ids
                    # such statements filter by come from lists built in ways not yet read)
                    return frozenset(replace(v, subquery=False) for v in values[0])
                tables = self._entities(args, ctx)
                choices = () if tables or len(args) != 1 else _class_choices(values)
                if not tables and len(args) == 1 and isinstance(args[0], Attr) and isinstance(args[0].value, Local):
                    # ``select(model.id)`` where the local names a mapped class: its column
                    choices = _class_choices([self._eval_local(args[0].value, env, ctx)])
                if choices:
                    # ``cls_ = Share if kind == "share" else ShareCode; select(cls_)``: a
                    # query on each table the local may name
                    return frozenset(QueryVal("read", (table,), line=expr.line, column=expr.column,
                                              path=ctx.module.path) for table in choices)
                return frozenset({QueryVal("read", tables, line=expr.line, column=expr.column, path=ctx.module.path,
                                           opaque=not tables and bool(args) and self._has_unknown_entity(args),
                                           owner_only=self._owner_projection(args),
                                           labels=self._labels(args, tables, ctx))})
            if name == "exists" and not args:
                return frozenset({QueryVal("read", (), line=expr.line, column=expr.column, path=ctx.module.path,
                                           subquery=True)})
            if name in ("update", "delete") and args:
                tables = self._entities(args[:1], ctx)
                if tables:
                    return frozenset({QueryVal(name, tables, line=expr.line, column=expr.column,
                                               path=ctx.module.path)})
        values = self._eval_args(expr, env, ctx)
        if lib in _ITERATING_BUILTINS and values:
            ids = values[0] - {_EMPTY_LIST}
            if name in ("list", "tuple", "set", "sorted") and ids and all(isinstance(v, IdVal) for v in ids):
                return ids  # ``sorted({m.app_id for m in memories})``: the same ids
            rows = self._iterated(values[0], ctx)  # list(Model.query...) runs it, as a for loop does
            if name in ("list", "tuple", "set", "sorted"):
                # list(result.scalars()): the same rows, in a container of their own
                return frozenset(replace(v, is_result=True) for v in rows if isinstance(v, RowVal)) or NOTHING
        return NOTHING

    def _iterated(self, values: ValueSet, ctx: Context, run: tuple = ()) -> ValueSet:
        """Iterating a query runs it; iterating a parameter runs what the callers pass.
        The rows it hands out, one at a time (``run``: where a ``for`` runs it)."""
        rows: set = set()
        values = values - {_EMPTY_LIST}  # ``[]`` on a path where nothing was added: no rows
        for item in values:
            if isinstance(item, QueryVal):
                row = self._use(item, ctx, "read", run)
                if row is not None and item.kind == "read":
                    rows.add(row)
            elif isinstance(item, RowVal) and item.is_result:
                rows.add(replace(item, is_result=False))
            elif isinstance(item, IdVal) and not item.row:
                # ``for ws in {doc.workspace_id for doc in docs}``: each owner; ``for i in
                # [m.id for m in mine]``: each id of a row held
                rows.add(item)
            elif isinstance(item, ParamVal) and ctx.summary:
                ctx.executed.add(item.name)
        return frozenset(rows) if len(rows) == 1 and len(values) == 1 else NOTHING

    @staticmethod
    def _has_unknown_entity(args: tuple[Expr, ...]) -> bool:
        return any((isinstance(a, Local) and a.tag in ("local", "param")) or isinstance(a, Attr) for a in args)

    def _entities(self, args: Iterable[Expr], ctx: Context, aggregates: bool = True) -> tuple[str, ...]:
        """Tables named by select()/query()/join() arguments: a class, a column
        (``Task.title``), a relationship (``Task.project`` -> projects), ``self.model``,
        and - for ``func.count(Task.id)`` - the table of the aggregated column."""
        tables: list[str] = []
        for arg in args:
            if isinstance(arg, Call) and not arg.kwargs and len(arg.args) <= 1:
                arg = _labelled(arg) or arg  # ``T.id.label("id")``: the column under another name
            table = self._entity(arg, ctx)
            if table is None and aggregates and isinstance(arg, Call) and isinstance(arg.func, Name) and \
                    _sql(self.index.symbols.lib_name(arg.func)):
                inner = self._entities(arg.args, ctx, aggregates=False)
                table = inner[0] if inner else None
            if table and table not in tables:
                tables.append(table)
        return tuple(tables)

    def _labels(self, args: tuple[Expr, ...], tables: tuple[str, ...], ctx: Context) -> tuple[tuple[str, str], ...]:
        """(label, attribute) for each ``T.<attribute>.label("name")`` among the selected
        entities whose table is the first entity's ("" for any other labelled expression)."""
        out = []
        for arg in args:
            if not (isinstance(arg, Call) and len(arg.args) == 1 and isinstance(arg.args[0], Const)
                    and isinstance(arg.args[0].value, str)):
                continue
            column = _labelled(arg)
            if column is None:
                continue
            sym = self.index.symbols.lookup(column) if isinstance(column, Name) else None
            if isinstance(sym, ClassAttr) and len(sym.path) == 1 and tables and \
                    self._class_table(sym.cls) == tables[0]:
                out.append((arg.args[0].value, sym.path[0]))
            else:
                out.append((arg.args[0].value, ""))  # another table's column under that name: not the row's
        return tuple(out)

    def _entity(self, arg: Expr, ctx: Context) -> Optional[str]:
        if isinstance(arg, Name):
            sym = self.index.symbols.lookup(arg)
            if isinstance(sym, Value) and (not sym.rest or (len(sym.rest) == 2 and sym.rest[0] in ("c", "columns"))):
                return self._table_object(replace(sym, rest=()))  # a Table, or one of its columns
            table = self._class_table(sym)
            if table is None and isinstance(sym, ClassAttr) and len(sym.path) == 1:
                info = self.index.classes.get(sym.cls.qualname)
                rel = None
                if info is not None and info.table is not None:
                    rel = next((r for r in info.table.relationships if r.attribute == sym.path[0]), None)
                if rel is not None:
                    return self._relationship_table(rel)
                table = self._class_table(sym.cls)
            return table
        own = _own_table(ctx)
        if arg == CLS and own is not None:
            return own.key  # session.query(cls) in a model's classmethod
        if isinstance(arg, Attr) and arg.value == CLS and own is not None and own.key:
            rel = next((r for r in own.relationships if r.attribute == arg.name), None)
            if rel is not None:
                return self._relationship_table(rel)  # ``.join(cls.recipe)``: the related table
            if own.column_by_attribute(arg.name) is not None:
                return own.key  # session.query(cls.id): a column of the model's own table
        if isinstance(arg, Attr) and arg.value in (SELF, CLS) and ctx.cls is not None:
            value = self._self_attribute(ctx.cls, arg.name, ctx.instance_models)
            return value.table if isinstance(value, ClassVal) else None
        if isinstance(arg, Attr) and ctx.cls is not None:
            return self._entity(arg.value, ctx)  # self.model.id -> the table of self.model
        return None

    def _owner_projection(self, args: tuple[Expr, ...]) -> bool:
        """``select(Project.organisation_id)``: every selected entity is a tenant column -
        the query asks whose rows they are (an owner check), and returns nothing else."""
        if not args:
            return False
        for arg in args:
            sym = self.index.symbols.lookup(arg) if isinstance(arg, Name) else None
            if not isinstance(sym, ClassAttr) or len(sym.path) != 1:
                return False
            table = self._table_named(self._class_table(sym.cls) or "")
            if table is None or self._attribute_column(table, sym.path[0]) not in self.config.tenant_columns:
                return False
        return True

    def _inherited_column(self, table: Optional[TableModel], attribute: str) -> Optional[tuple[str, str]]:
        """(the table, the column) of ``Child.<attribute>`` declared by a mapped parent
        with a table of its own (joined-table inheritance: ``PostgresResource.environment_id``
        is ``resources.environment_id``, and a query of the child joins the parent)."""
        if table is None:
            return None
        info = self.index.classes.get(table.qualname) if table.qualname else None
        for _depth in range(4):
            parent = info.mapped_parent if info is not None else None
            if parent is None or parent.table is None or not parent.table.key:
                return None
            if parent.table.key != table.key:  # (single-table inheritance shares the table)
                column = self._attribute_column(parent.table, attribute)
                if column is not None:
                    return parent.table.key, column
            info = parent
        return None

    def _with_inherited_tables(self, query: QueryVal) -> QueryVal:
        """A query of a joined-inheritance child joins its parents' tables: the ones its
        terms name are joined tables, as SQLAlchemy's FROM has them."""
        named = {term.table for term in query.terms} - set(query.tables) - set(query.joined)
        if not named:
            return query
        parents = []
        for entity in query.tables:
            table = self._table_named(entity)
            info = self.index.classes.get(table.qualname or "") if table is not None else None
            while info is not None and info.mapped_parent is not None:
                info = info.mapped_parent
                if info.table is not None and info.table.key in named and info.table.key not in parents:
                    parents.append(info.table.key)
        return replace(query, joined=query.joined + tuple(parents)) if parents else query

    def _attribute_column(self, table: TableModel, attribute: str) -> Optional[str]:
        """The column ``T.<attribute>`` stands for in SQL: a mapped column's name, or the
        key column of a many-to-one relationship."""
        col = table.column_by_attribute(attribute)
        return col.name if col is not None else self._many_to_one_column(table, attribute)

    def _many_to_one_column(self, table: TableModel, attribute: str) -> Optional[str]:
        """The foreign-key column behind ``T.owner == owner`` / ``filter_by(owner=owner)``:
        SQLAlchemy compares a many-to-one relationship to a row as its key column
        (``tasks.user_id = :param``). One column to the related table, or None."""
        for rel in table.relationships:
            if rel.attribute != attribute:
                continue
            if rel.secondary or rel.primaryjoin:
                return None
            target = self._relationship_table(rel)
            local = [cols for cols, fk in table.all_foreign_keys()
                     if target is not None and fk.target_table == target and len(cols) == 1]
            if rel.foreign_keys is not None:
                local = [cols for cols in local if cols[0] in rel.foreign_keys]
            return local[0][0] if len(local) == 1 else None
        # ``members = relationship("Person", backref="project")`` on the parent: Person.project
        keys = [(cols, fk) for cols, fk in table.all_foreign_keys() if len(cols) == 1 and fk.target_table]
        for cols, fk in keys:
            parent = self._table_named(fk.target_table or "")
            if parent is None or sum(1 for _c, other in keys if other.target_table == fk.target_table) != 1:
                continue
            if any(rel.backref == attribute and not rel.secondary and self._relationship_table(rel) == table.key
                   for rel in parent.relationships):
                return cols[0]
        return None

    def _relationship_table(self, rel: RelationshipModel) -> Optional[str]:
        if not rel.target:
            return None
        targets = self.index.mapped_classes_named(rel.target)
        if len(targets) == 1 and targets[0].table is not None:
            return targets[0].table.key
        return None

    def _class_attr_call(self, sym: ClassAttr, expr: Call, env: Env, ctx: Context) -> ValueSet:
        table = self._class_table(sym.cls)
        path = sym.path
        if len(path) == 1:
            # ``Member.of_team(team_id)``: a classmethod / staticmethod of a project class
            info = self.index.classes.get(sym.cls.qualname)
            found = self._find_method(info, path[0]) if info is not None else None
            if found is not None and _is_class_level(found[1]):
                return self._project_call(found[0], found[1].name, found[1], expr, env, ctx, self_cls=info)
        if path and path[-1] in CONVERSIONS:
            return self._converted(self._eval_args(expr, env, ctx))
        if table is None or not path:
            self._eval_args(expr, env, ctx)
            return NOTHING
        if path[0] == "query" and len(path) == 2:
            own_method = self._query_class_method(sym.cls, path[1])
            if own_method is not None:
                # ``Person.query.get(id, project)`` of a model whose ``query_class`` defines
                # ``get``: that method runs, on a query of the model
                query_cls, (query_module, method_body) = own_method
                return self._project_call(query_module, method_body.name, method_body, expr, env, ctx,
                                          self_cls=query_cls, models=((QUERY_SELF, table),))
        if path[0] == "query" and len(path) >= 2:
            # Task.query.filter_by(...).first(): rebuild the chain on a query value
            value: Val = QueryVal("read", (table,), line=expr.line, column=expr.column, path=ctx.module.path)
            bare = Call(Opaque(), (), (), expr.line, expr.column)
            for method in path[1:-1]:
                value = next(iter(self._method_call(value, method, bare, env, ctx, None)), None)
            return self._method_call(value, path[-1], expr, env, ctx, None)
        self._eval_args(expr, env, ctx)
        return NOTHING

    def _unknown_call(self, func: Name, expr: Call, env: Env, ctx: Context) -> ValueSet:
        values = self._eval_args(expr, env, ctx)
        if func.qualified.rsplit(".", 1)[-1] in CONVERSIONS:
            return self._converted(values)
        self._arguments_escape(func.qualified.rsplit(".", 1)[-1], values, expr, env, ctx)
        return NOTHING

    def _arguments_escape(self, name: str, values: list[ValueSet], expr: Call, env: Env, ctx: Context) -> None:
        for value in values:
            for item in value:
                if isinstance(item, QueryVal) and name in _API.executor_functions:
                    self._use(item, ctx, item.kind)
        self._owner_checked_by_call(name, values, expr, env, ctx)

    def _owner_checked_by_call(self, name: str, values: list[ValueSet], expr: Call, env: Env,
                               ctx: Context) -> None:
        """A call named like an access check (``check_owner(task)``, ``authorize(...)``)
        checks the rows it is handed - directly, or stored into what it is handed
        (``context["package"] = pkg; check_access("package_show", context)``, CKAN)."""
        lowered = name.lower()
        if not any(w in lowered for w in CHECK_WORDS) or lowered in CONVERSIONS:
            return
        args = tuple(expr.args) + tuple(v for _k, v in expr.kwargs)
        if ACCESS_CHECK.search(lowered) and any(isinstance(a, Local) and a.tag == "param" for a in args):
            # check_access("package_delete", context, data_dict): the request the function
            # was given is checked as a whole, lookups by its ids included (CKAN's actions)
            self._apply_once(("guarded", ctx.function.qualname))
        # A row a query loaded needs more than a check-like name to be scoped: the call
        # must be told who asks (can_delete_persona(acting_user, persona); not
        # can_user_access_llm_provider(provider, group_ids, persona)) and stop the
        # function when it fails (not ``if can_delete(user, row): row.is_public = True``).
        asks = ctx.guarding and PREDICATE.search(lowered) is not None
        rows = asks and (any(names_who_asks(arg, self.config) for arg in args)
                         or self._refuses_other_owners(expr, ctx))
        if asks:
            # check_permission(session, auth, doc.workspace_id, ...): the row's owner is
            # handed to a check that stops the function when the caller may not see it
            words = owner_attributes(self.config)
            for arg in args:
                base = owner_attribute_base(arg, words, self.config.tenant_columns)
                if base is not None:
                    self._checked_local(base, env, ctx, True)
                elif isinstance(arg, Local) and arg.tag == "local" and not ctx.summary:
                    # ``for ws in {d.workspace_id for d in docs}: check_permission(.., ws)``:
                    # every owner of the rows is checked, so every row is
                    for item in env.get(arg.name, frozenset()):
                        if isinstance(item, IdVal) and item.table == self.config.tenant_table \
                                and len(item.source) == 5 and item.source[0] == ctx.module.path:
                            self._apply(("rowcheck", item.source))
        for value in values:
            for item in value:
                self._mark_checked(item, ctx, rows)
        for arg in args:
            if isinstance(arg, Local) and arg.tag in ("local", "param"):
                if rows:
                    self._param_row_checked(arg.name, env, ctx)
                if arg.tag == "local":
                    env.checked.add(arg.name)
                for item in env.get(f"{arg.name}[]", frozenset()):
                    self._mark_checked(item, ctx, rows)

    def _method_call(self, receiver: Val, method: str, expr: Call, env: Env, ctx: Context,
                     func: Optional[Expr]) -> ValueSet:
        args, line, col = expr.args, expr.line, expr.column
        if isinstance(receiver, QueryVal):
            return frozenset({self._query_method(receiver, method, expr, env, ctx)})
        if isinstance(receiver, ClassVal) and method == "query":
            return NOTHING
        if isinstance(receiver, RowVal) and not receiver.is_result and receiver.table:
            own_method = self._model_method(receiver.table, method)
            if own_method is not None:
                # ``category.merge(other)``: the model's own method, run on the row held here
                model, (module, body) = own_method
                # (its own queries stay judged where they are written: calls reaching it
                # through what is not followed - ``g.category.adopt(id)`` - are not seen)
                return self._project_call(module, body.name, body, expr, env, ctx, self_cls=model, followed=False)
        if isinstance(receiver, RowVal):
            self._eval_args(expr, env, ctx)
            if receiver.is_result and method in _API.one_row:
                return frozenset({replace(receiver, is_result=False)})
            if receiver.is_result and method in ("scalars", "unique", "all", "fetchall", "values"):
                return frozenset({receiver})
            if receiver.is_result and method == "get":
                return frozenset({replace(receiver, is_result=False)})  # rows_by_key.get(key)
            return NOTHING
        if isinstance(receiver, ExprVal) and isinstance(receiver.expr, Const) and isinstance(receiver.expr.value, str) \
                and method == "join" and len(args) == 1:
            self._eval_args(expr, env, ctx)
            return frozenset({ExprVal(expr)})  # ``" AND ".join(where_clauses)``: read by _strings
        if isinstance(receiver, IdVal) and not receiver.row and method == "get" and len(args) == 1 and not expr.kwargs \
                and not (isinstance(func, Attr) and _stored_into(func.value, env)):
            self._eval_args(expr, env, ctx)
            return frozenset({receiver})  # ``{fp.path: fp.id for fp in fps}.get(path)``: one of those ids
        if isinstance(receiver, ParamVal) and receiver.name in ("self", "cls") and ctx.cls is not None:
            found = self._find_method(ctx.cls, method)
            if found is not None:
                module, body = found
                return self._project_call(module, body.name, body, expr, env, ctx, self_cls=ctx.cls,
                                          models=ctx.instance_models)
        if isinstance(receiver, InstanceVal):
            info = self.index.classes.get(receiver.qualname)
            implementations = self._protocol_implementations(info.ref) if info is not None else []
            if len(implementations) > 1:
                # a Protocol implemented several ways: what any of them may do
                out: set = set()
                for qualname in implementations:
                    impl = self.index.classes.get(qualname)
                    found = self._find_method(impl, method) if impl is not None else None
                    out |= self._project_call(found[0], found[1].name, found[1], expr, env, ctx, self_cls=impl) \
                        if found is not None else NOTHING
                return frozenset(out)
            found = self._find_method(info, method) if info is not None else None
            if found is not None:
                return self._project_call(found[0], found[1].name, found[1], expr, env, ctx, self_cls=info,
                                          models=receiver.models)
        if isinstance(receiver, ParamVal) and (receiver.name in ctx.function.annotations
                                               or _is_depends(ctx.function.defaults.get(receiver.name))):
            # ``chat_service: ChatServiceDep``: the service FastAPI hands in
            instance = self._injected_instance(receiver.name, ctx)
            if instance is not None and not self._is_mapped(instance.qualname):
                return self._method_call(instance, method, expr, env, ctx, func)
        if isinstance(receiver, ParamVal) and receiver.truthy is not False and (
                method in _API.filters or method in _API.joins or method in _API.pass_through or method == "filter_by"):
            # A statement handed in by the caller, refined here.
            return frozenset({self._query_method(QueryVal("read", (), param=receiver.name, line=-1),
                                                 method, expr, env, ctx)})
        values = self._eval_args(expr, env, ctx)
        # session.execute(stmt) / scalars / exec ...
        if method in _API.execute and values:
            rows: set = set()
            for item in values[0]:
                if isinstance(item, QueryVal):
                    row = self._use(item, ctx, item.kind, (line, col), env)
                    if row is not None and item.kind == "read":
                        rows.add(replace(row, is_result=method not in _API.one_row))
                elif isinstance(item, ParamVal) and ctx.summary:
                    ctx.executed.add(item.name)
            return frozenset(rows) if len(rows) == 1 else NOTHING
        if method in ("query",) and args:
            tables = self._entities(args, ctx)
            if tables:
                return frozenset({QueryVal("read", tables, line=line, column=col, path=ctx.module.path,
                                           owner_only=self._owner_projection(args),
                                           labels=self._labels(args, tables, ctx))})
            return frozenset(QueryVal("read", (table,), line=line, column=col, path=ctx.module.path)
                             for table in _class_choices(values[:1])) or NOTHING
        if method in ("get", "get_or_404") and len(args) >= 2:
            tables = self._entities(args[:1], ctx)
            if tables:
                if self._is_held_key(args[1], tables[0], env, ctx):
                    # the id of a row this function already holds (``block.current_history_id``)
                    return frozenset({GetVal(tables[0], line, col, ctx.module.path, checked=True)})
                self._vouch(args[1], tables[0], env, ctx)
                return frozenset({self._get(tables[0], line, col, ctx, key=args[1])})
        if method in ("first_or_404", "one_or_404", "paginate") and values:
            for item in values[0]:
                if isinstance(item, QueryVal):
                    self._use(item, ctx, item.kind)
            return NOTHING
        if self._is_scope_helper(method):
            return frozenset(self._scope_all(v) for value in values[:1] for v in value) or NOTHING
        if method in CONVERSIONS:
            return self._converted(values)
        self._arguments_escape(method, values, expr, env, ctx)
        return NOTHING

    @staticmethod
    def _converted(values: list[ValueSet]) -> ValueSet:
        """``AgentOut.model_validate(agent)``: the same row under another class, for the
        caller's owner check to see (its fields carry the row's)."""
        if not values:
            return NOTHING
        rows = frozenset(v for v in values[0] if isinstance(v, (RowVal, GetVal)) or (isinstance(v, IdVal) and v.row))
        return rows if rows and len(rows) == len(values[0]) else NOTHING

    def _get(self, table: str, line: int, col: int, ctx: Context, via: str = "",
             key: Optional[Expr] = None) -> GetVal:
        """``key``: what the lookup is by, when it is one of the function's parameters."""
        get = GetVal(table, line, col, ctx.module.path, via=via)
        if not ctx.summary:
            origin = (get.path, line, col)
            if origin not in self._gets:
                param = key.name if isinstance(key, Local) and key.tag == "param" else ""
                self._apply(("get", origin, get, ctx.function.qualname, param))
        return get

    def _query_method(self, query: QueryVal, method: str, expr: Call, env: Env, ctx: Context) -> Val:
        args, kwargs, line, col = expr.args, expr.kwargs, expr.line, expr.column
        if query.line == 0:
            query = replace(query, line=line, column=col)
        if query.line == -1:
            query = replace(query, line=0)
        if method in _API.filters:
            for arg in args:
                query = self._apply_filter(query, arg, env, ctx)
            if not query.tables and query.subquery and not query.opaque and query.terms:
                # ``exists().where(Run.schedule_id == sid)``: SQL takes the FROM from the filter
                query = replace(query, tables=tuple(dict.fromkeys(term.table for term in query.terms)))
            return query
        if method == "filter_by":
            return self._filter_by(query, kwargs, env, ctx, line, col)
        if method in _API.joins or method == "select_from":
            tables = self._entities(args[:1] if method in _API.joins and method != "join_from" else args, ctx)
            outer = method.startswith("outerjoin") or any(
                k in ("isouter", "full") and v == Const(True) for k, v in kwargs)
            if not tables and args and outer and method != "outerjoin_from":
                # ``outerjoin(counts_subquery, T.id == counts.c.t_id)``: a LEFT JOIN keeps every
                # row of what it joins to, whatever it joins
                self._eval_args(expr, env, ctx)
                return query
            if not tables and args:
                return replace(query, opaque=True)
            if method == "select_from":
                return replace(query, tables=query.tables + tuple(t for t in tables if t not in query.tables))
            scoped = query.scoped
            onclauses = list(args[1:2]) + [v for k, v in kwargs if k == "onclause"]
            for onclause in onclauses:
                # an ON clause can carry the tenant filter: outerjoin(Cred, and_(..., Cred.user_id == uid))
                on_scoped, _terms, _opaque = self._condition(onclause, env, ctx)
                scoped = scoped | on_scoped
            return replace(query, joined=query.joined + tables, scoped=scoped,
                           outer=query.outer + tables if outer else query.outer)
        if method in ("with_entities", "with_only_columns") and args:
            self._eval_args(expr, env, ctx)
            tables = self._entities(args, ctx)
            if not tables:
                return query
            # the columns it selects now, from their own tables; the entity it had stays in
            # the FROM list when a filter or join names it (``Link.query.with_entities(
            # Asset.name).filter(Link.case_id == c).join(Link.asset)``): it scopes what it
            # reaches when filtered by the tenant, and is judged when any filter names it
            kept = tuple(t for t in query.tables if t not in tables and t not in query.joined)
            return replace(query, tables=tables, joined=query.joined + kept, outer=query.outer + kept,
                           replaced=query.replaced + kept,
                           labels=self._labels(args, tables, ctx), owner_only=self._owner_projection(args))
        if method in _API.pass_through:
            self._eval_args(expr, env, ctx)
            return query
        if method in _API.terminal_read:
            self._eval_args(expr, env, ctx)
            row = self._use(query, ctx, "read", (line, col), env)
            if row is not None and method == "all":
                return replace(row, is_result=True)  # Model.query.filter(...).all(): the rows
            return row if method in _API.one_row else None
        if method in ("update", "delete") and query.kind == "read":
            self._eval_args(expr, env, ctx)
            self._use(replace(query, kind=method), ctx, method)
            return None
        if method in ("get", "get_or_404") and args and query.tables:
            if query.filtered:
                return None
            if self._is_held_key(args[0], query.tables[0], env, ctx):
                # Model.query.get(record.integration_id): the id of a row held here
                return GetVal(query.tables[0], query.line or line, query.column or col, ctx.module.path, checked=True)
            self._vouch(args[0], query.tables[0], env, ctx)
            return self._get(query.tables[0], query.line or line, query.column or col, ctx, key=args[0])
        if method in _API.subquery:
            return replace(query, subquery=True)
        if method == "select" and query.subquery and not args:
            return query  # ``.subquery().select()``: the same rows, selected again
        if self._is_scope_helper(method):
            return self._scope_all(query)
        # An unknown method may filter: the query is no longer ours to judge.
        self._eval_args(expr, env, ctx)
        return replace(query, opaque=True)

    # ------------------------------------------------------------------ filters

    def _apply_filter(self, query: QueryVal, arg: Expr, env: Env, ctx: Context) -> QueryVal:
        notes = _Notes()
        scoped, terms, opaque = self._condition(arg, env, ctx, notes)
        if TEXT_SCOPE in scoped:
            # raw SQL names the column unqualified: the table the query reads, when it is one
            tables = set(query.tables + query.joined)
            scoped = (scoped - {TEXT_SCOPE}) | (frozenset(tables) if len(tables) == 1 else frozenset())
        return _own_rows(self._with_inherited_tables(replace(
            query, scoped=query.scoped | scoped, terms=query.terms + tuple(terms), opaque=query.opaque or opaque,
            filtered=True, partial=query.partial or opaque or not terms or notes.unknown,
            keys=query.keys + tuple(notes.keys), anchors=query.anchors | notes.anchors,
            asks=query.asks or notes.asks, mine=query.mine | frozenset(notes.mine))))

    def _condition(self, expr: Expr, env: Env, ctx: Context,
                   notes: Optional["_Notes"] = None) -> tuple[frozenset[str], list[Term], bool]:
        """(tables scoped by the condition, its AND-ed terms, whether it is opaque);
        ``notes`` collects what its AND-ed terms say besides (keys, rows compared with)."""
        if isinstance(expr, Local) and (expr.tag == "local" or (
                expr.tag == "param" and _condition_lists(env.get(expr.name, NOTHING)))):
            # (a parameter too, when its callers handed it a list of conditions)
            if expr.name in self._conditions_read:
                # ``cond = or_(cond, T.a == x)`` in a loop: the condition as written names
                # itself, and what it held before is not kept
                return frozenset(), [], True
            self._conditions_read.add(expr.name)
            try:
                return self._local_condition(expr, env, ctx, notes)
            finally:
                self._conditions_read.discard(expr.name)
        if isinstance(expr, Local) and expr.tag == "param":
            return frozenset(), [], True
        if isinstance(expr, Star):
            return self._condition(expr.value, env, ctx, notes)
        if isinstance(expr, Sequence):
            # a list of conditions given as ``*filters``: AND-ed, as and_() does
            return self._conjunction(expr.items, env, ctx, notes)
        if isinstance(expr, Compare):
            return self._comparison(expr, env, ctx, notes)
        if isinstance(expr, Call):
            sql = self._sql_text(expr)
            if sql is not None:
                # ``text(f"({access_filter})").bindparams(**params)``: raw SQL that compares
                # the tenant column with a bound value on every path scopes the query's table
                texts = self._strings(sql, env, ctx)
                if texts and all(_sql_scopes(t, self.config.tenant_columns) for t in texts):
                    if notes is not None:
                        notes.unknown = True
                    return frozenset({TEXT_SCOPE}), [], False
                return self._unknown_term(expr, notes)
            lib = _sql(self.index.symbols.lib_name(expr.func) if isinstance(expr.func, Name) else None)
            if lib == "and_":
                return self._conjunction(expr.args, env, ctx, notes)
            if lib == "or_":
                results = [self._condition(arg, env, ctx) for arg in expr.args]
                if not results:
                    return frozenset(), [], False
                return _either([r[0] for r in results]), [], any(r[2] for r in results)
            if lib in ("text", "literal_column"):
                return self._unknown_term(expr, notes)
            inlined = self._inlined_condition(expr, ctx)
            if inlined is not None:
                return self._condition(inlined, env, ctx, notes)
            return self._call_condition(expr, env, ctx, notes)
        if isinstance(expr, BinOr):
            # ``(T.a == x) | (T.b == y)``: SQL's OR, as or_() - scoped if both sides are
            sides = [self._condition(side, env, ctx) for side in (expr.left, expr.right)]
            if notes is not None:
                notes.unknown = True
            return _either([sides[0][0], sides[1][0]]), [], sides[0][2] or sides[1][2]
        if isinstance(expr, Not):
            return frozenset(), [], False
        if isinstance(expr, Name):
            # a boolean column: T.is_active; T.is_public - the rows their owners published
            column = self._column(expr, ctx, env)
            if column is not None and column[2] is None and _shares_rows(column[1], Const(True)):
                return frozenset({column[0] + PUBLISHED}), [], False
            return frozenset(), [], False
        return self._unknown_term(expr, notes)

    def _texts_resolved(self, value: ValueSet, env: Env, ctx: Context) -> ValueSet:
        """What a function returns of SQL text (an f-string, a ``join``, a list of pieces),
        read here, where its names are bound: the caller sees the strings, not names of
        this function's locals it would read in its own scope."""
        out: set = set()
        for v in value:
            expr = v.expr if isinstance(v, ExprVal) else None
            if isinstance(expr, FString) or (expr is not None and _join_separator(expr) is not None):
                strings = self._strings(expr, env, ctx)
                out |= {ExprVal(Const(text)) for text in strings or ()}
            elif isinstance(expr, Sequence) and any(_sql_piece(item) for item in expr.items):
                items = []
                for item in expr.items:
                    strings = self._strings(item, env, ctx)
                    items.append(Const(strings[0]) if strings and len(strings) == 1 else Const(None))
                out.add(ExprVal(condition_list(expr.tag, tuple(items))))
            else:
                out.add(v)
        return frozenset(out)

    def _sql_text(self, call: Call) -> Optional[Expr]:
        """The SQL string of ``text(sql)`` (with any ``.bindparams(...)`` after it), or None."""
        while isinstance(call.func, Attr) and call.func.name in ("bindparams", "columns") and \
                isinstance(call.func.value, Call):
            call = call.func.value
        if isinstance(call.func, Name) and _sql(self.index.symbols.lib_name(call.func)) == "text" and \
                len(call.args) == 1:
            return call.args[0]
        return None

    def _strings(self, expr: Expr, env: Env, ctx: Context, depth: int = 0) -> Optional[list[str]]:
        """Every string ``expr`` may hold (a literal, an f-string, ``+``, a local - what a
        project function returned to it included), or None when one of them is not known."""
        if depth > 4:
            return None
        if isinstance(expr, Const):
            return [expr.value] if isinstance(expr.value, str) else None
        if isinstance(expr, Add):
            left, right = self._strings(expr.left, env, ctx, depth + 1), self._strings(expr.right, env, ctx, depth + 1)
            return [a + b for a in left for b in right][:16] if left is not None and right is not None else None
        if isinstance(expr, FString):
            if expr.text.count("\0") != len(expr.inner):
                return None
            found = [""]
            for literal, inner in zip(expr.text.split("\0"), (*expr.inner, None)):
                found = [f + literal for f in found]
                if inner is not None:
                    parts = self._strings(inner, env, ctx, depth + 1)
                    if parts is None:
                        return None
                    found = [f + part for f in found for part in parts][:16]
            return found
        separator = _join_separator(expr)
        if isinstance(expr, Call) and separator is not None:
            listed = expr.args[0]
            if _stored_into(listed, env):
                return None  # a list changed in place (``clauses += extra``, ``clauses.clear()``)
            lists = self._eval_local(listed, env, ctx) if isinstance(listed, Local) else frozenset({ExprVal(listed)})
            if not lists or not all(isinstance(v, ExprVal) and isinstance(v.expr, Sequence) for v in lists):
                return None
            joined: list[str] = []
            for value in sorted(lists, key=repr):
                variants = [""]
                for position, item in enumerate(value.expr.items):  # type: ignore[union-attr]
                    parts = self._strings(item, env, ctx, depth + 1)
                    if parts is None and _one_group(_sql_template(item)):
                        parts = ["(?)"]  # a parenthesised piece AND-ed in: it narrows, whatever it says
                    if parts is None:
                        return None
                    sep = separator if position else ""
                    variants = [v + sep + p for v in variants for p in parts][:16]
                joined.extend(variants)
            return joined[:16]
        if _stored_into(expr, env):
            return None  # ``where += " OR is_public"``, ``clauses[0] = ...``: not what it was bound to
        # (a call is not run again here: the local its result went to is read instead)
        values = self._eval_local(expr, env, ctx) if isinstance(expr, Local) and expr.tag == "local" else None
        if not values or not all(isinstance(v, ExprVal) for v in values):
            return None
        out: list[str] = []
        for value in sorted(values, key=repr):
            strings = self._strings(value.expr, env, ctx, depth + 1)
            if strings is None:
                return None
            out.extend(strings)
        return out[:16]

    def _inlined_condition(self, call: Call, ctx: Context) -> Optional[Expr]:
        """``.where(self._session_filter(tbl, user_id, sid))`` where the project function
        is one ``return (tbl.c.user_id == user_id) & ...``: the condition it returns, with
        the call's arguments in place of its parameters (as if written at the call)."""
        if ctx.depth >= MAX_DEPTH or len(self._inlining) >= 3:
            return None
        found = self._callee(call, ctx)
        if found is None or found[1].star_kwargs or found[1].qualname in self._inlining:
            return None
        module, body = found
        statements = [st for st in self._statements(body)
                      if not (isinstance(st, ExprStmt) and isinstance(st.value, Const))]  # a docstring
        returned = statements[0].value if len(statements) == 1 and isinstance(statements[0], Return) else None
        if len(statements) == 2 and isinstance(statements[0], If) and not statements[0].orelse \
                and len(statements[0].then) == 1 and isinstance(statements[0].then[0], Return) \
                and isinstance(statements[1], Return) and statements[0].then[0].value is not None \
                and statements[1].value is not None:
            # ``if self.workspace_scoped: return (T.workspace_id == ws,)`` then another
            # return: the filter is one or the other - what both scope
            branches = (statements[0].then[0].value, statements[1].value)
            if all(_condition_shaped(b) for b in branches):
                returned = Call(Name("sqlalchemy.or_"), tuple(_as_conjunction(b) for b in branches), (),
                                call.line, call.column)
        if returned is None or not _condition_shaped(returned):
            return None
        params = list(body.params)
        bound: dict[str, Expr] = {}
        if body.class_name is not None and params[:1] == ["self"]:
            bound["self"] = SELF
            params = params[1:]
        if any(isinstance(arg, Star) for arg in call.args) or any(key == "**" for key, _v in call.kwargs):
            return None
        bound.update(zip(params, call.args))
        bound.update((key, value) for key, value in call.kwargs if key in params)
        if any(p not in bound for p in params):
            return None  # a default (kept as the extractor wrote it, not as typed IR)
        self._inlining.add(body.qualname)
        try:
            return _substituted(returned, bound)
        finally:
            self._inlining.discard(body.qualname)

    def _queued_call(self, call: Call) -> Call:
        """A project function queued as a task (Celery's ``export.delay(pv.id)``,
        ``export.apply_async(args=[pv.id])``, a signature ``export.s(pv.id)`` / ``.si(...)``
        for a chain or a group; RQ's ``queue.enqueue(export, pv.id)`` and ``send_task`` by
        name are not read): the call the worker makes, with the same arguments. The position is the
        queueing call's, so what the task's queries say is said where it was queued."""
        func = call.func
        if not isinstance(func, Name) or not func.qualified.endswith((".delay", ".apply_async", ".s", ".si")):
            return call
        target, method = func.qualified.rsplit(".", 1)
        if not isinstance(self.index.symbols.lookup(Name(target)), (Function, FunctionBody)):
            return call
        if method in ("delay", "s", "si"):  # (``chain(export.s(id), ...)``: a call to come)
            return Call(Name(target), call.args, call.kwargs, call.line, call.column)
        given = dict(call.kwargs)
        args = given.get("args", call.args[0] if call.args else None)
        kwargs = given.get("kwargs", call.args[1] if len(call.args) > 1 else None)
        if (args is not None and not isinstance(args, Sequence)) or (
                kwargs is not None and not isinstance(kwargs, DictDisplay)):
            return call
        pairs = tuple((k.value, v) for k, v in kwargs.pairs if isinstance(k, Const) and isinstance(k.value, str)
                      and k.value != "**") if isinstance(kwargs, DictDisplay) else ()
        return Call(Name(target), args.items if args is not None else (), pairs, call.line, call.column)

    def _callee(self, call: Call, ctx: Context) -> Optional[tuple[ModuleFacts, FunctionIR]]:
        """The project function a plain call (``helper(x)``, ``self.helper(x)``) runs."""
        func = call.func
        if isinstance(func, Attr) and func.value == SELF and ctx.cls is not None:
            return self._find_method(ctx.cls, func.name)
        if isinstance(func, Name):
            sym = self.index.symbols.lookup(func)
            if isinstance(sym, FunctionBody):
                return sym.module, sym.body
            if isinstance(sym, Function):
                body = _function_body(sym.module, sym.fact.name)
                return (sym.module, body) if body is not None else None
        return None

    def _refuses_other_owners(self, call: Call, ctx: Context) -> bool:
        """Whether the check a call runs compares the owner of a row it is handed with
        who asks, and leaves when they differ: ``if not shelf.is_public and
        shelf.user_id != current_user.id: return False`` (calibre-web's
        ``check_shelf_edit_permissions(shelf)``, who asks read inside)."""
        found = self._callee(call, ctx)
        if found is None:
            return False
        if self.index.tracking:  # the answer is read from the check's body (and kept for every module)
            self.index.note("bodies", found[0].path)
        known = self._refusers.get(found[1].qualname)
        if known is None:
            known = self._refusers[found[1].qualname] = self._checks_owners_of_params(found[1])
        return known

    def _checks_owners_of_params(self, body: FunctionIR) -> bool:
        params = set(body.params) - {"self", "cls"}
        words = owner_attributes(self.config)

        def compares(node: object) -> bool:
            if isinstance(node, Compare) and len(node.ops) == 1:
                sides = (unconverted(node.left), unconverted(node.ops[0][1]))  # int(current_user.id)
                if any(owner_attribute_base(a, words, self.config.tenant_columns) in params
                       and names_who_asks(b, self.config)
                       for a, b in (sides, sides[::-1])):
                    return True
            return isinstance(node, tuple) and any(compares(part) for part in node)

        def walk(block: Block) -> bool:
            for stmt in block:
                if isinstance(stmt, If) and exits(stmt.then) and compares(stmt.test):
                    return True
                if isinstance(stmt, Try) and walk(stmt.body):
                    return True
            return False

        return walk(self._statements(body))

    def _local_condition(self, expr: Local, env: Env, ctx: Context,
                         notes: Optional["_Notes"]) -> tuple[frozenset[str], list[Term], bool]:
        values = env.get(expr.name, frozenset())
        # ``siblings = exists().where(...)`` then ``.where(..., siblings)``: read as written
        values = frozenset(v for v in values if not (isinstance(v, QueryVal) and v.subquery)) or values
        conds = [v.expr for v in values if isinstance(v, ExprVal)]
        if len(conds) == 1 and len(values) == 1:
            return self._condition(conds[0], env, ctx, notes)
        if conds and len(conds) == len(values):
            # a condition built one way or another on each path: what every way scopes
            judged = [self._condition(cond, env, ctx) for cond in sorted(conds, key=repr)]
            if notes is not None:
                notes.unknown = True
            return frozenset.intersection(*(j[0] for j in judged)), [], any(j[2] for j in judged)
        return frozenset(), [], True

    def _conjunction(self, conditions: Iterable[Expr], env: Env, ctx: Context,
                     notes: Optional["_Notes"]) -> tuple[frozenset[str], list[Term], bool]:
        scoped: set[str] = set()
        terms: list[Term] = []
        opaque = False
        for condition in conditions:
            s, t, o = self._condition(condition, env, ctx, notes)
            scoped |= s
            terms += t
            opaque = opaque or o
        return frozenset(scoped), terms, opaque

    def _unknown_term(self, expr: Expr, notes: Optional["_Notes"]) -> tuple[frozenset[str], list[Term], bool]:
        """A term the analysis cannot read: it cannot scope the query, and hides it only
        when it may be the tenant filter itself (it names a tenant column, or calls a
        function that may build one). ``T.meta["k"].as_boolean()``, ``text("deleted_at is
        null")`` or an optional raw filter leave the rest of the query to be judged."""
        if notes is not None:
            notes.unknown = True
        return frozenset(), [], self._could_scope(expr)

    def _could_scope(self, expr: Expr) -> bool:
        tenant = self.config.tenant_columns
        stack: list = [expr]
        while stack:
            node = stack.pop()
            if type(node) is tuple:
                stack.extend(node)
            elif isinstance(node, Const):
                if isinstance(node.value, str) and any(column in node.value for column in tenant):
                    return True
            elif isinstance(node, Name):
                if node.qualified.startswith("?.") or self._names_tenant_column(node):
                    return True
            elif isinstance(node, Attr):
                if node.name in tenant:
                    return True
                stack.append(node.value)
            elif isinstance(node, Call):
                if isinstance(node.func, Name):
                    sym = self.index.symbols.lookup(node.func)
                    passed = tuple(node.args) + tuple(value for _key, value in node.kwargs)
                    if lib_name_of(sym) is None and not isinstance(sym, ClassAttr) and (
                            not passed or any(names_who_asks(arg, self.config) for arg in passed)):
                        # a project function (or one we cannot see) told who asks - or
                        # nothing, reading it from a context - may build the tenant filter
                        return True
                stack.append(node.func)
                stack.extend(node.args)
                stack.extend(value for _key, value in node.kwargs)
            elif isinstance(node, Local):
                continue  # a value inside the term, not the condition
            elif isinstance(node, IfExp):
                # ``DBE.updated_at if getattr(DBE, "updated_at", None) else None``: one of
                # the values, whatever picks it
                stack.extend((node.body, node.orelse))
            elif isinstance(node, tuple):
                stack.extend(node[1:])
        return False

    def _names_tenant_column(self, name: Name) -> bool:
        sym = self.index.symbols.lookup(name)
        if not isinstance(sym, ClassAttr) or not sym.path:
            return False
        info = self.index.classes.get(sym.cls.qualname)
        if info is None or info.table is None:
            return sym.path[-1] in self.config.tenant_columns
        column = info.table.column_by_attribute(sym.path[-1])
        return column is not None and column.name in self.config.tenant_columns

    def _same_type(self, table_name: str, column: str, target: Expr) -> bool:
        table = self._table_named(table_name)
        col = table.column(column) if table is not None else None
        if col is None or not col.type_name:
            return False
        if isinstance(target, Name):
            name = target.qualified
        elif isinstance(target, Call) and isinstance(target.func, Name):
            name = target.func.qualified
        else:
            name = ""
        wanted = name.rsplit(".", 1)[-1].lower()
        have = col.type_name.rsplit(".", 1)[-1].lower()
        aliases = {"uuid": "uuid", "guid": "uuid", "text": "text", "string": "varchar", "varchar": "varchar",
                   "integer": "integer", "int": "integer", "biginteger": "bigint", "bigint": "bigint"}
        return bool(wanted) and aliases.get(wanted, wanted) == aliases.get(have, have)

    def _is_row_key(self, table_name: str, column: str) -> bool:
        """The primary key, or a unique ``id`` beside a surrogate one (tracecat's models),
        or a UUID key beside the tenant column in a composite primary key (Memobase's
        ``PrimaryKeyConstraint("id", "project_id")``)."""
        table = self._table_named(table_name)
        if table is None:
            return False
        if table.primary_key == [column]:
            return True
        col = table.column(column)
        if column in table.primary_key and len(table.primary_key) > 1 and column not in self.config.tenant_columns \
                and all(key == column or key in self.config.tenant_columns for key in table.primary_key):
            # (a UUID is one row's wherever it is; a number per tenant - an issue's ``iid`` -
            # names a row in every tenant)
            return col is not None and "uuid" in (col.type_name or "").lower()
        return column == "id" and col is not None and col.unique

    def _own_unscoped_paths(self, results: ValueSet, body: FunctionIR, ctx: Context) -> ValueSet:
        """A query builder that scopes on one path and not on another its callers cannot
        choose (``if not config.SERVER_MODE: return Server.query``, then the owner filter):
        the unscoped path is the builder's own, reported once at it, not at every caller
        that runs what it built. A builder that never scopes is a base query its callers
        narrow, and is judged at each of them."""
        if ctx.summary or [p for p in body.params if p not in ("self", "cls")]:
            return results
        built = [r for r in results if isinstance(r, QueryVal) and r.param is None and not r.opaque]
        open_paths = [q for q in built if unscoped_table(self.index, self.config, q) is not None]
        if not open_paths or len(open_paths) == len(built):
            return results
        for query in open_paths:
            self._apply_once(("use", QueryUse(query.kind, query, None, query.path, query.line, query.column,
                                              body.qualname)))
        return results - frozenset(open_paths)

    def _names_one_row(self, table_name: str, column: str) -> bool:
        """Whether ``column`` alone is a unique key of the table (its primary key, ``unique=True``,
        a one-column unique constraint)."""
        table = self._table_named(table_name)
        if table is None:
            return False
        if table.primary_key == [column]:
            return True
        col = table.column(column)
        return (col is not None and col.unique) or any(
            index.unique and index.columns == [column] for index in table.indexes + table.unique_constraints)

    def _hybrid_expression(self, info: "ClassInfo", name: str) -> Optional[tuple[str, str, None]]:
        """``Content.workspace_id`` whose ``@workspace_id.expression`` returns
        ``ContentRevisionRO.workspace_id`` (Tracim): the column SQL compares."""
        key = (info.ref.qualname, name)
        if key not in self._hybrids:
            self._hybrids[key] = self._read_hybrid_expression(info, name)
        return self._hybrids[key]

    def _read_hybrid_expression(self, info: "ClassInfo", name: str) -> Optional[tuple[str, str, None]]:
        for ref in self._mro(info.ref):
            for body in ref.module.bodies:
                if body.class_name != ref.fact.name or body.name != name or not any(
                        decorated_by(dec)[1] == "expression" for dec in body.decorators):
                    continue
                statements = [st for st in body.body if not (st[0] == "expr" and isinstance(st[1], Const))]
                if len(statements) != 1 or statements[0][0] != "return" or not isinstance(statements[0][1], Name):
                    return None
                target = self.index.symbols.lookup(statements[0][1])
                if not isinstance(target, ClassAttr) or len(target.path) != 1 or target.cls.qualname == info.ref.qualname:
                    return None
                other = self.index.classes.get(target.cls.qualname)
                table = other.table if other is not None else None
                column = self._attribute_column(table, target.path[0]) if table is not None and table.key else None
                return (table.key, column, None) if table is not None and column is not None else None
        return None

    def _primary_key(self, table_name: str) -> list[str]:
        table = self._table_named(table_name)
        return table.primary_key if table is not None else []

    def _column(self, expr: Expr, ctx: Context, env: Optional[Env] = None) -> Optional[tuple[str, str, Optional[str]]]:
        """(table, column, wrapper) for ``T.col``, ``func.lower(T.col)``, ``cast(T.col, X)``,
        and ``model.col`` where the local ``model`` holds one mapped class."""
        if env is not None and isinstance(expr, Attr) and isinstance(expr.value, Local) \
                and expr.value.tag in ("param", "local"):
            held = env.get(expr.value.name, frozenset())
            if len(held) == 1 and isinstance(next(iter(held)), ClassVal):
                table = self._table_named(next(iter(held)).table)
                column = self._attribute_column(table, expr.name) if table is not None else None
                if table is not None and table.key and column is not None:
                    return table.key, column, None
        if isinstance(expr, Name):
            sym = self.index.symbols.lookup(expr)
            if isinstance(sym, Value) and len(sym.rest) == 2 and sym.rest[0] in ("c", "columns"):
                name = self._table_object(replace(sym, rest=()))  # watchlist.c.user_id
                table = self._table_named(name) if name else None
                if table is not None and table.name and any(c.name == sym.rest[1] for c in table.columns):
                    return table.key, sym.rest[1], None
                return None
            if isinstance(sym, ClassAttr) and len(sym.path) == 1:
                info = self.index.classes.get(sym.cls.qualname)
                if info is not None and info.table is not None and info.table.key:
                    column = self._attribute_column(info.table, sym.path[0])
                    if column is not None:
                        return info.table.key, column, None
                    inherited = self._inherited_column(info.table, sym.path[0])
                    if inherited is not None:
                        return inherited[0], inherited[1], None
                    aliased = self._hybrid_expression(info, sym.path[0])
                    if aliased is not None:
                        return aliased
                    if not sym.path[0].startswith("_") and info.table.complete is not None:
                        # a hybrid_property / column_property (CTFd's account_id): it can
                        # scope, but no index serves it
                        return info.table.key, sym.path[0], "expression"
            return None
        if isinstance(expr, Attr) and expr.value == CLS:
            # cls.org_id / cls.org in a model's own classmethod (self.org_id is a value)
            own = _own_table(ctx)
            column = self._attribute_column(own, expr.name) if own is not None else None
            return (own.key, column, None) if own is not None and own.key and column is not None else None
        if isinstance(expr, Attr) and ctx.cls is not None and isinstance(expr.value, Attr):
            # self.model.user_id, where self.model names a mapped class
            table_name = self._entity(expr.value, ctx)
            table = self._table_named(table_name) if table_name else None
            if table is not None and table.key:
                col = table.column_by_attribute(expr.name)
                if col is not None:
                    return table.key, col.name, None
                return table.key, expr.name, "expression"
            return None
        if isinstance(expr, Call):
            func = expr.func
            lib = self.index.symbols.lib_name(func) if isinstance(func, Name) else None
            if lib == "sqlmodel:col" and expr.args:
                return self._column(expr.args[0], ctx)  # SQLModel's typing helper, not a wrapper
            if isinstance(func, Name) and (func.qualified.rsplit(".", 1)[-1] in ("lower", "upper", "trim", "date",
                                                                                "coalesce")
                                           and _sql(lib) and expr.args):
                inner = self._column(expr.args[0], ctx)
                if inner is not None:
                    return inner[0], inner[1], func.qualified.rsplit(".", 1)[-1]
            if _sql(lib) == "cast" and expr.args:
                inner = self._column(expr.args[0], ctx)
                if inner is not None:
                    target = expr.args[1] if len(expr.args) > 1 else None
                    if target is not None and self._same_type(inner[0], inner[1], target):
                        return inner  # PostgreSQL drops a cast to the column's own type
                    return inner[0], inner[1], "cast"
        return None

    def _is_constant(self, expr: Expr) -> bool:
        if isinstance(expr, Const):
            return True
        if isinstance(expr, Sequence):
            return all(self._is_constant(e) for e in expr.items)
        if isinstance(expr, Name):
            sym = self.index.symbols.lookup(expr)
            if isinstance(sym, Lib) and sym.name.startswith(("sa:true", "sa:false", "sa:null")):
                return True
            if isinstance(sym, Value) and not sym.rest and sym.expr[0] == "c":
                return True  # DEMO_ORG_ID = 1 at module level
        return False

    def _comparison(self, expr: Compare, env: Env, ctx: Context,
                    notes: Optional["_Notes"] = None) -> tuple[frozenset[str], list[Term], bool]:
        if len(expr.ops) != 1:
            return frozenset(), [], False
        left = expr.left
        op, right = expr.ops[0]
        left_col, right_col = self._column(left, ctx, env), self._column(right, ctx, env)
        if left_col is None and right_col is not None:
            left_col, right, left = right_col, left, right
            op = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op)
        elif left_col is not None and right_col is not None:
            return frozenset(), [], False  # a join condition
        if left_col is None:
            # a local's attribute (``cls_.user_id`` where cls_ names one model or another,
            # ``sub.c.user_id`` of a local subquery) may be the tenant column: unknown
            unknown = (isinstance(left, Local) and left.tag in ("local", "param")) or (
                isinstance(left, Attr) and isinstance(left.value, Local) and left.value.tag == "local")
            if isinstance(left, Local) and left.tag == "local":
                held = env.get(left.name, frozenset())
                if held and all(isinstance(value, ExprVal) for value in held):
                    # a local built from what we can read (one way or another): unknown
                    # only if it may be the tenant column
                    unknown = any(self._could_scope(value.expr) for value in held)
            if notes is not None:
                notes.unknown = True
            return frozenset(), [], unknown
        table, column, wrapped = left_col
        constant = self._is_constant(right)
        if (table == self.config.tenant_table and op == "==" and not constant and wrapped is None
                and self._names_one_row(table, column)):
            # join(User, Note.user_id == User.id).where(User.id == uid): every joined
            # owned row belongs to that tenant (``Workspace.name == name``: a unique key too)
            return frozenset({TENANT_ROW}), [Term(table, column, "==", None, expr.line, expr.column, False)], False
        if op == "==" and not constant and wrapped is None and self._own_tenant_row(table, column, right):
            # ``Workspace.id == self.workspace_id``: the row a tenant column of the
            # caller's names - its own workspace, as scoped as the tenant value is
            return (frozenset({table}), [Term(table, column, "==", None, expr.line, expr.column, False)], False)
        kind = {"==": "==", "<": "range", ">": "range", "<=": "range", ">=": "range",
                "is": "is", "!=": "!=", "is not": "!="}.get(op, "other")
        if kind == "!=" and right == NONE:
            kind = "notnull"  # IS NOT NULL: a b-tree index on the column can serve it
        term = Term(table, column, kind, wrapped, expr.line, expr.column, constant)
        scoped: frozenset[str] = frozenset()
        if column in self.config.tenant_columns and wrapped in (None, "expression") and (
                (op == "==" and not constant) or (op in ("==", "is") and right == NONE)):
            # ``T.tenant_id == tid``; ``T.tenant_id.is_(None)``: the rows no tenant owns
            scoped = frozenset({table})
        elif wrapped is None and (token := self._value_scopes(table, column, op, right, constant, env, ctx, notes)):
            scoped = frozenset({token})
        if notes is not None and op == "==" and not constant:
            self._note_key(table, column, right, notes)
            if names_who_asks(right, self.config):
                notes.asks = True
            if self._own_key(table, column) and self._who_asks(right, env) and not self._loaded(right, env):
                notes.mine.add(table)
        return scoped, [term], False

    def _value_scopes(self, table: str, column: str, op: str, value: Expr, constant: bool, env: Env, ctx: Context,
                      notes: Optional["_Notes"]) -> str:
        """What ``table.column <op> value`` (no tenant column) scopes: ``table`` when it
        keeps one tenant's rows, ``table + PUBLISHED`` when the rows their owners
        published, else ""."""
        if table == self.config.tenant_table and op == "==" and not constant and (
                self._names_one_row(table, column) or _TENANT_IDENTIFIER.search(column)):
            # ``join(Workspace).filter_by(name=workspace_name)``: one tenant's rows
            return TENANT_ROW
        if constant:
            # ``Shelf.is_public == 1``: other tenants' rows, but only those published -
            # beside ``Shelf.user_id == me`` in an or_, mine or public (see _either)
            return table + PUBLISHED if op in ("==", "is") and _shares_rows(column, value) else ""
        if op != "==":
            return ""
        # the id of a row held here: ``Message.agent_id == agent.id``; ``Comment.author_id
        # == user.id`` on a table owned through its task: the rows that belong to who asks
        return table if self._held_reference(table, column, value, env, ctx, notes) or (
            self._who_asks(value, env) and self._names_the_tenant(table, column)) or (
            self._grant_key(table, column) and self._names_an_account(value, env) and not self._loaded(value, env)) or (
            self._held_row_key(table, column, value, env, ctx, notes)) else ""

    def _held_row_key(self, table: str, column: str, value: Expr, env: Env, ctx: Context,
                      notes: Optional["_Notes"]) -> bool:
        """``Facet.scenario == scenario`` (SQL compares the key): the row itself, held here,
        as ``Facet.scenario_id == scenario.id`` would name it."""
        if not isinstance(value, Local) or value.tag not in ("local", "param"):
            return False
        own = self._table_named(table)
        col = own.column(column) if own is not None else None
        targets = {fk.target_column for fk in col.foreign_keys if fk.target_column} if col is not None else set()
        return len(targets) == 1 and self._held_reference(table, column, Attr(value, targets.pop()), env, ctx, notes)

    def _own_tenant_row(self, table_name: str, column: str, right: Expr) -> bool:
        """``T.<primary key> == <x>.workspace_id`` where ``workspace_id`` is a tenant
        column naming ``T`` (``workspace`` / ``workspaces``): the tenant's own row."""
        table = self._table_named(table_name)
        col = table.column(column) if table is not None else None
        if col is None or not (table.primary_key == [column] or col.unique):  # type: ignore[union-attr]
            return False  # (tracecat's workspace: a surrogate key, and a unique ``id``)
        name = right.name if isinstance(right, Attr) else right.name if isinstance(right, Local) else \
            right.qualified.rsplit(".", 1)[-1] if isinstance(right, Name) else ""
        if name not in self.config.tenant_columns or not name.endswith("_id"):
            return False
        base = name[:-3]
        return table_name in (base, base + "s", base + "es")

    def _who_asks(self, expr: Expr, env: Env) -> bool:
        """``user.id`` / ``self.user.id``; or (an attribute of) a parameter every call
        handed one of them, or a local a getter of who asks made (``customer_id =
        get_customer_id(auth_subject)``)."""
        expr = unconverted(expr)  # ``uuid.UUID(user_id)``
        if names_who_asks(expr, self.config):
            return True
        while isinstance(expr, Attr):
            expr = expr.value
        values = env.get(expr.name, frozenset()) if isinstance(expr, Local) and expr.tag in ("param", "local") \
            else frozenset()
        return bool(values) and all(isinstance(v, ParamVal) and v.asker for v in values)

    def _held_reference(self, table: str, column: str, right: Expr, env: Env, ctx: Context,
                        notes: Optional["_Notes"]) -> bool:
        """``T.<column> == right``: whether ``right`` is the id of a held row ``column``
        refers to; the runs of the rows it was read from go to ``notes``."""
        held_ids, sources = self._held_ids(right, env, ctx)
        if notes is not None:
            notes.anchors |= sources
        if held_ids & self._references(table, column):
            return True
        if held_ids == {ANY_TABLE} and self._is_row_key(table, column):
            return True  # the row a held row's polymorphic reference names
        # ``Incident.incident_application == application.id``: a key no foreign key states,
        # compared with the primary key of a held row, names that row
        own = self._table_named(table)
        col = own.column(column) if own is not None else None
        if not held_ids or col is None or col.foreign_keys or own is None or own.primary_key == [column] \
                or not isinstance(right, Attr):
            return False
        return any(self._primary_key(name) == [right.name] and owned_by_tenant(self.index, self.config, name)
                   for name in held_ids)

    def _note_key(self, table: str, column: str, right: Expr, notes: "_Notes") -> None:
        """``T.<primary key> == local`` (or ``normalize_uuid(local)``): running the query
        vouches for the local."""
        right = unconverted(right)
        if isinstance(right, Local) and right.tag in ("param", "local") and self._is_row_key(table, column):
            notes.keys.append((table, right.name))

    def _call_condition(self, expr: Call, env: Env, ctx: Context,
                        notes: Optional["_Notes"] = None) -> tuple[frozenset[str], list[Term], bool]:
        """``T.col.in_(ids)``, ``T.col.is_(None)``, ``T.col.ilike(x)``, ``T.col.between(a, b)``."""
        func = expr.func
        base: Expr
        if isinstance(func, Name) and "." in func.qualified:
            base_name, method = func.qualified.rsplit(".", 1)
            base = Name(base_name)
        elif isinstance(func, Attr):
            base, method = func.value, func.name
        else:
            return self._unknown_term(expr, notes)  # T.col.op("@>")(x)
        if method == "exists" and not expr.args and not expr.kwargs:
            published = self._published_parents(base, env, ctx)
            if published:
                return published, [], False
        if method == "has" and (len(expr.args) == 1 and not expr.kwargs or expr.kwargs and not expr.args):
            owner = self._scoped_through_has(base, expr.args[0] if expr.args else None, env, ctx, expr.kwargs)
            if owner is not None:
                return frozenset({owner}), [], False
        column = self._column(base, ctx, env)
        if column is None:
            # T.meta["k"].as_boolean(), a function of a column we do not follow
            return self._unknown_term(expr, notes)
        table, name, wrapper = column
        args = expr.args
        constant = all(self._is_constant(a) for a in args)
        line, col = expr.line, expr.column
        if method == "in_":
            scoped = frozenset({table}) if (name in self.config.tenant_columns and args and not constant
                                            and wrapper in (None, "expression")) else frozenset()
            if len(args) == 1 and isinstance(args[0], Sequence) and not args[0].items:
                scoped = frozenset({table})  # ``T.case_id.in_([])``: no rows at all (who asks may see none)
            if args and not scoped and self._scoped_subquery(args[0], env, ctx):
                # T.id.in_(select(L.t_id).where(L.org_id == org)): a semi-join on scoped rows
                scoped = frozenset({table})
            if args and not scoped and not constant and wrapper is None:
                held, sources = self._held_ids(args[0], env, ctx, many=True)
                if held & self._references(table, name):
                    scoped = frozenset({table})  # T.agent_id.in_(ids of agents held here)
            return scoped, [Term(table, name, "in", wrapper, line, col, constant)], False
        if method == "is_":
            # the rows no tenant owns (``T.tenant_id.is_(None)``): shared, not another tenant's;
            # ``T.is_public.is_(True)``: published by their owners
            scoped = frozenset({table}) if (name in self.config.tenant_columns and args and args[0] == NONE
                                            and wrapper in (None, "expression")) else \
                frozenset({table + PUBLISHED}) if args and wrapper is None and _shares_rows(name, args[0]) else frozenset()
            return scoped, [Term(table, name, "is", wrapper, line, col, True)], False
        if method in ("isnot", "is_not"):
            kind = "notnull" if args and args[0] == NONE else "!="
            return frozenset(), [Term(table, name, kind, wrapper, line, col, True)], False
        if method == "between":
            return frozenset(), [Term(table, name, "range", wrapper, line, col, constant)], False
        if method == "ilike":
            return frozenset(), [Term(table, name, "like", wrapper or "ilike", line, col, constant)], False
        if method in ("like", "startswith", "contains", "endswith"):
            pattern = args[0] if args else None
            leading_wildcard = method in ("contains", "endswith") or _leading_wildcard(pattern)
            kind = "like" if leading_wildcard or pattern is None or method != "like" else "range"
            return frozenset(), [Term(table, name, kind, wrapper or ("like%" if leading_wildcard else None),
                                      line, col, constant)], False
        return frozenset(), [], False

    def _published_parents(self, subquery: Expr, env: Env, ctx: Context) -> frozenset[str]:
        """``query(Server.id).filter(Server.group_id == Group.id, Server.shared).exists()``:
        the rows of the tables the shared rows belong to (a group holding a shared server)
        are published as well - beside the owner's own in an ``or_``, mine or shared."""
        values = self._eval(subquery, env, ctx)
        queries = [v for v in values if isinstance(v, QueryVal)]
        if not queries or len(queries) != len(values):
            return frozenset()
        shared = set.intersection(*({t[:-len(PUBLISHED)] for t in q.scoped if t.endswith(PUBLISHED)}
                                    for q in queries))
        parents = {fk.target_table for name in shared for table in [self._table_named(name)] if table is not None
                   for _cols, fk in table.all_foreign_keys()
                   if fk.target_table and fk.target_table != self.config.tenant_table}
        return frozenset(parent + PUBLISHED for parent in parents)

    def _scoped_through_has(self, base: Expr, inner: Optional[Expr], env: Env, ctx: Context,
                            keywords: tuple[tuple[str, Expr], ...] = ()) -> Optional[str]:
        """``Comment.task.has(Task.user_id == me)``: the table of a row owned through its
        parent (no tenant column of its own) whose many-to-one parent the condition
        scopes; on a table with its own column, its parent's owner is not its own - unless
        the parent is the tenant itself (``Rule.user.has(name=username)``, through the
        tenant column). ``inner`` is the condition, else ``keywords`` are those of ``has(k=v)``."""
        if not isinstance(base, Name):
            return None
        sym = self.index.symbols.lookup(base)
        if not isinstance(sym, ClassAttr) or len(sym.path) != 1:
            return None
        info = self.index.classes.get(sym.cls.qualname)
        table = info.table if info is not None else None
        if table is None or not table.key:
            return None
        rel = next((r for r in table.relationships if r.attribute == sym.path[0]), None)
        # (``has`` is only defined on a relationship to one row: no direction to check)
        target = self._relationship_table(rel) if rel is not None and not rel.secondary else None
        if rel is None or target is None:
            return None
        if tenant_owned(self.index, self.config, table.key) is not None and not (
                target == self.config.tenant_table
                and (self._many_to_one_column(table, rel.attribute) or "") in self.config.tenant_columns):
            return None
        if inner is None:
            scoped = frozenset({target}) if any(
                not self._is_constant(value) and (key in self.config.tenant_columns or (
                    target == self.config.tenant_table and self._names_one_row(target, key)))
                for key, value in keywords if key != "**") else frozenset()
        else:
            scoped, _terms, _unknown = self._condition(inner, env, ctx)
        return table.key if target in scoped or (target == self.config.tenant_table and TENANT_ROW in scoped) \
            else None

    def _select_of_subquery(self, args: tuple, env: Env, ctx: Context) -> ValueSet:
        """``select(candidates.c.id)`` of a local CTE / subquery: its rows, as scoped as it."""
        if len(args) != 1 or not isinstance(args[0], Attr):
            return frozenset()
        base = args[0].value
        if isinstance(base, Attr) and base.name in ("c", "columns"):
            base = base.value
        if not isinstance(base, Local) or base.tag != "local":
            return frozenset()
        values = frozenset(v for v in env.get(base.name, frozenset()) if not isinstance(v, ExprVal))
        if values and all(isinstance(v, QueryVal) and v.subquery for v in values):
            return frozenset(replace(v, subquery=False) for v in values)  # a statement again
        return frozenset()

    def _scoped_subquery(self, arg: Expr, env: Env, ctx: Context) -> bool:
        values = frozenset(v for v in self._eval(arg, env, ctx) if not isinstance(v, ExprVal)) or NOTHING
        queries = [v for v in values if isinstance(v, QueryVal)]
        return bool(queries) and len(queries) == len(values) and all(
            not q.opaque and unscoped_table(self.index, self.config, q) is None
            and any(owned_by_tenant(self.index, self.config, t) for t in q.tables + q.joined)
            for q in queries)

    def _filter_by(self, query: QueryVal, kwargs: tuple[tuple[str, Expr], ...], env: Env, ctx: Context,
                   line: int, col: int) -> QueryVal:
        # filter_by applies to the last joined entity, else the first one.
        entity = query.joined[-1] if query.joined else (query.tables[0] if query.tables else None)
        if entity is None:
            if query.param is not None and kwargs and all(
                    key != "**" and key not in self.config.tenant_columns for key, _value in kwargs):
                # a helper handed the caller's query (Magnum's ``add_identity_filter(query,
                # id)``): keys none of which is the tenant column cannot scope it
                return replace(query, filtered=True, partial=True)
            return replace(query, opaque=True)
        table = self._table_named(entity)
        scoped = set(query.scoped)
        terms = list(query.terms)
        notes = _Notes()
        partial = False
        for key, value in kwargs:
            target = entity
            if key == "**":
                # filter_by(**filters): scoped when every path put the tenant column in it
                told = [key for key in self._tenant_keys(table, value.name, env)
                        if self._dict_key_set(value.name, key, env)] if isinstance(value, Local) else []
                if told:
                    scoped.add(target)
                    partial = True
                    column = (self._attribute_column(table, told[0]) if table is not None else None) or told[0]
                    terms.append(Term(target, column, "==", None, line, col, False))
                    continue
                if isinstance(value, Local) and self._computed_key_asks(value.name, env, ctx):
                    # ``kwargs[cls._user_column_name()] = current_user.id``: only the owner
                    # column takes who asks under a key worked out at run time
                    scoped.add(target)
                    partial = True
                    continue
                if isinstance(value, Local) and self._dict_keys(value.name, env) is not None:
                    continue  # a ``**kwargs`` whose keys every call names: none is the tenant's
                if isinstance(value, Local) and value.tag == "local" and self._dict_built_here(value.name, env):
                    continue  # a dict built here, its tenant key set on some paths only (or none)
                return replace(query, opaque=True)
            name = (self._attribute_column(table, key) if table is not None else None) or key
            inherited = self._inherited_column(table, key) if table is not None and name == key \
                and table.column(key) is None else None
            target = inherited[0] if inherited is not None else entity
            name = inherited[1] if inherited is not None else name
            constant = self._is_constant(value)
            if name in self.config.tenant_columns and not constant:
                scoped.add(target)
            else:
                # as ``T.<name> == value``: a held row's id scopes it, a key is vouched for
                token = self._value_scopes(target, name, "==", value, constant, env, ctx, notes)
                if token:
                    scoped.add(token)
                if not constant:
                    self._note_key(target, name, value, notes)
                    if self._own_key(target, name) and self._who_asks(value, env) and not self._loaded(value, env):
                        notes.mine.add(target)
            terms.append(Term(target, name, "==", None, line, col, constant))
        return _own_rows(self._with_inherited_tables(replace(
            query, scoped=frozenset(scoped), terms=tuple(terms), filtered=True, keys=query.keys + tuple(notes.keys),
            anchors=query.anchors | notes.anchors, partial=query.partial or partial,
            mine=query.mine | frozenset(notes.mine))))

    @staticmethod
    def _dict_keys(name: str, env: Env) -> Optional[tuple[str, ...]]:
        """Every key of ``name``, when they are all known (a ``**kwargs`` the call named)."""
        values = env.get(f"{name}{{*}}", frozenset())
        if len(values) == 1:
            value = next(iter(values))
            if isinstance(value, ExprVal) and isinstance(value.expr, Const) and isinstance(value.expr.value, tuple):
                return value.expr.value
        return None

    def _tenant_keys(self, table: Optional[TableModel], name: str, env: Env) -> set[str]:
        """The keys of ``filter_by(**name)`` that name the tenant column: the column, or a
        relationship whose key it is (``View.get_or_create(name=n, sketch=sketch)``)."""
        keys = set(self.config.tenant_columns)
        if table is not None:
            candidates = {rel.attribute for rel in table.relationships} | set(self._dict_keys(name, env) or ())
            keys |= {key for key in candidates if self._attribute_column(table, key) in self.config.tenant_columns}
        return keys

    def _dict_built_here(self, name: str, env: Env) -> bool:
        """A local bound to a dict of literal keys on every path (and given no key worked
        out at run time): each tenant column it holds somewhere is recorded, present or not."""
        return env.get(f"{name}{{#}}", frozenset()) == _BUILT_HERE \
            and not env.get(f"{name}{{?}}", frozenset()) \
            and all(env.get(f"{name}{{{column}}}", frozenset()) for column in self.config.tenant_columns)

    def _computed_key_asks(self, name: str, env: Env, ctx: Context) -> bool:
        """Whether every path stored who asks under a computed key of ``name``."""
        values = env.get(f"{name}{{?}}", frozenset())

        def asks(value: object) -> bool:
            if not isinstance(value, ExprVal):
                return False
            if isinstance(value.expr, Local) and value.expr.tag == "local":
                held = env.get(value.expr.name, frozenset())
                return bool(held) and all(isinstance(v, ParamVal) and v.asker for v in held)
            return names_who_asks(value.expr, self.config)
        return bool(values) and all(asks(value) for value in values)

    @staticmethod
    def _dict_key_set(name: str, key: str, env: Env) -> bool:
        """Whether every path stored a non-constant value under ``name[key]``."""
        values = env.get(f"{name}{{{key}}}", frozenset())
        return bool(values) and all(isinstance(v, ExprVal) and not isinstance(v.expr, Const) for v in values)

    # ------------------------------------------------------------------ scope helpers

    def _is_scope_helper(self, name: str) -> bool:
        return any(helper == name or helper.rsplit(".", 1)[-1] == name for helper in self.config.scope_helpers)

    def _scope_all(self, value: Val) -> Val:
        if isinstance(value, QueryVal):
            return replace(value, scoped=frozenset(value.tables) | frozenset(value.joined) | value.scoped,
                           filtered=True)
        return value

    # ------------------------------------------------------------------ project functions

    def _super_method(self, ctx: Context, name: str) -> Optional[tuple[ModuleFacts, FunctionIR]]:
        """The method ``super().<name>`` runs: the first after the class whose method this is,
        in the method resolution order of the instance's class."""
        if ctx.cls is None or ctx.function.class_name is None:
            return None
        order = self._mro(ctx.cls.ref)
        here = next((i for i, ref in enumerate(order) if ref.fact.name == ctx.function.class_name
                     and ref.module.path == ctx.module.path), None)
        if here is None:
            return None
        for ref in order[here + 1:]:
            for body in ref.module.bodies:
                if body.class_name == ref.fact.name and body.name == name:
                    return ref.module, body
        return None

    def _query_class_method(self, model: ClassRef, method: str
                            ) -> Optional[tuple["ClassInfo", tuple[ModuleFacts, FunctionIR]]]:
        """The project's own ``method`` of the query class a model names (Flask-SQLAlchemy's
        ``query_class = PersonQuery``, often a class nested in the model)."""
        for attr, owner in self._attributes_in_mro(model):
            if attr.name != "query_class" or attr.value is None or attr.value[0] != "n":
                continue
            last = attr.value[1].rsplit(".", 1)[-1]
            info = self.index.classes.get(f"{owner.qualname}.{last}")
            if info is None:
                sym = self.index.symbols.lookup(attr.value)
                info = self.index.classes.get(sym.qualname) if isinstance(sym, ClassRef) else None
            found = self._find_method(info, method) if info is not None else None
            return (info, found) if info is not None and found is not None else None
        return None

    def _overriding_classes(self, cls: "ClassInfo", names: set[str]) -> list[tuple["ClassInfo", set[str]]]:
        """The subclasses of ``cls`` (a bounded number, nearest first) that define one of the
        methods ``names`` themselves (methods of ``cls`` and its bases), with the qualnames
        of those overrides."""
        found: list[tuple["ClassInfo", set[str]]] = []
        seen = {cls.ref.qualname}
        todo = list(self.index.subclasses_of(cls.ref.qualname))
        while todo and len(found) < MAX_OVERRIDES:
            qualname = todo.pop(0)
            if qualname in seen:
                continue
            seen.add(qualname)
            info = self.index.classes.get(qualname)
            if info is None:
                continue
            todo.extend(self.index.subclasses_of(qualname))
            own = {b.qualname for b in info.ref.module.bodies if b.class_name == info.ref.fact.name
                   and b.name in names and b.qualname.startswith(info.ref.qualname + ".")}
            if own:
                found.append((info, own))
        return found

    def _dispatched(self, module: ModuleFacts, body: FunctionIR, cls: "ClassInfo", block: Block) -> None:
        """A base class's method calling ``self.<m>()`` that subclasses override (a mixin's
        ``bulk_delete`` route runs ``self._perform_bulk_delete(ids)`` of each view built on
        it): interpreted once more as each such subclass's, for what those calls hand the
        overrides - only their observations are kept, the base's own queries are judged
        as written."""
        if not self.index.subclasses_of(cls.ref.qualname) or not _self_calls(block):
            return
        overriders = self._overriders.get(cls.ref.qualname)
        if overriders is None:
            names = {b.name for ref in self._mro(cls.ref) for b in ref.module.bodies
                     if b.class_name == ref.fact.name}
            overriders = self._overriders[cls.ref.qualname] = self._overriding_classes(cls, names)
        for sub, overrides in overriders:
            # what the calls hand on reaches an override on the way (``bulk_update`` ->
            # ``_perform_bulk_update`` -> a view's ``_post_bulk_update``)
            runners = tuple(f"{q.rsplit('.', 2)[-2]}.{q.rsplit('.', 1)[-1]}()" for q in overrides)
            ctx = Context(module, body, sub)
            with self._held_back(ctx) as held:
                self._block(block, _entry_env(body), ctx)
            for once, op in held.ops:
                if op[0] == "called" and op[1] in overrides or \
                        op[0] == "obs" and any(runner in op[2].via for runner in runners) or \
                        op[0] == "use" and _built_by_one_of(op[1], runners) \
                        and unscoped_table(self.index, self.config, op[1].query) is not None:
                    if op[0] == "use":
                        # a query an override builds and the base runs (Barbican's
                        # ``BaseRepo.get`` -> ``self._do_build_get_query(...)``) that reads
                        # a tenant's rows unscoped: reported where that override wrote it
                        op = ("use", _at_its_builder(op[1], overrides))
                    (self._apply_once if once else self.apply)(op)

    def _find_method(self, cls: "ClassInfo", name: str) -> Optional[tuple[ModuleFacts, FunctionIR]]:
        for ref in self._mro(cls.ref):
            for body in ref.module.bodies:
                if body.class_name == ref.fact.name and body.name == name:
                    return ref.module, body
        return None

    def _project_call(self, module: ModuleFacts, name: str, body: Optional[FunctionIR], expr: Call,
                      env: Env, ctx: Context, self_cls: Optional["ClassInfo"] = None,
                      models: tuple = (), followed: bool = True) -> ValueSet:
        values = self._eval_args(expr, env, ctx)
        if body is None:
            body = _function_body(module, name)
        if self._is_scope_helper(name) or (body is not None and self._is_scope_helper(body.qualname)):
            return frozenset(self._scope_all(v) for value in values[:1] for v in value) or NOTHING
        if body is None or ctx.depth >= MAX_DEPTH:
            self._arguments_escape(name, values, expr, env, ctx)
            return NOTHING
        self._owner_checked_by_call(name, values, expr, env, ctx)
        if followed:
            self._apply_once(("called", body.qualname))
        params = [p for p in body.params if p not in ("self", "cls")] if body.class_name else list(body.params)
        # positional arguments bind the positional parameters; what is left over is ``*args``
        positional = [p for p in params if p not in body.kwonly and p not in (body.star_args, body.star_kwargs)]
        bound: dict[str, ValueSet] = {}
        for param, value in zip(positional, values):
            bound[param] = value
        if body.star_args and len(values) > len(positional):
            # (what the first of them holds stands for ``*args``: ``.where(*scope)`` of the one
            # condition a caller hands; ``_secure_query(model, *columns)`` hands its own)
            bound[body.star_args] = values[len(positional)]
        for key, value_expr in expr.kwargs:
            if key in params:
                bound[key] = self._eval(value_expr, env, ctx)
        passed = dict(zip(positional, expr.args))
        passed.update((key, value) for key, value in expr.kwargs if key in params)
        # What the caller tells us about each parameter: given and not None, None, or unknown;
        # a model class; the id of a row the caller holds.
        signature: list[object] = []
        for param in params:
            if param == body.star_kwargs:
                # get_or_create(session, Workflow, tenant_id=tid, name=n): which keys the
                # callee's ``**kwargs`` holds, and whether each is a constant
                extra = [(key, value) for key, value in expr.kwargs if key not in params]
                if not any(key == "**" for key, _value in extra):
                    signature.append(("kw", tuple(sorted((key, not self._is_constant(value))
                                                         for key, value in extra))))
                    continue
            if param == body.star_args and param not in bound:
                signature.append(False)  # ``_secure_query(model)``: no ``*columns``, an empty tuple
                continue
            given = bound.get(param)
            given_expr = passed.get(param)
            if given and all(isinstance(v, ExprVal) and isinstance(v.expr, Sequence) for v in given) \
                    and _condition_lists(given) and not any(
                        self._could_scope(item) for v in given for item in v.expr.items):
                # refresh(filters) with ``filters = [T.done == False]``: conditions none of
                # which may be the tenant's, for the callee's ``.filter(*filters)``
                signature.append(("conds", tuple(sorted((v.expr for v in given), key=repr))))
                continue
            if given_expr is not None and self._who_asks(given_expr, env) \
                    and not names_who_asks(Local("param", param), self.config):
                # get_by_user(self.user.id): the callee's ``user_id`` is who asks here
                signature.append(("asks",))
                continue
            if given and given_expr is not None:
                held, _runs = self._held_ids(given_expr, env, ctx)
                if held:
                    # list_files(session, document_id=doc.id): the callee's lookups by it
                    # reach the children of a row this caller holds
                    signature.append(("id", tuple(sorted(held))))
                    continue
                held_rows = {self._held_row(v, ctx) for v in given}
                tables = {row[0] for row in held_rows if row is not None}
                if None not in held_rows and len(tables) == 1 and not any(isinstance(v, ParamVal) for v in given):
                    # purge_chunks(session, doc): the row itself, held here - its keys
                    # reach what hangs off it there too
                    signature.append(("row", tuple(tables)))
                    continue
                lists = {v.table for v in given if isinstance(v, RowVal) and v.is_result and v.table}
                if len(lists) == 1 and all(isinstance(v, RowVal) and v.is_result for v in given):
                    # statuses_of(db, rows): the rows of a query run here, each as held
                    signature.append(("rows", tuple(lists)))
                    continue
            if given is None:
                default = body.defaults.get(param)
                truth: Optional[bool] = False if default == ("c", None) or default == ("c", False) else None
            else:
                # Passing something counts as passing it ("scopes the calls that pass
                # it"); only a literal None/False/0 is known to be falsy - or a parameter
                # the caller was itself given as one (read(id, actor=None) -> scope(q, actor)).
                consts = [v.expr for v in given if isinstance(v, ExprVal) and isinstance(v.expr, Const)]
                truths = {v.truthy for v in given if isinstance(v, ParamVal)}
                if given and all(isinstance(v, ClassVal) for v in given):
                    # a model handed in (``count(session, Agent)``): the callee is judged on it
                    signature.append(("class", tuple(sorted(v.table for v in given))))
                    continue
                if len(given) == 1 and consts:
                    truth = bool(consts[0].value)
                elif any(c.value is None for c in consts) or any(
                        isinstance(v, ParamVal) and v.maybe_none for v in given):
                    # None on one path, something on another (Tracim's ``workspace = None;
                    # if isinstance(calendar, WorkspaceCalendar): workspace = ...``): either,
                    # down every helper it is handed on to
                    signature.append(_MAYBE_NONE)
                    continue
                elif truths == {False} and all(isinstance(v, ParamVal) for v in given):
                    truth = False
                else:
                    truth = True
            signature.append(truth)
        if not ctx.summary:
            for param, told in zip(params, signature):
                if param in passed:
                    given_expr = unconverted(passed[param])
                    unvetted = isinstance(given_expr, Local) and UNVETTED in env.vouched.get(given_expr.name, ())
                    self._apply_once(("pcall", body.qualname, param,
                                      isinstance(told, tuple) and told[0] == "id" and not unvetted,
                                      ctx.function.qualname))
        runner = f"{body.qualname.rsplit('.', 2)[-2]}.{body.name}" if body.class_name else body.name
        results, escapes, inner, vouched = self._summary(module, body, tuple(signature), self_cls or ctx.cls,
                                                         ctx.depth + 1, models=models)
        line, col = expr.line, expr.column
        if vouched:
            # validate_agent(session, agent_id, actor): the callee looked the id up
            for param, table in vouched:
                given_expr = passed.get(param)
                if given_expr is None:
                    continue
                if table == CHECKED_ROW_IF and not ctx.testing:
                    continue  # ``return check_shelf_edit_permissions(shelf)``: nothing refused here
                if table in (CHECKED_ROW, CHECKED_ROW_IF):
                    # delete_shelf_helper(shelf): the callee checks the row's owner first
                    for value in bound.get(param, NOTHING):
                        self._mark_checked(value, ctx, True)
                    if isinstance(given_expr, Local):
                        self._param_row_checked(given_expr.name, env, ctx)
                else:
                    self._vouch(given_expr, table, env, ctx)
        for kind, query in inner:
            if body.qualname == ctx.function.qualname and _hands_on_locals(expr):
                # a call a function makes to itself (``delete_directory(sub)`` in
                # ``delete_directory``, Tracim's ``mark_read(child)`` for the children of
                # the row it was handed) hands on what its own callers gave it: they say,
                # whether it is judged here or summarised for them (not when it hands on
                # something else: ``collect(request.args["also"])``)
                continue
            if ctx.summary:
                # Handed on to this function's callers, who judge the call made here by
                # what they pass (``get_tasks(run_id)`` -> ``repo.tasks_of(run_id)``), a
                # bounded number of calls up.
                if len(query.through) < MAX_THROUGH and len(ctx.inner_uses) < MAX_INNER_USES:
                    ctx.inner_uses.append((kind, replace(query, through=query.through + (
                        (ctx.module.path, line, col, runner),))))
                continue
            if body.qualname == ctx.function.qualname:
                self._apply_once(("recur", (ctx.module.path, line, col)))  # hands on something else
            chain = "".join(f" -> {step[3]}()" for step in reversed(query.through))
            site = QueryUse(kind, replace(query, line=line, column=col, path=ctx.module.path,
                                          note=query.note or f"run by {runner}()", through=()),
                            None, ctx.module.path, line, col, ctx.function.qualname,
                            "admin path" if ctx.privileged else "",
                            via=f"{runner}(){chain} ({query.path}:{query.line})")
            self._apply(("obs", (query.path, query.line, query.column), site, query))
        out: set = set()
        results = self._own_unscoped_paths(results, body, ctx)
        for result in results:
            if isinstance(result, QueryVal) and result.param is not None:
                for arg in bound.get(result.param, NOTHING):
                    if isinstance(arg, QueryVal):
                        out.add(replace(arg, scoped=arg.scoped | result.scoped, terms=arg.terms + result.terms,
                                        opaque=arg.opaque or result.opaque, filtered=arg.filtered or result.filtered,
                                        partial=arg.partial or result.partial, asks=arg.asks or result.asks,
                                        privileged=arg.privileged or result.privileged))
                    else:
                        out.add(None)
            elif isinstance(result, QueryVal):
                owner = body.qualname.rsplit('.', 2)[-2] + '.' if body.class_name else ''
                out.add(replace(result, line=line, column=col, path=ctx.module.path,
                                note=result.note or f"built by {owner}{body.name}()",
                                built_at=result.built_at or (result.path, result.line, result.column)))
            elif isinstance(result, GetVal):
                out.add(None if result.checked else self._get(
                    result.table, line, col, ctx, result.via or f"{runner}() ({result.path}:{result.line})"))
            elif isinstance(result, ParamVal) and result.name in bound:
                out |= _privileged_values(bound[result.name]) if result.privileged else bound[result.name]
            elif isinstance(result, ParamVal) and result.name == "self" and self_cls is not None \
                    and body.class_name and not self._is_mapped(self_cls.ref.qualname):
                # ``def by_user(self, user_id) -> Self: ...; return self`` (mealie's recipes
                # repository): the call hands back the object it was made on
                out.add(InstanceVal(self_cls.ref.qualname, models))
            elif isinstance(result, RowVal):
                # a row the callee loaded and returns: checked here, this call is scoped
                # (judged per call, see _judge_scoping)
                if len(result.key) == 3 and not ctx.summary:
                    # the callee handed on the row of a call it made: that call is judged here
                    self._apply(("fwd", result.key, QueryUse("read", None, None, ctx.module.path, line, col,
                                                             ctx.function.qualname,
                                                             "admin path" if ctx.privileged else "")))
                    seen = [query for _kind, query in inner if query.through and query.through[-1][:3] == result.key]
                    if seen and all(not q.opaque and unscoped_table(self.index, self.config, q) is None
                                    for q in seen):
                        # what this call passes scopes the query that found the row (the id
                        # of a row held here): the row needs no check here or above
                        self._apply_once(("rowcheck", (ctx.module.path, line, col)))
                out.add(RowVal((ctx.module.path, line, col), ctx.function.qualname, result.is_result, result.table,
                                   result.anchors, result.labels, result.slot))
            elif isinstance(result, IdVal):
                out.add(replace(result, source=()))
            else:
                out.add(result)
        # A query handed to a callee that runs it is the caller's query running.
        rows: set = set()
        for param in escapes:
            for arg in bound.get(param, frozenset()):
                if isinstance(arg, QueryVal):
                    row = self._use(arg, ctx, arg.kind, (line, col))
                    if row is not None and arg.kind == "read":
                        rows.add(row)
                elif isinstance(arg, ParamVal) and ctx.summary:
                    # handed on as it came (get_one -> _execute_query -> session.execute):
                    # this function runs its parameter too, whatever the depth
                    ctx.executed.add(arg.name)
        if len(rows) == 1 and out <= {None}:
            return frozenset(rows)  # repository.get_one_or_none(stmt): the row of that run
        converted = self._converted_row(out, bound, inner, ctx)
        if converted != NOTHING:
            return converted
        return frozenset(out) or NOTHING

    def _converted_row(self, out: set, bound: dict[str, ValueSet], inner: tuple, ctx: Context) -> ValueSet:
        """``convert_to_workflow_run(row)``: a project function that runs no query and
        builds an object of a plain class (a pydantic schema) from the one row it is
        given hands back that row in another form - its keys and owner are the row's."""
        if inner or not any(isinstance(v, InstanceVal) for v in out) or \
                not all(v is None or (isinstance(v, InstanceVal) and not self._is_mapped(v.qualname)) for v in out):
            return NOTHING
        given = {v: self._held_row(v, ctx) for value in bound.values() for v in value if not isinstance(v, ParamVal)}
        held = {v: row for v, row in given.items() if row is not None}
        return frozenset(held) if len(set(held.values())) == 1 else NOTHING

    def _is_mapped(self, qualname: str) -> bool:
        info = self.index.classes.get(qualname)
        return info is None or info.mapped

    def _summary(self, module: ModuleFacts, body: FunctionIR, signature: tuple, cls: Optional["ClassInfo"],
                 depth: int, self_told: bool = False, models: tuple = (),
                 self_checked: bool = False) -> tuple[frozenset, frozenset, tuple, frozenset]:
        """``self_told``: read ``self``'s tenant attributes as set (``if self.group_id:``);
        ``models``: the mapped classes ``self``'s constructor was handed (see InstanceVal);
        ``self_checked``: ``self`` is a tenant's row checked where it was read."""
        key = (module.path, body.qualname, signature, cls.ref.qualname if cls else None, self_told, models,
               self_checked)
        tracking = self.index.tracking
        if key in self._summaries:
            if tracking:
                done = self._summary_reads.get(key)
                if done is not None:
                    self.index.merge_reads(done)
                else:  # a summary under way (recursion): its reads reach this caller anyway
                    self.index.note("bodies", module.path)
            return self._summaries[key]
        self._summaries[key] = (frozenset({None}), frozenset(), (), frozenset())  # recursion resolves to nothing
        if tracking:
            self.index.open_reads()
            self.index.note("bodies", module.path)
        ctx = Context(module, body, cls, depth, summary=True, instance_models=models)
        env = Env()
        params = [p for p in body.params if p not in ("self", "cls")] if body.class_name else list(body.params)
        for p in body.params:
            env.set(p, frozenset({ParamVal(p, True if self_told and p == "self" else None)}))
        if self_checked:
            env.checked.add("self")
        for attribute, table in models:
            if attribute == QUERY_SELF and "self" in body.params and isinstance(table, str):
                env.set("self", frozenset({QueryVal("read", (table,), line=0, path=module.path)}))  # a query_class's
        for param, truth in zip(params, signature):
            if isinstance(truth, tuple) and truth[0] == "id":
                env.set(param, frozenset({ParamVal(param, True)}))
                for table in truth[1]:
                    env.vouch(param, table)
            elif isinstance(truth, tuple) and truth[0] == "kw":
                # ``**kwargs`` with the keys the call passed: as ``filters = {...}`` would be
                env.set(param, frozenset({ParamVal(param, bool(truth[1]))}))
                for key, varies in truth[1]:
                    env.set(f"{param}{{{key}}}", frozenset({ExprVal(Local("param", param) if varies else Const(0))}))
                env.set(f"{param}{{*}}", frozenset({ExprVal(Const(tuple(key for key, _varies in truth[1])))}))
            elif isinstance(truth, tuple) and truth[0] == "conds":
                env.set(param, frozenset(ExprVal(seq) for seq in truth[1]))
            elif truth == ("asks",):
                env.set(param, frozenset({ParamVal(param, True, asker=True)}))
            elif truth == _MAYBE_NONE:
                env.set(param, frozenset({ParamVal(param, None, maybe_none=True)}))
            elif isinstance(truth, tuple) and truth[0] == "rows":
                env.set(param, frozenset({RowVal((), "", is_result=True, table=truth[1][0])}))
            elif isinstance(truth, tuple) and truth[0] == "row":
                # a row the caller holds (judged there): no run of this function's own
                env.set(param, frozenset({RowVal((), "", table=truth[1][0])}))
            elif isinstance(truth, tuple):
                env.set(param, frozenset(ClassVal(table) for table in truth[1]))
            else:
                env.set(param, frozenset({ParamVal(param, truth)}))
        self._block(self._statements(body), env, ctx)
        flat = frozenset(flatten(ctx.returns))
        result = (flat, frozenset(ctx.executed), tuple(ctx.inner_uses), frozenset(ctx.vouched_params))
        self._summaries[key] = result
        if tracking:
            # what this summary read: read by every module that uses it
            reads = self.index.close_reads()
            self._summary_reads[key] = reads
            self.index.merge_reads(reads)
        return result

    # ------------------------------------------------------------------ uses

    def _use(self, query: QueryVal, ctx: Context, kind: str, run: tuple = (),
             env: Optional[Env] = None) -> Optional[RowVal]:
        """Record a query run here (``run``: the position of the call that runs it); what
        that run hands back, for an owner check to follow. A run by primary key vouches
        for the key's local from then on (in ``env``)."""
        if env is not None:
            vetted = not query.opaque and unscoped_table(self.index, self.config, query) is None
            for table, name in query.keys:
                self._vouch(Local("local", name), table, env, ctx, vetted)
        if ctx.privileged and not query.privileged:
            query = replace(query, privileged=True)  # run in a branch only administrators take
        if query.line == 0:
            # a bare ``Model.query`` run as it is (``for row in Model.query:``): no call
            # gave it a position, the statement does (in a summary too, so a caller's
            # observation names the same query as the callee's own use)
            query = replace(query, line=ctx.line, column=1)
        if ctx.summary:
            if query.param is not None:
                ctx.executed.add(query.param)
            elif not query.subquery:
                ctx.inner_uses.append((kind, query))
                if run and kind == "read":
                    # what the helper returns of it: each caller's call stands for this run
                    return RowVal((query.path, query.line, query.column) + run, ctx.function.qualname,
                                  table=query.tables[0] if query.tables else "", anchors=self._anchors_of(query),
                                  labels=query.labels)
            return None
        if query.param is not None or query.subquery:
            return None
        # (a query run on an administrators' branch is marked privileged above: never reported)
        hint = "admin path" if any(mentions_privilege(d) for d in ctx.function.decorators) else ""
        self._apply(("use", QueryUse(kind, query, None, ctx.module.path, query.line, query.column,
                                     ctx.function.qualname, hint, run)))
        if not run:
            return None
        return RowVal((ctx.module.path, query.line, query.column) + run, ctx.function.qualname,
                      table=query.tables[0] if query.tables else "", anchors=self._anchors_of(query),
                      labels=query.labels)

    def _anchors_of(self, query: QueryVal) -> frozenset:
        """The rows a run vouches for when it finds a row: those its terms compare with,
        when it asks about who asks (a membership, an access grant) or is scoped."""
        if not query.anchors or query.opaque:
            return frozenset()
        if query.asks or (unscoped_table(self.index, self.config, query) is None
                          and any(owned_by_tenant(self.index, self.config, t) for t in query.tables)):
            return query.anchors
        return frozenset()

    # ------------------------------------------------------------------ held ids

    def _peek(self, expr: Expr, env: Env, ctx: Context) -> ValueSet:
        """The values of a local, or of an attribute chain on one, without running
        anything: what a filter compares a column with."""
        if isinstance(expr, Local):
            return self._eval_local(expr, env, ctx)
        if isinstance(expr, Attr):
            return self._attributes(self._peek(expr.value, env, ctx), expr.name, ctx)
        if isinstance(expr, Subscript):
            return _one_of(_unless_stored_into(self._peek(expr.value, env, ctx), expr.value, env), expr.items)
        if isinstance(expr, Name) and expr.qualified.startswith("?."):
            first, *rest = expr.qualified[2:].split(".")
            values = env.get(first, frozenset())
            for name in rest:
                values = self._attributes(values, name, ctx)
            return values
        inner = unconverted(expr)
        if inner is not expr:
            return self._peek(inner, env, ctx)  # int(dept.id), str(doc.id), UUID(row.id): the same id
        if isinstance(expr, Call) and len(expr.args) == 1 and isinstance(expr.func, (Name, Attr)) \
                and (expr.func.name if isinstance(expr.func, Attr) else expr.func.qualified.rsplit(".", 1)[-1]) \
                in CONVERSIONS:
            # ``result.append(AppOut.from_orm(app))``: the row under another class
            return self._converted([self._peek(expr.args[0], env, ctx)])
        if isinstance(expr, Call) and isinstance(expr.func, Attr) and expr.func.name == "get" and \
                len(expr.args) == 1 and not expr.kwargs:
            held = _unless_stored_into(self._peek(expr.func.value, env, ctx), expr.func.value, env)
            if held and all(isinstance(v, IdVal) and not v.row for v in held):
                return held  # ``ids_by_path.get(path)``: one of the ids held (None matches no row)
        if isinstance(expr, Comprehension) and len(expr.iterables) == 1 \
                and all(_attribute_chain(e) for e in (*expr.iterables, *expr.elements)):
            # ``T.id.in_([r.id for r in rows])``: read as ``ids = [...]`` then ``.in_(ids)``
            # (nothing in it runs: a chain of attributes of locals)
            return self._eval_comprehension(expr, env, ctx)
        return NOTHING

    def _is_held_key(self, expr: Expr, table: str, env: Env, ctx: Context) -> bool:
        """Whether a primary-key lookup's key is the id of a row of ``table`` held here."""
        held = self._peek(expr, env, ctx)
        return bool(held) and all(isinstance(v, IdVal) and not v.row and v.table == table for v in held) \
            or self._is_vouched(expr, table, env)

    def _is_vouched(self, expr: Expr, table: str, env: Env) -> bool:
        return isinstance(expr, Local) and expr.tag in ("param", "local") and table in env.vouched.get(expr.name, ())

    def _vouch(self, expr: Expr, table: str, env: Env, ctx: Context, vetted: bool = True) -> None:
        """``expr`` was just used to look up a row of ``table``: from here on it is the id
        of a row the function holds (that lookup is judged on its own). ``vetted``: the
        lookup was scoped (see UNVETTED)."""
        if not isinstance(expr, Local) or expr.tag not in ("param", "local"):
            return
        env.vouch(expr.name, table)
        if not vetted:
            env.vouch(expr.name, UNVETTED)
        if ctx.summary and expr.name in ctx.function.params:
            ctx.vouched_params.add((expr.name, table))
            if not vetted:
                ctx.vouched_params.add((expr.name, UNVETTED))

    def _references(self, table_name: str, column: str) -> set[str]:
        """The tenant-owned tables whose rows ``table.column`` names - its foreign keys'
        targets, the parents declared in ``owned-through``, the table itself for its
        primary key -: a held row of one of them was judged where it was loaded, so its
        children are as scoped as it is. (The children of a shared row - a global table,
        the tenant table - may be any tenant's.)"""
        table = self._table_named(table_name)
        if table is None:
            return set()
        found = {fk.target_table for cols, fk in table.all_foreign_keys() if cols == [column] and fk.target_table}
        found |= {parent for _column, parent in self._declared_parents(table_name, column)}
        if self._is_row_key(table_name, column):
            found.add(table_name)
        elif not found and (col := table.column(column)) is not None and not col.foreign_keys:
            # ``RoleAccess.role_id == role_id`` in a schema without foreign keys
            found = self._implied_parents(table_name, column)
        return {name for name in found
                if owned_by_tenant(self.index, self.config, name) is not None or self._tenant_by_hybrid(name)}

    def _tenant_by_hybrid(self, table_name: str) -> bool:
        """A table whose tenant column is a hybrid property over a tenant-owned table
        (Tracim's ``Content.workspace_id``, its latest revision's): its rows are loaded
        through that table's scope, so a row held here is a tenant's."""
        table = self._table_named(table_name)
        info = self.index.classes.get(table.qualname) if table is not None and table.qualname else None
        if info is None:
            return False
        for column in self.config.tenant_columns:
            aliased = self._hybrid_expression(info, column)
            if aliased is not None and owned_by_tenant(self.index, self.config, aliased[0]) is not None:
                return True
        return False

    def _held_ids(self, expr: Expr, env: Env, ctx: Context, many: bool = False) -> tuple[set[str], frozenset]:
        """(the tables ``expr`` is a held id of, the runs of the rows it was read from):
        ``agent.id``, ``block.agent_id``, a vouched local; with ``many``, also the ids a
        run of ``select(T.id)`` handed back."""
        expr = unconverted(expr)  # ``uuid.UUID(invitation_id)``: the same id
        if isinstance(expr, Local) and expr.tag in ("param", "local") and expr.name in env.vouched:
            return set(env.vouched[expr.name]) - {FALSY, UNVETTED}, frozenset()
        values = self._peek(expr, env, ctx)
        if not values or None in values:
            return set(), frozenset()
        tables: Optional[set[str]] = None
        sources: set = set()
        for value in values:
            if value in (_NONE_VALUE, _EMPTY_LIST) and len(values) > 1:
                # ``rev_id = None`` on the path that made no row, ``ids = []`` on the path
                # that appended none: it matches none
                continue
            if isinstance(value, IdVal) and not value.row:
                found, source = {value.table}, value.source
            elif many and isinstance(value, RowVal) and value.is_result and value.table:
                found, source = {value.table}, ()
            else:
                return set(), frozenset()
            # (an id of any table on one path and of T on another is not surely T's)
            tables = found if tables is None else tables & found
            if len(source) == 5:
                sources.add(source)
        return tables or set(), frozenset(sources)


def _failed_check(test: Expr) -> bool:
    """``not check(...)``, or ``not check(...) and not <administrators only>``: true when
    the check failed for anyone but an administrator."""
    if isinstance(test, Not):
        return True
    return isinstance(test, BoolOp) and test.op == "and" and (
        _fails_but_for_admins(test.left, test.right) or _fails_but_for_admins(test.right, test.left))


def _fails_but_for_admins(side: Expr, other: Expr) -> bool:
    """``not check(...)`` beside a test that fails only for administrators (``and not
    user.is_admin``): the two hold together when the check failed for anyone else."""
    return isinstance(side, Not) and privileged_side(other) is False


# The table of a held id whose table no key states (see ``_row_attribute``).
ANY_TABLE = "<any table>"
# A decorator that loads a row and checks who may see it (see ``_checked_injection``).
_CHECKED_ROW_DECORATOR = re.compile(r"^_*(check|ensure|verify|authori[sz]e|get_checked|load_checked)_")


def _substituted(expr: Any, bound: dict[str, Expr]) -> Any:
    """``expr`` (a callee's) with its parameters replaced by what the call passes."""
    if isinstance(expr, Local):
        return bound.get(expr.name, expr) if expr.tag == "param" else expr
    if isinstance(expr, tuple):
        items = [_substituted(item, bound) for item in expr]
        make = getattr(type(expr), "_make", None)  # a typed node: the same type again
        return make(items) if make is not None else tuple(items)
    return expr


def _const_bool(expr: Any) -> Optional[bool]:
    """``True`` / ``False`` written as such (a stored default or a call's argument)."""
    if isinstance(expr, tuple) and len(expr) == 2 and expr[0] == "c" and isinstance(expr[1], bool):
        return expr[1]
    return None


def _built_by_one_of(use: Any, runners: tuple[str, ...]) -> bool:
    """Whether a logged query use ran a query one of these overrides built."""
    note = getattr(getattr(use, "query", None), "note", "") or ""
    return any(note == f"built by {runner}" for runner in runners)


def _at_its_builder(use: QueryUse, overrides: set[str]) -> QueryUse:
    """A use of a query an override built, moved to where the override wrote it."""
    query = use.query
    if query is None or len(query.built_at) != 3:
        return use
    path, line, column = query.built_at
    runner = query.note.removeprefix("built by ").removesuffix("()")
    function = next((q for q in sorted(overrides) if q.endswith("." + runner)), use.function)
    base = ".".join(use.function.rsplit(".", 2)[-2:])
    return replace(use, query=replace(query, note=f"run by {base}()"), path=path, line=line, column=column,
                   function=function, run=())


def _is_depends(expr: Any) -> bool:
    """``Depends(get_service)`` / ``Security(...)`` (FastAPI), as stored (raw or typed)."""
    if not isinstance(expr, tuple) or len(expr) < 2 or expr[0] != "call":
        return False
    func = expr[1]
    return isinstance(func, tuple) and len(func) >= 2 and func[0] == "n" and isinstance(func[1], str) \
        and func[1].rsplit(".", 1)[-1] in ("Depends", "Security")


def _check_name(call: Call) -> str:
    """The name of a call that sounds like an access check (``can_view_activity``), or ""."""
    func = call.func
    name = func.name if isinstance(func, Attr) else func.qualified.rsplit(".", 1)[-1] if isinstance(func, Name) else ""
    lowered = name.lower()
    return name if PREDICATE.search(lowered) and lowered not in CONVERSIONS else ""


# what a Flask-Principal permission is asked: whether who asks holds it (``can()``; not
# ``allows(identity)``, which may be asked of anyone)
_PERMISSION_TESTS = frozenset({"can"})
# in a summary's vouched parameters: the row handed as this parameter is owner-checked
CHECKED_ROW = "<checked row>"
CHECKED_ROW_IF = "<checked row if refused>"  # the check's verdict is returned


# methods that change a container in place, and the return annotations a provider yields through
_MUTATORS = frozenset({"clear", "pop", "popitem", "remove", "insert", "update", "setdefault", "__setitem__",
                       "__delitem__", "discard", "reverse", "sort"})
_YIELDED = frozenset({"Generator", "Iterator", "AsyncGenerator", "AsyncIterator", "Iterable", "AsyncIterable"})
# in a query's scoped tables: ``T`` + this, its rows their owners published (see _either)
PUBLISHED = "#published"
TEXT_SCOPE = "#text"  # raw SQL that compares the tenant column: scopes the query's own table
# ``app_id = :app_id``, ``"owner_id" = %(uid)s``, ``t.user_id = $1``: one comparison, whole
_TEXT_TENANT = re.compile(r'^\s*(?:"?\w+"?\.)?"?(\w+)"?\s*=\s*(?::\w+|%\(\w+\)s|\$\d+|\?|%s)\s*$')
_TEXT_NOTHING = re.compile(r"(?i)^\s*(?:1\s*=\s*0|false)\s*$")
_TEXT_JUNCTION = re.compile(r"(?i)\b(and|or)\b|[()]")


def _sql_scopes(sql: str, tenant_columns: Iterable[str]) -> bool:
    """Whether a raw SQL condition keeps one tenant's rows: an AND-ed conjunct (at any depth
    of parentheses AND-ed in) compares a tenant column with a bound value, and no OR sits
    beside it. ``(app_id = :app_id) AND filename = :f`` scopes; ``app_id = :a OR is_public``
    does not."""
    depth, start, conjuncts = 0, 0, []
    for match in _TEXT_JUNCTION.finditer(sql):
        token = match.group(0).lower()
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        elif depth == 0 and token == "or":
            return False
        elif depth == 0 and token == "and":
            conjuncts.append(sql[start:match.start()])
            start = match.end()
    conjuncts.append(sql[start:])
    for part in conjuncts:
        part = part.strip()
        if _one_group(part):
            if _sql_scopes(part[1:-1], tenant_columns):
                return True
            continue
        found = _TEXT_TENANT.match(part)
        if (found is not None and found.group(1) in tenant_columns) or _TEXT_NOTHING.match(part):
            return True  # (``1=0`` when who asks may see nothing: no rows at all)
    return False


def _labelled(call: Call) -> Optional[Expr]:
    """The column of ``T.id.label("id")`` (or of ``func.x(...).label(...)``), or None."""
    func = call.func
    if isinstance(func, Name) and func.qualified.endswith(".label"):
        return Name(func.qualified[: -len(".label")])
    if isinstance(func, Attr) and func.name == "label":
        return func.value
    return None


def _keys_identity(table: TableModel, column: str) -> bool:
    """Whether ``table.column`` is a foreign key to the table of people who sign in."""
    return any(cols == [column] and fk.target_table in IDENTITY_TABLES for cols, fk in table.all_foreign_keys())


def _name_words(name: str) -> list[str]:
    """``UserCaseAccess user_case_access`` -> user, case, access, ...: lower-case words."""
    return [w.lower() for w in re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", name)]


def _sql_template(expr: Expr) -> str:
    """An SQL string as written, a NUL for each part not known here: ``f"({x})"`` and
    ``"(" + " OR ".join(c) + ")"`` are both ``(\0)``."""
    if isinstance(expr, Const) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, FString):
        return expr.text
    if isinstance(expr, Add):
        return _sql_template(expr.left) + _sql_template(expr.right)
    return "\0"


def _one_group(template: str) -> bool:
    """Whether a template is one parenthesised group: ``(\0)``, not ``(\0) OR (\0)``."""
    template = template.strip()
    if not (template.startswith("(") and template.endswith(")")):
        return False
    depth = 0
    for position, char in enumerate(template):
        depth += 1 if char == "(" else -1 if char == ")" else 0
        if depth == 0 and position < len(template) - 1:
            return False
    return depth == 0


def _either(branches: list[frozenset[str]]) -> frozenset[str]:
    """The tables an OR of conditions scopes: those every branch scopes - where a branch
    keeping only published rows (``Shelf.is_public == 1``) counts for its table when
    another branch scopes it (``or_(Shelf.is_public == 1, Shelf.user_id == me)``: mine
    or public; public alone lists other tenants' rows)."""
    expanded = [branch | {name[:-len(PUBLISHED)] for name in branch if name.endswith(PUBLISHED)}
                for branch in branches]
    common = frozenset.intersection(*expanded)
    return frozenset(name for name in common
                     if name.endswith(PUBLISHED) or any(name in branch for branch in branches))


def _shares_rows(column: str, value: Expr) -> bool:
    """``is_public == True`` / ``visibility == "public"``: a condition that keeps the
    rows their owners made visible to everyone."""
    words = column.lower().removeprefix("is_").split("_")
    if not any(word in _SHARED_WORDS for word in words):
        return False
    if isinstance(value, Name):
        return value.qualified.removeprefix("?.").rsplit(".", 1)[-1] in ("true", "PUBLIC", "public") \
            or value.qualified.endswith(("sa:true", ".PUBLIC", ".public"))
    if not isinstance(value, Const):
        return False
    if isinstance(value.value, str):
        return value.value.lower() in ("public", "published", "shared", "everyone", "global")
    return value.value is True or value.value == 1


_SHARED_WORDS = frozenset({"public", "published", "shared", "visibility", "scope"})


def _entry_env(body: FunctionIR) -> Env:
    """The state a function starts from when nothing is known of its calls."""
    env = Env()
    for p in body.params:
        env.set(p, frozenset({ParamVal(p)}))
    return env


def _dict_pairs(value: Expr) -> Optional[list[tuple[str, Expr]]]:
    """The literal keys and values of ``{"k": v}`` / ``dict(k=v)``; None for anything else
    (or a dict that unpacks another)."""
    if isinstance(value, DictDisplay):
        pairs = []
        for key, item in value.pairs:
            if not (isinstance(key, Const) and isinstance(key.value, str)) or key.value == "**":
                return None
            pairs.append((key.value, item))
        return pairs
    if isinstance(value, Call) and isinstance(value.func, Name) and value.func.qualified in ("builtins.dict", "?.dict") \
            and not value.args and all(key != "**" for key, _item in value.kwargs):
        return list(value.kwargs)
    return None


def _truthy_local(test: Expr) -> Optional[tuple[str, bool]]:
    """``if x`` / ``if x is not None`` -> (x, True); ``if not x`` / ``if x is None`` ->
    (x, False): the local a test is about, and whether its then-branch has it set."""
    positive = True
    if isinstance(test, Not):
        positive, test = False, test.operand
    if isinstance(test, Compare) and len(test.ops) == 1 and test.ops[0][1] == NONE \
            and test.ops[0][0] in ("is", "is not"):
        positive = positive == (test.ops[0][0] == "is not")
        test = test.left
    if isinstance(test, Local) and test.tag == "local":
        return test.name, positive
    return None


def _narrow_to_truthy(env: Env, name: str) -> None:
    """Drop the ``None`` / ``[]`` a local may hold where a test has it set."""
    values = env.get(name, frozenset())
    kept = values - {_NONE_VALUE, _EMPTY_LIST}
    if kept and kept != values:
        env.set(name, kept)


def _self_calls(node: object) -> set[str]:
    """The methods a block calls on ``self`` (``self.<name>(...)``)."""
    found: set[str] = set()
    todo = [node]
    while todo:
        item = todo.pop()
        if isinstance(item, Call) and isinstance(item.func, Attr) and isinstance(item.func.value, Local) \
                and item.func.value.name == "self":
            found.add(item.func.name)
        if isinstance(item, (tuple, list)):
            todo.extend(part for part in item if isinstance(part, (tuple, list)))
    return found


def _unpacked(target: str) -> Optional[list[str]]:
    """The names of a tuple target as the extractor writes it (``"(rows,total)"``)."""
    return target[1:-1].split(",") if target.startswith("(") else None


def _function_body(module: ModuleFacts, name: str) -> Optional[FunctionIR]:
    """The body of the module-level function ``name``."""
    return next((b for b in module.bodies if b.class_name is None and b.name == name), None)


def _attribute_chain(expr: Expr) -> bool:
    """``r``, ``r.id``, ``self.rows``: reading it runs nothing."""
    while isinstance(expr, Attr):
        expr = expr.value
    return isinstance(expr, Local) or isinstance(expr, Name) and expr.qualified.startswith("?.")


_CONDITION_CALLS = frozenset({
    "in_", "not_in", "notin_", "is_", "is_not", "isnot", "like", "ilike", "not_like", "not_ilike", "between",
    "contains", "startswith", "endswith", "any", "has", "and_", "or_", "not_", "match", "op",
})


def _condition_shaped(expr: Expr) -> bool:
    """A condition, or a list of them (``and_(*_matches(obj), ...)``: spread into the filter)."""
    return _looks_like_condition(expr) or (
        isinstance(expr, Sequence) and expr.tag in ("list", "tuple") and any(_looks_like_condition(i) for i in expr.items))


def _as_conjunction(expr: Expr) -> Expr:
    """A list of conditions as the one condition it ANDs (an ``or_`` branch)."""
    if isinstance(expr, Sequence):
        return Call(Name("sqlalchemy.and_"), tuple(expr.items), ())
    return expr


def _looks_like_condition(expr: Expr) -> bool:
    """A filter condition by its shape: a comparison, or a call of a column operator."""
    if isinstance(expr, (Compare, BinOr, BoolOp, Not)):
        return True
    if isinstance(expr, Call):
        func = expr.func
        name = func.name if isinstance(func, Attr) else func.qualified.rsplit(".", 1)[-1] if isinstance(func, Name) else ""
        return name in _CONDITION_CALLS
    return False


def _extended_condition_lists(values: ValueSet, method: str, arg: Expr, env: Env) -> ValueSet:
    """A condition list after ``.append(arg)`` / ``.extend(arg)``: still one only while
    what is added reads as conditions; anything else (``lines.append(f"...")``) makes it
    an ordinary list the analysis does not follow."""
    if method == "append":
        added: tuple[Expr, ...] = (arg,)
    elif isinstance(arg, Sequence):
        added = arg.items
    elif isinstance(arg, Local) and _condition_lists(env.get(arg.name, NOTHING)):
        added = (Star(arg),)
    else:
        return NOTHING
    if not all(isinstance(item, Star) or _looks_like_condition(item) for item in added) and not (
            all(_sql_piece(item) for item in added) and all(
                isinstance(v, ExprVal) and isinstance(v.expr, Sequence) and all(_sql_piece(i) for i in v.expr.items)
                for v in values)):
        # (a list of SQL strings, ``where_clauses.append(f"({extra})")``, is kept too)
        return NOTHING
    lists = {condition_list(v.expr.tag, v.expr.items + added) for v in values
             if isinstance(v, ExprVal) and isinstance(v.expr, Sequence)}
    return frozenset(ExprVal(seq) for seq in bounded_condition_lists(lists))


def _unless_stored_into(values: ValueSet, holder: Expr, env: Env) -> ValueSet:
    """The ids a collection was built with, unless something was stored into it since
    (``by_name[name] = request_id``, ``by_name.update(extra)``): then not all held."""
    if _stored_into(holder, env) and values and all(isinstance(v, IdVal) and not v.row for v in values):
        return NOTHING
    return values


def _stored_into(expr: Expr, env: Env) -> bool:
    """Whether the local ``expr`` had something stored into it since it was bound
    (``x[k] = v``, ``x += y``, ``del x[0]``, ``x.clear()``): not only what it was bound to."""
    return isinstance(expr, Local) and bool(env.get(f"{expr.name}[]", frozenset()))


def _join_separator(expr: Expr) -> Optional[str]:
    """The separator of ``" AND ".join(pieces)``, or None for any other expression."""
    if isinstance(expr, Call) and isinstance(expr.func, Attr) and expr.func.name == "join" and \
            isinstance(expr.func.value, Const) and isinstance(expr.func.value.value, str) and len(expr.args) == 1:
        return expr.func.value.value
    return None


def _sql_piece(expr: Expr) -> bool:
    """A string literal, an f-string, or a ``+`` of one: a piece of raw SQL a list may gather."""
    if isinstance(expr, Add):
        return _sql_piece(expr.left) or _sql_piece(expr.right)
    return isinstance(expr, FString) or (isinstance(expr, Const) and isinstance(expr.value, str))


def _condition_lists(values: ValueSet) -> bool:
    """Whether a local holds, on every path, a list of conditions built here."""
    return bool(values) and all(isinstance(v, ExprVal) and isinstance(v.expr, Sequence) for v in values)


def _reads_local(expr: Any, name: str) -> bool:
    """Whether ``expr`` reads the local ``name`` (``task = session.merge(task)``)."""
    if isinstance(expr, Local):
        return expr.name == name
    if isinstance(expr, Name):
        return expr.qualified == f"?.{name}" or expr.qualified.startswith(f"?.{name}.")
    if isinstance(expr, tuple) and not isinstance(expr, Const):
        return any(_reads_local(part, name) for part in expr if isinstance(part, tuple))
    return False


def _hands_on_locals(call: Call) -> bool:
    """Whether every argument is a local or parameter, or reached from one
    (``child``, ``content.parent``, ``read_datetime=read_datetime``)."""
    for arg in tuple(call.args) + tuple(v for _k, v in call.kwargs):
        arg = arg.value if isinstance(arg, Star) else arg
        while isinstance(arg, Attr):
            arg = arg.value
        if isinstance(arg, Name) and arg.qualified.startswith("?."):
            continue  # a comprehension's own name (``count(c) for c in folder.children``)
        if not isinstance(arg, (Local, Const)):
            return False
    return True


def _bare_return(block: Block) -> bool:
    """Whether the block leaves by a ``return`` of nothing."""
    for stmt in block:
        if isinstance(stmt, Return):
            return stmt.value is None
        if isinstance(stmt, (Raise, Continue, Break)):
            return False
    return False


def _returns_value(block: Any, depth: int = 0) -> bool:
    """Whether the function hands anything back (a ``return <value>`` anywhere)."""
    for stmt in block:
        if isinstance(stmt, Return) and stmt.value is not None:
            return True
        if depth < 8 and isinstance(stmt, tuple):
            for part in stmt[1:]:
                if isinstance(part, tuple) and part and all(isinstance(p, tuple) for p in part) \
                        and _returns_value(part, depth + 1):
                    return True
    return False


def _refuses_who_asks(block: Any, depth: int = 0) -> bool:
    """Whether a check's body raises when an access question about who asks fails:
    ``if not self.isAuthorized(...): raise Forbidden()`` (a call named like a check, or one
    naming the request's user, in the test of an ``if`` whose branch raises) - not a
    ``raise`` for something else (``if self.archived: raise``)."""
    for stmt in block:
        if isinstance(stmt, If) and depth < 3:
            if _asks_access(stmt.test) and exits(stmt.then) == "raise":
                return True
            if _refuses_who_asks(stmt.then, depth + 1) or _refuses_who_asks(stmt.orelse, depth + 1):
                return True
    return False


def _asks_access(test: Any) -> bool:
    """Whether the test fails whenever an access question fails: ``not allowed(...)``,
    ``not current_user or not self.isAuthorized()`` - not ``write and not allowed()``,
    which lets reads through."""
    if isinstance(test, BoolOp):
        if test.op == "or":
            return _asks_access(test.left) or _asks_access(test.right)
        return False
    if isinstance(test, Not):
        test = test.operand
    if isinstance(test, Call):
        func = test.func
        name = func.name if isinstance(func, Attr) else func.qualified.rsplit(".", 1)[-1] \
            if isinstance(func, Name) else ""
        return bool(ACCESS_CHECK.search(name.lower()) or PREDICATE.search(name.lower()))
    return False


def _held_item(value: Val) -> bool:
    """An item a list of held things holds: a held id, or held rows."""
    return isinstance(value, IdVal) or (isinstance(value, RowVal) and value.is_result)


def _where_of(site: QueryUse) -> tuple[str, int, int]:
    return site.path, site.line, site.column


def _reached(evidence: list[tuple[QueryUse, QueryVal, bool]], unbound: frozenset) -> dict[tuple, bool]:
    """For each call a query was reached through, whether every way to it scoped the query
    (leaving out the unscoped ways seen from ``unbound`` calls)."""
    reached: dict[tuple, bool] = {}
    for site, query, scoped_here in evidence:
        if not scoped_here and _where_of(site) in unbound:
            continue
        for step in query.through:
            reached[step[:3]] = reached.get(step[:3], True) and scoped_here
    return reached


def _callers_of(sites: list[QueryUse]) -> tuple[str, ...]:
    """The functions of the calls a helper's finding stands for, by name, once each - a
    special method with its class (``BasePermission.__init__``: dispatch's permission
    checks; a bare ``__init__`` names none)."""
    return tuple(sorted({_caller_name(site.function) for site in sites if site.function}))


def _caller_name(qualname: str) -> str:
    parts = qualname.rsplit(".", 2)
    if parts[-1].startswith("__") and parts[-1].endswith("__") and len(parts) == 3:
        return f"{parts[-2]}.{parts[-1]}"
    return parts[-1]


def _session_method(lib: str) -> bool:
    """``ext:fastapi_sqlalchemy.db.session.query``: a query method of an object a library
    calls ``session``."""
    parts = lib.split(".")
    return len(parts) >= 3 and parts[-2] == "session" and parts[-1] in _SESSION_METHODS


_SESSION_METHODS = frozenset({"query", "execute", "scalars", "scalar", "get", "exec"})


def _one_of(values: ValueSet, items: tuple) -> ValueSet:
    """``records[0]``, ``by_id[key]``: one of the rows a collection holds - as held as they
    are, but an owner check of that one row checks none of the others (another run key);
    ``info["model_record"]`` of a dict display that carries a row under that key; one of
    the ids a collection of held ids holds."""
    dicts = [v for v in values if isinstance(v, DictVal)]
    if len(items) == 1 and isinstance(items[0], Const) and isinstance(items[0].value, str) and dicts \
            and all(isinstance(v, DictVal) or v == _NONE_VALUE for v in values):
        # (``None[...]`` raises: the path that returned no dict does not get here)
        found = [dict(v.entries).get(items[0].value) for v in dicts]
        if all(f is not None for f in found):
            return frozenset(item for f in found for item in f)  # type: ignore[union-attr]
        return NOTHING
    if len(items) == 1 and not isinstance(items[0], Opaque) and values != NOTHING and values \
            and all(isinstance(v, RowVal) and v.is_result for v in values):
        return frozenset(replace(v, is_result=False, key=v.key + ("[]",)) for v in values)
    if len(items) == 1 and not isinstance(items[0], Opaque) and values \
            and all(isinstance(v, IdVal) and not v.row for v in values):
        return values  # ``ids_by_path[path]``: one of the ids held
    return NOTHING


def _comprehension_target(element: Expr, env: Env) -> Optional[str]:
    """The name a comprehension binds, read off its element: the first part of a name
    the function does not bind (``?.t`` in ``t.id``)."""
    stack: list = [element]
    while stack:
        node = stack.pop()
        if isinstance(node, Name) and node.qualified.startswith("?."):
            first = node.qualified[2:].split(".", 1)[0]
            if env.get(first, frozenset()) == frozenset():
                return first
        elif isinstance(node, Local) and node.tag == "local" and env.get(node.name, frozenset()) == frozenset():
            return node.name  # a name the function also binds elsewhere (a later ``for c in ...``)
        elif isinstance(node, tuple) and not isinstance(node, Const):
            stack.extend(part for part in node[1:] if isinstance(part, tuple))
    return None


def _own_rows(query: QueryVal) -> QueryVal:
    """``Comment.id == cid, Comment.author_id == current_user.id``: one row, of who asks
    (theirs to read, edit or delete); a listing of everything they wrote is not scoped."""
    own = frozenset(table for table in query.mine if any(key[0] == table for key in query.keys))
    return replace(query, scoped=query.scoped | own) if own - query.scoped else query


def _bound_target(expr: Any, target: str) -> Any:
    """``expr`` with the comprehension's free name ``?.<target>...`` read as the local
    the comprehension binds (``count(?.d.id)`` as ``count(d.id)``)."""
    if isinstance(expr, Name):
        name = expr.qualified
        return _unfolded(expr) if name == f"?.{target}" or name.startswith(f"?.{target}.") else expr
    if not isinstance(expr, tuple) or isinstance(expr, (Const, Local)):
        return expr
    parts = [_bound_target(part, target) for part in expr]
    if all(a is b for a, b in zip(parts, expr)):
        return expr
    return tuple.__new__(type(expr), parts) if hasattr(expr, "_fields") else tuple(parts)


def _unfolded(expr: Expr) -> Expr:
    """``?.t.id`` (a folded name chain) as ``t.id`` on a local, for ``_peek``."""
    if isinstance(expr, Name) and expr.qualified.startswith("?."):
        first, *rest = expr.qualified[2:].split(".")
        node: Expr = Local("local", first)
        for name in rest:
            node = Attr(node, name)
        return node
    return expr


def _falsy_param(value: object) -> bool:
    """A parameter every call leaves falsy (``insecure=False`` not passed)."""
    return isinstance(value, ParamVal) and value.truthy is False


def _privileged_values(values: ValueSet) -> ValueSet:
    """The queries among ``values`` marked as reached only on an administrators' path."""
    if not any(isinstance(v, (QueryVal, ParamVal)) and not v.privileged for v in values):
        return values
    return frozenset(replace(v, privileged=True) if isinstance(v, (QueryVal, ParamVal)) else v for v in values)


def _mark_privileged(branch: Env) -> None:
    """Every query a local holds, entering a branch only administrators take."""
    names: set[str] = set()
    layer: Optional[Env] = branch
    while layer is not None:
        names.update(layer.local)
        layer = layer.parent
    for name in names:
        values = branch.get(name, NOTHING)
        marked = _privileged_values(values)
        if marked is not values:
            branch.set(name, marked)


def _class_choices(values: list[frozenset]) -> tuple[str, ...]:
    """The tables of a first argument that is always a mapped class (a local assigned one
    model or another), else nothing."""
    if not values or not values[0] or not all(isinstance(v, ClassVal) for v in values[0]):
        return ()
    return tuple(sorted({v.table for v in values[0]}))


_ITERATING_BUILTINS = {f"builtins:{name}" for name in ("list", "tuple", "set", "sorted", "enumerate", "iter")}


def _own_table(ctx: Context) -> Optional[TableModel]:
    """The table of the mapped class whose method is being interpreted (``cls``)."""
    cls = ctx.cls
    return cls.table if cls is not None and cls.mapped and cls.table is not None and cls.table.key else None


def _is_class_level(body: FunctionIR) -> bool:
    """A classmethod or staticmethod: callable on the class itself."""
    for dec in body.decorators:
        if dec[0] == "n" and dec[1].rsplit(".", 1)[-1] in ("classmethod", "staticmethod"):
            return True
    return False


def _leading_wildcard(pattern: Optional[Expr]) -> bool:
    """``"%x"``, ``f"%{x}"``, ``"%" + x``: a pattern that starts with a wildcard."""
    if isinstance(pattern, Const) and isinstance(pattern.value, str):
        return pattern.value.startswith("%")
    if isinstance(pattern, FString):
        return pattern.text.startswith("%")
    if isinstance(pattern, Add):
        return _leading_wildcard(pattern.left)
    return False


def _sql(lib: Optional[str]) -> Optional[str]:
    """``sa:or_`` / ``sqlmodel:or_`` -> ``or_``: SQLModel re-exports SQLAlchemy's names."""
    if lib and lib.startswith(("sa:", "sqlmodel:")):
        return lib.split(":", 1)[1]
    return None


def interpreted(module: ModuleFacts) -> bool:
    """Whether the query analysis interprets the module: it has function bodies and is
    no migration (a data migration reads and rewrites every tenant's rows on purpose,
    once)."""
    return bool(module.bodies) and not is_alembic_revision(module)


@dataclass
class _Notes:
    """What a filter's AND-ed terms say besides scoping (see ``QueryVal``)."""

    keys: list = field(default_factory=list)
    anchors: frozenset = frozenset()
    asks: bool = False
    unknown: bool = False  # a term it cannot read (no index rule judges the query)
    mine: set = field(default_factory=set)  # see QueryVal.mine


@dataclass
class _Held:
    """What an interpretation held back (see ``QueryAnalyzer._held_back``): the caller's
    containers while it runs, its own once it is done."""

    returns: list
    executed: set
    inner_uses: list
    ops: list = field(default_factory=list)  # (applied once per module, operation)


MAX_LOOP_PASSES = 5
DECODED_BODIES = 1024
NONE = Const(None)
SELF = Local("param", "self")
CLS = Local("param", "cls")
# Loops nested deeper than this inside loops being settled take one pass: each level
# multiplies the work by the passes it takes.
MAX_QUIET_NESTING = 3
NOTHING: frozenset = frozenset({None})

_TRANSFER: dict[type, Callable[[QueryAnalyzer, Any, Env, Context], Optional[Env]]] = {
    Assign: QueryAnalyzer._assign,
    ExprStmt: QueryAnalyzer._expression,
    Return: QueryAnalyzer._return,
    Raise: QueryAnalyzer._raise,
    Assert: QueryAnalyzer._assert,
    If: QueryAnalyzer._if,
    Loop: QueryAnalyzer._loop,
    With: QueryAnalyzer._with,
    Try: QueryAnalyzer._try,
    Branches: QueryAnalyzer._branches,
    Break: QueryAnalyzer._break,
    Continue: QueryAnalyzer._continue,
}


def _opaque(values: frozenset) -> frozenset:
    return frozenset(replace(v, opaque=True) if isinstance(v, QueryVal) else v for v in values)


def _always_true(test: Optional[Expr]) -> bool:
    """``while True:`` / ``while 1:``: left only by a break (or a return, a raise)."""
    return isinstance(test, Const) and bool(test.value) is True


def _assigns(block: Block) -> bool:
    """Whether a block binds a local anywhere (a name, a ``with ... as``, a nested loop's
    targets): a loop whose body binds none has its entry state as its head's."""
    for stmt in block:
        if isinstance(stmt, Assign) and any(stmt.targets):
            return True
        if isinstance(stmt, With) and (any(name for _expr, name in stmt.items) or _assigns(stmt.body)):
            return True
        if isinstance(stmt, Loop) and (stmt.targets or _assigns(stmt.body) or _assigns(stmt.orelse)):
            return True
        if isinstance(stmt, If) and (_assigns(stmt.then) or _assigns(stmt.orelse)):
            return True
        if isinstance(stmt, Try) and (_assigns(stmt.body) or _assigns(stmt.orelse) or _assigns(stmt.final)
                                      or any(_assigns(h) for h in stmt.handlers)):
            return True
        if isinstance(stmt, Branches) and any(_assigns(case) for case in stmt.cases):
            return True
    return False


def _read_before_assigned(loop: Loop) -> frozenset[str]:
    """The locals a loop's body (its ``while`` test included) may read before assigning
    them in the same iteration: the only ones whose value at the head depends on the
    iteration before (a must-assign scan in statement order; branches assign what all
    of them assign)."""
    live: set[str] = set()
    assigned: set[str] = set()
    if loop.is_while and loop.iterable is not None:
        _reads(loop.iterable, assigned, live)
    _scan_block(loop.body, set(loop.targets), live)
    return frozenset(live)


def _scan_block(block: Block, assigned: set[str], live: set[str]) -> Optional[set[str]]:
    """Note in ``live`` the reads of names not in ``assigned``; the names assigned on every
    path through the block, or None when no path reaches its end."""
    for stmt in block:
        result = _scan_stmt(stmt, assigned, live)
        if result is None:
            return None
        assigned = result
    return assigned


def _scan_stmt(stmt: Any, assigned: set[str], live: set[str]) -> Optional[set[str]]:
    if isinstance(stmt, Assign):
        _reads(stmt.value, assigned, live)
        for target in stmt.targets:
            if target.endswith("[]"):
                live.add(target)  # adds to what was stored before
            elif target:
                assigned = assigned | set(_unpacked(target) or (target,))
        return assigned
    if isinstance(stmt, (ExprStmt, Assert)):
        _reads(stmt.value if isinstance(stmt, ExprStmt) else stmt.test, assigned, live)
        return assigned
    if isinstance(stmt, Return):
        if stmt.value is not None:
            _reads(stmt.value, assigned, live)
        return None
    if isinstance(stmt, Raise):
        if stmt.exception is not None:
            _reads(stmt.exception, assigned, live)
        return None
    if isinstance(stmt, (Break, Continue)):
        return None
    if isinstance(stmt, If):
        _reads(stmt.test, assigned, live)
        return _meet([_scan_block(stmt.then, assigned, live), _scan_block(stmt.orelse, assigned, live)])
    if isinstance(stmt, With):
        for expr, name in stmt.items:
            _reads(expr, assigned, live)
            if name:
                assigned = assigned | {name}
        return _scan_block(stmt.body, assigned, live)
    if isinstance(stmt, Loop):
        if stmt.iterable is not None:
            _reads(stmt.iterable, assigned, live)
        _scan_block(stmt.body, assigned | set(stmt.targets), live)
        _scan_block(stmt.orelse, assigned, live)
        return assigned  # the body may run no time at all
    if isinstance(stmt, Try):
        body = _scan_block(stmt.body, assigned, live)
        handlers = [_scan_block(h, assigned, live) for h in stmt.handlers]
        orelse = _scan_block(stmt.orelse, body, live) if body is not None and stmt.orelse else body
        _scan_block(stmt.final, assigned, live)
        return _meet([orelse, *handlers])
    if isinstance(stmt, Branches):
        _reads(stmt.subject, assigned, live)
        for case in stmt.cases:
            _scan_block(case, assigned, live)
        return assigned
    return assigned


def _meet(paths: list[Optional[set[str]]]) -> Optional[set[str]]:
    reached = [p for p in paths if p is not None]
    if not reached:
        return None
    return set.intersection(*reached)


def _reads(expr: Any, assigned: set[str], live: set[str]) -> None:
    """Every local ``expr`` reads that is not yet assigned goes into ``live`` (a name read
    as ``?.x`` - bound by a walrus or a comprehension - counts by its first part). Nodes
    are the typed classes; plain tuples inside them (arguments, keyword pairs) are only
    containers."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if type(node) is tuple:
            stack.extend(node)
        elif isinstance(node, Local):
            if node.tag == "local" and node.name not in assigned:
                live.add(node.name)
        elif isinstance(node, Walrus):
            live.add(node.name)  # assigned inside an expression: carried, to be safe
            stack.append(node.value)
        elif isinstance(node, Name):
            if node.qualified.startswith("?."):
                live.add(node.qualified[2:].split(".", 1)[0])
        elif isinstance(node, tuple) and not isinstance(node, Const):
            stack.extend(node[1:])


# One evaluation function per expression type.
_EVAL: dict[type, Callable[[QueryAnalyzer, Any, Env, Context], ValueSet]] = {
    Local: QueryAnalyzer._eval_local,
    Const: QueryAnalyzer._eval_const,
    Name: QueryAnalyzer._eval_name,
    Walrus: QueryAnalyzer._eval_walrus,
    Attr: QueryAnalyzer._eval_attribute,
    Call: QueryAnalyzer._eval_call,
    Sequence: QueryAnalyzer._eval_sequence,
    DictDisplay: QueryAnalyzer._eval_dict,
    Opaque: QueryAnalyzer._eval_opaque,
    IfExp: QueryAnalyzer._eval_ifexp,
    Comprehension: QueryAnalyzer._eval_comprehension,
    Compare: QueryAnalyzer._eval_compare,
    BoolOp: QueryAnalyzer._eval_boolean,
    Not: QueryAnalyzer._eval_not,
    # what these compute is no query or row the analysis follows (nor are their insides run)
    Star: QueryAnalyzer._eval_nothing,
    Subscript: QueryAnalyzer._eval_subscript,
    BinOr: QueryAnalyzer._eval_nothing,
    Add: QueryAnalyzer._eval_nothing,
    FString: QueryAnalyzer._eval_fstring,
    Lambda: QueryAnalyzer._eval_nothing,
}
