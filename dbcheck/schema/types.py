"""Column types, reduced to what the rules ask of them: is it text, bytes or JSON
(where a secret could sit), and is it encrypted."""

from __future__ import annotations

from typing import NamedTuple, Optional


class TypeInfo(NamedTuple):
    name: Optional[str]
    kind: str  # "string" | "binary" | "json" | "hash" | "other" | "unknown"
    encrypted: bool


_STRING = {
    "String", "Text", "Unicode", "UnicodeText", "VARCHAR", "CHAR", "NVARCHAR", "NCHAR", "TEXT",
    "CITEXT", "AutoString", "CLOB", "str",
}
_BINARY = {"LargeBinary", "BINARY", "VARBINARY", "BLOB", "BYTEA", "bytes", "PickleType", "LONGBLOB"}
_JSON = {"JSON", "JSONB", "JSONType", "HSTORE"}


def classify_type_name(name: Optional[str]) -> str:
    if not name:
        return "unknown"
    if name in _STRING:
        return "string"
    if name in _BINARY:
        return "binary"
    if name in _JSON:
        return "json"
    return "other"


# What SQLAlchemy 2 (and SQLModel) map a Python annotation to by default.
_BUILTIN_ANNOTATIONS = {
    "builtins:str": ("String", "string"),
    "builtins:bytes": ("LargeBinary", "binary"),
    "builtins:int": ("Integer", "other"),
    "builtins:float": ("Float", "other"),
    "builtins:bool": ("Boolean", "other"),
    "builtins:dict": ("JSON", "json"),
    "builtins:list": ("JSON", "json"),
}


def builtin_annotation_type(canonical_name: str, sqlmodel: bool) -> Optional[TypeInfo]:
    found = _BUILTIN_ANNOTATIONS.get(canonical_name)
    if found is None:
        if canonical_name.startswith(("ext:datetime", "ext:decimal", "ext:uuid", "ext:enum")):
            return TypeInfo(canonical_name.rsplit(".", 1)[-1], "other", False)
        return None
    name, kind = found
    if sqlmodel and name == "String":
        name = "AutoString"
    return TypeInfo(name, kind, False)
