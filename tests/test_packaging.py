"""The distribution as it would be published: the sdist and the wheel built from this
checkout (its tracked files plus the new, untracked but not ignored ones) carry the
metadata PyPI shows and the files a user or a packager needs, and the sdist's own tests
pass on the sdist's own copy of dbcheck.

The build runs without isolation (``--no-isolation``): the ``test`` extra installs the
backend (setuptools>=77) and ``build``, so this needs no network and the same backend
version every time."""

from __future__ import annotations

import configparser
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import zipfile
from email.message import Message
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

import dbcheck

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
NAME = "flake8-dbcheck"
STEM = "flake8_dbcheck"  # the normalised name in file names

CLASSIFIERS = {
    "Development Status :: 3 - Alpha",
    "Environment :: Console",
    "Framework :: Flake8",
    "Intended Audience :: Developers",
    "Operating System :: OS Independent",
    "Programming Language :: Python :: 3",
    "Programming Language :: Python :: 3 :: Only",
    "Programming Language :: Python :: 3.11",
    "Programming Language :: Python :: 3.12",
    "Programming Language :: Python :: 3.13",
    "Topic :: Database",
    "Topic :: Software Development :: Quality Assurance",
    "Typing :: Typed",
}

# What the sdist must hold (relative to its top folder), beyond every source file below.
SDIST_FILES = [
    "LICENSE", "README.md", "CONTRIBUTING.md", "pyproject.toml", ".pre-commit-hooks.yaml", "PKG-INFO",
    "dbcheck/__init__.py", "dbcheck/py.typed",
    "tests/conftest.py", "tests/snapshots/rule_examples.txt", "tests/fuzz_models/idioms.py",
    "fixtures/README.md", "fixtures/saas/pyproject.toml", "fixtures/saas/app/models/task.py",
    "fixtures/saas/migrations/versions/0001_initial.py",
    "bench/run.py", "scripts/ecosystem.py",
]
SDIST_FOLDERS = ("dbcheck/", "tests/", "fixtures/", "bench/", "scripts/")
NEVER_IN_SDIST = {".dbcheck_cache", "__pycache__", ".venv", ".git", ".pytest_cache", ".mypy_cache", "dbcheck.egg-info"}


