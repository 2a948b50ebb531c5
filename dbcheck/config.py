"""``[tool.dbcheck]`` loading and validation, and the code selection it implies."""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import hashlib
import json
import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from dbcheck.syntax.files import read_regular_file

if TYPE_CHECKING:
    import pathspec


import tomllib

TENANT_OWNERSHIPS = ("inherited", "direct")
# The check's output formats: the spec's four, and ruff's names where they overlap.
OUTPUT_FORMATS = ("text", "concise", "full", "json", "json-lines", "github", "gitlab", "sarif", "junit")
# Parsing costs memory in proportion to the source (about 600 bytes per byte with
# libcst): a larger file is reported as not analysed instead of taking the machine down.
DEFAULT_MAX_FILE_SIZE = 1024 * 1024
CODE_RE = re.compile(r"^[A-Z]{1,3}[0-9]{0,3}$")
# Off unless a selector at least this specific names it (flake8's "DBC" must not enable it).
OPT_IN_CODES = {"DBC900": "DBC9"}


class ConfigError(Exception):
    """A configuration problem; ``str(err)`` is the whole message for the user."""


@dataclass(frozen=True)
class Config:
    root: Path
    source: Path | None = None
    tenant_columns: tuple[str, ...] = ("user_id",)
    tenant_table: str = "users"
    # whether the configuration names the tenant table; when not, the engine infers it
    # from the models (SQLModel's and Flask-SQLAlchemy's automatic 'user' table)
    tenant_table_set: bool = False
    tenant_ownership: str = "inherited"
    global_tables: tuple[str, ...] = ()
    secret_names: tuple[str, ...] = ()
    not_secret_names: tuple[str, ...] = ()
    encrypted_types: tuple[str, ...] = ()
    scope_helpers: tuple[str, ...] = ()
    # decorators or base classes that make a function a request handler (DBC504/505),
    # beside FastAPI / Starlette / Flask / Quart routes and MethodView
    request_handlers: tuple[str, ...] = ()
    # (table, column, parent table): rows of table belong to the parent row their column
    # names, though no foreign key says so (``owned-through``)
    owned_through: tuple[tuple[str, str, str], ...] = ()
    # DBC501/503 also judge tables owned through a NOT NULL foreign key (not only those
    # with a tenant column or an ``owned-through`` declaration)
    inherited_scoping: bool = False
    select: tuple[str, ...] = ("DBC",)
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    # files named on the command line are checked even when excluded, unless this is set
    # (pre-commit hands every staged file by name)
    force_exclude: bool = False
    # leave out what .gitignore files (and .git/info/exclude) leave out
    respect_gitignore: bool = True
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    baseline: str | None = None
    output_format: str = "text"
    max_file_size: int = DEFAULT_MAX_FILE_SIZE

    def fingerprint(self) -> str:
        """A stable hash of every setting, for cache keys."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        blob = json.dumps(data, default=str, sort_keys=True)
        return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()

    # cached_property writes the instance __dict__ directly, so it works on a frozen dataclass.
    @cached_property
    def _exclude_spec(self) -> "pathspec.PathSpec":
        import pathspec  # only when there are patterns: a warm flake8 run counts every ms

        return pathspec.GitIgnoreSpec.from_lines(self.exclude)

    @cached_property
    def _per_file_specs(self) -> tuple[tuple["pathspec.PathSpec", tuple[str, ...]], ...]:
        import pathspec

        return tuple(
            (pathspec.GitIgnoreSpec.from_lines([glob]), codes)
            for glob, codes in self.per_file_ignores
        )

    def relative_path(self, path: Path, *, is_dir: bool = False) -> str | None:
        """``path`` relative to ``root`` in gitignore form (``/``, trailing ``/`` for
        folders), or None when it lies outside ``root``."""
        root = os.path.abspath(self.root)
        absolute = os.path.abspath(path)
        rel = os.path.relpath(absolute, root)
        if rel == os.curdir or rel == os.pardir or rel.startswith(os.pardir + os.sep):
            # Lexically outside; the same file may still be under root once symlinks resolve.
            rel = os.path.relpath(os.path.realpath(absolute), os.path.realpath(root))
            if rel == os.curdir or rel == os.pardir or rel.startswith(os.pardir + os.sep):
                return None
        rel = rel.replace(os.sep, "/")
        return rel + "/" if is_dir else rel

    def is_excluded(self, path: Path, *, is_dir: bool | None = None) -> bool:
        """Whether ``exclude`` matches ``path`` (gitignore rules, relative to root)."""
        if not self.exclude:
            return False
        if is_dir is None:
            is_dir = os.path.isdir(path)
        rel = self.relative_path(path, is_dir=is_dir)
        return rel is not None and self._exclude_spec.match_file(rel)

    def is_excluded_relative(self, rel: str) -> bool:
        """Like ``is_excluded`` for a path already relative to root, gitignore style."""
        return bool(self.exclude) and self._exclude_spec.match_file(rel)

    def ignored_codes_for(self, path: Path) -> tuple[str, ...]:
        if not self.per_file_ignores:
            return ()
        rel = self.relative_path(path)
        if rel is None:
            return ()
        codes: list[str] = []
        for spec, spec_codes in self._per_file_specs:
            if spec.match_file(rel):
                codes.extend(c for c in spec_codes if c not in codes)
        return tuple(codes)

    def is_code_enabled(self, code: str, path: Path | None = None) -> bool:
        """flake8's rule: the longest matching select prefix must be strictly longer
        than the longest matching ignore prefix (a tie is ignored, as in flake8)."""
        selectors = self.select + self.extend_select
        opt_in = OPT_IN_CODES.get(code)
        if opt_in is not None:
            selectors = tuple(s for s in selectors if s.startswith(opt_in))
        ignores = self.ignore + (self.ignored_codes_for(path) if path is not None else ())
        selected = _longest_prefix(code, selectors)
        return selected > _longest_prefix(code, ignores)

    def with_overrides(
        self,
        select: Iterable[str] | str | None = None,
        ignore: Iterable[str] | str | None = None,
        extend_select: Iterable[str] | str | None = None,
    ) -> Config:
        """The command line's ``--select`` / ``--ignore`` / ``--extend-select`` replace
        the configured lists; a string is split on commas."""
        changes: dict[str, tuple[str, ...]] = {}
        for option, value in (
            ("select", select),
            ("ignore", ignore),
            ("extend_select", extend_select),
        ):
            if value is None:
                continue
            items = value.split(",") if isinstance(value, str) else list(value)
            codes = tuple(c.strip() for c in items if c.strip())
            for c in codes:
                if not CODE_RE.match(c):
                    flag = "--" + option.replace("_", "-")
                    raise ConfigError(f"{flag}: {c!r} is not a code prefix like 'DBC' or 'DBC501'")
            changes[option] = codes
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]  # only the tuple fields


def _longest_prefix(code: str, prefixes: Iterable[str]) -> int:
    """Length of the longest prefix of ``code`` in ``prefixes``; -1 when none matches."""
    return max((len(p) for p in prefixes if code.startswith(p)), default=-1)


# ---------------------------------------------------------------------- finding

def _has_git(folder: Path) -> bool:
    return os.path.exists(folder / ".git")


def _ancestors(start: Path) -> Iterable[Path]:
    here = Path(os.path.abspath(start))
    if not here.is_dir():
        here = here.parent
    yield here
    yield from here.parents


_MAX_CONFIG_BYTES = 4 * 1024 * 1024


def _declares_dbcheck(pyproject: Path) -> bool:
    try:
        data = read_regular_file(pyproject, _MAX_CONFIG_BYTES)
    except OSError:
        return False
    try:
        tool = tomllib.loads(data.decode("utf-8")).get("tool")
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        # Cannot tell; claim it when it seems to be ours so load_config reports why.
        return re.search(rb"^\s*\[\s*tool\s*\.\s*dbcheck", data, re.MULTILINE) is not None
    return isinstance(tool, dict) and "dbcheck" in tool


def find_config(start: Path) -> Path | None:
    """The nearest pyproject.toml with a ``[tool.dbcheck]`` table, looking from
    ``start`` upwards and no further than the first folder that holds ``.git``."""
    for folder in _ancestors(start):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and _declares_dbcheck(candidate):
            return candidate
        if _has_git(folder):
            return None
    return None


def project_root(start: Path) -> Path:
    config = find_config(start)
    if config is not None:
        return config.parent
    folders = list(_ancestors(start))
    marked = (f for f in folders if any((f / m).is_file() for m in _PROJECT_MARKERS))
    return next((f for f in folders if _has_git(f)), None) or next(marked, folders[0])


# Where a Python project starts when there is neither a [tool.dbcheck] nor a .git.
_PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg")


# ---------------------------------------------------------------------- loading

def load_config(path: Path | None = None, *, start: Path | None = None) -> Config:
    """``path`` is an explicit ``--config`` file: a pyproject.toml (its
    ``[tool.dbcheck]`` table) or a dbcheck.toml whose top-level keys are the settings.
    Without it, the configuration is found by walking up from ``start`` (or cwd)."""
    explicit = path is not None
    if path is None:
        start = Path(start) if start is not None else Path.cwd()
        path = find_config(start)
        if path is None:
            return Config(root=project_root(start))
    path = Path(path)
    config = _read_config(path)
    if explicit and start is not None:
        folder = Path(start) if Path(start).is_dir() else Path(start).parent
        here, root = os.path.realpath(folder), os.path.realpath(config.root)
        if here != root and not here.startswith(root.rstrip(os.sep) + os.sep):
            # A shared configuration kept outside the checked project (``--config
            # ~/lint/dbcheck.toml``): its exclude / per-file-ignores patterns are meant
            # for the project, and the cache belongs there too - not in the file's folder.
            config = dataclasses.replace(config, root=project_root(folder))
    return config


def _read_config(path: Path) -> Config:
    try:
        raw = read_regular_file(path, _MAX_CONFIG_BYTES)
    except OSError as err:
        raise ConfigError(f"{path}: cannot read configuration file: {err.strerror or err}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not valid UTF-8 ({err.reason} at byte {err.start})") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: invalid TOML: {err}") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: nested too deeply") from None

    tool = data.get("tool")
    if path.name == "pyproject.toml" or (isinstance(tool, dict) and "dbcheck" in tool):
        settings = tool.get("dbcheck", {}) if isinstance(tool, dict) else {}
        prefix = "tool.dbcheck"
    else:
        settings, prefix = data, ""
    if not isinstance(settings, dict):
        raise ConfigError(f"{path}: {prefix}: expected a table, got {_type_name(settings)}")
    return _parse_settings(settings, path=path, prefix=prefix)


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (datetime.date, datetime.time)):
        return "date/time"
    return {int: "integer", float: "float", str: "string", list: "array", dict: "table"}.get(
        type(value), type(value).__name__
    )


class _Invalid(Exception):
    """A value problem; the caller adds the file and key."""


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"expected a string, got {_type_name(value)}")
    if not value.strip():
        raise _Invalid("must not be empty")
    return value


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise _Invalid(f"expected a string or a list of strings, got {_type_name(value)}")
    for i, item in enumerate(value, 1):
        if not isinstance(item, str):
            raise _Invalid(
                f"expected a string or a list of strings, but item {i} is {_type_name(item)}"
            )
        if not item.strip():
            raise _Invalid(f"item {i} is an empty string")
    return tuple(dict.fromkeys(value))


def _nonempty_strings(value: Any) -> tuple[str, ...]:
    result = _strings(value)
    if not result:
        raise _Invalid("expected a string or a non-empty list of strings, got an empty list")
    return result


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"expected true or false, got {_type_name(value)}")
    return value


def _ownership(value: Any) -> str:
    value = _string(value)
    if value not in TENANT_OWNERSHIPS:
        valid = ", ".join(repr(v) for v in TENANT_OWNERSHIPS)
        raise _Invalid(f"expected one of {valid}, got {value!r}")
    return value


def _output_format(value: Any) -> str:
    value = _string(value)
    if value not in OUTPUT_FORMATS:
        raise _Invalid(f"expected one of {', '.join(OUTPUT_FORMATS)}, got {value!r}")
    return value


def _codes(value: Any) -> tuple[str, ...]:
    codes = _strings(value)
    for code in codes:
        if not CODE_RE.match(code):
            raise _Invalid(
                f"{code!r} is not a code prefix: expected 1-3 capital letters and up to "
                "3 digits, like 'DBC', 'DBC5' or 'DBC501'"
            )
    return codes


# Patterns made only of these cannot be invalid (no escapes, negations or character
# classes): they skip pathspec, whose import and compilation a warm flake8 run feels.
_PLAIN_PATTERN = re.compile(r"[A-Za-z0-9_./*?-]+")


def _patterns(value: Any) -> tuple[str, ...]:
    patterns = _strings(value)
    if all(_PLAIN_PATTERN.fullmatch(p) for p in patterns):
        return patterns
    import pathspec

    for pattern in patterns:
        try:
            pathspec.GitIgnoreSpec.from_lines([pattern])
        except (ValueError, re.error) as err:
            raise _Invalid(f"{pattern!r} is not a valid gitignore-style pattern ({err})") from None
    return patterns


_OWNED_THROUGH = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*->\s*([A-Za-z_][\w.]*)\s*$")


def _owned_through(value: Any) -> tuple[tuple[str, str, str], ...]:
    if not isinstance(value, dict):
        raise _Invalid(f'expected a table like {{ "conversations" = "app_id -> apps" }}, got {_type_name(value)}')
    result = []
    for table, spec in value.items():
        if not isinstance(spec, str):
            raise _Invalid(f"{json.dumps(table)}: expected a string like \"app_id -> apps\", got {_type_name(spec)}")
        match = _OWNED_THROUGH.match(spec)
        if match is None or not table.strip():
            raise _Invalid(f"{json.dumps(table)}: expected \"<column> -> <parent table>\", got {spec!r}")
        result.append((table.strip(), match.group(1), match.group(2)))
    return tuple(result)


def _byte_count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(f"expected a number of bytes, got {_type_name(value)}")
    if value < 1024:
        raise _Invalid(f"expected at least 1024 bytes, got {value}")
    return value


_PARSERS: Mapping[str, tuple[str, Callable[[Any], Any]]] = {
    "tenant-column": ("tenant_columns", _nonempty_strings),
    "tenant-table": ("tenant_table", _string),
    "tenant-ownership": ("tenant_ownership", _ownership),
    "global-tables": ("global_tables", _strings),
    "secret-names": ("secret_names", _strings),
    "not-secret-names": ("not_secret_names", _strings),
    "encrypted-types": ("encrypted_types", _strings),
    "scope-helpers": ("scope_helpers", _strings),
    "request-handlers": ("request_handlers", _strings),
    "owned-through": ("owned_through", _owned_through),
    "inherited-scoping": ("inherited_scoping", _boolean),
    "select": ("select", _codes),
    "extend-select": ("extend_select", _codes),
    "ignore": ("ignore", _codes),
    "exclude": ("exclude", _patterns),
    "force-exclude": ("force_exclude", _boolean),
    "respect-gitignore": ("respect_gitignore", _boolean),
    "baseline": ("baseline", _string),
    "output-format": ("output_format", _output_format),
    "max-file-size": ("max_file_size", _byte_count),
}
KNOWN_KEYS = (*_PARSERS, "per-file-ignores")
# each setting's field of Config -> its key in the configuration file
FIELD_KEYS: Mapping[str, str] = {field: key for key, (field, _parse) in _PARSERS.items()} | {
    "per_file_ignores": "per-file-ignores"}


def _unknown_key_message(key: str) -> str:
    spelled = key.replace("_", "-").lower()
    guesses = [spelled] if spelled in KNOWN_KEYS else difflib.get_close_matches(spelled, KNOWN_KEYS, n=1)
    if guesses:
        return f"unknown key (did you mean '{guesses[0]}'?)"
    return f"unknown key; valid keys: {', '.join(KNOWN_KEYS)}"


def _parse_settings(settings: dict[str, Any], *, path: Path, prefix: str) -> Config:
    def where(key: str) -> str:
        return f"{path}: {prefix}.{key}" if prefix else f"{path}: {key}"

    values: dict[str, Any] = {}
    for key, value in settings.items():
        try:
            if key == "per-file-ignores":
                values["per_file_ignores"] = _per_file_ignores(value, where(key))
            elif key in _PARSERS:
                field, parse = _PARSERS[key]
                values[field] = parse(value)
            else:
                raise _Invalid(_unknown_key_message(key))
        except _Invalid as err:
            raise ConfigError(f"{where(key)}: {err}") from None
    if "tenant_table" in values:
        values["tenant_table_set"] = True
    return Config(root=Path(os.path.abspath(path)).parent, source=path, **values)


def _per_file_ignores(value: Any, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise _Invalid(f'expected a table like {{ "tests/**" = ["DBC5"] }}, got {_type_name(value)}')
    result = []
    for glob, codes in value.items():
        try:
            (pattern,) = _patterns(glob)
            result.append((pattern, _codes(codes)))
        except _Invalid as err:
            raise ConfigError(f"{where}.{json.dumps(glob)}: {err}") from None
    return tuple(result)
