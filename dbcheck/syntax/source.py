"""Reading a source file the way Python does: BOM and PEP 263 coding cookie honoured,
undecodable bytes reported at the line CPython reports them."""

from __future__ import annotations

import codecs
import io
import re
import tokenize
from pathlib import Path

from dbcheck.syntax.files import read_regular_file

# What the "surrogateescape" error handler turns an undecodable byte into.
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_COOKIE_RE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.ASCII)


class SourceDecodeError(Exception):
    """A file that Python itself would refuse to decode; ``line`` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _line_of(data: bytes, offset: int) -> int:
    """1-based line of byte ``offset``, counting LF, CRLF and lone CR as Python does."""
    head = data[:offset]
    return head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1


def _cookie_line(data: bytes) -> int:
    first = data.split(b"\n", 1)[0]
    return 1 if _COOKIE_RE.match(first.removeprefix(codecs.BOM_UTF8)) else 2


def _normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _comment_spans(text: str) -> dict[int, list[tuple[int, int]]]:
    """Column spans of comments per line, as far as the text tokenizes."""
    spans: dict[int, list[tuple[int, int]]] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                spans.setdefault(tok.start[0], []).append((tok.start[1], tok.end[1]))
    except (tokenize.TokenError, SyntaxError):
        pass
    return spans


def _first_undecodable(text: str, *, allow_in_comments: bool) -> tuple[int, int] | None:
    """(line, byte value) of the first escaped byte Python would reject.

    CPython (up to 3.11 at least) decodes UTF-8 source token by token and so accepts
    undecodable bytes inside comments; other encodings are decoded whole."""
    spans = None
    for lineno, line in enumerate(text.split("\n"), 1):
        for match in _ESCAPED_BYTE.finditer(line):
            col = match.start()
            if allow_in_comments:
                if spans is None:
                    spans = _comment_spans(text)
                if any(start <= col < end for start, end in spans.get(lineno, ())):
                    continue
            return lineno, ord(match.group()) - 0xDC00
    return None


def decode_source(data: bytes) -> str:
    """``data`` as the text Python would compile: BOM and PEP 263 cookie honoured,
    newlines normalised to ``\\n``. Raises SourceDecodeError at CPython's line."""
    nul = data.find(b"\0")
    if nul != -1:
        raise SourceDecodeError(_line_of(data, nul), "source code cannot contain null bytes")

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as err:
        message = str(err.msg)
        if message.startswith("encoding problem"):
            message = "the coding cookie contradicts the UTF-8 byte order mark"
        if message.startswith(("unknown encoding", "the coding cookie")):
            raise SourceDecodeError(_cookie_line(data), message) from None
        # Undecodable bytes on line 1 or 2 with no cookie: decode as UTF-8 below and
        # let that find the offending line (CPython tolerates them in comments).
        encoding = "utf-8"
    try:
        return _normalize_newlines(data.decode(encoding))
    except LookupError as err:  # e.g. "coding: rot13", which is not a text codec
        raise SourceDecodeError(_cookie_line(data), f"unknown encoding: {err}") from None
    except UnicodeDecodeError:
        pass
    except (UnicodeError, ValueError) as err:
        # codecs that are no source encodings fail in their own ways (``coding:
        # undefined``, ``punycode``, ``idna``): Python refuses such a file too
        raise SourceDecodeError(_cookie_line(data), f"cannot decode as {encoding}: {err}") from None

    # Slow path: keep undecodable bytes as escapes and find the first one Python rejects.
    is_utf8 = encoding in ("utf-8", "utf-8-sig")
    try:
        text = _normalize_newlines(data.decode(encoding, "surrogateescape"))
    except (UnicodeError, ValueError) as err:  # a codec without surrogateescape support
        if not isinstance(err, UnicodeDecodeError):
            raise SourceDecodeError(_cookie_line(data), f"cannot decode as {encoding}: {err}") from None
        raise SourceDecodeError(
            _line_of(data, err.start), f"'{encoding}' codec can't decode byte: {err.reason}"
        ) from None
    bad = _first_undecodable(text, allow_in_comments=is_utf8)
    if bad is not None:
        line, byte = bad
        hint = " (declare the file's encoding with a PEP 263 coding cookie)" if is_utf8 else ""
        raise SourceDecodeError(line, f"'{encoding}' codec can't decode byte 0x{byte:02x}{hint}")
    # Only bytes inside comments were undecodable; keep the text printable.
    return _ESCAPED_BYTE.sub("\ufffd", text)


def read_source(path: Path, limit: int = 64 * 1024 * 1024) -> str:
    try:
        data = read_regular_file(path, limit)
    except OSError as err:
        raise SourceDecodeError(1, f"cannot read file: {err.strerror or err}") from None
    return decode_source(data)
