"""The Alembic revision that goes with ``--fix``: it creates the indexes the fix added
(``CREATE INDEX CONCURRENTLY`` on PostgreSQL, outside the migration's transaction) and
drops them on downgrade. ``down_revision`` is the current head of the versions folder."""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path
from typing import Optional, Sequence

from dbcheck.syntax.files import read_regular_file
from dbcheck.findings import Finding



class MigrationError(Exception):
    pass


def added_indexes(fixed: Sequence[Finding]) -> list[tuple[str, str, str]]:
    """(index name, table, column) of every index the applied fixes created."""
    out: list[tuple[str, str, str]] = []
    for finding in fixed:
        if finding.fix is not None and finding.fix.index is not None and finding.fix.index not in out:
            out.append(finding.fix.index)
    return out


def _revision_globals(path: Path) -> Optional[tuple[str, tuple[str, ...]]]:
    try:
        tree = ast.parse(read_regular_file(path, 16 * 1024 * 1024).decode("utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None
    values: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                try:
                    values[target.id] = ast.literal_eval(value)
                except ValueError:
                    return None
    revision, down = values.get("revision"), values.get("down_revision")
    if not isinstance(revision, str) or "down_revision" not in values:
        return None
    downs = (down,) if isinstance(down, str) else \
        tuple(d for d in down if isinstance(d, str)) if isinstance(down, (tuple, list)) else ()
    return revision, downs


def current_head(versions: Path) -> Optional[str]:
    revisions: dict[str, tuple[str, ...]] = {}
    for path in sorted(versions.glob("*.py")):
        found = _revision_globals(path)
        if found is not None:
            revisions[found[0]] = found[1]
    referenced = {down for downs in revisions.values() for down in downs}
    heads = sorted(set(revisions) - referenced)
    if len(heads) > 1:
        raise MigrationError(f"{versions}: several heads ({', '.join(heads)}): merge them first (alembic merge heads)")
    return heads[0] if heads else None


def write_revision(versions: Path, indexes: Sequence[tuple[str, str, str]]) -> Optional[Path]:
    if not indexes:
        return None
    if not versions.is_dir():
        raise MigrationError(f"{versions}: not a folder of Alembic revisions")
    head = current_head(versions)
    revision = hashlib.sha1(repr((head, list(indexes))).encode()).hexdigest()[:12]
    creates = "\n".join(
        f'        op.create_index("{name}", "{table}", ["{column}"], unique=False, postgresql_concurrently=True)'
        for name, table, column in indexes)
    drops = "\n".join(
        f'        op.drop_index("{name}", table_name="{table}", postgresql_concurrently=True)'
        for name, table, _column in reversed(indexes))
    text = f'''"""add indexes on foreign keys (written by dbcheck --fix)

Revision ID: {revision}
Revises: {head or ""}
"""
from alembic import op

revision = "{revision}"
down_revision = {head!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    with op.get_context().autocommit_block():
{creates}


def downgrade() -> None:
    with op.get_context().autocommit_block():
{drops}
'''
    target = versions / f"{revision}_dbcheck_add_fk_indexes.py"
    target.write_text(text, encoding="utf-8")
    return target
