"""Output formats. Each reporter takes the findings and the problems (files not analysed,
any reason the run is incomplete) and returns the text to print:
``REPORTERS[name](findings, problems, *, colour=False, source=None, root=None)``.
The keywords, which a format ignores where they mean nothing to it:

- ``colour``: ANSI colour, for ``text``, ``concise`` and ``full`` (see ``want_colour``);
- ``source``: ``source(path)`` -> the file's text or ``None``, for ``full``'s context;
- ``root``: the project root, which ``sarif`` and ``gitlab`` make their paths relative to.

Light to import: no rule, no analysis (SARIF imports the rules when it renders)."""

from __future__ import annotations

import os
from typing import Callable, Mapping, Optional

from dbcheck.reporters.full import render_full
from dbcheck.reporters.github import render_github
from dbcheck.reporters.gitlab import render_gitlab
from dbcheck.reporters.json import render_json, render_json_lines
from dbcheck.reporters.junit import render_junit
from dbcheck.reporters.sarif import render_sarif
from dbcheck.reporters.text import render_concise, render_text

REPORTERS: dict[str, Callable[..., str]] = {
    "text": render_text,
    "concise": render_concise,
    "full": render_full,
    "json": render_json,
    "json-lines": render_json_lines,
    "sarif": render_sarif,
    "github": render_github,
    "gitlab": render_gitlab,
    "junit": render_junit,
}


def want_colour(stream: object, environ: Optional[Mapping[str, str]] = None) -> bool:
    """Whether to colour what goes to ``stream``: never with ``NO_COLOR`` set (non-empty,
    https://no-color.org), always with ``FORCE_COLOR`` set (non-empty), else when the
    stream is a terminal that is not ``TERM=dumb``."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    if env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):  # a closed or detached stream
        return False
