"""Output formats. Each reporter takes the findings and returns the text to print."""

from __future__ import annotations

from typing import Callable

from dbcheck.reporters.github import render_github
from dbcheck.reporters.json import render_json
from dbcheck.reporters.sarif import render_sarif
from dbcheck.reporters.text import render_text

REPORTERS: dict[str, Callable[..., str]] = {
    "text": render_text,
    "json": render_json,
    "sarif": render_sarif,
    "github": render_github,
}
