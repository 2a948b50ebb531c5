"""The flow layer on its own: the lattice's join and order, the environment, the lowering
of bodies to the typed IR, and each statement's transfer function (``dbcheck.flow``),
run on IR written by hand against a small model index."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from dbcheck.config import Config
from dbcheck.facts.collect import extract
from dbcheck.facts.ir import (
    Assert, Assign, Attr, BinOr, Branches, Break, Call, Compare, Const, Continue, ExprStmt, If, Local, Loop, Name, Opaque,
    Raise, Return, Sequence, Star, Try, With, decode_body, encode,
)
from dbcheck.facts.model import FunctionIR
from dbcheck.flow import interpreter
from dbcheck.flow.env import Context, Env
from dbcheck.flow.interpreter import QueryAnalyzer
from dbcheck.flow.values import MAX_CONDITION_LISTS, ExprVal, GetVal, ParamVal, QueryVal, Term, join, leq
from dbcheck.flow.view import IndexView
from dbcheck.schema.build import build_index

MODELS = '''
from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
'''

TASK = Name("app.Task")
SELECT = Name("sqlalchemy.select")
SESSION = Local("param", "session")
USER = Local("param", "user")


def q(line: int, scoped: frozenset = frozenset(), terms: tuple = (), **kw) -> QueryVal:
    return QueryVal("read", ("tasks",), scoped=scoped, terms=terms, line=line, column=1, path="app.py", **kw)


# ---------------------------------------------------------------- the lattice

def test_join_keeps_what_every_path_shares_per_origin():
    scoped = q(3, frozenset({"tasks"}), (Term("tasks", "user_id", "==", None, 4, 1, False),), filtered=True)
    bare = q(3)
    other = q(9, frozenset({"tasks"}))
    joined = join({scoped, bare, other, None})
    # scoped on one path only: remembered as such (a helper's own admin path)
    assert joined == frozenset({q(3, filtered=True, sometimes=frozenset({"tasks"})), other, None})
    assert join({scoped, replace_opaque(scoped)}) == frozenset({replace_opaque(scoped)})


def replace_opaque(value: QueryVal) -> QueryVal:
    from dataclasses import replace

    return replace(value, opaque=True)


def test_join_does_not_depend_on_the_order_values_come_in():
    a = q(3, frozenset({"tasks"}), (Term("tasks", "a", "==", None, 4, 1, False), Term("tasks", "b", "==", None, 5, 1, False)),
          note="built by A()")
    b = q(3, frozenset({"tasks"}), (Term("tasks", "b", "==", None, 5, 1, False), Term("tasks", "a", "==", None, 4, 1, False)),
          note="built by B()")
    c = q(3, frozenset(), (Term("tasks", "a", "==", None, 4, 1, False),))
    results = set()
    for seed in range(20):
        values = [a, b, c]
        random.Random(seed).shuffle(values)
        results.add(join(values))
    assert len(results) == 1


def test_join_is_idempotent_and_leq_is_its_order():
    values = {q(3, frozenset({"tasks"})), q(3), q(5), GetVal("tasks", 7, 1, "app.py"), None}
    once = join(values)
    assert join(once) == once and join(set(once) | set(once)) == once
    assert leq(frozenset({q(3, frozenset({"tasks"}))}), once)
    assert leq(once, once)
    assert not leq(once, frozenset({q(5)}))


# ---------------------------------------------------------------- the environment

def test_env_layers_and_joins_what_descendants_assigned():
    root = Env()
    root.set("stmt", frozenset({q(1)}))
    child = root.child()
    grandchild = child.child()
    child.set("a", frozenset({q(2)}))
    grandchild.set("b", frozenset({q(3)}))
    grandchild.checked.add("task")
    assert grandchild.get("stmt", frozenset()) == frozenset({q(1)})
    assert grandchild.assigned_up_to(root) == {"a", "b"}
    other = root.child()
    other.set("a", frozenset({q(4)}))
    root.join([grandchild, other])
    assert root.get("a", frozenset()) == frozenset({q(2), q(4)})
    assert root.get("b", frozenset()) == frozenset({q(3), None})  # unassigned on one path
    assert "task" in root.checked  # checked on some path


# ---------------------------------------------------------------- the lowering

def _lowered(source: str) -> tuple:
    facts = extract(MODELS + source, "app.py", "app", False)
    (body,) = [b for b in facts.bodies if b.name == "f"]
    return body.body


def test_loops_break_and_continue_are_lowered():
    body = _lowered('''
def f(session, ids):
    for i in ids:
        if i:
            continue
        break
    else:
        pass
    while True:
        break
''')
    loop, wloop = body
    assert isinstance(loop, Loop) and not loop.is_while and loop.targets == ("i",)
    assert isinstance(loop.body[0], If) and isinstance(loop.body[0].then[0], Continue)
    assert isinstance(loop.body[1], Break)
    assert isinstance(wloop, Loop) and wloop.is_while and wloop.iterable == Const(True)


def test_the_typed_ir_is_the_stored_tuples():
    facts = extract(MODELS + "\ndef f(session, t):\n    return session.scalars(select(Task).where(Task.id == t)).all()\n",
                    "app.py", "app", False)
    (body,) = [b for b in facts.bodies if b.name == "f"]
    import marshal

    plain = marshal.loads(body.code)
    typed = body.body
    assert typed == plain and encode(typed) == plain
    (ret,) = typed
    assert isinstance(ret, Return) and isinstance(ret.value, Call) and ret.value.func == Attr(ret.value.func.value, "all")
    assert decode_body(encode(typed)) == typed
    assert encode(Opaque()) == ("?",)


# ---------------------------------------------------------------- the transfer functions

@pytest.fixture(scope="module")
def index():
    facts = extract(MODELS, "app.py", "app", False)
    return build_index({"app": facts})


def _run(index, stmts, params=("session", "user", "ids")):
    analyzer = QueryAnalyzer(IndexView(index), Config(root=Path(".")))
    module = index.modules["app"]
    body = FunctionIR("f", "app.f", None, 1, 1, list(params), {}, [], FunctionIR.encode_body(encode(stmts)))
    ctx = Context(module, body, None)
    env = Env()
    for p in params:
        env.set(p, frozenset({ParamVal(p)}))
    out = analyzer._block(tuple(stmts), env, ctx)
    return analyzer, out, env, ctx


def _select(line: int, where=None) -> Call:
    stmt = Call(SELECT, (TASK,), (), line, 10)
    if where is not None:
        stmt = Call(Attr(stmt, "where"), (where,), (), line, 20)
    return stmt


def _scoping(line: int) -> Compare:
    return Compare(Name("app.Task.user_id"), (("==", Attr(USER, "id")),), line, 30)


def _run_stmt(name: str, line: int) -> ExprStmt:
    return ExprStmt(Call(Attr(SESSION, "execute"), (Local("local", name),), (), line, 5), line)


def _uses(analyzer) -> list[tuple[int, bool]]:
    from dbcheck.flow.policy import unscoped_table

    return sorted((u.line, unscoped_table(analyzer.index, analyzer.config, u.query) is not None)
                  for u in analyzer.result.uses)


def test_assign_binds_and_expression_statements_run(index):
    analyzer, out, env, _ctx = _run(index, [Assign(("stmt",), _select(2), 2), _run_stmt("stmt", 3)])
    assert out is env and _uses(analyzer) == [(2, True)]


def test_an_abort_ends_the_path(index):
    analyzer, out, _env, _ctx = _run(index, [ExprStmt(Call(Name("flask.abort"), (Const(404),), (), 2, 1), 2),
                                             Assign(("stmt",), _select(3), 3), _run_stmt("stmt", 4)])
    assert out is None and _uses(analyzer) == []


def test_return_and_raise_leave(index):
    _analyzer, out, _env, ctx = _run(index, [Return(_select(2), 2), Raise(None, 3)])
    assert out is None and len(ctx.returns) == 1
    _analyzer, out, _env, _ctx = _run(index, [Raise(Name("builtins.ValueError"), 2)])
    assert out is None


def test_if_joins_its_branches(index):
    stmts = [Assign(("stmt",), _select(2), 2),
             If(Local("param", "ids"), (Assign(("stmt",), Call(Attr(Local("local", "stmt"), "where"), (_scoping(3),),
                                                                (), 3, 9), 3),), (), 3),
             _run_stmt("stmt", 4)]
    analyzer, out, _env, _ctx = _run(index, stmts)
    assert out is not None and _uses(analyzer) == [(2, True)]  # unscoped on one path
    stmts[1] = If(Local("param", "ids"), (Assign(("stmt",), Call(Attr(Local("local", "stmt"), "where"),
                                                                 (_scoping(3),), (), 3, 9), 3),),
                  (Raise(None, 4),), 3)
    analyzer, _out, _env, _ctx = _run(index, stmts)
    assert _uses(analyzer) == [(2, False)]  # the unscoped path raised


def test_assert_checks_a_lookup(index):
    get = Call(Attr(SESSION, "get"), (TASK, Local("param", "ids")), (), 2, 7)
    check = Compare(Attr(Local("local", "task"), "user_id"), (("==", Attr(USER, "id")),), 3, 12)
    analyzer, _out, _env, _ctx = _run(index, [Assign(("task",), get, 2), Assert(check, 3)])
    analyzer.finish()
    assert analyzer.result.unchecked_gets == []
    analyzer, _out, _env, _ctx = _run(index, [Assign(("task",), get, 2)])
    analyzer.finish()
    assert [u.line for u in analyzer.result.unchecked_gets] == [2]


def test_with_try_and_branches(index):
    analyzer, out, _env, _ctx = _run(index, [
        With(((Call(Name("app.lock"), (), (), 2, 1), "guard"),), (Assign(("stmt",), _select(3), 3),), 2),
        Try((Raise(None, 5),), ((Assign(("stmt",), _select(6, _scoping(6)), 6),),), (), (), 4),
        Branches(Local("param", "ids"), ((Assign(("other",), _select(8), 8),),), 7),
        _run_stmt("stmt", 9), _run_stmt("other", 10),
    ])
    assert out is not None
    # only the handler reaches the end of the try: stmt is the scoped one; ``other``
    # may be unset (no case matched)
    assert _uses(analyzer) == [(6, False), (8, True)]


def test_a_query_that_runs_from_the_second_iteration(index):
    stmts = [Assign(("stmt",), Const(None), 2),
             Loop(("i",), Local("param", "ids"), (
                 If(Compare(Local("local", "stmt"), (("is not", Const(None)),), 4, 8), (_run_stmt("stmt", 5),), (), 4),
                 Assign(("stmt",), _select(6), 6),
             ), (), 3)]
    analyzer, out, env, _ctx = _run(index, stmts)
    assert _uses(analyzer) == [(6, True)]
    assert len(analyzer.result.uses) == 1  # the final pass alone has effects
    assert out is env and q(6) in {replace_line(v) for v in env.get("stmt", frozenset()) if isinstance(v, QueryVal)}


def replace_line(value: QueryVal) -> QueryVal:
    from dataclasses import replace

    return replace(value, column=1, path="app.py")


def test_break_leaves_and_continue_goes_back_to_the_head(index):
    stmts = [Assign(("stmt",), _select(2, _scoping(2)), 2),
             Loop(("i",), Local("param", "ids"), (
                 If(Local("local", "i"), (Continue(4),), (), 4),
                 Assign(("stmt",), _select(5), 5),
                 Break(6),
                 Assign(("never",), _select(7), 7),
             ), (), 3),
             _run_stmt("stmt", 8)]
    analyzer, out, env, _ctx = _run(index, stmts)
    assert _uses(analyzer) == [(2, False), (5, True)]
    assert env.get("never", frozenset()) == frozenset()  # after the break: never reached


def test_while_true_is_left_only_by_break(index):
    stmts = [Loop((), Const(True), (Return(None, 3),), (), 2, True), Assign(("stmt",), _select(4), 4)]
    _analyzer, out, _env, _ctx = _run(index, stmts)
    assert out is None  # nothing after the loop is reachable
    stmts = [Loop((), Const(True), (Break(3),), (), 2, True), Assign(("stmt",), _select(4), 4)]
    _analyzer, out, _env, _ctx = _run(index, stmts)
    assert out is not None


def test_else_runs_when_the_loop_ends_without_break(index):
    stmts = [Loop(("i",), Local("param", "ids"), (If(Local("local", "i"), (Break(3),), (), 3),),
                  (Assign(("stmt",), _select(4), 4),), 2),
             _run_stmt("stmt", 5)]
    analyzer, _out, env, _ctx = _run(index, stmts)
    assert _uses(analyzer) == [(4, True)]
    assert None in env.get("stmt", frozenset())  # unset when the loop broke


def test_a_loop_that_does_not_settle_makes_its_queries_opaque(index, monkeypatch):
    monkeypatch.setattr(interpreter, "MAX_LOOP_PASSES", 0)  # no pass may settle it
    stmts = [Assign(("stmt",), _select(2), 2),
             Loop(("i",), Local("param", "ids"), (
                 Assign(("stmt",), Call(Attr(Local("local", "stmt"), "where"), (_scoping(4),), (), 4, 9), 4),
             ), (), 3),
             _run_stmt("stmt", 5)]
    analyzer, _out, _env, _ctx = _run(index, stmts)
    assert _uses(analyzer) == [(2, False)]  # opaque: never reported on a guess
    assert all(u.query.opaque for u in analyzer.result.uses)


def test_every_statement_type_has_a_transfer_function():
    from dbcheck.facts.ir import STATEMENT_TYPES

    assert set(interpreter._TRANSFER) == set(STATEMENT_TYPES)


def test_sequences_and_values_are_unknown(index):
    analyzer, _out, env, _ctx = _run(index, [Assign(("xs",), Sequence("list", (_select(2),)), 2)])
    assert env.get("xs", frozenset()) == frozenset({None})
    assert ExprVal(Const(1)).expr == ("c", 1)


def test_what_a_loop_reads_before_it_assigns_is_found_by_node_type():
    """A keyword argument named ``n`` is a pair in a call, not a name node."""
    body = (Assign(("total",), Call(Name("app.f"), (), (("n", Local("local", "total")),), 3, 1), 3),
            Assign(("fresh",), Const(1), 4),
            ExprStmt(Local("local", "fresh"), 5))
    loop = Loop(("i",), Local("param", "ids"), body, (), 2)
    assert interpreter._read_before_assigned(loop) == {"total"}


def _append(name: str, item, line: int) -> ExprStmt:
    return ExprStmt(Call(Attr(Local("local", name), "append"), (item,), (), line, 5), line)


def _filtered(line: int, name: str = "filters") -> Call:
    return Call(Attr(_select(line), "where"), (Star(Local("local", name)),), (), line, 20)


def test_a_condition_list_is_anded_by_where_star(index):
    stmts = [Assign(("filters",), Sequence("list", ()), 2),
             If(Local("param", "ids"), (_append("filters", _scoping(3), 3),), (), 3),
             Assign(("stmt",), _filtered(4), 4), _run_stmt("stmt", 5)]
    analyzer, _out, _env, _ctx = _run(index, stmts)
    assert _uses(analyzer) == [(4, True)]  # the tenant filter is added on one path only
    stmts[1] = _append("filters", _scoping(3), 3)
    analyzer, _out, _env, _ctx = _run(index, stmts)
    assert _uses(analyzer) == [(4, False)]


def test_a_list_given_anything_but_conditions_is_not_followed(index):
    stmts = [Assign(("filters",), Sequence("list", ()), 2),
             _append("filters", _scoping(3), 3),
             _append("filters", Const("text"), 4)]
    _analyzer, _out, env, _ctx = _run(index, stmts)
    assert env.get("filters", frozenset()) == frozenset({None})


def test_conditional_appends_in_a_loop_stay_bounded(index):
    """Every branch appending another condition would double the lists a path can
    hold; past a few they merge into what all paths share, and the loop settles."""
    checks = tuple(If(Local("local", "i"), (_append("filters", Compare(Name("app.Task.id"), (("==", Const(n)),),
                                                                        10 + n, 9), 10 + n),), (), 10 + n)
                   for n in range(12))
    stmts = [Assign(("filters",), Sequence("list", (_scoping(2),)), 2),
             Loop(("i",), Local("param", "ids"), checks, (), 3),
             Assign(("stmt",), _filtered(30), 30), _run_stmt("stmt", 31)]
    analyzer, _out, env, _ctx = _run(index, stmts)
    assert _uses(analyzer) == [(30, False)]  # every path keeps the tenant filter
    assert len(env.get("filters", frozenset())) <= MAX_CONDITION_LISTS


def test_a_condition_that_names_itself_is_read_once(index):
    """``cond = cond | (T.id == 2)``: what ``cond`` held before is not kept with it, so
    reading it again would never end; it is a term that cannot scope."""
    other = Compare(Name("app.Task.id"), (("==", Const(2)),), 3, 20)
    stmts = [Assign(("cond",), _scoping(2), 2),
             Assign(("cond",), BinOr(Local("local", "cond"), other), 3),
             Assign(("stmt",), Call(Attr(_select(4), "where"), (Local("local", "cond"),), (), 4, 20), 4),
             _run_stmt("stmt", 5)]
    analyzer, _out, _env, _ctx = _run(index, stmts)
    assert all(u.query.opaque for u in analyzer.result.uses) and _uses(analyzer) == [(4, False)]


def test_privilege_is_read_from_whole_words_of_the_name_not_its_module():
    """``pgadmin.utils.pga_login_required`` is an ordinary login check (pgAdmin's views
    were all labelled "admin path" by the package name); ``admin_required``,
    ``roles_required('Administrator')``, ``is_superuser`` and a ``backoffice`` package say
    who may run the code."""
    from dbcheck.flow.policy import mentions_privilege

    assert not mentions_privilege(("n", "pgadmin.utils.pga_login_required"))
    assert not mentions_privilege(("attr", ("n", "badminton"), "score"))
    assert mentions_privilege(("n", "app.auth.admin_required"))
    assert mentions_privilege(("call", ("n", "flask_security.roles_required"), (("c", "Administrator"),), ()))
    assert mentions_privilege(("attr", ("n", "flask_login.current_user"), "is_superuser"))
    assert mentions_privilege(("n", "app.auth.AdminOnly"))
    assert mentions_privilege(("attr", ("n", "polar.backoffice.orders.endpoints.router"), "get"))
