"""Settings the models answer when the configuration does not: which table is the
tenant's. SQLModel and Flask-SQLAlchemy name ``class User`` 's table ``user``, so the
default ``users`` would make the first run on such a project report every table as
unscoped (DBC101) and every ``user_id`` key as pointing at the wrong table (DBC103)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from dbcheck.config import Config
    from dbcheck.schema.index import ProjectIndex

# The mapped class whose table is the tenant's when no foreign key says otherwise.
TENANT_CLASS = "User"


def infer_tenant_table(index: "ProjectIndex", config: "Config") -> Optional[tuple[str, str]]:
    """(the tenant table, why) when the configuration does not name it, else None (the
    configured or default table stands):

    1. the table the foreign keys of the tenant column point at, when one table the
       project declares gets a strict majority of them (the first tenant column's keys;
       the other columns' keys only when it has none);
    2. else the table of the one mapped class named ``User`` - unless a table of the
       default name exists too, which then stays the tenant table."""
    if config.tenant_table_set:
        return None
    voted = _votes(index, config)
    if voted is not None:
        return voted
    tables = {info.table.name for info in index.mapped_classes_named(TENANT_CLASS)
              if info.ref.fact.name == TENANT_CLASS and info.table is not None and info.table.name}
    if len(tables) != 1:
        return None
    (name,) = tables
    if name != config.tenant_table and index.tables_named(config.tenant_table):
        return None  # `users` is there too: it stays the tenant table
    return name, f"the table of the mapped class {TENANT_CLASS}"


def _votes(index: "ProjectIndex", config: "Config") -> Optional[tuple[str, str]]:
    """The table most foreign keys of the tenant column point at, when it has a strict
    majority of them."""
    for columns in ((config.tenant_columns[0],), config.tenant_columns):
        counts: Counter[str] = Counter()
        for table in index.tables:
            for local, fk in table.all_foreign_keys():
                if fk.target_table and len(local) == 1 and local[0] in columns:
                    counts[fk.target_table] += 1
        if not counts:
            continue
        total = sum(counts.values())
        # most_common orders equal counts by first appearance: a tie is no majority anyway
        (target, votes), = counts.most_common(1)
        if 2 * votes <= total:
            return None  # split: the keys do not say which table is the tenant's
        if not index.tables_named(target):
            return None  # a table the project does not declare: too little to go on
        named = " or ".join(columns)
        if total == 1:
            return target, f"the one foreign key of {named} points at it"
        return target, f"{votes} of {total} foreign keys of {named} point at it"
    return None
