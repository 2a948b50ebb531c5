"""Attack tests: the checked tree is untrusted input. Each test plants what a hostile pull
request could commit (or what a hostile machine could hold) and shows that dbcheck neither
runs it, nor crashes, hangs or writes outside its cache folder because of it, nor reports
anything other than what ``--no-cache`` reports.

Every dbcheck process here is started as a user starts it: the installed ``dbcheck`` and
``flake8`` commands, from the project's folder (``python -m`` would itself put the folder
on ``sys.path``; that is the user's choice, not dbcheck's).
"""

from __future__ import annotations

import errno
import io
import json
import marshal
import os
import resource
import shutil
import socket
import stat
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from dbcheck import cache as cache_module
from dbcheck.cache import Cache, is_racy
from dbcheck.config import load_config
from dbcheck.engine import scan_files

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DBCHECK = str(BIN / "dbcheck")
FLAKE8 = str(BIN / "flake8")

MODELS = '''\
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    api_token: Mapped[str] = mapped_column(String(64))


def every_note(session):
    return session.scalars(select(Note)).all()
'''

# marshal.loads of these 12 bytes dies with SIGSEGV (a tuple holding a frozenset that holds
# the tuple); a self-referencing tuple; and plain garbage.
SEGFAULT = b"\xa9\x01\xbe\x01\x00\x00\x00r\x00\x00\x00\x00"
CRAFTED = [SEGFAULT, b"\xa9\x02\xa9\x01r\x01\x00\x00\x00N", b"\x00" * 13]


@pytest.fixture()
def env(tmp_path, monkeypatch):
    """The user's own secret and socket folders, in the test's folder (the sockets' in a
    short one: a Unix socket's path has at most 107 bytes)."""
    import tempfile

    user = tmp_path / "user"
    (user / "cache").mkdir(parents=True)
    run = tempfile.mkdtemp(prefix="dbc-", dir="/tmp")
    values = dict(os.environ, XDG_CACHE_HOME=str(user / "cache"), XDG_RUNTIME_DIR=run)
    values.pop("DBCHECK_CACHE_DIR", None)
    values.pop("PYTHONPATH", None)
    monkeypatch.setenv("XDG_CACHE_HOME", values["XDG_CACHE_HOME"])
    monkeypatch.setenv("XDG_RUNTIME_DIR", values["XDG_RUNTIME_DIR"])
    monkeypatch.delenv("DBCHECK_CACHE_DIR", raising=False)
    cache_module._secret.cache_clear()
    yield values
    cache_module._secret.cache_clear()
    shutil.rmtree(run, ignore_errors=True)


def _project(tmp_path: Path, name: str = "proj") -> Path:
    root = tmp_path / name
    (root / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.dbcheck]\n")
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "models.py").write_text(MODELS)
    return root


def _run(args: list[str], cwd: Path, env: dict, timeout: float = 120, **extra) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, **extra)


def _truth(root: Path, env: dict) -> tuple[int, str]:
    proc = _run([DBCHECK, ".", "--no-cache"], root, env)
    assert proc.returncode == 1 and proc.stdout, proc.stderr
    return proc.returncode, proc.stdout


def _flake8_truth(root: Path, env: dict) -> str:
    proc = _run([FLAKE8, "--select", "DBC", "-j", "1", "."], root, dict(env, DBCHECK_NO_CACHE="1"))
    assert proc.returncode == 1 and proc.stdout, proc.stderr
    return proc.stdout


def _attacker_cache(root: Path, env: dict, tmp_path: Path) -> Path:
    """A cache folder with every entry a run of this project writes, written by another
    user's dbcheck (another secret): what a committed ``.dbcheck_cache`` holds."""
    attacker = dict(env, XDG_CACHE_HOME=str(tmp_path / "attacker"))
    assert _run([DBCHECK, "."], root, attacker).returncode == 1
    folder = root / ".dbcheck_cache"
    assert (folder / "manifest").is_file() and list((folder / "results").iterdir())
    return folder


def _entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != ".gitignore")


# ---------------------------------------------------------------- 1. nothing of theirs runs

def _plant_code(root: Path, marker: Path) -> None:
    payload = f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
    (root / "dbcheck").mkdir()
    (root / "dbcheck" / "__init__.py").write_text(payload)
    (root / "dbcheck" / "daemon.py").write_text(payload)
    (root / "dbcheck" / "cli.py").write_text(payload + "def main(): return 0\n")
    for name in ("json.py", "socket.py", "hashlib.py", "marshal.py", "libcst.py", "fcntl.py", "select.py"):
        (root / name).write_text(payload)


def _codes(output: str) -> list[str]:
    return [line.split(": ", 1)[1].split(" ", 1)[0] for line in output.splitlines()]


def _daemon_sockets(env: dict) -> list[Path]:
    return list((Path(env["XDG_RUNTIME_DIR"]) / "dbcheck").glob("*.sock"))


