"""Which files to check, and how to read them the way Python does."""

from __future__ import annotations

import codecs
import io
import os
import re
import tokenize
from pathlib import Path
from typing import Optional, Sequence

from dbcheck.config import Config
from dbcheck.syntax.files import FileTooLarge, read_regular_file  # noqa: F401 - re-exported

# Folders that never hold a project's own code (ruff skips the same ones by default).
SKIPPED_FOLDERS = frozenset({
    ".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", "build", "dist",
    ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".dbcheck_cache",
    "site-packages",
})
# What the "surrogateescape" error handler turns an undecodable byte into.
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_COOKIE_RE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.ASCII)


class SourceDecodeError(Exception):
    """A file that Python itself would refuse to decode; ``line`` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


# ---------------------------------------------------------------------- discovery

def _skip_folder(entry: os.DirEntry[str]) -> bool:
    return entry.name in SKIPPED_FOLDERS or entry.name.endswith(".egg-info")


def iter_python_files(paths: Sequence[Path], config: Config,
                      folders: Optional[list[str]] = None) -> tuple[list[Path], list[str]]:
    """The files to check under ``paths`` and the problems met on the way.

    Folders are walked for ``*.py``; a file named explicitly is taken whatever its
    suffix (as flake8 does). ``exclude`` applies to both. Symlinked folders are
    never followed, so a symlink loop cannot make the walk endless."""
    files: list[Path] = []
    problems: list[str] = []
    for path in map(Path, paths):
        if not os.path.exists(path):
            problems.append(f"{path}: no such file or directory")
        elif not os.path.isdir(path):
            if not config.is_excluded(path, is_dir=False):
                files.append(path)
        elif not config.is_excluded(path, is_dir=True):
            _walk(path, config, files, problems, folders)

    seen: set[str] = set()
    unique = []
    for path in files:
        key = os.path.normcase(os.path.abspath(path))
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return sorted(unique), problems


def _walk(top: Path, config: Config, files: list[Path], problems: list[str],
          folders: Optional[list[str]] = None) -> None:
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
        # A virtualenv under any name (env/, .env311/, ...) is recognised by its marker.
        if folder != top and any(e.name == "pyvenv.cfg" for e in entries):
            continue
        subfolders = []
        for entry in entries:
            path = folder / entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    child = None if rel is None else f"{rel}{entry.name}/"
                    if not _skip_folder(entry) and not _excluded(config, path, child, True):
                        subfolders.append((path, child))
                # is_file() follows a file symlink; a broken or looping one is skipped.
                elif entry.name.endswith(".py") and entry.is_file():
                    child = None if rel is None else f"{rel}{entry.name}"
                    if not _excluded(config, path, child, False):
                        files.append(path)
            except OSError:
                continue
        stack.extend(reversed(subfolders))


def _excluded(config: Config, path: Path, rel: Optional[str], is_dir: bool) -> bool:
    if not config.exclude:
        return False
    if rel is None:
        return config.is_excluded(path, is_dir=is_dir)
    return config.is_excluded_relative(rel)


# ---------------------------------------------------------------------- decoding

def _line_of(data: bytes, offset: int) -> int:
    """1-based line of byte ``offset``, counting LF, CRLF and lone CR as Python does."""
    head = data[:offset]
    return head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1


def _cookie_line(data: bytes) -> int:
    first = data.split(b"\n", 1)[0]
    return 1 if _COOKIE_RE.match(first.removeprefix(codecs.BOM_UTF8)) else 2


def _normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _comment_spans(text: str) -> dict[int, list[tuple[int, int]]]:
    """Column spans of comments per line, as far as the text tokenizes."""
    spans: dict[int, list[tuple[int, int]]] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                spans.setdefault(tok.start[0], []).append((tok.start[1], tok.end[1]))
    except (tokenize.TokenError, SyntaxError):
        pass
    return spans


def _first_undecodable(text: str, *, allow_in_comments: bool) -> tuple[int, int] | None:
    """(line, byte value) of the first escaped byte Python would reject.

    CPython (up to 3.11 at least) decodes UTF-8 source token by token and so accepts
    undecodable bytes inside comments; other encodings are decoded whole."""
    spans = None
    for lineno, line in enumerate(text.split("\n"), 1):
        for match in _ESCAPED_BYTE.finditer(line):
            col = match.start()
            if allow_in_comments:
                if spans is None:
                    spans = _comment_spans(text)
                if any(start <= col < end for start, end in spans.get(lineno, ())):
                    continue
            return lineno, ord(match.group()) - 0xDC00
    return None


def decode_source(data: bytes) -> str:
    """``data`` as the text Python would compile: BOM and PEP 263 cookie honoured,
    newlines normalised to ``\\n``. Raises SourceDecodeError at CPython's line."""
    nul = data.find(b"\0")
    if nul != -1:
        raise SourceDecodeError(_line_of(data, nul), "source code cannot contain null bytes")

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as err:
        message = str(err.msg)
        if message.startswith("encoding problem"):
            message = "the coding cookie contradicts the UTF-8 byte order mark"
        if message.startswith(("unknown encoding", "the coding cookie")):
            raise SourceDecodeError(_cookie_line(data), message) from None
        # Undecodable bytes on line 1 or 2 with no cookie: decode as UTF-8 below and
        # let that find the offending line (CPython tolerates them in comments).
        encoding = "utf-8"
    try:
        return _normalize_newlines(data.decode(encoding))
    except LookupError as err:  # e.g. "coding: rot13", which is not a text codec
        raise SourceDecodeError(_cookie_line(data), f"unknown encoding: {err}") from None
    except UnicodeDecodeError:
        pass

    # Slow path: keep undecodable bytes as escapes and find the first one Python rejects.
    is_utf8 = encoding in ("utf-8", "utf-8-sig")
    try:
        text = _normalize_newlines(data.decode(encoding, "surrogateescape"))
    except UnicodeDecodeError as err:  # a codec without surrogateescape support
        raise SourceDecodeError(
            _line_of(data, err.start), f"'{encoding}' codec can't decode byte: {err.reason}"
        ) from None
    bad = _first_undecodable(text, allow_in_comments=is_utf8)
    if bad is not None:
        line, byte = bad
        hint = " (declare the file's encoding with a PEP 263 coding cookie)" if is_utf8 else ""
        raise SourceDecodeError(line, f"'{encoding}' codec can't decode byte 0x{byte:02x}{hint}")
    # Only bytes inside comments were undecodable; keep the text printable.
    return _ESCAPED_BYTE.sub("\ufffd", text)


def read_source(path: Path, limit: int = 64 * 1024 * 1024) -> str:
    try:
        data = read_regular_file(path, limit)
    except OSError as err:
        raise SourceDecodeError(1, f"cannot read file: {err.strerror or err}") from None
    return decode_source(data)
