"""Small readers the rules lean on: ``# noqa`` codes, which parameters a body reads,
and what a route decorator says about who may call it."""

from __future__ import annotations

import ast

import pytest

from dbcheck.facts.extract import _scan_body, _unused_parameters
from dbcheck.flow.policy import mentions_privilege
from dbcheck.syntax.noqa import parse_noqa_lines


@pytest.mark.parametrize("line,codes", [
    ("x = 1  # noqa: DBC501 a leaked key", ("DBC501",)),
    ("def f(user):  # noqa: DBC506 arguments checked upstream", ("DBC506",)),
    ("x = 1  # noqa: DBC501, DBC502", ("DBC501", "DBC502")),
    ("x = 1  # noqa:ARG001", ("ARG001",)),
    ("x = 1  # noqa", None),
])
def test_noqa_codes_are_letters_then_digits_and_the_reason_names_none(line, codes):
    assert parse_noqa_lines(line) == {1: codes}


def _unused(source: str) -> tuple[str, ...]:
    function = ast.parse(source).body[0]
    return _unused_parameters(function, _scan_body(function)[0])


@pytest.mark.parametrize("source,unused", [
    ("def f(s, user):\n    return [user.email for user in s.members]", ("user",)),
    ("def f(s, actor):\n    return sorted(s, key=lambda actor: actor.email)", ("actor",)),
    ("def f(s, user):\n    def g(user):\n        return user\n    return g(s)", ("user",)),
    ("def f(s, user):\n    return [u for u in user.items]", ()),  # the first iterable is the caller's
    ("def f(s, user):\n    return [x for x in s if x.owner == user]", ()),
    ("def f(s, user):\n    return lambda: user.id", ()),
    ("def f(s, user):\n    print(f'{user}')", ()),
    ("def f(s, user):\n    return g(**locals())", ()),
    ("def f(s, user):\n    user = None\n    return s", ("user",)),
])
def test_unused_parameters_see_names_rebound_in_inner_scopes(source, unused):
    assert tuple(p for p in _unused(source) if p != "s") == unused


@pytest.mark.parametrize("path,privileged", [
    ("/admin/notebooks", True),
    ("/api/v1/admin", True),
    ("/tickets/<int:ticket_id>/internal-notes", False),
    ("/users/<id>/admin_notes", False),
    ("/staffing/plans", False),
])
def test_route_paths_say_admin_only_in_a_whole_segment(path, privileged):
    decorator = ("call", ("attr", ("n", "app.bp"), "get"), (("c", path),), (), 1, 0)
    assert mentions_privilege(decorator) is privileged


@pytest.mark.parametrize("raw", [
    '"abc"', "'abc'", '""', "''", '""""""', '"""a\nb"""', "'''x'y'''", 'u"x"', 'U"x"', 'r"a\\b"', 'R"a\\nb"',
    '"a\\nb"', '"a\\"b"', 'b"x"', 'rb"x"', 'Br"x"', '"""a\r\nb"""', 'r"""p\r\nq"""', '"é\u00e9"',
])
def test_plain_string_literals_read_off_their_quotes_equal_literal_eval(raw):
    from dbcheck.facts.extract import _plain_string

    plain = _plain_string(raw)
    if plain is not None:  # None: left to literal_eval
        assert plain == ast.literal_eval(raw), raw
    if "\\" in raw and not raw.lower().startswith("r") or raw[0] in "bB" or "\r" in raw:
        assert plain is None, raw


def test_an_int_literal_too_long_to_convert_leaves_the_file_analysed():
    from dbcheck.facts.extract import extract_module

    facts = extract_module("X = " + "1" * 5000 + "\nY = 12\n", "big.py", "big", False)
    assert facts.notice is None and facts.error is None