def test_no_process_imports_from_the_project_or_working_directory(tmp_path, env):
    root = _project(tmp_path)
    marker = tmp_path / "ran"
    _plant_code(root, marker)
    daemon_env = dict(env)
    for name in ("DBCHECK_NO_DAEMON", "CI"):
        daemon_env.pop(name, None)
    try:
        # flake8 analyses in its own process, then starts the project's daemon ...
        first = _run([FLAKE8, "--select", "DBC", "app/models.py"], root, daemon_env)
        assert first.returncode == 1 and "DBC501" in first.stdout, first.stderr
        deadline = time.monotonic() + 60
        while not _daemon_sockets(daemon_env) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _daemon_sockets(daemon_env), "the plugin started no daemon"
        # ... which answers the next run on an edited file
        with open(root / "app" / "models.py", "a") as handle:
            handle.write("\n\ndef all_notes(session):\n    return session.scalars(select(Note)).all()\n")
        second = _run([FLAKE8, "--select", "DBC", "app/models.py"], root, daemon_env)
        assert _codes(second.stdout).count("DBC501") == 2, second.stdout + second.stderr
        cli = _run([DBCHECK, "."], root, daemon_env)
        assert cli.returncode == 1 and _codes(cli.stdout).count("DBC501") == 2, cli.stderr
        assert _run([DBCHECK, "schema", "."], root, daemon_env).returncode == 0
        stop = _run([DBCHECK, "daemon", "--stop", "."], root, daemon_env)
        assert stop.stdout == "stopped\n", stop.stdout + stop.stderr
    finally:
        _run([DBCHECK, "daemon", "--stop", "."], root, daemon_env)
    assert not marker.exists(), marker.read_text()


def test_the_daemon_is_started_isolated_from_the_working_directory(tmp_path):
    from dbcheck import daemon

    command = daemon.daemon_command(tmp_path, str(tmp_path))
    assert command[:4] == [sys.executable, "-P", "-m", "dbcheck.daemon"]
    probe = subprocess.run([*command[:2], "-c", "import sys; print(sys.path[0])"], cwd=tmp_path,
                           capture_output=True, text=True, check=True)
    assert probe.stdout.strip() != str(tmp_path)


# ---------------------------------------------------------------- 2, 3. a committed cache changes nothing

@pytest.mark.parametrize("crafted", CRAFTED, ids=["segfault", "self-reference", "zeros"])
def test_crafted_cache_entries_change_nothing(tmp_path, env, crafted):
    root = _project(tmp_path)
    truth = _truth(root, env)
    flake8_truth = _flake8_truth(root, env)
    folder = _attacker_cache(root, env, tmp_path)
    for entry in _entries(folder):
        entry.write_bytes(crafted)
    for _ in range(2):  # the second run reads what the first wrote
        proc = _run([DBCHECK, "."], root, env)
        assert (proc.returncode, proc.stdout) == truth, proc.stderr
        assert "Traceback" not in proc.stderr
    for entry in _entries(folder):
        entry.write_bytes(crafted)
    assert _run([DBCHECK, "schema", "."], root, env).returncode == 0
    sarif = _run([DBCHECK, "--format", "sarif", "."], root, env)
    assert sarif.returncode == 1 and json.loads(sarif.stdout)["runs"][0]["results"]
    for jobs in ("1", "2"):
        for entry in _entries(folder):
            entry.write_bytes(crafted)
        proc = _run([FLAKE8, "--select", "DBC", "-j", jobs, "."], root, env, timeout=120)
        assert proc.stdout == flake8_truth, proc.stderr


def test_committed_results_cannot_hide_findings(tmp_path, env):
    """Entries that decode fine and say "no findings": in the old unauthenticated format
    with the right build stamp, and in today's format under another user's secret."""
    from dbcheck.store import EntryStore

    root = _project(tmp_path)
    truth = _truth(root, env)
    folder = _attacker_cache(root, env, tmp_path)
    attacker_key = (tmp_path / "attacker" / "dbcheck" / "secret").read_bytes()
    forged = EntryStore(folder, cache_module._FORMAT, ("facts", "results", "queries"), attacker_key)
    forged.open()
    forged.open_subfolders()
    for entry in (folder / "results").iterdir():
        if entry.name.startswith("last-"):
            continue
        forged.write("results", entry.name, marshal.dumps(([], [])))
    forged.close()
    proc = _run([DBCHECK, "."], root, env)
    assert (proc.returncode, proc.stdout) == truth
    for entry in (folder / "results").iterdir():
        entry.write_bytes(marshal.dumps((cache_module._FORMAT, ([], []))))
    proc = _run([DBCHECK, "."], root, env)
    assert (proc.returncode, proc.stdout) == truth


def test_a_genuine_entry_moved_to_another_name_is_refused(tmp_path, env):
    root = _project(tmp_path)
    assert _run([DBCHECK, "."], root, env).returncode == 1
    cache = Cache(root / ".dbcheck_cache")
    facts = sorted((root / ".dbcheck_cache" / "facts").iterdir())
    assert len(facts) >= 2 and cache._load("facts", facts[0].name) is not None
    shutil.copyfile(facts[0], facts[1])
    assert cache._load("facts", facts[1].name) is None


