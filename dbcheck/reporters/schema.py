"""``dbcheck schema``: the schema dbcheck extracted, as text, JSON or a Mermaid ER diagram."""

from __future__ import annotations

import json
from typing import Any

from dbcheck.schema.index import ProjectIndex
from dbcheck.schema.model import IndexModel, TableModel


def _index_dict(index: IndexModel) -> dict[str, Any]:
    return {"name": index.name, "columns": list(index.columns), "unique": index.unique}


def table_dict(table: TableModel) -> dict[str, Any]:
    indexes = [_index_dict(i) for i in table.indexes]
    uniques = [{"name": u.name, "columns": list(u.columns)} for u in table.unique_constraints]
    for col in table.columns:
        if col.indexed:
            indexes.append({"name": f"ix_{table.name}_{col.name}", "columns": [col.name], "unique": col.unique})
        elif col.unique:
            uniques.append({"name": None, "columns": [col.name]})
    fks_by_column: dict[str, list[dict[str, Any]]] = {}
    for local, fk in table.all_foreign_keys():
        for i, name in enumerate(local):
            target = fk.target if i == 0 else f"{fk.target_table}.?"
            fks_by_column.setdefault(name, []).append({"target": target, "ondelete": fk.ondelete})
    return {
        "name": table.name,
        "class": table.class_name,
        "path": table.location.path,
        "line": table.location.line,
        "complete": table.complete,
        "columns": [
            {
                "name": c.name, "attribute": c.attribute, "type": c.type_name, "nullable": c.nullable,
                "primary_key": c.name in table.primary_key, "foreign_keys": fks_by_column.get(c.name, []),
                "encrypted": c.encrypted, "line": c.location.line, "path": c.location.path,
            }
            for c in table.columns
        ],
        "primary_key": table.primary_key,
        "indexes": indexes,
        "unique_constraints": uniques,
        "relationships": [
            {
                "attribute": r.attribute, "target": r.target, "back_populates": r.back_populates,
                "backref": r.backref, "secondary": r.secondary_table if r.secondary_table else r.secondary,
                "line": r.location.line, "path": r.location.path,
            }
            for r in table.relationships
        ],
        "subclasses": list(table.subclasses),
    }


def _sorted_tables(index: ProjectIndex) -> list[TableModel]:
    return sorted(index.tables, key=lambda t: (t.name or "", t.location.path, t.location.line))


def render_json(index: ProjectIndex) -> str:
    return json.dumps({"tables": [table_dict(t) for t in _sorted_tables(index)]}, indent=2)


def render_text(index: ProjectIndex) -> str:
    lines: list[str] = []
    for table in _sorted_tables(index):
        owner = f"{table.class_name} " if table.class_name else "Table "
        lines.append(f"{owner}{table.name or '<dynamic name>'}  ({table.location.path}:{table.location.line})")
        pk = set(table.primary_key)
        for col in table.columns:
            flags = []
            if col.name in pk:
                flags.append("PK")
            flags.append("NULL" if col.nullable else "NOT NULL")
            if col.unique:
                flags.append("UNIQUE")
            if col.indexed:
                flags.append("INDEX")
            if col.encrypted:
                flags.append("ENCRYPTED")
            for fk in col.foreign_keys:
                flags.append(f"FK {fk.target}" + (f" ON DELETE {fk.ondelete.upper()}" if fk.ondelete else ""))
            lines.append(f"    {col.name}: {col.type_name or '?'} {' '.join(flags)}")
        for idx in table.indexes:
            kind = "UNIQUE INDEX" if idx.unique else "INDEX"
            cols = ", ".join(c or "<expr>" for c in idx.columns)
            lines.append(f"    {kind} {idx.name or ''}({cols})")
        for uc in table.unique_constraints:
            lines.append(f"    UNIQUE ({', '.join(c or '<expr>' for c in uc.columns)})")
        for rel in table.relationships:
            extra = f" back_populates={rel.back_populates}" if rel.back_populates else ""
            extra += f" backref={rel.backref}" if rel.backref else ""
            extra += f" secondary={rel.secondary_table}" if rel.secondary_table else ""
            lines.append(f"    {rel.attribute} -> {rel.target or '?'}{extra}")
        lines.append("")
    return "\n".join(lines)


def _mermaid_name(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name) or "unnamed"


def render_mermaid(index: ProjectIndex) -> str:
    lines = ["erDiagram"]
    tables = [t for t in _sorted_tables(index) if t.name]
    known = {t.name for t in tables}
    for table in tables:
        assert table.name is not None
        lines.append(f"    {_mermaid_name(table.name)} {{")
        pk = set(table.primary_key)
        fk_cols = {name for local, _fk in table.all_foreign_keys() for name in local}
        for col in table.columns:
            keys = [k for k, on in (("PK", col.name in pk), ("FK", col.name in fk_cols)) if on]
            type_name = _mermaid_name(col.type_name or "unknown")
            lines.append(f"        {type_name} {_mermaid_name(col.name)}{' ' + ','.join(keys) if keys else ''}")
        lines.append("    }")
    for table in tables:
        for local, fk in table.all_foreign_keys():
            if fk.target_table is None or fk.target_table not in known or table.name is None:
                continue
            columns = [table.column(c) for c in local]
            nullable = any(c is None or c.nullable for c in columns)
            left = "|o" if nullable else "||"
            lines.append(f'    {_mermaid_name(fk.target_table)} {left}--o{{ {_mermaid_name(table.name)} : "{", ".join(local)}"')
    return "\n".join(lines) + "\n"
