from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import pytest

from dbcheck.config import Config
from dbcheck.discovery import iter_python_files
from dbcheck.syntax.source import SourceDecodeError, decode_source, read_source


def touch(path: Path, data: bytes = b"") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def rel(files: list[Path], root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in files]


def cpython_error_line(data: bytes) -> int | None:
    try:
        compile(data, "x.py", "exec")
    except SyntaxError as err:
        return err.lineno
    return None


# ---------------------------------------------------------------- discovery

def test_walks_folders_and_skips_tool_folders(tmp_path: Path) -> None:
    for name in [
        "app/models.py", "app/api/tasks.py", "app/env/settings.py", "app/README.md",
        "app/stub.pyi", "setup.py",
        ".git/hooks/x.py", ".venv/lib/x.py", "venv/lib/x.py", "node_modules/pkg/x.py",
        "app/__pycache__/models.py", "build/lib/app/x.py", "dist/x.py", ".tox/py/x.py",
        ".mypy_cache/x.py", ".dbcheck_cache/x.py", "lib/site-packages/x.py",
        "app.egg-info/x.py", "myenv/lib/x.py", "myenv/lib/python3.12/site-packages/x.py",
    ]:
        touch(tmp_path / name)
    touch(tmp_path / "myenv" / "pyvenv.cfg")
    files, problems = iter_python_files([tmp_path], Config(root=tmp_path))
    assert problems == []
    assert rel(files, tmp_path) == ["app/api/tasks.py", "app/env/settings.py", "app/models.py", "setup.py"]


def test_env_folder_is_skipped_only_when_it_is_a_virtualenv(tmp_path: Path) -> None:
    touch(tmp_path / "env" / "lib" / "x.py")
    touch(tmp_path / "env" / "pyvenv.cfg")
    touch(tmp_path / "env" / "lib" / "python3.11" / "site-packages" / "pkg.py")
    files, _ = iter_python_files([tmp_path], Config(root=tmp_path))
    assert files == []


def test_a_pyvenv_cfg_alone_does_not_hide_a_package(tmp_path: Path) -> None:
    """A marker committed into a package (to hide it from the check) is not a virtualenv."""
    touch(tmp_path / "app" / "models.py")
    touch(tmp_path / "app" / "pyvenv.cfg")
    files, _ = iter_python_files([tmp_path], Config(root=tmp_path))
    assert rel(files, tmp_path) == ["app/models.py"]


def test_exclude_globs_apply_to_walk_and_explicit_files(tmp_path: Path) -> None:
    legacy = touch(tmp_path / "migrations" / "versions" / "legacy_0001.py")
    touch(tmp_path / "migrations" / "versions" / "0002_add.py")
    touch(tmp_path / "generated" / "x.py")
    config = Config(root=tmp_path, exclude=("migrations/versions/legacy_*", "generated/"))
    files, _ = iter_python_files([tmp_path], config)
    assert rel(files, tmp_path) == ["migrations/versions/0002_add.py"]
    # named on the command line: checked, as ruff does; force-exclude (pre-commit) leaves them out
    assert iter_python_files([legacy], config) == ([legacy], [])
    assert rel(iter_python_files([tmp_path / "generated"], config)[0], tmp_path) == ["generated/x.py"]
    forced = dataclasses.replace(config, force_exclude=True)
    assert iter_python_files([legacy], forced) == ([], [])
    assert iter_python_files([tmp_path / "generated"], forced) == ([], [])


def test_a_named_folder_keeps_the_patterns_below_it(tmp_path: Path) -> None:
    touch(tmp_path / "fixtures" / "app" / "models.py")
    touch(tmp_path / "fixtures" / "app" / "migrations" / "legacy_1.py")
    config = Config(root=tmp_path, exclude=("fixtures/", "legacy_*"))
    assert rel(iter_python_files([tmp_path], config)[0], tmp_path) == []
    files, _ = iter_python_files([tmp_path / "fixtures"], config)
    assert rel(files, tmp_path) == ["fixtures/app/models.py"]


