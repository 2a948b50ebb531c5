"""DBC601: every Alembic revision can be rolled back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Optional

from dbcheck.findings import Finding
from dbcheck.schema.model import Location
from dbcheck.facts.ir import Block, Call, Const, Expr, ExprStmt, If, Name, Opaque, Raise, Return
from dbcheck.facts.model import FunctionIR, ModuleFacts, is_alembic_revision
from dbcheck.rules.base import Rule

if TYPE_CHECKING:
    from dbcheck.rules.context import RuleContext


def _function(module: ModuleFacts, name: str) -> Optional[FunctionIR]:
    found = [b for b in module.bodies if b.class_name is None and b.name == name]
    return found[-1] if found else None


def does_nothing(body: "Block") -> bool:
    """Only ``pass``, ``...``, a docstring, comments, ``raise NotImplementedError``, a bare
    ``return``, or an ``if`` doing nothing either way (CKAN's ``if skip(op): return``)."""
    for stmt in body:
        if isinstance(stmt, ExprStmt) and (isinstance(stmt.value, Const) or stmt.value == Opaque()):
            continue  # a docstring, a string, or ``...``
        if isinstance(stmt, Return) and stmt.value is None:
            continue
        if isinstance(stmt, If) and does_nothing(stmt.then) and does_nothing(stmt.orelse):
            continue
        if isinstance(stmt, Raise) and stmt.exception is not None and _names_not_implemented(stmt.exception):
            continue
        return False
    return True


def _names_not_implemented(expr: "Expr") -> bool:
    target = expr.func if isinstance(expr, Call) else expr
    return isinstance(target, Name) and target.qualified.rsplit(".", 1)[-1] == "NotImplementedError"


class IrreversibleMigration(Rule):
    code = "DBC601"
    name = "irreversible-migration"
    summary = "An Alembic revision whose `downgrade()` is missing or does nothing."
    message = ("downgrade() does nothing: reverse what upgrade() does (drop what it adds, restore what it drops), "
               "so the deploy can be rolled back")
    messages = {"missing": ("revision has no downgrade(): add one that reverses upgrade(), so the deploy can be "
                            "rolled back with `alembic downgrade -1`")}
    what_it_does = """
Flags an Alembic (or Flask-Migrate) revision script - recognised by its `revision` and
`down_revision` globals, wherever it lives - whose `downgrade()` is missing (reported at
`def upgrade`) or does nothing: only `pass`, `...`, a docstring, comments or
`raise NotImplementedError` (reported at `def downgrade`). A revision whose `upgrade()`
does nothing either (a merge revision, with a tuple `down_revision`) is not flagged."""
    why_bad = """
A deploy that goes wrong is rolled back with `alembic downgrade -1`. A revision without a
working downgrade turns that into a manual repair under pressure, and blocks every
revision before it from being rolled back too."""
    known_problems = """
A downgrade that cannot restore data (a dropped column's contents) still has to restore
the schema; the rule only checks that it does something."""
    example = """
def upgrade():
    op.add_column("tasks", sa.Column("due_at", sa.DateTime()))

def downgrade():  # DBC601
    pass
"""
    use_instead = """
def downgrade():
    op.drop_column("tasks", "due_at")
"""
    valid = (
        '''
"""add due_at"""
import sqlalchemy as sa
from alembic import op
revision = "b2"
down_revision = "a1"
def upgrade():  # ok: DBC601
    op.add_column("tasks", sa.Column("due_at", sa.DateTime()))
def downgrade():  # ok: DBC601
    op.drop_column("tasks", "due_at")
''',
        # A merge revision: nothing to do in either direction.
        '''
revision = "c3"
down_revision = ("a1", "b2")
def upgrade():  # ok: DBC601
    pass
def downgrade():  # ok: DBC601
    pass
''',
        # A placeholder kept from an older tool: its only code is a guard that returns.
        '''
from alembic import op
from legacy import already_applied
revision = "c4"
down_revision = "c3"
def upgrade():  # ok: DBC601
    if already_applied(op, __name__):
        return
    pass
def downgrade():  # ok: DBC601
    pass
''',
        # Not a revision script: no revision globals.
        '''
def upgrade():  # ok: DBC601
    print("upgrading the client")
''',
    )
    invalid = (
        '''
import sqlalchemy as sa
from alembic import op
revision = "b2"
down_revision = "a1"
def upgrade():
    op.add_column("tasks", sa.Column("due_at", sa.DateTime()))
def downgrade():  # expect: DBC601
    pass
''',
        '''
from alembic import op
revision = "b3"
down_revision = "b2"
def upgrade():  # expect: DBC601
    op.drop_table("legacy")
''',
        '''
from alembic import op
revision = "b4"
down_revision = "b3"
def upgrade():
    op.create_index("ix_tasks_due", "tasks", ["due_at"])
def downgrade():  # expect: DBC601
    """Not supported."""
    # the index stays
    raise NotImplementedError("one-way")
''',
        '''
from alembic import op
revision = "b5"
down_revision = "b4"
def upgrade():
    op.execute("UPDATE tasks SET done = false")
def downgrade():  # expect: DBC601
    ...
''',
        '''
from alembic import op
revision = "b6"
down_revision = "b5"
def upgrade():
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
def downgrade():  # expect: DBC601
    if op.get_context().dialect.name != "postgresql":
        return
''',
    )

    def check(self, ctx: "RuleContext") -> Iterable[Finding]:
        for module in ctx.reported_modules():
            if not is_alembic_revision(module):
                continue
            upgrade = _function(module, "upgrade")
            downgrade = _function(module, "downgrade")
            if upgrade is None or does_nothing(upgrade.body):
                continue  # nothing to reverse (a merge revision)
            if downgrade is None:
                yield self.finding(Location(module.path, upgrade.line, upgrade.column), "missing")
            elif does_nothing(downgrade.body):
                yield self.finding(Location(module.path, downgrade.line, downgrade.column))