# ---------------------------------------------------------------- 4, 5. links, FIFOs, devices

def test_a_symlinked_cache_folder_is_never_written_through(tmp_path, env):
    root = _project(tmp_path)
    truth = _truth(root, env)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / ".dbcheck_cache").symlink_to(elsewhere)
    for _ in range(2):
        proc = _run([DBCHECK, "."], root, env)
        assert (proc.returncode, proc.stdout) == truth
        assert proc.stderr.count("running without a cache") == 1, proc.stderr
    assert list(elsewhere.iterdir()) == []
    assert _run([FLAKE8, "--select", "DBC", "."], root, env).returncode == 1
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("inner", ["facts", "results", "queries"])
def test_a_symlinked_folder_inside_the_cache_is_never_written_through(tmp_path, env, inner):
    root = _project(tmp_path)
    truth = _truth(root, env)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / ".dbcheck_cache").mkdir()
    (root / ".dbcheck_cache" / inner).symlink_to(elsewhere)
    proc = _run([DBCHECK, "."], root, env)
    assert (proc.returncode, proc.stdout) == truth
    assert "running without a cache" in proc.stderr
    assert list(elsewhere.iterdir()) == []


def test_symlinked_entries_are_replaced_not_followed(tmp_path, env):
    root = _project(tmp_path)
    truth = _truth(root, env)
    folder = _attacker_cache(root, env, tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    for entry in _entries(folder):
        entry.unlink()
        entry.symlink_to(victim)
    proc = _run([DBCHECK, "."], root, env)
    assert (proc.returncode, proc.stdout) == truth
    assert victim.read_text() == "keep me\n"
    assert not (folder / "manifest").is_symlink()  # our entry replaced the link


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "dev-stdin", "folder"])
def test_special_files_in_the_cache_neither_block_nor_exhaust(tmp_path, env, kind):
    root = _project(tmp_path)
    truth = _truth(root, env)
    folder = _attacker_cache(root, env, tmp_path)
    for entry in _entries(folder):
        entry.unlink()
        if kind == "fifo":
            os.mkfifo(entry)
        elif kind == "dev-zero":
            entry.symlink_to("/dev/zero")
        elif kind == "dev-stdin":
            entry.symlink_to("/dev/stdin")
        else:
            entry.mkdir()
    # stdin held open and silent, as a terminal's: a read of /dev/stdin would wait for ever;
    # 2 GiB of address space: a read of /dev/zero would hit it
    process = subprocess.Popen([DBCHECK, "."], cwd=root, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30)))
    try:
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.poll() is not None, "dbcheck blocked"
        out, err = process.stdout.read(), process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
        process.stdin.close()
    assert (process.returncode, out) == truth, err


def test_a_fifo_or_device_as_a_source_file_is_not_analysed_exit_2(tmp_path, env):
    root = _project(tmp_path)
    os.mkfifo(root / "app" / "pipe.py")
    (root / "app" / "zero.py").symlink_to("/dev/zero")
    proc = _run([DBCHECK, "app/pipe.py", "app/zero.py", "."], root, env, timeout=60)
    assert proc.returncode == 2
    assert "app/pipe.py: not analysed: not a regular file" in proc.stderr
    assert "app/zero.py: not analysed: not a regular file" in proc.stderr


def test_a_special_pyproject_neither_blocks_nor_exhausts(tmp_path, env):
    root = _project(tmp_path)
    (root / "pyproject.toml").unlink()
    (root / "pyproject.toml").symlink_to("/dev/zero")
    (root / ".git").mkdir()
    proc = _run([DBCHECK, "."], root, env, timeout=60)
    assert proc.returncode == 1 and "DBC501" in proc.stdout, proc.stderr


# ---------------------------------------------------------------- 6. no edit is missed

def _manifest_entry(cache: Cache, path: Path) -> tuple:
    return cache.get_manifest()[os.path.abspath(path)]


