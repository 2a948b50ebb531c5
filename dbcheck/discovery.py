"""Which files to check: the project's ``*.py`` files, without what is never a
project's own code (virtualenvs, build output, caches) or what ``exclude`` leaves out."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Sequence

from dbcheck.config import Config

# Folders that never hold a project's own code (ruff skips the same ones by default).
SKIPPED_FOLDERS = frozenset({
    ".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", "build", "dist",
    ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".dbcheck_cache",
    "site-packages",
})


# ---------------------------------------------------------------------- discovery

def _skip_folder(entry: os.DirEntry[str]) -> bool:
    return entry.name in SKIPPED_FOLDERS or entry.name.endswith(".egg-info")


def iter_python_files(paths: Sequence[Path], config: Config, folders: Optional[list[str]] = None,
                      links: Optional[list[str]] = None) -> tuple[list[Path], list[str]]:
    """The files to check under ``paths`` and the problems met on the way.

    Folders are walked for ``*.py``; a file named explicitly is taken whatever its
    suffix (as flake8 does). ``exclude`` applies to both. Symlinked folders are
    never followed, so a symlink loop cannot make the walk endless. A ``*.py`` that is
    no regular file (a FIFO, a device, a link to one) is listed all the same: it is
    reported as not analysed, never skipped in silence; a link to nothing is no file.
    ``folders`` / ``links`` collect the folders walked and the ``*.py`` symbolic links met
    (a cached listing stays valid only while they all stay as they are)."""
    files: list[Path] = []
    problems: list[str] = []
    for path in map(Path, paths):
        if not os.path.exists(path):
            problems.append(f"{path}: no such file or directory")
        elif not os.path.isdir(path):
            if not config.is_excluded(path, is_dir=False):
                files.append(path)
        elif not config.is_excluded(path, is_dir=True):
            _walk(path, config, files, problems, folders, links)

    seen: set[str] = set()
    unique = []
    for path in files:
        key = os.path.normcase(os.path.abspath(path))
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return sorted(unique), problems


def _walk(top: Path, config: Config, files: list[Path], problems: list[str],
          folders: Optional[list[str]] = None, links: Optional[list[str]] = None) -> None:
    # Relative paths are built as the walk descends, so exclude patterns are matched
    # without recomputing each entry's path against the root (thousands of entries).
    top_rel = config.relative_path(top, is_dir=True)
    if top_rel is None and os.path.abspath(top) == os.path.abspath(config.root):
        top_rel = ""  # the root itself
    stack: list[tuple[Path, Optional[str]]] = [(top, top_rel)]
    while stack:
        folder, rel = stack.pop()
        if folders is not None:
            folders.append(os.fspath(folder))
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as err:
            problems.append(f"{folder}: cannot read folder: {err.strerror or err}")
            continue
        # A virtualenv under any name (env/, .env311/, ...) is recognised by its marker and
        # its packages, not by the marker alone: a pyvenv.cfg committed into a package
        # must not hide the package.
        if folder != top and _is_virtualenv(folder, entries):
            continue
        subfolders = []
        for entry in entries:
            path = folder / entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    child = None if rel is None else f"{rel}{entry.name}/"
                    if not _skip_folder(entry) and not _excluded(config, path, child, True):
                        subfolders.append((path, child))
                elif entry.name.endswith(".py"):
                    if entry.is_symlink() and links is not None:
                        links.append(os.path.abspath(path))
                    if not entry.is_file() and not os.path.exists(path):
                        continue  # a link to nothing (or a loop): no file to check
                    child = None if rel is None else f"{rel}{entry.name}"
                    if not _excluded(config, path, child, False):
                        files.append(path)
            except OSError:
                continue
        stack.extend(reversed(subfolders))


def _is_virtualenv(folder: Path, entries: list[os.DirEntry[str]]) -> bool:
    names = {e.name for e in entries}
    if "pyvenv.cfg" not in names:
        return False
    if os.path.isdir(folder / "Lib" / "site-packages"):
        return True  # Windows
    try:
        return any(os.path.isdir(folder / "lib" / python / "site-packages")
                   for python in os.listdir(folder / "lib") if python.startswith(("python", "pypy")))
    except OSError:
        return False


def _excluded(config: Config, path: Path, rel: Optional[str], is_dir: bool) -> bool:
    if not config.exclude:
        return False
    if rel is None:
        return config.is_excluded(path, is_dir=is_dir)
    return config.is_excluded_relative(rel)
