"""The per-file facts as the cache stores them: each fact as the tuple of its fields in
declaration order (nested facts likewise), which ``marshal`` keeps compactly and decodes
in C; expressions and bodies are plain data already."""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

from dbcheck.facts.model import AttrFact, CallFact, ClassFact, FunctionFact, FunctionIR, ModuleFacts


# Which fields of the facts hold other facts; every other field is plain data (strings,
# numbers, Expr tuples, lists and dicts of them) that marshal hands back as it was.
_NESTED = {
    "ModuleFacts": {"classes": ("list", "ClassFact"), "functions": ("dict", "FunctionFact"),
                    "bodies": ("list", "FunctionIR"), "calls": ("list", "CallFact")},
    "ClassFact": {"attrs": ("list", "AttrFact")},
    "FunctionIR": {"nested": ("list", "FunctionIR")},
}


_CLASSES: dict[str, type] = {cls.__name__: cls for cls in (
    ModuleFacts, ClassFact, AttrFact, FunctionFact, FunctionIR, CallFact)}
_FIELDS: dict[str, tuple[str, ...]] = {name: tuple(f.name for f in dataclasses.fields(cls))
                                       for name, cls in _CLASSES.items()}


def _schema() -> tuple[dict[str, type], dict[str, tuple[str, ...]]]:
    """The fact classes and their fields."""
    return _CLASSES, _FIELDS


def _encode(value: Any, name: str = "ModuleFacts") -> tuple:
    """A fact as the tuple of its fields, in declaration order; nested facts likewise."""
    nested = _NESTED.get(name, {})
    out = []
    for field_name in _schema()[1][name]:
        item = getattr(value, field_name)
        shape, inner = nested.get(field_name, (None, ""))
        if shape == "list":
            item = [_encode(v, inner) for v in item]
        elif shape == "dict":
            item = {k: _encode(v, inner) for k, v in item.items()}
        out.append(item)
    return tuple(out)


def _decode(payload: tuple, name: str = "ModuleFacts") -> Any:
    """The inverse of ``_encode``: one constructor call per fact, no walk through the
    expressions (this runs for every file of a warm run)."""
    classes, names = _schema()
    if len(payload) != len(names[name]):
        # written by a build whose facts had other fields (every field is passed by
        # position: a missing one would shift the rest)
        raise ValueError(f"{name}: {len(payload)} fields, expected {len(names[name])}")
    nested = _NESTED.get(name)
    if nested is None:
        return classes[name](*payload)
    fields = list(payload)
    for position, field_name in enumerate(names[name]):
        shape, inner = nested.get(field_name, (None, ""))
        if shape == "list":
            fields[position] = [_decode(v, inner) for v in fields[position]]
        elif shape == "dict":
            fields[position] = {k: _decode(v, inner) for k, v in fields[position].items()}
    return classes[name](*fields)


def encode_facts(facts: ModuleFacts) -> tuple:
    return _encode(facts)


def decode_facts(payload: Any) -> Optional[ModuleFacts]:
    """The facts of a stored entry, or None when it has another shape."""
    try:
        facts = _decode(payload)
    except (TypeError, ValueError, AttributeError, KeyError):
        return None
    return facts if isinstance(facts, ModuleFacts) else None
