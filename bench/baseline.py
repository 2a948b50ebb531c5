"""flake8 as a user without dbcheck has it: the baseline every benchmark compares with.

Until 2026-12 the benchmarks filtered the plugin out of flake8's finder by distribution
name (``package != 'dbcheck'``). The distribution had been renamed ``flake8-dbcheck``,
so the filter matched nothing: the "baseline" ran the DBC plugin too (and started its
daemon), and every ratio quoted against it was flattered. The baseline is now flake8 in
a virtualenv of its own, with the same versions of flake8, pycodestyle, pyflakes and
mccabe as the environment under test and nothing else, checked to load no plugin of
dbcheck's before any figure is taken.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from importlib import metadata
from pathlib import Path

_PACKAGES = ("flake8", "pycodestyle", "pyflakes", "mccabe")


def plugin_free_flake8(work: Path) -> list[str]:
    """The command of a flake8 installed alone in ``work`` (its own ``flake8`` script, as
    a user runs it: ``python -m flake8`` would put the current folder on ``sys.path``).
    Raises SystemExit with the reason when it cannot be built or still loads dbcheck."""
    env = work / "flake8-alone"
    python = env / "bin" / "python"
    if not python.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(env)
        pins = [f"{name}=={metadata.version(name)}" for name in _PACKAGES]
        proc = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *pins],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"cannot install flake8 alone for the baseline:\n{proc.stderr[-2000:]}")
    command = [str(env / "bin" / "flake8")]
    check_no_dbcheck(command)
    return command


def check_no_dbcheck(command: list[str]) -> str:
    """flake8 lists its plugins in ``--version`` (returned): none of them may be dbcheck's."""
    shown = subprocess.run([*command, "--version"], capture_output=True, text=True).stdout.strip()
    if "dbcheck" in shown or "DBC" in shown:
        raise SystemExit(f"the baseline flake8 loads dbcheck's plugin: {shown}")
    return shown


def main() -> int:
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        print(check_no_dbcheck(plugin_free_flake8(Path(scratch))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
