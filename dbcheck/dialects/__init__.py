"""The ORMs and libraries dbcheck understands, one module each (see ``base.Dialect``).
``KNOWLEDGE`` is their union: what the rest of dbcheck reads."""

from __future__ import annotations

from dbcheck.dialects import fastapi_users, flask_sqlalchemy, python, sqlalchemy, sqlalchemy_utils, sqlmodel
from dbcheck.dialects.base import DeclaredDialect, Dialect, combine

DIALECTS: tuple[Dialect, ...] = (
    sqlalchemy_utils.DIALECT,  # its package name starts like SQLAlchemy's: listed first
    sqlalchemy.DIALECT,
    sqlmodel.DIALECT,
    flask_sqlalchemy.DIALECT,
    fastapi_users.DIALECT,
    python.DIALECT,
)

KNOWLEDGE: DeclaredDialect = combine(DIALECTS)
