"""The one record every rule produces."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Finding:
    """A problem at a place. ``line`` and ``column`` are 1-based, like flake8's output."""

    path: str
    line: int
    column: int
    code: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "code": self.code,
            "message": self.message,
        }


def fingerprints(findings: "list[Finding]") -> dict[Finding, str]:
    """An identity for each finding that does not depend on its line: the rule, the
    file, the message (which names the table, column or query) and, for identical
    ones, their order in the file. Unrelated edits above a finding keep it."""
    import hashlib

    counts: dict[tuple[str, str, str], int] = {}
    out: dict[Finding, str] = {}
    for finding in sorted(findings):
        key = (finding.code, finding.path.replace("\\", "/"), finding.message)
        index = counts.get(key, 0)
        counts[key] = index + 1
        text = "\0".join((*key, str(index)))
        out[finding] = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return out
