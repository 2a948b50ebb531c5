from __future__ import annotations

from pathlib import Path

import pytest

from dbcheck.config import Config, ConfigError, find_config, load_config, project_root


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def pyproject(folder: Path, body: str) -> Path:
    return write(folder / "pyproject.toml", "[tool.dbcheck]\n" + body)


# ---------------------------------------------------------------- defaults / finding

def test_defaults_when_no_config(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    config = load_config(start=tmp_path / "pkg")
    assert config == Config(root=tmp_path)
    assert config.source is None
    assert config.tenant_columns == ("user_id",)
    assert config.tenant_table == "users"
    assert config.tenant_ownership == "inherited"
    assert config.select == ("DBC",)
    assert config.is_code_enabled("DBC501")
    assert not config.is_code_enabled("DBC900")
    assert not config.is_code_enabled("E501")


def test_all_keys_are_read(tmp_path: Path) -> None:
    pyproject(
        tmp_path,
        """
tenant-column = ["user_id", "org_id"]
tenant-table = "accounts"
tenant-ownership = "direct"
global-tables = ["plans"]
secret-names = ["pin"]
not-secret-names = ["token_budget"]
encrypted-types = ["app.crypto.EncryptedText"]
scope-helpers = ["app.db.for_user"]
request-handlers = ["api_view", "BaseResource"]
owned-through = { "conversations" = "app_id -> apps", " messages " = "  chat_id->chats " }
inherited-scoping = true
select = ["DBC"]
extend-select = ["DBC900"]
ignore = ["DBC302"]
exclude = ["migrations/versions/legacy_*"]
per-file-ignores = { "tests/**" = ["DBC5"], "scripts/*.py" = "DBC1" }
baseline = ".dbcheck-baseline.json"
""",
    )
    config = load_config(start=tmp_path)
    assert config.root == tmp_path
    assert config.source == tmp_path / "pyproject.toml"
    assert config.tenant_columns == ("user_id", "org_id")
    assert config.tenant_table == "accounts"
    assert config.tenant_ownership == "direct"
    assert config.global_tables == ("plans",)
    assert config.secret_names == ("pin",)
    assert config.not_secret_names == ("token_budget",)
    assert config.encrypted_types == ("app.crypto.EncryptedText",)
    assert config.scope_helpers == ("app.db.for_user",)
    assert config.request_handlers == ("api_view", "BaseResource")
    assert config.owned_through == (("conversations", "app_id", "apps"), ("messages", "chat_id", "chats"))
    assert config.inherited_scoping is True
    assert config.extend_select == ("DBC900",)
    assert config.ignore == ("DBC302",)
    assert config.exclude == ("migrations/versions/legacy_*",)
    assert config.per_file_ignores == (("tests/**", ("DBC5",)), ("scripts/*.py", ("DBC1",)))
    assert config.baseline == ".dbcheck-baseline.json"


def test_single_string_tenant_column(tmp_path: Path) -> None:
    pyproject(tmp_path, 'tenant-column = "org_id"\n')
    assert load_config(start=tmp_path).tenant_columns == ("org_id",)


def test_walks_up_from_a_file_in_a_subfolder(tmp_path: Path) -> None:
    config_file = pyproject(tmp_path, 'tenant-table = "orgs"\n')
    deep = write(tmp_path / "app" / "models" / "task.py", "")
    assert find_config(deep) == config_file
    assert find_config(deep.parent) == config_file
    config = load_config(start=deep)
    assert config.tenant_table == "orgs"
    assert config.root == tmp_path
    assert project_root(deep) == tmp_path


def test_pyproject_without_dbcheck_table_is_skipped(tmp_path: Path) -> None:
    outer = pyproject(tmp_path, 'tenant-table = "orgs"\n')
    write(tmp_path / "sub" / "pyproject.toml", "[tool.black]\nline-length = 100\n")
    assert find_config(tmp_path / "sub") == outer


def test_walk_stops_at_git_root(tmp_path: Path) -> None:
    pyproject(tmp_path, 'tenant-table = "orgs"\n')
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "app").mkdir()
    assert find_config(repo / "app") is None
    assert project_root(repo / "app") == repo
    assert load_config(start=repo / "app") == Config(root=repo)


