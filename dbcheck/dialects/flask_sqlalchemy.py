"""Flask-SQLAlchemy: ``db = SQLAlchemy()`` re-exports SQLAlchemy's names (``db.Column``),
``db.Model`` is the declarative base (with automatic snake_case table names, see the
schema builder), and ``Model.query`` / ``db.get_or_404`` / ``first_or_404`` / ``paginate``
run queries."""

from __future__ import annotations

from dbcheck.dialects.base import BaseRole, DeclaredDialect, QueryApi

DB_OBJECT = "fsa:db"  # an instance of SQLAlchemy(): its attributes are SQLAlchemy's names
DB_CLASS = "fsa:SQLAlchemy"

DIALECT = DeclaredDialect(
    name="flask_sqlalchemy",
    packages=(("flask_sqlalchemy", "fsa"),),
    bases={"fsa:Model": BaseRole("flask", False)},
    root_styles=frozenset({"flask"}),
    query_api=QueryApi(
        one_row=frozenset({"first_or_404", "one_or_404"}),
        terminal_read=frozenset({"paginate", "first_or_404", "one_or_404"}),
        executor_functions=frozenset({"paginate", "apaginate", "first_or_404", "one_or_404"}),
        db_methods=frozenset({"get_or_404", "first_or_404", "one_or_404", "paginate"}),
    ),
)
