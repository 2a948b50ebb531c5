"""The ORMs and libraries dbcheck understands, one module each (see ``base.Dialect``):
every module of this package but ``base`` declares a ``DIALECT``, and is registered by
being here. ``KNOWLEDGE`` is their union: what the rest of dbcheck reads."""

from __future__ import annotations

import importlib
import pkgutil

from dbcheck.dialects.base import DeclaredDialect, Dialect, combine


def _discover() -> tuple[Dialect, ...]:
    found = []
    for module in sorted(info.name for info in pkgutil.iter_modules(__path__) if info.name != "base"):
        found.append(importlib.import_module(f"{__name__}.{module}").DIALECT)
    return tuple(found)


DIALECTS: tuple[Dialect, ...] = _discover()
KNOWLEDGE: DeclaredDialect = combine(DIALECTS)
