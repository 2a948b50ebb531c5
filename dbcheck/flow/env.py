"""The state the query analysis carries through a function: the environment of locals
and the context of the function being interpreted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional, Set

from dbcheck.facts.model import FunctionIR, ModuleFacts
from dbcheck.flow.values import join

if TYPE_CHECKING:
    from dbcheck.schema.index import ClassInfo


# ``vouched`` on a path where the local is falsy (the ``else`` of ``if folder_id:``): an
# id of no row, so whatever another path vouched for holds wherever the id is used
FALSY = "*"
# beside the tables: the lookup that vouched ran without the tenant's filter (onyx's
# get_chat_session_by_id(id, user_id=None)) - the id names a row, not one of the tenant's
UNVETTED = "?"


class Env:
    """Locals -> possible values, plus which locals had their owner checked.

    A branch is a child layer over its parent (O(1) to open), and a join writes back
    only the names the branches assigned, so a long function with many ``if``s stays
    linear in its length."""

    __slots__ = ("local", "parent", "checked", "vouched")

    def __init__(self, parent: Optional["Env"] = None) -> None:
        self.local: dict[str, frozenset] = {}
        self.parent = parent
        self.checked: set[str] = set(parent.checked) if parent is not None else set()
        # local -> the tables it is an id of, vouched for by a lookup that ran with it
        # (``read_agent(s, agent_id, actor)``; ``session.get(Agent, agent_id)``): what holds
        # on every path
        self.vouched: dict[str, frozenset[str]] = dict(parent.vouched) if parent is not None else {}

    def vouch(self, name: str, table: str) -> None:
        self.vouched[name] = self.vouched.get(name, frozenset()) | {table}

    def get(self, key: str, default: frozenset) -> frozenset:
        env: Optional[Env] = self
        while env is not None:
            found = env.local.get(key)
            if found is not None:
                return found
            env = env.parent
        return default

    def set(self, key: str, value: frozenset) -> None:
        self.local[key] = value

    def child(self) -> "Env":
        return Env(self)

    def snapshot(self) -> "Env":
        """A copy of every layer's locals, flattened: what a closure defined here reads."""
        layers = []
        env: Optional[Env] = self
        while env is not None:
            layers.append(env.local)
            env = env.parent
        copy = Env()
        for local in reversed(layers):
            copy.local.update(local)
        copy.checked = set(self.checked)
        copy.vouched = dict(self.vouched)
        return copy

    def assigned_up_to(self, ancestor: "Env") -> Set[str]:
        """The names assigned in this env and its parents below ``ancestor``."""
        keys: Set[str] = set()
        env: Optional[Env] = self
        while env is not None and env is not ancestor:
            keys.update(env.local)
            env = env.parent
        return keys

    def join(self, branches: list["Env"], include_self: bool = False) -> None:
        """Merge descendants that reached the end of their path back into this env."""
        keys: Set[str] = set()
        for branch in branches:
            keys |= branch.assigned_up_to(self)
        for key in keys:
            values: set = set(self.get(key, frozenset({None}))) if include_self else set()
            for branch in branches:
                values |= branch.get(key, frozenset({None}))
            self.local[key] = join(values)
        for branch in branches:
            # a Get counts as checked if any path checks it ("never checked" is the rule)
            self.checked |= branch.checked
        if branches:
            names = set(branches[0].vouched)
            for branch in branches[1:]:
                names &= set(branch.vouched)
            vouched = {}
            for name in names:
                # a path where the id is falsy looked nothing up: it takes any table
                sets = [branch.vouched[name] for branch in branches if FALSY not in branch.vouched[name]]
                own = self.vouched.get(name, frozenset())
                if include_self and FALSY not in own:
                    sets.append(own)
                tables = frozenset.intersection(*sets) if sets else frozenset({FALSY})
                if tables and any(UNVETTED in found for found in sets):
                    tables |= {UNVETTED}  # unvetted on any path is unvetted
                if tables:
                    vouched[name] = tables
            self.vouched = vouched




@dataclass
class Context:
    module: ModuleFacts
    function: FunctionIR
    cls: Optional["ClassInfo"]
    depth: int = 0
    summary: bool = False  # interpreting a callee: record returns, not uses
    executed: set = field(default_factory=set)  # parameters the callee runs as queries
    inner_uses: list = field(default_factory=list)  # queries of its own the callee runs
    privileged: int = 0  # inside ``if user.is_superuser:`` and the like
    line: int = 0  # of the statement being interpreted
    # evaluating what stops the function when it fails: an expression statement
    # (ensure_owner(user, row)), the test of an ``if`` whose branch leaves (not an
    # ``assert``: ``python -O`` drops it)
    guarding: bool = False
    testing: bool = False  # of those, the test of an ``if`` (not an expression statement)
    negated: bool = False  # under an odd number of ``not`` in that test
    answering: bool = False  # the test of an ``if`` whose branch returns
    returns: list = field(default_factory=list)  # what each ``return`` hands back
    loops: list["LoopFrame"] = field(default_factory=list)  # the loops around the statement
    vouched_params: set = field(default_factory=set)  # (parameter, table): ids the callee looked up
    instance_models: tuple = ()  # (attribute, table) of the instance ``self`` is (see InstanceVal)
    # the closures the function defines, by line, not yet reached: the first statement
    # after one's ``def`` takes a copy of the locals for it (``closure_envs``)
    closures: Optional[list] = None
    closure_envs: dict = field(default_factory=dict)


@dataclass
class LoopFrame:
    """The paths leaving one pass through a loop's body: by ``break`` (to after the loop)
    and back to its head (the end of the body, ``continue``)."""

    breaks: list[Env] = field(default_factory=list)
    continues: list[Env] = field(default_factory=list)
    back: list[Env] = field(default_factory=list)
