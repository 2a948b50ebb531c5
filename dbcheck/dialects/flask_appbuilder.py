"""Flask-AppBuilder: ``from flask_appbuilder import Model`` is a declarative base built with
Flask-SQLAlchemy's metaclass, so its models get the same automatic snake_case table names
(``MyModel`` -> ``my_model``) unless they state ``__tablename__``. Its ``AuditMixin``
declares columns dbcheck cannot see: models using it are treated as incomplete."""

from __future__ import annotations

from dbcheck.dialects.base import BaseRole, DeclaredDialect

DIALECT = DeclaredDialect(
    name="flask_appbuilder",
    packages=(("flask_appbuilder", "fab"),),
    bases={"fab:Model": BaseRole("flask", False)},
    root_styles=frozenset({"flask"}),
)
