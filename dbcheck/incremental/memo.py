"""The query analysis's log of one module, as stored between runs: its operations
(``QueryAnalyzer.apply``) as plain tuples ``marshal`` can keep, and back."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Iterable, Optional

from dbcheck.flow.values import GetVal, QueryUse, QueryVal, Term


_QUERY_FIELDS = tuple(f.name for f in fields(QueryVal))
_TERMS_AT = _QUERY_FIELDS.index("terms")


def _encode_query(query: Optional[QueryVal]) -> Optional[tuple]:
    if query is None:
        return None
    values = [getattr(query, name) for name in _QUERY_FIELDS]
    values[_TERMS_AT] = tuple(map(tuple, query.terms))
    return tuple(values)


def _frozen(cls: type, names: tuple[str, ...], values: Iterable[Any]) -> Any:
    """An instance of a frozen dataclass from its field values in order. Its __init__
    sets each field through object.__setattr__; filling __dict__ at once is several
    times faster, and a replay builds tens of thousands."""
    made: Any = object.__new__(cls)
    made.__dict__.update(zip(names, values))
    return made


_GET_FIELDS = tuple(f.name for f in fields(GetVal))
_USE_FIELDS = tuple(f.name for f in fields(QueryUse))


def _decode_query(payload: Optional[tuple]) -> Optional[QueryVal]:
    if payload is None:
        return None
    if len(payload) != len(_QUERY_FIELDS):
        raise ValueError("not a query")
    values = list(payload)
    values[_TERMS_AT] = tuple(map(Term._make, values[_TERMS_AT]))
    return _frozen(QueryVal, _QUERY_FIELDS, values)


def _encode_get(get: Optional[GetVal]) -> Optional[tuple]:
    return None if get is None else (get.table, get.line, get.column, get.path, get.checked, get.via)


def _decode_get(payload: Optional[tuple]) -> Optional[GetVal]:
    if payload is None:
        return None
    if len(payload) != len(_GET_FIELDS):
        raise ValueError("not a lookup")
    return _frozen(GetVal, _GET_FIELDS, payload)


def _encode_use(use: QueryUse) -> tuple:
    return (use.kind, _encode_query(use.query), _encode_get(use.get), use.path, use.line, use.column,
            use.function, use.hint, use.run, use.via, use.callers)


def _decode_use(payload: tuple) -> QueryUse:
    if len(payload) != len(_USE_FIELDS):
        raise ValueError("not a use")
    kind, query, get, *rest = payload
    return _frozen(QueryUse, _USE_FIELDS, (kind, _decode_query(query), _decode_get(get), *rest))


def encode_op(op: tuple) -> tuple:
    kind = op[0]
    if kind == "use":
        return (kind, _encode_use(op[1]))
    if kind in ("get", "check"):
        return (kind, op[1], _encode_get(op[2]), *op[3:])
    if kind == "obs":
        return (kind, op[1], _encode_use(op[2]), _encode_query(op[3]))
    if kind == "fwd":
        return (kind, op[1], _encode_use(op[2]))
    return op  # "ret", "rowcheck", "recur", "called", "guarded", "pcall", "cond", "icond", "rret": plain


def decode_op(payload: tuple) -> tuple:
    kind = payload[0]
    if kind == "use":
        return (kind, _decode_use(payload[1]))
    if kind in ("get", "check"):
        return (kind, tuple(payload[1]), _decode_get(payload[2]), *payload[3:])
    if kind == "obs":
        return (kind, tuple(payload[1]), _decode_use(payload[2]), _decode_query(payload[3]))
    if kind == "fwd":
        return (kind, tuple(payload[1]), _decode_use(payload[2]))
    if kind == "ret":
        return (kind, payload[1], tuple(payload[2]))
    if kind in ("cond", "icond", "rret"):
        return (kind, tuple(payload[1]))
    if kind in ("rowcheck", "recur"):
        return (kind, tuple(payload[1]))
    if kind in ("called", "guarded", "pcall"):
        return payload
    raise ValueError(f"unknown operation {kind!r}")