def test_gitignore_files_apply_from_the_repository_top_down(tmp_path: Path) -> None:
    (tmp_path / ".git" / "info").mkdir(parents=True)
    (tmp_path / ".git" / "info" / "exclude").write_text("scratch.py\n")
    (tmp_path / ".gitignore").write_text("# generated code\ngenerated/\n*_pb2.py\n")
    touch(tmp_path / "app" / "models.py")
    touch(tmp_path / "app" / "api_pb2.py")
    touch(tmp_path / "generated" / "models.py")
    touch(tmp_path / "scratch.py")
    (tmp_path / "app" / "vendor").mkdir()
    (tmp_path / "app" / ".gitignore").write_text("vendor/\n!keep_pb2.py\n")
    touch(tmp_path / "app" / "vendor" / "lib.py")
    touch(tmp_path / "app" / "keep_pb2.py")
    config = Config(root=tmp_path)
    files, problems = iter_python_files([tmp_path], config)
    assert problems == []
    assert rel(files, tmp_path) == ["app/keep_pb2.py", "app/models.py"]
    # walking a subfolder still reads the ignore files above it
    assert rel(iter_python_files([tmp_path / "app"], config)[0], tmp_path) == ["app/keep_pb2.py", "app/models.py"]
    # named on the command line: checked unless force-exclude
    assert iter_python_files([tmp_path / "app" / "api_pb2.py"], config)[0] == [tmp_path / "app" / "api_pb2.py"]
    forced = dataclasses.replace(config, force_exclude=True)
    assert iter_python_files([tmp_path / "app" / "api_pb2.py"], forced)[0] == []
    # respect-gitignore = false reads them all
    everything = dataclasses.replace(config, respect_gitignore=False)
    assert len(iter_python_files([tmp_path], everything)[0]) == 6


def test_ignore_files_read_are_listed_with_the_folders(tmp_path: Path) -> None:
    """A cached listing is checked against these, so editing .gitignore re-walks."""
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("out/\n")
    touch(tmp_path / "a.py")
    folders: list[str] = []
    iter_python_files([tmp_path], Config(root=tmp_path), folders)
    assert str(tmp_path / ".gitignore") in folders


def test_exclude_relative_to_root_when_run_from_subfolder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    touch(tmp_path / "migrations" / "versions" / "legacy_1.py")
    touch(tmp_path / "migrations" / "versions" / "new.py")
    monkeypatch.chdir(tmp_path / "migrations")
    config = Config(root=tmp_path, exclude=("migrations/versions/legacy_*",))
    files, _ = iter_python_files([Path(".")], config)
    assert [p.as_posix() for p in files] == ["versions/new.py"]


def test_explicit_file_taken_whatever_its_suffix(tmp_path: Path) -> None:
    script = touch(tmp_path / "manage")
    files, problems = iter_python_files([script], Config(root=tmp_path))
    assert files == [script] and problems == []


def test_explicitly_named_tool_folder_is_walked(tmp_path: Path) -> None:
    touch(tmp_path / "build" / "gen.py")
    files, _ = iter_python_files([tmp_path / "build"], Config(root=tmp_path))
    assert rel(files, tmp_path) == ["build/gen.py"]


def test_missing_path_is_a_problem(tmp_path: Path) -> None:
    present = touch(tmp_path / "a.py")
    files, problems = iter_python_files([tmp_path / "nope.py", present], Config(root=tmp_path))
    assert files == [present]
    assert problems == [f"{tmp_path / 'nope.py'}: no such file or directory"]


def test_files_are_sorted_and_deduplicated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    b = touch(tmp_path / "b.py")
    a = touch(tmp_path / "pkg" / "a.py")
    monkeypatch.chdir(tmp_path)
    paths = [tmp_path, b, Path("b.py"), Path("pkg/../b.py"), tmp_path / "pkg"]
    files, _ = iter_python_files(paths, Config(root=tmp_path))
    assert files == sorted(files)
    assert [os.path.abspath(p) for p in files] == [str(b), str(a)]


