"""Positions come from CPython's tree, paired with libcst's. For files written for a
newer Python (PEP 695 generics and ``type`` aliases, PEP 758 ``except A, B:``) the newer
syntax is blanked out in place so CPython still parses them; the facts must be exactly
those libcst's own (much slower) PositionProvider gives. Columns count characters."""

from __future__ import annotations

import dataclasses
import marshal

import pytest

from dbcheck.facts import extract

NEWER = '''\
from sqlalchemy import select

from app.models import Note

type NoteId = int
type Pair[T] = tuple[T, T]


class Repo[T: Note](object):
    model = Note

    def get[K](self, session, key: K) -> T:
        return session.scalars(select(Note).where(Note.id == key)).first()


def first[T](items: list[T]) -> T:
    try:
        return items[0]
    except IndexError, KeyError:
        return select(Note).where(Note.title == "é")
    try:
        pass
    except* ValueError, TypeError:
        pass


def label(session):
    return {"clé → ü": session.scalars(select(Note).where(Note.title == "ß")).all()}
'''


def _facts(source: str) -> dict:
    facts = dataclasses.asdict(extract.extract_module(source, "m.py", "m", False))
    for body in facts["bodies"]:
        body["code"] = marshal.loads(body["code"])
    return facts


def _without_the_rewrite(monkeypatch, source: str) -> dict:
    with monkeypatch.context() as patch:
        patch.setattr(extract, "_parse_as_this_python", lambda source, path: None)
        return _facts(source)


def test_newer_syntax_gives_the_facts_libcst_positions_give(monkeypatch):
    assert extract._parse_as_this_python(NEWER, "m.py") is not None
    fast = _facts(NEWER)
    assert fast == _without_the_rewrite(monkeypatch, NEWER)
    assert [b["name"] for b in fast["bodies"]] == ["get", "first", "label"]
    assert [c["name"] for c in fast["classes"]] == ["Repo"]


@pytest.mark.parametrize("source", [
    "class Box[\n    T,\n](object):\n    pass\n",  # type parameters over lines: not rewritten
    "x = f'{\"nested\"}' if True else 1\n" + NEWER,  # PEP 701 f-string: a newer Python still
])
def test_what_is_not_rewritten_falls_back_to_libcst_positions(monkeypatch, source):
    assert _facts(source) == _without_the_rewrite(monkeypatch, source)


def test_columns_count_characters_not_bytes(monkeypatch):
    source = 'def label(session):\n    return {"clé → ü": session.scalars(select(Note)).all()}\n'
    code = _facts(source)["bodies"][0]["code"]
    call = code[0][1][1][0][1]  # the dict's value: session.scalars(...).all()
    line = source.splitlines()[1]
    assert call[0] == "call" and call[4:] == (2, line.index("session") + 1)
    assert _facts(NEWER) == _without_the_rewrite(monkeypatch, NEWER)
