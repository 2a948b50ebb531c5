"""Module names and per-module import tables: the light replacement for libcst's
qualified-name provider (which costs several times the parse on real files)."""

from __future__ import annotations

import os
from typing import Optional

BUILTIN_NAMES = frozenset(
    "int str bool float bytes dict list set tuple frozenset object type bytearray "
    "memoryview complex range None True False sorted enumerate iter".split()
)


def module_name_for(path: "os.PathLike[str] | str", packages: dict[str, Optional[str]]) -> tuple[str, bool]:
    """The dotted module name Python would import ``path`` as, walking up through
    folders that hold an ``__init__.py``; and whether the file is a package's
    ``__init__``. ``packages`` memoises, per folder, the package it is (None: not one)
    for one run, so a project of thousands of files costs one check per folder."""
    raw = os.fspath(path)
    folder, name = os.path.split(raw if os.path.isabs(raw) else os.path.abspath(raw))
    stem = name[:-3] if name.endswith(".py") else os.path.splitext(name)[0]
    is_package = stem == "__init__"
    package = _package_of(folder, packages)
    if is_package:
        return package or stem, True
    return (f"{package}.{stem}" if package else stem), False


def _package_of(folder: str, packages: dict[str, Optional[str]]) -> Optional[str]:
    if folder in packages:
        return packages[folder]
    package: Optional[str] = None
    if os.path.isfile(os.path.join(folder, "__init__.py")):
        parent, name = os.path.split(folder)
        outer = _package_of(parent, packages) if parent != folder else None
        package = f"{outer}.{name}" if outer and name else (name or None)
    packages[folder] = package
    return package


def resolve_relative(module: str, is_package: bool, level: int, target: str) -> str:
    """``from ..x import y`` inside ``module`` -> the absolute module of ``..x``."""
    package = module if is_package else module.rpartition(".")[0]
    for _ in range(max(level - 1, 0)):
        package = package.rpartition(".")[0]
    if target:
        return f"{package}.{target}" if package else target
    return package