def test_folder_with_no_python_files(tmp_path: Path) -> None:
    touch(tmp_path / "README.md")
    assert iter_python_files([tmp_path], Config(root=tmp_path)) == ([], [])


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlink_loop_terminates(tmp_path: Path) -> None:
    touch(tmp_path / "pkg" / "sub" / "m.py")
    os.symlink(tmp_path / "pkg", tmp_path / "pkg" / "sub" / "loop")
    os.symlink(tmp_path, tmp_path / "pkg" / "root_again")
    os.symlink("self.py", tmp_path / "pkg" / "self.py")  # a file symlink loop
    os.symlink("gone.py", tmp_path / "pkg" / "broken.py")
    files, problems = iter_python_files([tmp_path], Config(root=tmp_path))
    assert rel(files, tmp_path) == ["pkg/sub/m.py"]
    assert problems == []


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlinked_file_is_checked(tmp_path: Path) -> None:
    real = touch(tmp_path / "real.py")
    os.symlink(real, tmp_path / "alias.py")
    files, _ = iter_python_files([tmp_path], Config(root=tmp_path))
    assert rel(files, tmp_path) == ["alias.py", "real.py"]


def test_unreadable_folder_is_a_problem_and_the_walk_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    touch(tmp_path / "ok.py")
    locked = tmp_path / "locked"
    touch(locked / "x.py")
    real_scandir = os.scandir

    # chmod cannot lock out root, so simulate what an unreadable folder raises.
    def scandir(path):  # type: ignore[no-untyped-def]
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    files, problems = iter_python_files([tmp_path], Config(root=tmp_path))
    assert rel(files, tmp_path) == ["ok.py"]
    assert problems == [f"{locked}: cannot read folder: Permission denied"]


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="needs arbitrary byte file names")
def test_non_utf8_file_names(tmp_path: Path) -> None:
    folder = os.fsencode(tmp_path) + b"/caf\xe9"
    os.mkdir(folder)
    with open(folder + b"/m\xff.py", "wb") as f:
        f.write(b"x = 1\n")
    files, problems = iter_python_files([tmp_path], Config(root=tmp_path))
    assert problems == []
    assert [os.fsencode(p) for p in files] == [folder + b"/m\xff.py"]
    assert read_source(files[0]) == "x = 1\n"


# ---------------------------------------------------------------- decoding

def test_latin1_with_cookie() -> None:
    data = "# -*- coding: latin-1 -*-\nname = 'José'\n".encode("latin-1")
    assert decode_source(data) == "# -*- coding: latin-1 -*-\nname = 'José'\n"


def test_cookie_on_line_two() -> None:
    data = "#!/usr/bin/env python\n# vim: set fileencoding=cp1252 :\ns = '€'\n".encode("cp1252")
    assert decode_source(data).endswith("s = '€'\n")


def test_bom() -> None:
    assert decode_source(b"\xef\xbb\xbfx = '\xc3\xa9'\n") == "x = 'é'\n"


def test_crlf_and_cr() -> None:
    assert decode_source(b"a = 1\r\nb = 2\rc = 3\r\n") == "a = 1\nb = 2\nc = 3\n"


def test_empty_file() -> None:
    assert decode_source(b"") == ""


@pytest.mark.parametrize(
    "data",
    [
        b"x = 1\ny = 2\nz = '\xff'\n",
        b"z = '\xe9'\n",
        b"x = 1\r\ny = 2\r\nz = '\xff'\r\n",
        b"x = 1\ry = 2\rz = '\xff'\r",
        b"\xef\xbb\xbfx = 1\ny = 2\nz = b'\xc3'\n",
        b"x = 1\n\n\ny = '\xe2\x82'",
        b"# coding: utf-8\nx = 1\ns = '\xed\xa0\x80'\n",  # an encoded surrogate is invalid UTF-8
    ],
)
def test_invalid_utf8_reports_cpythons_line(data: bytes) -> None:
    with pytest.raises(SourceDecodeError) as err:
        decode_source(data)
    assert err.value.line == cpython_error_line(data)
    assert "can't decode byte" in err.value.message