def test_config_in_git_root_itself_is_found(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    config_file = pyproject(tmp_path, "")
    assert find_config(tmp_path / "x") == config_file


def test_project_root_without_anything_is_start(tmp_path: Path) -> None:
    # tmp_path has no .git above it on a normal machine; guard anyway.
    start = tmp_path / "a" / "b"
    start.mkdir(parents=True)
    if find_config(start) is None and not any((p / ".git").exists() for p in start.parents):
        assert project_root(start) == start


def test_explicit_config_pyproject(tmp_path: Path) -> None:
    config_file = pyproject(tmp_path / "conf", 'tenant-table = "orgs"\n')
    config = load_config(config_file)
    assert config.tenant_table == "orgs"
    assert config.root == tmp_path / "conf"
    assert config.source == config_file


@pytest.mark.parametrize("name", ["dbcheck.toml", ".dbcheck.toml"])
def test_explicit_standalone_file(tmp_path: Path, name: str) -> None:
    config_file = write(tmp_path / name, 'tenant-column = "org_id"\nignore = ["DBC3"]\n')
    config = load_config(config_file)
    assert config.tenant_columns == ("org_id",)
    assert config.ignore == ("DBC3",)
    assert config.root == tmp_path


def test_explicit_standalone_file_unknown_key(tmp_path: Path) -> None:
    config_file = write(tmp_path / "dbcheck.toml", "tenant_table = 'x'\n")
    with pytest.raises(ConfigError) as err:
        load_config(config_file)
    assert str(err.value) == f"{config_file}: tenant_table: unknown key (did you mean 'tenant-table'?)"


def test_explicit_config_missing(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as err:
        load_config(missing)
    assert str(missing) in str(err.value)
    assert "No such file or directory" in str(err.value)


def test_explicit_config_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert str(err.value).startswith(f"{tmp_path}: cannot read configuration file")


# ---------------------------------------------------------------- validation errors

def config_error(tmp_path: Path, body: str) -> str:
    pyproject(tmp_path, body)
    with pytest.raises(ConfigError) as err:
        load_config(start=tmp_path)
    return str(err.value)


@pytest.mark.parametrize(
    ("key", "suggestion"),
    [
        ("tenant-colum", "tenant-column"),
        ("tenant_column", "tenant-column"),
        ("per_file_ignores", "per-file-ignores"),
        ("extend_select", "extend-select"),
        ("selct", "select"),
    ],
)
def test_unknown_key_suggests(tmp_path: Path, key: str, suggestion: str) -> None:
    message = config_error(tmp_path, f'{key} = "x"\n')
    path = tmp_path / "pyproject.toml"
    assert message == f"{path}: tool.dbcheck.{key}: unknown key (did you mean '{suggestion}'?)"


def test_unknown_key_without_close_match_lists_keys(tmp_path: Path) -> None:
    message = config_error(tmp_path, "zzz = 1\n")
    assert message.startswith(f"{tmp_path / 'pyproject.toml'}: tool.dbcheck.zzz: unknown key; valid keys:")
    assert "tenant-column" in message


@pytest.mark.parametrize(
    ("body", "key", "what"),
    [
        ("tenant-column = 3\n", "tenant-column", "expected a string or a list of strings, got integer"),
        ("tenant-column = []\n", "tenant-column", "non-empty list"),
        ("tenant-column = ['a', 2]\n", "tenant-column", "item 2 is integer"),
        ("tenant-table = ['users']\n", "tenant-table", "expected a string, got array"),
        ("tenant-table = ''\n", "tenant-table", "must not be empty"),
        ("global-tables = true\n", "global-tables", "got boolean"),
        ("secret-names = {a = 1}\n", "secret-names", "got table"),
        ("exclude = 1.5\n", "exclude", "got float"),
        ("baseline = 1979-05-27\n", "baseline", "got date/time"),
        ("per-file-ignores = ['tests/**']\n", "per-file-ignores", "expected a table"),
        ("select = ''\n", "select", "empty string"),
        ("owned-through = ['app_id -> apps']\n", "owned-through", "expected a table like"),
        ("inherited-scoping = 'yes'\n", "inherited-scoping", "expected true or false, got string"),
        ("owned-through = { conversations = 1 }\n", "owned-through", '"conversations": expected a string'),
        ("owned-through = { conversations = 'apps.id' }\n", "owned-through",
         '"conversations": expected "<column> -> <parent table>", got \'apps.id\''),
    ],
)
def test_wrong_type(tmp_path: Path, body: str, key: str, what: str) -> None:
    message = config_error(tmp_path, body)
    assert message.startswith(f"{tmp_path / 'pyproject.toml'}: tool.dbcheck.{key}: ")
    assert what in message


def test_bad_tenant_ownership(tmp_path: Path) -> None:
    message = config_error(tmp_path, 'tenant-ownership = "strict"\n')
    assert message == (
        f"{tmp_path / 'pyproject.toml'}: tool.dbcheck.tenant-ownership: "
        "expected one of 'inherited', 'direct', got 'strict'"
    )


@pytest.mark.parametrize("code", ["dbc501", "X-1", "DBC5011", "DBCX", "ABCD1"])
@pytest.mark.parametrize("key", ["select", "extend-select", "ignore"])
def test_bad_code(tmp_path: Path, key: str, code: str) -> None:
    message = config_error(tmp_path, f'{key} = ["DBC", "{code}"]\n')
    where = f"{tmp_path / 'pyproject.toml'}: tool.dbcheck.{key}"
    assert message.startswith(f"{where}: '{code}' is not a code prefix")


def test_bad_code_in_per_file_ignores(tmp_path: Path) -> None:
    message = config_error(tmp_path, 'per-file-ignores = { "tests/**" = ["dbc5"] }\n')
    where = f"{tmp_path / 'pyproject.toml'}: tool.dbcheck.per-file-ignores.\"tests/**\""
    assert message.startswith(f"{where}: 'dbc5' is not a code prefix")


def test_bad_glob(tmp_path: Path) -> None:
    message = config_error(tmp_path, 'exclude = ["a[z-a]"]\n')
    assert message.startswith(f"{tmp_path / 'pyproject.toml'}: tool.dbcheck.exclude: 'a[z-a]' is not a valid")


def test_good_codes_accepted(tmp_path: Path) -> None:
    pyproject(tmp_path, 'select = ["DBC", "DBC5", "DBC501", "E"]\n')
    assert load_config(start=tmp_path).select == ("DBC", "DBC5", "DBC501", "E")


def test_invalid_toml(tmp_path: Path) -> None:
    message = config_error(tmp_path, "select = [\"DBC\"\nignore = 1\n")
    assert message.startswith(f"{tmp_path / 'pyproject.toml'}: invalid TOML: ")
    assert "line 3" in message


def test_invalid_toml_in_discovered_pyproject_is_reported(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.dbcheck]\nselect = = 1\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(start=tmp_path)


def test_invalid_toml_in_unrelated_pyproject_is_skipped(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path / "pyproject.toml", "[tool.black\n")
    assert load_config(start=tmp_path) == Config(root=tmp_path)


def test_non_utf8_toml(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b"[tool.dbcheck]\ntenant-table = '\xff'\n")
    with pytest.raises(ConfigError, match="not valid UTF-8") as err:
        load_config(start=tmp_path)
    assert str(tmp_path / "pyproject.toml") in str(err.value)


def test_tool_dbcheck_not_a_table(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool]\ndbcheck = 3\n")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "pyproject.toml")
    assert str(err.value) == f"{tmp_path / 'pyproject.toml'}: tool.dbcheck: expected a table, got integer"


# ---------------------------------------------------------------- code selection

def make(tmp_path: Path, **kwargs: object) -> Config:
    return Config(root=tmp_path, **kwargs)  # type: ignore[arg-type]


def test_prefix_longest_match_wins(tmp_path: Path) -> None:
    config = make(tmp_path, select=("DBC",), ignore=("DBC5",))
    assert config.is_code_enabled("DBC101")
    assert not config.is_code_enabled("DBC501")
    config = make(tmp_path, select=("DBC501",), ignore=("DBC5",))
    assert config.is_code_enabled("DBC501")
    assert not config.is_code_enabled("DBC502")
    assert not config.is_code_enabled("DBC101")


def test_tie_is_ignored_like_flake8(tmp_path: Path) -> None:
    config = make(tmp_path, select=("DBC5",), ignore=("DBC5",))
    assert not config.is_code_enabled("DBC501")


def test_extend_select(tmp_path: Path) -> None:
    config = make(tmp_path, select=("DBC1",), extend_select=("DBC3",))
    assert config.is_code_enabled("DBC101")
    assert config.is_code_enabled("DBC303")
    assert not config.is_code_enabled("DBC501")


def test_dbc900_needs_explicit_selection(tmp_path: Path) -> None:
    assert not make(tmp_path).is_code_enabled("DBC900")
    assert not make(tmp_path, select=("DBC",)).is_code_enabled("DBC900")
    assert make(tmp_path, select=("DBC900",)).is_code_enabled("DBC900")
    assert make(tmp_path, select=("DBC9",)).is_code_enabled("DBC900")
    assert make(tmp_path, extend_select=("DBC900",)).is_code_enabled("DBC900")
    assert not make(tmp_path, extend_select=("DBC900",), ignore=("DBC900",)).is_code_enabled("DBC900")


def test_per_file_ignores(tmp_path: Path) -> None:
    config = make(tmp_path, per_file_ignores=(("tests/**", ("DBC5",)), ("*_legacy.py", ("DBC1",))))
    assert not config.is_code_enabled("DBC501", tmp_path / "tests" / "api" / "test_x.py")
    assert config.is_code_enabled("DBC101", tmp_path / "tests" / "api" / "test_x.py")
    assert config.is_code_enabled("DBC501", tmp_path / "app" / "tests.py")
    assert config.is_code_enabled("DBC501")  # no path: no per-file ignores
    assert config.ignored_codes_for(tmp_path / "app" / "m_legacy.py") == ("DBC1",)
    assert config.ignored_codes_for(tmp_path / "tests" / "m_legacy.py") == ("DBC5", "DBC1")
    # A more specific select still beats a per-file prefix, as in flake8.
    assert make(tmp_path, select=("DBC501",), per_file_ignores=config.per_file_ignores).is_code_enabled(
        "DBC501", tmp_path / "tests" / "t.py"
    )


def test_per_file_ignores_relative_to_root_not_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tests").mkdir()
    monkeypatch.chdir(tmp_path / "tests")
    config = make(tmp_path, per_file_ignores=(("tests/**", ("DBC5",)),))
    assert config.ignored_codes_for(Path("test_x.py")) == ("DBC5",)
    assert config.ignored_codes_for(tmp_path.parent / "elsewhere.py") == ()


def test_per_file_ignores_from_toml(tmp_path: Path) -> None:
    pyproject(tmp_path, 'per-file-ignores = { "tests/**" = ["DBC5"], "migrations/" = ["DBC3"] }\n')
    config = load_config(start=tmp_path)
    assert not config.is_code_enabled("DBC501", tmp_path / "tests" / "test_api.py")
    assert not config.is_code_enabled("DBC302", tmp_path / "migrations" / "versions" / "a.py")
    assert config.is_code_enabled("DBC302", tmp_path / "app" / "models.py")


def test_exclude_globs(tmp_path: Path) -> None:
    config = make(tmp_path, exclude=("migrations/versions/legacy_*", "generated/", "*_pb2.py"))
    assert config.is_excluded(tmp_path / "migrations" / "versions" / "legacy_0001.py")
    assert not config.is_excluded(tmp_path / "migrations" / "versions" / "0002_add.py")
    # Anchored: a slash in the middle ties the pattern to the root.
    assert not config.is_excluded(tmp_path / "sub" / "migrations" / "versions" / "legacy_0001.py")
    assert config.is_excluded(tmp_path / "generated", is_dir=True)
    assert not config.is_excluded(tmp_path / "generated", is_dir=False)
    assert config.is_excluded(tmp_path / "app" / "generated" / "x.py")
    assert config.is_excluded(tmp_path / "deep" / "a" / "x_pb2.py")
    assert not config.is_excluded(tmp_path.parent / "x_pb2.py")  # outside root


def test_exclude_detects_folders_on_disk(tmp_path: Path) -> None:
    (tmp_path / "generated").mkdir()
    assert make(tmp_path, exclude=("generated/",)).is_excluded(tmp_path / "generated")


def test_with_overrides(tmp_path: Path) -> None:
    config = make(tmp_path, select=("DBC",), ignore=("DBC3",), extend_select=("DBC900",))
    changed = config.with_overrides(select=["DBC5"])
    assert changed.select == ("DBC5",)
    assert changed.ignore == ("DBC3",)
    assert changed.extend_select == ("DBC900",)
    assert config.select == ("DBC",)  # frozen, untouched
    changed = config.with_overrides(ignore="DBC1, DBC2", extend_select=[])
    assert changed.ignore == ("DBC1", "DBC2")
    assert changed.extend_select == ()
    assert config.with_overrides() == config
    with pytest.raises(ConfigError, match="--ignore: 'dbc1' is not a code prefix"):
        config.with_overrides(ignore=["dbc1"])


def test_fingerprint(tmp_path: Path) -> None:
    a = make(tmp_path)
    assert a.fingerprint() == make(tmp_path).fingerprint()
    assert len(a.fingerprint()) == 64
    assert a.fingerprint() != make(tmp_path, tenant_columns=("org_id",)).fingerprint()
    assert a.fingerprint() != a.with_overrides(ignore=["DBC3"]).fingerprint()
    assert a.fingerprint() != make(tmp_path, per_file_ignores=(("t/**", ("DBC5",)),)).fingerprint()


def test_config_is_hashable(tmp_path: Path) -> None:
    config = make(tmp_path, exclude=("x/",), per_file_ignores=(("t/**", ("DBC5",)),))
    config.is_excluded(tmp_path / "x" / "a.py")  # fills the compiled-pattern cache
    assert hash(config) == hash(make(tmp_path, exclude=("x/",), per_file_ignores=(("t/**", ("DBC5",)),)))


def test_explicit_config_outside_the_project_anchors_patterns_at_the_project(tmp_path: Path) -> None:
    # A shared file (``--config ~/lint/dbcheck.toml``): its patterns are meant for the
    # checked project, whose root also holds the cache - not the file's folder.
    shared = write(tmp_path / "lint" / "dbcheck.toml", 'exclude = ["tests/"]\n')
    project = tmp_path / "service"
    write(project / "pyproject.toml", "[project]\nname = 'service'\n")
    write(project / "tests" / "test_x.py", "")
    config = load_config(shared, start=project)
    assert config.root == project
    assert config.source == shared
    assert config.is_excluded(project / "tests" / "test_x.py")
    # inside the file's own folder, the folder stays the root
    assert load_config(shared, start=tmp_path / "lint").root == tmp_path / "lint"


@pytest.mark.parametrize("value, message", [
    ('"1MB"', "expected a number of bytes, got string"),
    ("true", "expected a number of bytes, got boolean"),
    ("10", "expected at least 1024 bytes, got 10"),
])
def test_max_file_size_is_validated(tmp_path: Path, value: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.dbcheck]\nmax-file-size = {value}\n")
    with pytest.raises(ConfigError) as err:
        load_config(start=tmp_path)
    assert str(err.value).endswith(f"tool.dbcheck.max-file-size: {message}")
    (tmp_path / "pyproject.toml").write_text("[tool.dbcheck]\nmax-file-size = 4_000_000\n")
    assert load_config(start=tmp_path).max_file_size == 4_000_000
