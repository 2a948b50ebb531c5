"""SQLAlchemy-Utils: column types that encrypt what they store, or store a hash."""

from __future__ import annotations

from dbcheck.dialects.base import DeclaredDialect

DIALECT = DeclaredDialect(
    name="sqlalchemy_utils",
    packages=(("sqlalchemy_utils", "sau"),),
    encrypting_types=frozenset({"sau:EncryptedType", "sau:StringEncryptedType", "sau:AesEncryptedType"}),
    hashing_types=frozenset({"sau:PasswordType"}),
    type_families=("sau:",),
)
