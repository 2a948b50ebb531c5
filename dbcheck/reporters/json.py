from __future__ import annotations

import json
from typing import Sequence

from dbcheck.findings import Finding


def render_json(findings: Sequence[Finding], problems: Sequence[str] = ()) -> str:
    return json.dumps([f.as_dict() for f in findings], indent=2) + "\n"
