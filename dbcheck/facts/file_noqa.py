"""File-level suppression comments: ``# dbcheck: noqa`` (as ruff's ``# ruff: noqa``)
and flake8's ``# flake8: noqa``, each a comment on a line of its own.

- ``# dbcheck: noqa`` hides every finding of the file; ``# dbcheck: noqa: DBC501,DBC5``
  only those codes (prefixes, as everywhere).
- ``# flake8: noqa`` is spelled as flake8 reads it (``# flake8`` with one space, ``:`` or
  ``=``, then ``noqa``; any case). flake8 skips such a file whole, so dbcheck hides its
  findings too and the command and the plugin agree. ``# flake8: noqa: E402`` also makes
  flake8 skip the whole file, which is rarely what its author meant: like ruff, dbcheck
  reads it as naming codes (E402 hides no DBC finding; ``DBC501`` would hide that one).
- Only a real comment counts: the same text in a string, or after code on a line, is not
  one (flake8 warns about the latter and ignores it).
"""

from __future__ import annotations

import io
import re
import tokenize
from typing import Optional

# Cheap first look: a line that starts (after blanks) like a file-level comment.
_CANDIDATE = re.compile(r"^[ \t\f]*#[ \t]*(?:dbcheck|flake8)[ \t]*[:=]", re.IGNORECASE | re.MULTILINE)
_DBCHECK = re.compile(r"#\s*dbcheck\s*:\s*noqa(?P<rest>.*)$", re.IGNORECASE)
_FLAKE8 = re.compile(r"# flake8[:=]\s*noqa(?P<rest>.*)$", re.IGNORECASE)
_CODES = re.compile(r":\s?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*)", re.IGNORECASE)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)


def parse_file_noqa(source: str) -> dict[int, Optional[tuple[str, ...]]]:
    """line -> the codes a file-level comment there names, or None for every code."""
    if _CANDIDATE.search(source) is None:
        return {}
    out: dict[int, Optional[tuple[str, ...]]] = {}
    for line, comment in _own_line_comments(source):
        ours = _DBCHECK.match(comment)
        match = ours or _FLAKE8.match(comment)
        if match is None:
            continue
        rest = match.group("rest")
        codes = _CODES.match(rest)
        if codes is not None:
            out[line] = tuple(c.upper() for c in _CODE.findall(codes.group("codes")))
        elif not ours or not rest.strip() or rest[0] in " \t":
            # every code: what follows a blank is a reason; and flake8 skips the file
            # whatever follows its `noqa`
            out[line] = None
        # else `# dbcheck: noqaxyz`, or `noqa:` and no code: not a directive
    return out


def _own_line_comments(source: str) -> list[tuple[int, str]]:
    """(line, text) of every comment alone on its line (strings left out)."""
    out: list[tuple[int, str]] = []
    code_lines: set[int] = set()
    comments: list[tuple[int, str]] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            kind = token.type
            if kind == tokenize.COMMENT:
                comments.append((token.start[0], token.string))
            elif kind not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                              tokenize.ENDMARKER, tokenize.ENCODING):
                # a token spanning lines (a string) makes each of them a line of code
                code_lines.update(range(token.start[0], token.end[0] + 1))
    except (tokenize.TokenError, SyntaxError, ValueError):
        pass  # what was read counts; a file that does not parse is reported anyway (DBC001)
    for line, text in comments:
        if line not in code_lines:
            out.append((line, text))
    return out
