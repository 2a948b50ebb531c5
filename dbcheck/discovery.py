"""Which files to check: the project's ``*.py`` files, without what is never a
project's own code (virtualenvs, build output, caches) or what ``exclude`` leaves out."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Sequence

from dbcheck.config import Config
from dbcheck.syntax.files import read_regular_file

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
    suffix (as flake8 does). ``exclude`` and ``.gitignore`` files apply below the paths
    given; a path given by name is checked even when they leave it out, as ruff does,
    unless ``force-exclude`` is set (pre-commit names every staged file). Symlinked
    folders are never followed, so a symlink loop cannot make the walk endless. A
    ``*.py`` that is no regular file (a FIFO, a device, a link to one) is listed all the
    same: it is reported as not analysed, never skipped in silence; a link to nothing is
    no file. ``folders`` / ``links`` collect the folders walked (and the ignore files
    read, whose edits change the listing as a folder's do) and the ``*.py`` symbolic
    links met (a cached listing stays valid only while they all stay as they are)."""
    files: list[Path] = []
    problems: list[str] = []
    for path in map(Path, paths):
        if not os.path.exists(path):
            problems.append(f"{path}: no such file or directory")
            continue
        is_dir = os.path.isdir(path)
        if leaving_out(path, config, is_dir=is_dir) is not None:
            continue
        if not is_dir:
            files.append(path)
        else:
            ignores = _IgnoreFiles(folders) if config.respect_gitignore else None
            _walk(path, _named_config(path, config), files, problems, folders, links, ignores)

    seen: set[str] = set()
    unique = []
    for path in files:
        key = os.path.normcase(os.path.abspath(path))
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return sorted(unique), problems


def leaving_out(path: Path, config: Config, *, is_dir: bool) -> Optional[str]:
    """Why a path given by name is not checked (``force-exclude`` with a matching
    ``exclude`` pattern or ``.gitignore`` entry), or None when it is checked."""
    if not config.force_exclude:
        return None
    if config.is_excluded(path, is_dir=is_dir):
        return "excluded by 'exclude' (force-exclude is set)"
    if config.respect_gitignore and _IgnoreFiles(None).ignores(Path(os.path.abspath(path)), is_dir):
        return "ignored by a .gitignore file (force-exclude is set)"
    return None


def _named_config(path: Path, config: Config) -> Config:
    """``config`` without the ``exclude`` patterns that leave out ``path`` itself: a folder
    named on the command line is checked, what its own patterns leave out below it is not."""
    if config.force_exclude or not config.is_excluded(path, is_dir=True):
        return config
    import dataclasses

    rel = config.relative_path(path, is_dir=True)
    kept = tuple(p for p in config.exclude
                 if not dataclasses.replace(config, exclude=(p,)).is_excluded_relative(rel or ""))
    return dataclasses.replace(config, exclude=kept)


_MAX_IGNORE_FILE = 1024 * 1024


class _IgnoreFiles:
    """The ``.gitignore`` files (and ``.git/info/exclude``) that apply to a walk: those of
    the folders above it up to the repository's top, and those met on the way down. A
    deeper file overrides a shallower one, and within a file the last matching line
    wins, as in git."""

    def __init__(self, read: Optional[list[str]]) -> None:
        self._read = read
        self._specs: dict[str, object] = {}  # folder -> its spec (None: no ignore file)
        self._chains: dict[str, tuple[tuple[object, str], ...]] = {}
        self._top: Optional[str] = None
        self._start: Optional[str] = None

    def _spec(self, folder: str, names: Optional[set[str]] = None) -> object:
        if folder in self._specs:
            return self._specs[folder]
        lines: list[str] = []
        candidates = [os.path.join(folder, ".gitignore")]
        if os.path.isdir(os.path.join(folder, ".git")):
            candidates.insert(0, os.path.join(folder, ".git", "info", "exclude"))
        for candidate in candidates:
            if names is not None and candidate.endswith(".gitignore") and ".gitignore" not in names:
                continue
            try:
                data = read_regular_file(candidate, _MAX_IGNORE_FILE)
            except OSError:
                continue
            if self._read is not None:
                self._read.append(candidate)
            lines.extend(data.decode("utf-8", "replace").splitlines())
        spec = None
        if any(line.strip() and not line.lstrip().startswith("#") for line in lines):
            import pathspec

            spec = pathspec.GitIgnoreSpec.from_lines(lines)
        self._specs[folder] = spec
        return spec

    def _repository_top(self, start: str) -> Optional[str]:
        """The folder holding ``.git`` at or above ``start`` (ignore files above it do not
        apply), or None outside a repository (then only the walk's own folders count)."""
        if self._top is None:
            here = start
            while True:
                if os.path.exists(os.path.join(here, ".git")):
                    self._top = here
                    break
                parent = os.path.dirname(here)
                if parent == here:
                    self._top = ""
                    break
                here = parent
        return self._top or None

    def _chain(self, folder: str, names: Optional[set[str]] = None) -> tuple[tuple[object, str], ...]:
        """(spec, ``folder``'s path from the spec's folder with a trailing ``/``) of every
        ignore file that applies in ``folder``, shallowest first."""
        chain = self._chains.get(folder)
        if chain is not None:
            return chain
        top = self._repository_top(folder)
        parent = os.path.dirname(folder)
        inherited: tuple[tuple[object, str], ...] = ()
        if folder != top and parent != folder and (top is not None or folder != self._start):
            inherited = tuple((spec, f"{prefix}{os.path.basename(folder)}/")
                              for spec, prefix in self._chain(parent))
        spec = self._spec(folder, names)
        chain = inherited + (((spec, ""),) if spec is not None else ())
        self._chains[folder] = chain
        return chain

    def ignores(self, path: Path, is_dir: bool, names: Optional[set[str]] = None) -> bool:
        """Whether the ignore files of ``path``'s folders (from the repository's top, or
        outside a repository from the walk's start, down) leave it out. ``names``: the
        entries of ``path``'s folder, when already listed."""
        absolute = os.fspath(path)
        if self._start is None:
            self._start = os.path.dirname(absolute)
        tail = os.path.basename(absolute) + ("/" if is_dir else "")
        verdict: Optional[bool] = None
        for spec, prefix in self._chain(os.path.dirname(absolute), names):
            result = spec.check_file(prefix + tail)  # type: ignore[attr-defined]
            if result.include is not None:
                verdict = result.include
        return bool(verdict)


def _walk(top: Path, config: Config, files: list[Path], problems: list[str],
          folders: Optional[list[str]] = None, links: Optional[list[str]] = None,
          ignores: Optional[_IgnoreFiles] = None) -> None:
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
        names = {e.name for e in entries} if ignores is not None else None
        absolute = os.path.abspath(folder) if ignores is not None else ""
        subfolders = []
        for entry in entries:
            path = folder / entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    child = None if rel is None else f"{rel}{entry.name}/"
                    if (not _skip_folder(entry) and not _excluded(config, path, child, True)
                            and not (ignores is not None
                                     and ignores.ignores(Path(absolute, entry.name), True, names))):
                        subfolders.append((path, child))
                elif entry.name.endswith(".py"):
                    if entry.is_symlink() and links is not None:
                        links.append(os.path.abspath(path))
                    if not entry.is_file() and not os.path.exists(path):
                        continue  # a link to nothing (or a loop): no file to check
                    child = None if rel is None else f"{rel}{entry.name}"
                    if (not _excluded(config, path, child, False)
                            and not (ignores is not None
                                     and ignores.ignores(Path(absolute, entry.name), False, names))):
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