def test_an_edit_that_restores_the_modification_time_is_seen(tmp_path, env):
    """``touch -r``: same size, same mtime, other content. The change time gives it away."""
    root = _project(tmp_path)
    model = root / "app" / "models.py"
    assert "DBC201" in _run([DBCHECK, "."], root, env).stdout
    before = model.stat()
    model.write_text(MODELS.replace("api_token", "api_label"))
    os.utime(model, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert model.stat().st_size == before.st_size and model.stat().st_mtime_ns == before.st_mtime_ns
    proc = _run([DBCHECK, "."], root, env)
    assert "DBC201" not in proc.stdout and proc.stdout == _run([DBCHECK, ".", "--no-cache"], root, env).stdout


def test_a_racy_manifest_entry_is_checked_against_the_content(tmp_path, env, monkeypatch):
    """On a file system with one-second times, an edit in the same second as the run that
    recorded the file leaves size and times as recorded: such an entry (its times not
    clearly older than its recording) is hashed again; a clearly older one is trusted."""
    root = _project(tmp_path)
    monkeypatch.chdir(root)
    model = root / "app" / "models.py"
    cache = Cache(root / ".dbcheck_cache")
    scan_files([Path("app/models.py")], cache=cache)
    entry = _manifest_entry(cache, model)
    info = model.stat()
    wrong = "0" * 64
    for recorded, trusted in ((max(info.st_mtime_ns, info.st_ctime_ns), False),
                              (max(info.st_mtime_ns, info.st_ctime_ns) + 10**9, False),
                              (max(info.st_mtime_ns, info.st_ctime_ns) + 3 * 10**9, True)):
        cache.put_manifest({os.path.abspath(model): (*entry[:6], wrong, recorded)})
        (key,) = [f.key for f in scan_files([Path("app/models.py")], cache=Cache(root / ".dbcheck_cache"))]
        assert (key == wrong) is trusted, recorded
    assert not is_racy(info, max(info.st_mtime_ns, info.st_ctime_ns) + 3 * 10**9)


def test_a_file_created_in_the_second_of_the_listing_is_found(tmp_path, env):
    root = _project(tmp_path)
    cache = Cache(root / ".dbcheck_cache")
    folder = root / "app"
    info = folder.stat()
    cache.put_tree("k", [str(folder)], [str(folder / "models.py")], [], max(info.st_mtime_ns, info.st_ctime_ns))
    assert cache.get_tree("k") is None  # racy: the listing is walked again
    cache.put_tree("k", [str(folder)], [str(folder / "models.py")], [],
                   max(info.st_mtime_ns, info.st_ctime_ns) + 3 * 10**9)
    assert cache.get_tree("k") == ([str(folder / "models.py")], [])


# ---------------------------------------------------------------- 7. never exit 0 with something unchecked

def _cli(args: list[str], cwd: Path, monkeypatch) -> tuple[int, str, str]:
    from dbcheck import cli

    monkeypatch.chdir(cwd)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(args)
    return code, out.getvalue(), err.getvalue()


def test_an_unreadable_model_file_exits_2(tmp_path, env, monkeypatch):
    from dbcheck import engine

    root = _project(tmp_path)
    real = engine.read_regular_file

    def refuse(path, limit):
        if os.fspath(path).endswith("models.py"):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real(path, limit)

    monkeypatch.setattr(engine, "read_regular_file", refuse)
    code, out, err = _cli([".", "--no-cache"], root, monkeypatch)
    assert code == 2
    assert err == "dbcheck: error: app/models.py: not analysed: cannot read this file (Permission denied)\n"


def test_an_unreadable_folder_exits_2(tmp_path, env, monkeypatch):
    root = _project(tmp_path)
    (root / "app" / "secret").mkdir()
    (root / "app" / "secret" / "more.py").write_text(MODELS)
    real = os.scandir

    def refuse(path="."):
        if not isinstance(path, int) and os.fspath(path).endswith("secret"):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real(path)

    monkeypatch.setattr(os, "scandir", refuse)
    for args in ([".", "--no-cache"], ["."], ["."]):  # the cached listing keeps the problem
        code, out, err = _cli(args, root, monkeypatch)
        assert code == 2, err
        assert "app/secret: cannot read folder: Permission denied" in err
        assert "DBC501" in out


def test_valid_python_that_libcst_refuses_exits_2(tmp_path, env):
    root = _project(tmp_path)
    (root / "app" / "strings.py").write_text(
        "from sqlalchemy import select\nx = (" + " ".join(['"a"'] * 10_000) + ")\n")
    proc = _run([DBCHECK, "."], root, env)
    assert proc.returncode == 2
    assert "app/strings.py: not analysed: libcst cannot parse this file, although Python can" in proc.stderr
    flake8 = _run([FLAKE8, "--select", "DBC", "app/strings.py"], root, env)
    assert flake8.stdout.startswith("app/strings.py:1:1: DBC000 not analysed: libcst cannot parse"), flake8.stdout


def test_sarif_and_github_outputs_say_the_run_is_incomplete(tmp_path, env):
    root = _project(tmp_path)
    (root / "app" / "big.py").write_text("x = 1\n" * 200_000)
    sarif = _run([DBCHECK, "--format", "sarif", "."], root, env)
    assert sarif.returncode == 2
    invocation = json.loads(sarif.stdout)["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert "app/big.py: not analysed" in invocation["toolExecutionNotifications"][0]["message"]["text"]
    github = _run([DBCHECK, "--format", "github", "."], root, env)
    assert github.stdout.startswith("::error title=dbcheck::app/big.py: not analysed")


def test_supported_python_versions_are_the_tested_ones(monkeypatch, capsys):
    import tomllib

    from dbcheck import cli

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11"
    assert sys.version_info >= (3, 11)
    monkeypatch.setattr(sys, "version_info", (3, 10, 12, "final", 0))
    assert cli.main(["."]) == 2
    assert capsys.readouterr().err == "dbcheck: error: dbcheck needs Python 3.11 or newer\n"


# ---------------------------------------------------------------- 8. the daemon and another tree

def _start_daemon(root: Path, env: dict) -> subprocess.Popen:
    from dbcheck import daemon

    command = daemon.daemon_command(root, str(root))
    return subprocess.Popen(command, cwd=env["XDG_RUNTIME_DIR"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for_socket(env: dict) -> Path:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        sockets = _daemon_sockets(env)
        if sockets:
            return sockets[0]
        time.sleep(0.05)
    raise AssertionError("no daemon socket")


def _ask(root: Path, monkeypatch):
    from dbcheck import daemon

    monkeypatch.chdir(root)
    monkeypatch.delenv("DBCHECK_NO_DAEMON", raising=False)
    return daemon.ask(load_config(start=root), "app/models.py", None, timeout=30)


def test_the_daemon_never_answers_for_another_tree_at_the_same_path(tmp_path, env, monkeypatch):
    root = _project(tmp_path)
    process = _start_daemon(root, env)
    try:
        _wait_for_socket(env)
        answer = _ask(root, monkeypatch)
        assert answer is not None and any(f.code == "DBC501" for f in answer.findings)
        monkeypatch.chdir(tmp_path)
        root.rename(tmp_path / "proj-old")
        fresh = _project(tmp_path)
        (fresh / "app" / "models.py").write_text("x = 1\n")
        assert _ask(fresh, monkeypatch) is None  # refused: the plugin analyses on its own
        process.wait(timeout=30)  # and the daemon is gone
    finally:
        if process.poll() is None:
            process.kill()


def test_a_deeply_nested_request_does_not_kill_the_daemon(tmp_path, env, monkeypatch):
    root = _project(tmp_path)
    process = _start_daemon(root, env)
    try:
        path = _wait_for_socket(env)
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.connect(str(path))
        client.sendall(b"[" * 100_000)
        client.shutdown(socket.SHUT_WR)
        client.settimeout(30)
        assert b"error" in client.recv(1 << 16)
        client.close()
        answer = _ask(root, monkeypatch)
        assert answer is not None and any(f.code == "DBC501" for f in answer.findings)
        assert process.poll() is None
    finally:
        process.kill()


def test_a_refused_socket_folder_is_said_once(tmp_path, env):
    root = _project(tmp_path)
    folder = Path(env["XDG_RUNTIME_DIR"]) / "dbcheck"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    daemon_env = {k: v for k, v in env.items() if k not in ("DBCHECK_NO_DAEMON", "CI")}
    proc = _run([FLAKE8, "--select", "DBC", "-j", "1", "."], root, daemon_env)
    assert proc.returncode == 1
    assert proc.stderr == (f"dbcheck: running without the daemon: {folder} may be entered by other users "
                           "(mode 755) (set DBCHECK_NO_DAEMON=1 to silence this)\n")


# ---------------------------------------------------------------- 9. memory per file is bounded

def test_a_huge_generated_models_file_is_refused_in_bounded_memory(tmp_path, env):
    root = _project(tmp_path)
    columns = "".join(f"    c{i}: Mapped[str] = mapped_column(String(64))\n" for i in range(220_000))
    (root / "app" / "generated.py").write_text(MODELS + "\n\nclass Wide(Base):\n    __tablename__ = 'wide'\n"
                                                + "    id: Mapped[int] = mapped_column(primary_key=True)\n" + columns)
    size = (root / "app" / "generated.py").stat().st_size
    assert size > 10_000_000
    probe = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
             "print(p.returncode); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
             "sys.stderr.write(p.stderr)")
    proc = _run([sys.executable, "-c", probe, DBCHECK, ".", "--no-cache"], root, env, timeout=300)
    code, peak_kib = map(int, proc.stdout.split())
    assert code == 2
    assert f"app/generated.py: not analysed: {size:,} bytes, over the limit of 1,048,576" in proc.stderr
    assert peak_kib < 400 * 1024, peak_kib


# ---------------------------------------------------------------- 10. the smaller ones

FIXABLE = MODELS.replace(', index=True)', ')')


def test_fix_writes_through_a_symlink_and_keeps_it(tmp_path, env):
    root = _project(tmp_path)
    shared = root / "shared"
    shared.mkdir()
    (shared / "models.py").write_text(FIXABLE)
    (root / "app" / "models.py").unlink()
    (root / "app" / "models.py").symlink_to(shared / "models.py")
    proc = _run([DBCHECK, "--fix", "app/models.py"], root, env)
    assert "Traceback" not in proc.stderr
    assert (root / "app" / "models.py").is_symlink()
    assert "index=True" in (shared / "models.py").read_text()


def test_fix_refuses_a_symlink_leaving_the_project(tmp_path, env):
    root = _project(tmp_path)
    outside = tmp_path / "outside.py"
    outside.write_text(FIXABLE)
    (root / "app" / "models.py").unlink()
    (root / "app" / "models.py").symlink_to(outside)
    proc = _run([DBCHECK, "--fix", "."], root, env)
    assert proc.returncode == 2
    assert f"app/models.py: not fixed: it is a symbolic link to {outside}, outside the project" in proc.stderr
    assert outside.read_text() == FIXABLE


def test_fix_on_a_full_disk_is_a_message_and_exit_2(tmp_path, env, monkeypatch):
    from dbcheck import fix

    root = _project(tmp_path)
    (root / "app" / "models.py").write_text(FIXABLE)

    def full(target, data, keep_mode=False):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fix, "write_atomic", full)
    code, _out, err = _cli(["--fix", "--no-cache", "."], root, monkeypatch)
    assert code == 2
    assert "dbcheck: error: app/models.py: not fixed: cannot write (No space left on device)" in err
    assert "Traceback" not in err
    assert (root / "app" / "models.py").read_text() == FIXABLE


def test_file_names_cannot_inject_lines(tmp_path, env):
    root = _project(tmp_path)
    name = "bad\n::error file=x::pwned.py"
    (root / "app" / name).write_text("from sqlalchemy import select\nx = (\n")
    (root / "app" / "big\r\n::warning::x.py").write_text("x = 1\n" * 200_000)
    for fmt in ("text", "github"):
        proc = _run([DBCHECK, "--format", fmt, "."], root, env)
        assert proc.returncode == 2
        for stream in (proc.stdout, proc.stderr):
            assert not any(line.startswith("::error file=x") or line.startswith("::warning::")
                           for line in stream.splitlines()), stream
    text = _run([DBCHECK, "."], root, env)
    assert "app/bad\\n::error file=x::pwned.py:2:5: DBC001" in text.stdout
    assert "app/big\\r\\n::warning::x.py: not analysed" in text.stderr


def test_the_cache_is_pruned(tmp_path, env):
    root = _project(tmp_path)
    assert _run([DBCHECK, "."], root, env).returncode == 1
    folder = root / ".dbcheck_cache"
    live = {p.name for p in (folder / "facts").iterdir()}
    for i in range(600):
        (folder / "facts" / f"{i:064x}").write_bytes(b"old")
    for i in range(40):
        (folder / "results" / f"{i:064x}").write_bytes(b"old")
    (root / "app" / "models.py").write_text(MODELS + "\n# edited\n")
    assert _run([DBCHECK, "."], root, env).returncode == 1
    left = {p.name for p in (folder / "facts").iterdir()}
    assert len(left) <= len(live) + 2, len(left)
    assert len(list((folder / "results").iterdir())) <= cache_module.KEEP_RESULTS


def test_dbcheck_clean_removes_the_cache_and_nothing_else(tmp_path, env):
    root = _project(tmp_path)
    assert _run([DBCHECK, "."], root, env).returncode == 1
    assert (root / ".dbcheck_cache").is_dir()
    proc = _run([DBCHECK, "clean", "."], root, env)
    assert proc.returncode == 0 and not (root / ".dbcheck_cache").exists()
    # a symlink in its place: the link goes, not what it points at
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("x")
    (root / ".dbcheck_cache").symlink_to(elsewhere)
    assert _run([DBCHECK, "clean", "."], root, env).returncode == 0
    assert not (root / ".dbcheck_cache").is_symlink() and (elsewhere / "keep.txt").exists()
    # DBCHECK_CACHE_DIR naming a folder that is no cache of ours: refused
    proc = _run([DBCHECK, "clean", "."], root, dict(env, DBCHECK_CACHE_DIR=str(elsewhere)))
    assert proc.returncode == 2 and "does not look like a dbcheck cache folder" in proc.stderr
    assert (elsewhere / "keep.txt").exists()


def test_the_secret_is_private_and_a_bad_one_disables_the_cache(tmp_path, env):
    root = _project(tmp_path)
    assert _run([DBCHECK, "."], root, env).returncode == 1
    secret = Path(env["XDG_CACHE_HOME"]) / "dbcheck" / "secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and len(secret.read_bytes()) == 32
    os.chmod(secret, 0o644)
    truth = _truth(root, env)
    proc = _run([DBCHECK, "."], root, env)
    assert (proc.returncode, proc.stdout) == truth
    assert "readable by others); running without a cache" in proc.stderr


# ---------------------------------------------------------------- a second reader's attacks

@pytest.mark.parametrize("cookie", [b"# coding: undefined\n", b"# -*- coding: punycode -*-\n",
                                    b"# coding: idna\nx = '\xc3\xa9'\n"])
def test_a_coding_cookie_of_a_codec_that_is_no_source_encoding(tmp_path, env, cookie):
    root = _project(tmp_path)
    (root / "app" / "odd.py").write_bytes(cookie + b"x = 1\n")
    proc = _run([DBCHECK, "."], root, env)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "app/odd.py:1:1: DBC001 cannot parse this file: cannot decode as" in proc.stdout
    flake8 = _run([FLAKE8, "--select", "DBC", "app/odd.py"], root, env)
    assert "Traceback" not in flake8.stderr and flake8.returncode in (0, 1), flake8.stderr


def test_a_config_nested_too_deeply_is_an_error_not_a_traceback(tmp_path, env):
    root = _project(tmp_path)
    (root / "pyproject.toml").write_text("[tool.dbcheck]\nx = " + "[" * 100_000 + "\n")
    for args in ([DBCHECK, "."], [DBCHECK, "clean", "."], [DBCHECK, "schema", "."]):
        proc = _run(args, root, env)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert "invalid TOML: nested too deeply" in proc.stderr
    flake8 = _run([FLAKE8, "--select", "DBC", "app/models.py"], root, env)
    assert "DBC000 dbcheck configuration error" in flake8.stdout and "Traceback" not in flake8.stderr


def test_a_hostile_baseline_is_an_error_or_ignored_never_a_traceback(tmp_path, env):
    root = _project(tmp_path)
    (root / "pyproject.toml").write_text('[tool.dbcheck]\nbaseline = "baseline.json"\n')
    (root / "baseline.json").write_text("[" * 200_000)
    proc = _run([DBCHECK, "."], root, env)
    assert proc.returncode == 2 and "not a dbcheck baseline" in proc.stderr and "Traceback" not in proc.stderr
    (root / "baseline.json").write_text('{"version": 1, "findings": [{"fingerprint": [1]}, {"fingerprint": {}}]}')
    proc = _run([DBCHECK, "."], root, env)
    assert proc.returncode == 1 and "DBC501" in proc.stdout and "Traceback" not in proc.stderr, proc.stderr


def test_a_huge_committed_cache_entry_costs_no_memory(tmp_path, env):
    root = _project(tmp_path)
    truth = _truth(root, env)
    folder = root / ".dbcheck_cache"
    folder.mkdir()
    for name in ("manifest", "tree"):
        with open(folder / name, "wb") as handle:
            handle.truncate(500 << 20)  # sparse: nothing on disk, 500 MB to a reader
    probe = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
             "print(p.returncode); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
             "sys.stdout.write(p.stdout)")
    proc = _run([sys.executable, "-c", probe, DBCHECK, "."], root, env)
    code, peak_kib, *rest = proc.stdout.split("\n")
    assert (int(code), "\n".join(rest)) == truth
    assert int(peak_kib) < 150 * 1024, peak_kib


def test_max_file_size_holds_under_flake8_whatever_its_decoding(tmp_path, env):
    """flake8 decodes a stray Latin-1 byte differently, so the plugin hands its text
    over as a buffer: a buffer gets the same limit as a file."""
    root = _project(tmp_path)
    big = root / "app" / "big.py"
    big.write_bytes(MODELS.encode() + b"\n".join(b"x%d = %d" % (i, i) for i in range(120_000)) + b"\n# caf\xe9\n")
    assert big.stat().st_size > 1_048_576
    flake8 = _run([FLAKE8, "--select", "DBC", "app/big.py"], root, dict(env, DBCHECK_NO_CACHE="1"))
    assert flake8.stdout.startswith("app/big.py:1:1: DBC000 not analysed:"), flake8.stdout[:300]
    assert "over the limit of 1,048,576" in flake8.stdout


def test_a_symlinked_first_path_never_moves_the_project(tmp_path, env):
    root = _project(tmp_path)
    outside = tmp_path / "outside" / "deep"
    outside.mkdir(parents=True)
    (outside / "x.py").write_text("x = 1\n")
    (root / "app" / "a.py").symlink_to(outside / "x.py")
    proc = _run([DBCHECK, "app/a.py", "app/models.py"], root, env)
    assert proc.returncode == 1 and "DBC501" in proc.stdout, proc.stderr
    assert not (outside / ".dbcheck_cache").exists() and (root / ".dbcheck_cache").is_dir()


def test_a_file_whose_link_target_appears_later_is_found(tmp_path, env):
    root = _project(tmp_path)
    external = tmp_path / "external"
    external.mkdir()
    (root / "app" / "leak.py").symlink_to(external / "leak.py")
    assert _run([DBCHECK, "."], root, env).returncode == 1
    time.sleep(2.2)  # past the racy window: the listing is trusted unless something says otherwise
    assert _run([DBCHECK, "."], root, env).returncode == 1
    (external / "leak.py").write_text("from sqlalchemy import select\nfrom app.models import Note\n\n\n"
                                      "def leak(session):\n    return session.scalars(select(Note)).all()\n")
    proc = _run([DBCHECK, "."], root, env)
    assert "app/leak.py:6:28: DBC501" in proc.stdout, proc.stdout
    assert proc.stdout == _run([DBCHECK, ".", "--no-cache"], root, env).stdout


def test_special_files_found_by_the_walk_are_not_skipped_in_silence(tmp_path, env):
    root = _project(tmp_path)
    os.mkfifo(root / "app" / "pipe.py")
    (root / "app" / "zero.py").symlink_to("/dev/zero")
    (root / "app" / "dangling.py").symlink_to(tmp_path / "nothing-here.py")
    for args in ([DBCHECK, "."], [DBCHECK, "--diff", "."]):
        proc = _run(args, root, env, timeout=60)
        assert proc.returncode == 2, args
        assert "app/pipe.py: not analysed: not a regular file" in proc.stderr
        assert "app/zero.py: not analysed: not a regular file" in proc.stderr
        assert "dangling" not in proc.stderr  # a link to nothing is no file


def _unreadable_folder(root: Path) -> str:
    """A folder whose path is too long to read (the one failure root cannot override)."""
    fd = os.open(root / "app", os.O_RDONLY)
    name = "d" * 250
    try:
        for _ in range(18):
            os.mkdir(name, dir_fd=fd)
            inner = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
    finally:
        os.close(fd)
    return name


def test_flake8_says_when_the_project_was_not_analysed_whole(tmp_path, env):
    root = _project(tmp_path)
    _unreadable_folder(root)
    cli = _run([DBCHECK, "."], root, env)
    assert cli.returncode == 2 and "cannot read folder: File name too long" in cli.stderr
    flake8 = _run([FLAKE8, "--select", "DBC", "app/models.py"], root, env)
    assert "app/models.py:1:1: DBC000 the project was not analysed whole:" in flake8.stdout, flake8.stdout


def test_a_user_folder_named_as_the_cache_is_never_written_or_emptied(tmp_path, env):
    root = _project(tmp_path)
    mine = tmp_path / "mine"
    (mine / "results").mkdir(parents=True)
    for i in range(30):
        (mine / "results" / f"report{i}.txt").write_text(str(i))
    (mine / "notes.tmp").write_text("keep")
    os.utime(mine / "notes.tmp", (time.time() - 7200,) * 2)
    before = sorted(p.relative_to(mine) for p in mine.rglob("*"))
    user_env = dict(env, DBCHECK_CACHE_DIR=str(mine))
    proc = _run([DBCHECK, "."], root, user_env)
    assert proc.returncode == 1 and "is not a dbcheck cache folder" in proc.stderr
    clean = _run([DBCHECK, "clean", "."], root, user_env)
    assert clean.returncode == 2 and "does not look like a dbcheck cache folder" in clean.stderr
    assert sorted(p.relative_to(mine) for p in mine.rglob("*")) == before


def test_clean_removes_only_what_dbcheck_wrote(tmp_path, env):
    root = _project(tmp_path)
    folder = tmp_path / "fresh"
    user_env = dict(env, DBCHECK_CACHE_DIR=str(folder))
    assert _run([DBCHECK, "."], root, user_env).returncode == 1
    (folder / "results" / "my-notes.txt").write_text("mine")
    assert _run([DBCHECK, "clean", "."], root, user_env).returncode == 0
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == [
        ".gitignore", "results", "results/my-notes.txt"]


def test_stop_and_clean_reach_the_daemon_whatever_the_environment_says(tmp_path, env, monkeypatch):
    root = _project(tmp_path)
    process = _start_daemon(root, env)
    try:
        _wait_for_socket(env)
        proc = _run([DBCHECK, "daemon", "--stop", "."], root, dict(env, DBCHECK_NO_DAEMON="1"))
        assert proc.stdout == "stopped\n", proc.stdout + proc.stderr
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()


def test_the_manifest_forgets_files_that_are_gone(tmp_path, env):
    root = _project(tmp_path)
    (root / "app" / "old.py").write_text("x = 1\n")
    assert _run([DBCHECK, "."], root, env).returncode == 1
    cache = Cache(root / ".dbcheck_cache")
    assert os.path.abspath(root / "app" / "old.py") in cache.get_manifest()
    (root / "app" / "old.py").rename(root / "app" / "new.py")
    assert _run([DBCHECK, "."], root, env).returncode == 1
    manifest = Cache(root / ".dbcheck_cache").get_manifest()
    assert os.path.abspath(root / "app" / "old.py") not in manifest
    assert os.path.abspath(root / "app" / "new.py") in manifest


def test_the_fix_summary_counts_only_what_was_written(tmp_path, env):
    root = _project(tmp_path)
    (root / "app" / "models.py").write_text(FIXABLE)
    outside = tmp_path / "outside.py"
    outside.write_text(FIXABLE.replace("class Note", "class Other").replace('"notes"', '"others"'))
    (root / "app" / "other.py").symlink_to(outside)
    proc = _run([DBCHECK, "--fix", "."], root, env)
    assert proc.returncode == 2
    assert "dbcheck: fixed 1 finding(s) in 1 file(s)" in proc.stderr, proc.stderr