def test_invalid_utf8_on_line_3() -> None:
    data = b"a = 1\nb = 2\nc = '\xff'\n"
    with pytest.raises(SourceDecodeError) as err:
        decode_source(data)
    assert err.value.line == 3 == cpython_error_line(data)


@pytest.mark.parametrize("data", [b"x = 1\n# caf\xe9\n", b"# Jos\xe9\nx = 1\n", b"x = 1  # \xff\xfe\n"])
def test_undecodable_bytes_in_comments_are_accepted_like_cpython(data: bytes) -> None:
    assert cpython_error_line(data) is None  # compile() accepts them
    text = decode_source(data)
    assert "\ufffd" in text and "x = 1" in text


def test_comment_tolerance_does_not_hide_later_bad_code() -> None:
    data = b"# caf\xe9\nx = 1\ny = '\xe9'\n"
    with pytest.raises(SourceDecodeError) as err:
        decode_source(data)
    assert err.value.line == 3 == cpython_error_line(data)


def test_declared_encoding_that_does_not_fit() -> None:
    with pytest.raises(SourceDecodeError) as err:
        decode_source(b"# coding: ascii\nx = 1\ny = '\xe9'\n")
    assert err.value.line == 3
    assert "'ascii' codec" in err.value.message


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"# -*- coding: klingon -*-\nx = 1\n", 1),
        (b"#!/usr/bin/python\n# -*- coding: klingon -*-\nx = 1\n", 2),
        (b"#!/usr/bin/python\n# coding: rot13\nx = 1\n", 2),
        (b"\xef\xbb\xbf# coding: latin-1\nx = 1\n", 1),
    ],
)
def test_bad_cookie_reported_at_cookie_line(data: bytes, line: int) -> None:
    assert cpython_error_line(data) is not None  # CPython refuses these too
    with pytest.raises(SourceDecodeError) as err:
        decode_source(data)
    assert err.value.line == line


def test_cookie_after_line_two_is_ignored() -> None:
    assert decode_source(b"\n\n# coding: klingon\nx = 1\n") == "\n\n# coding: klingon\nx = 1\n"


@pytest.mark.parametrize(
    ("data", "line"),
    [(b"\x00\x01\x02\xff", 1), (b"x = 1\ny = 2\nz\x00 = 3\n", 3), (b"a\r\nb\rc\x00", 3)],
)
def test_nul_bytes(data: bytes, line: int) -> None:
    with pytest.raises(SourceDecodeError) as err:
        decode_source(data)
    assert err.value.line == line
    assert err.value.message == "source code cannot contain null bytes"
    with pytest.raises(SyntaxError, match="null bytes"):
        compile(data, "x.py", "exec")


def test_binary_file_named_py(tmp_path: Path) -> None:
    path = touch(tmp_path / "image.py", bytes(range(256)) * 4)
    with pytest.raises(SourceDecodeError) as err:
        read_source(path)
    assert err.value.line == 1


def test_read_source(tmp_path: Path) -> None:
    path = touch(tmp_path / "m.py", b"# -*- coding: latin-1 -*-\r\nx = '\xe9'\r\n")
    assert read_source(path) == "# -*- coding: latin-1 -*-\nx = 'é'\n"


def test_read_source_unreadable(tmp_path: Path) -> None:
    with pytest.raises(SourceDecodeError) as err:
        read_source(tmp_path / "missing.py")
    assert (err.value.line, err.value.message) == (1, "cannot read file: No such file or directory")
    with pytest.raises(SourceDecodeError, match="cannot read file: not a regular file"):
        read_source(tmp_path)
