"""Where a project writes a hash into a column, read from the source text: the words
that say a value is hashed or encrypted, and the writes that store such a value
(``user.password = hash_password(raw)``, ``SessionToken(token=token_hash)``,
``{"password": hash_password(raw)}``). Plain text and regular expressions only, so a
file the engine only skims (no libcst) is read the same way as a parsed one."""

from __future__ import annotations

import functools
import re

# The words; "de"crypt and "un"hashed say the opposite.
HASH_WORDS = ("hash", "crypt", "argon", "pbkdf", "digest", "fernet", "cipher")  # scrypt, bcrypt: crypt
_WORD = rf"(?<![Dd]e)(?<![Uu]n)(?:{'|'.join(HASH_WORDS)})"

# A call whose name says it hashes or encrypts: ``bcrypt.hashpw(``, ``make_hash(``.
HASHING_CALL = re.compile(rf"{_WORD}\w*\s*\(", re.IGNORECASE)

# ``name = <hashing call>(``, ``name=<hashing call>(``, ``"name": <hashing call>(``, and a
# value named for a hash: ``token=token_hash``. The called name says it (``bcrypt.hashpw``,
# ``fernet.encrypt``; not ``fernet.decrypt``), or hashlib / hmac is called.
_HASHED_WRITE = re.compile(
    r"""(?<!\w)([A-Za-z_]\w*)["']?\s*(?::|(?<![=!<>])=(?!=))\s*(?:await\s+)?"""
    rf"""(?:(?:hashlib|hmac)\.\w+\s*\(|(?:\w+\.)*\w*?{_WORD}\w*\s*\("""
    rf"""|(?:\w+\.)*\w*?(?<![Dd]e)(?<![Uu]n)(?:hash|digest|crypt)\w*\b(?!\s*[(\[]))""",
    re.IGNORECASE)
_NAME_BEFORE = re.compile(r"(\w+)$")
_CLASS_NAME = re.compile(r"\b([A-Z]\w*[a-z]\w*)\b")
_LONGEST_LINE = 2000  # generated data, not code anyone writes by hand
_LOOK_BACK = 4000  # characters searched for the call or the assignment a write belongs to


def hashed_writes(source: str) -> list[str]:
    """``Class.attribute`` for a write into an object whose class shows
    (``SessionToken(token=token_hash)``; ``client.secret = hash_token(raw)`` after
    ``client = OAuthClient(...)``), ``.attribute`` where it does not (a dict key, a local
    the row is later built from, an object handed in, a function's keyword)."""
    found: set[str] = set()
    for line_start, line_end in _lines_naming_a_hash(source):
        for match in _HASHED_WRITE.finditer(source, line_start, line_end):
            name, start = match.group(1), match.start()
            separator = source[match.end(1):match.end(0)].lstrip("\"' \t")[:1]
            owner = ""
            if start and source[start - 1] == ".":
                owner = _class_of_object(source, start - 1)
            elif separator == "=":
                owner = _enclosing_callee(source, start)
            # a class is called by a capitalised name; a function's keyword says nothing
            # of the model it ends up in
            found.add(f"{owner}.{name}" if owner[:1].isupper() else f".{name}")
    return sorted(found)


def _lines_naming_a_hash(source: str) -> list[tuple[int, int]]:
    """(start, end) of each line that names a hash outside a comment: ``str.find`` on
    the lowered text, many times faster than any regular expression over whole files."""
    lowered = source.lower()
    lines: set[tuple[int, int]] = set()
    for word in HASH_WORDS:
        at = lowered.find(word)
        while at >= 0:
            start = lowered.rfind("\n", 0, at) + 1
            end = lowered.find("\n", at)
            end = len(lowered) if end < 0 else end
            at = lowered.find(word, end)
            if end - start > _LONGEST_LINE:
                continue
            code_end = _comment_start(source, start, end)
            if code_end > start:
                lines.add((start, code_end))
    return sorted(lines)


def _comment_start(source: str, start: int, end: int) -> int:
    """Where the code of the line ends: at a ``#`` outside quotes (a TODO saying a value
    should be hashed is not a write)."""
    quote = ""
    i = start
    while i < end:
        char = source[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            return i
        i += 1
    return end


def _enclosing_callee(source: str, position: int) -> str:
    """The name called by the call whose argument list ``position`` is in ("" if none):
    a short backward scan that balances brackets (strings are not skipped)."""
    depth = 0
    for i in range(position - 1, max(position - _LOOK_BACK, -1), -1):
        char = source[i]
        if char in ")]}":
            depth += 1
        elif char in "([{":
            if depth:
                depth -= 1
                continue
            if char != "(":
                return ""
            found = _NAME_BEFORE.search(source, max(i - 200, 0), i)
            return found.group(1) if found else ""
    return ""


def _class_of_object(source: str, dot: int) -> str:
    """The class of ``obj`` in ``obj.attr = ...`` at ``dot``, from the nearest earlier
    ``obj = ...`` that names a class (``orm.OAuthClient(...)``, ``query(User)...``)."""
    found = _NAME_BEFORE.search(source, max(dot - 100, 0), dot)
    if found is None or found.group(1) in ("self", "cls"):
        return ""
    last = None
    for last in _assignment_to(found.group(1)).finditer(source, max(dot - _LOOK_BACK, 0), dot):
        pass
    if last is None:
        return ""
    named = _CLASS_NAME.search(last.group(1))
    return named.group(1) if named else ""


@functools.lru_cache(maxsize=256)
def _assignment_to(name: str) -> re.Pattern:
    return re.compile(rf"(?<![\w.]){re.escape(name)}\s*(?::[^=\n]*)?=(?!=)([^\n#]*)")