def _checkout_files() -> list[str]:
    """The files of this checkout a commit would hold: tracked and not ignored untracked."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("builds from a git checkout (the sdist itself has no .git)")
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, capture_output=True, check=True).stdout.decode()
    # a tracked file deleted in the work tree is listed too; it is not part of the build
    return sorted(name for name in set(listed.split("\0")) if name and (REPO / name).is_file())


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    files = _checkout_files()
    src = tmp_path_factory.mktemp("checkout")
    for name in files:
        target = src / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "build", "--sdist", "--wheel", "--no-isolation", "--outdir", str(out)],
                          cwd=src, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (
        "python -m build failed (the test extra installs build and setuptools>=77):\n" + proc.stdout + proc.stderr)
    sdists, wheels = sorted(out.glob("*.tar.gz")), sorted(out.glob("*.whl"))
    assert len(sdists) == 1 and len(wheels) == 1, sorted(p.name for p in out.iterdir())
    return {"files": files, "sdist": sdists[0], "wheel": wheels[0], "tmp": tmp_path_factory.mktemp("sdist")}


def _dist_info(wheel: zipfile.ZipFile, name: str) -> str:
    return wheel.read(f"{STEM}-{dbcheck.__version__}.dist-info/{name}").decode("utf-8")


@pytest.fixture(scope="module")
def metadata(built) -> Message:
    with zipfile.ZipFile(built["wheel"]) as wheel:
        return Parser().parsestr(_dist_info(wheel, "METADATA"))


def test_wheel_name_version_and_license(built, metadata):
    assert built["wheel"].name == f"{STEM}-{dbcheck.__version__}-py3-none-any.whl"
    assert metadata["Name"] == NAME
    assert metadata["Version"] == dbcheck.__version__
    assert tuple(int(n) for n in metadata["Metadata-Version"].split(".")) >= (2, 4)
    assert metadata["License-Expression"] == "MIT"  # PEP 639, not the free-text License field
    assert metadata.get("License") is None
    assert metadata.get_all("License-File") == ["LICENSE"]
    with zipfile.ZipFile(built["wheel"]) as wheel:
        assert "Permission is hereby granted" in _dist_info(wheel, "licenses/LICENSE")


def test_wheel_classifiers_python_and_urls(metadata):
    classifiers = set(metadata.get_all("Classifier"))
    assert CLASSIFIERS <= classifiers, sorted(CLASSIFIERS - classifiers)
    assert not [c for c in classifiers if c.startswith("License ::")]  # the expression says it (PEP 639)
    running = f"Programming Language :: Python :: {sys.version_info.major}.{sys.version_info.minor}"
    assert running in classifiers, f"this interpreter is not among the classifiers: {running}"
    assert metadata["Requires-Python"] == ">=3.11"
    assert SpecifierSet(metadata["Requires-Python"]).contains(platform.python_version())
    assert metadata.get_all("Project-URL") == ["Documentation, https://pypi.org/project/flake8-dbcheck/"]
    assert set(metadata["Keywords"].split(",")) == {"sqlalchemy", "sqlmodel", "flake8", "linter",
                                                    "multi-tenant", "static-analysis"}
    assert metadata["Description-Content-Type"] == "text/markdown"


def test_flake8_is_an_extra_only(metadata):
    requires = metadata.get_all("Requires-Dist")
    assert 'flake8>=6; extra == "flake8"' in requires
    assert {"flake8", "test"} <= set(metadata.get_all("Provides-Extra"))
    for line in requires:
        req = Requirement(line)
        if canonicalize_name(req.name) == "flake8":
            assert req.marker is not None and not req.marker.evaluate({"extra": ""}), line
    unconditional = {canonicalize_name(Requirement(r).name) for r in requires if Requirement(r).marker is None}
    assert "flake8" not in unconditional and {"libcst", "pathspec"} <= unconditional


def test_wheel_entry_points_and_files(built):
    with zipfile.ZipFile(built["wheel"]) as wheel:
        names = wheel.namelist()
        points = configparser.ConfigParser()
        points.optionxform = str  # keep the case of DBC
        points.read_string(_dist_info(wheel, "entry_points.txt"))
    assert points["console_scripts"]["dbcheck"] == "dbcheck.cli:main"
    assert points["flake8.extension"]["DBC"] == "dbcheck.flake8_plugin:DbcheckPlugin"
    assert "dbcheck/py.typed" in names and "dbcheck/__init__.py" in names
    # the package and its metadata only: no tests, fixtures or bytecode
    assert {n.split("/")[0] for n in names} == {"dbcheck", f"{STEM}-{dbcheck.__version__}.dist-info"}
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_version_is_read_without_the_dependencies():
    """``dbcheck/__init__.py`` (the one version source) imports nothing: ``-S`` leaves out
    site-packages, so libcst and the rest are not importable there."""
    proc = subprocess.run([sys.executable, "-S", "-c", "import dbcheck; print(dbcheck.__version__)"],
                          env=dict(os.environ, PYTHONPATH=str(REPO)), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == dbcheck.__version__


def test_the_command_needs_no_flake8():
    """flake8 is an extra: the command's whole run (here on the example project, no cache)
    must not import it."""
    script = (
        "import sys\n"
        "sys.modules['flake8'] = None  # any import of flake8 now fails\n"
        "from dbcheck.cli import main\n"
        "code = main(['--no-cache', '.'])\n"
        "loaded = sorted(m for m, mod in sys.modules.items() if m.split('.')[0] == 'flake8' and mod is not None)\n"
        "print('exit', code, loaded, file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO / "fixtures" / "saas", capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "exit 1 []", proc.stderr[-3000:]


def _sdist_names(sdist: Path) -> list[str]:
    top = f"{STEM}-{dbcheck.__version__}/"
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
    assert all(n == top.rstrip("/") or n.startswith(top) for n in names), names[:5]
    return [n[len(top):] for n in names if n.startswith(top)]


def test_sdist_contents(built):
    assert built["sdist"].name == f"{STEM}-{dbcheck.__version__}.tar.gz"
    names = set(_sdist_names(built["sdist"]))
    missing = [n for n in SDIST_FILES if n not in names]
    assert not missing, missing
    # every source file of the checkout in those folders, except the fixtures' caches
    sources = [n for n in built["files"] if n.startswith(SDIST_FOLDERS) and not set(n.split("/")) & NEVER_IN_SDIST]
    assert [n for n in sources if n not in names] == []
    assert [n for n in names if set(n.split("/")) & NEVER_IN_SDIST or n.endswith((".pyc", ".pyo"))] == []
    assert not [n for n in names if n.endswith(".egg-info") and n != f"{STEM}.egg-info"]


def test_sdist_tests_pass_on_the_sdist(built):
    root = built["tmp"] / "extracted"
    with tarfile.open(built["sdist"]) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(root, filter="data")
        else:  # Python 3.11 before 3.11.4
            tar.extractall(root)
    root = (root / f"{STEM}-{dbcheck.__version__}").resolve()
    env = dict(os.environ, PYTHONPATH=str(root))
    where = subprocess.run([sys.executable, "-c", "import dbcheck; print(dbcheck.__file__)"], cwd=root, env=env,
                           capture_output=True, text=True, timeout=60)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).resolve().is_relative_to(root), where.stdout  # the sdist's own copy
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-m", "not slow", "-x", "-p", "no:cacheprovider",
         f"--basetemp={built['tmp'] / 'pytest'}", "tests/test_rule_examples.py", "tests/test_fixtures.py"],
        cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "error" not in proc.stdout.splitlines()[-1]
