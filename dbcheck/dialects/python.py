"""The language and the libraries around models: ``typing`` (Optional, Annotated,
ClassVar), ``functools.partial`` column factories, and mixins of other libraries that add
methods and properties, never columns (Flask-Login's and Flask-Security's UserMixin,
SerializerMixin): a model using them keeps every column dbcheck can see."""

from __future__ import annotations

from dbcheck.dialects.base import DeclaredDialect

DIALECT = DeclaredDialect(
    name="python",
    packages=(("typing_extensions", "typing"), ("typing", "typing"), ("builtins", "builtins"),
              ("functools", "functools")),
    neutral_bases=frozenset({
        "builtins:object", "typing:Generic", "typing:Protocol", "ext:abc.ABC",
        "ext:flask_login.UserMixin", "ext:flask_login.mixins.UserMixin", "ext:flask_login.AnonymousUserMixin",
        "ext:flask_security.UserMixin", "ext:flask_security.RoleMixin", "ext:flask_security.core.UserMixin",
        "ext:flask_security.core.RoleMixin", "ext:sqlalchemy_serializer.SerializerMixin",
    }),
    neutral_families=("typing:", "builtins:"),
)
