"""Module names and per-module import tables: the light replacement for libcst's
qualified-name provider (which costs several times the parse on real files)."""

from __future__ import annotations

import os
from pathlib import Path

BUILTIN_NAMES = frozenset(
    "int str bool float bytes dict list set tuple frozenset object type bytearray "
    "memoryview complex range None True False".split()
)


def module_name_for(path: Path, package_dirs: dict[str, bool]) -> tuple[str, bool]:
    """The dotted module name Python would import ``path`` as, walking up through
    folders that hold an ``__init__.py``; and whether the file is a package's
    ``__init__``. ``package_dirs`` memoises the folder checks for one run."""
    path = Path(os.path.abspath(path))
    is_package = path.stem == "__init__"
    parts: list[str] = [] if is_package else [path.stem]
    folder = path.parent
    while True:
        key = str(folder)
        if key not in package_dirs:
            package_dirs[key] = (folder / "__init__.py").is_file()
        if not package_dirs[key]:
            break
        parts.append(folder.name)
        if folder.parent == folder:
            break
        folder = folder.parent
    parts.reverse()
    return ".".join(p for p in parts if p) or path.stem, is_package


def resolve_relative(module: str, is_package: bool, level: int, target: str) -> str:
    """``from ..x import y`` inside ``module`` -> the absolute module of ``..x``."""
    package = module if is_package else module.rpartition(".")[0]
    for _ in range(max(level - 1, 0)):
        package = package.rpartition(".")[0]
    if target:
        return f"{package}.{target}" if package else target
    return package
