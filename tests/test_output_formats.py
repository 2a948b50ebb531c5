"""The output formats (text, concise, full, json, json-lines, sarif, github, gitlab,
junit), the summary and statistics lines, colour, and ``split_hint``, which cuts a
message into the problem and the fix hint: on hand-made findings with expected text
written out, and on every message the fixture projects and the rules' examples produce."""

from __future__ import annotations

import json
import re
import string
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from dbcheck.config import load_config
from dbcheck.engine import analyze
from dbcheck.findings import SAFE, UNSAFE, Edit, Finding, Fix, split_hint
from dbcheck.reporters import REPORTERS, want_colour
from dbcheck.reporters.full import WIDTH, render_full
from dbcheck.reporters.gitlab import render_gitlab
from dbcheck.reporters.json import render_json, render_json_lines
from dbcheck.reporters.junit import render_junit
from dbcheck.reporters.sarif import DOCS_URL, render_sarif
from dbcheck.reporters.summary import render_statistics, render_summary
from dbcheck.reporters.text import render_concise, render_text
from dbcheck.rules import ALL_RULES
from tests.test_reporters import _schema

REPO = Path(__file__).resolve().parent.parent
FIXTURES = sorted(p.parent for p in (REPO / "fixtures").glob("*/pyproject.toml"))

SAFE_FIX = Fix(SAFE, (Edit("index", 2, ("ix_tasks_project_id", "project_id")),))
UNSAFE_FIX = Fix(UNSAFE, (Edit("ondelete", 2, ("CASCADE", "projects")),))
MODEL = "app/models/täsk files/task.py"  # a space and a non-ASCII letter
EVIL = "app/evil\n::error::x.py"  # a newline: must not start a line of its own

DBC501 = ("query on tenant-owned Task ('tasks') in all_tasks() is not filtered by Task.user_id: add "
          ".where(Task.user_id == <current user_id>), or '# noqa: DBC501 <reason>' if it is cross-tenant on purpose")
DBC303 = 'Task.project_id is a foreign key without an index: add index=True or an Index("ix_tasks_project_id", "project_id")'
DBC302 = ("Task.project_id is a foreign key to 'projects.id' without ondelete=: state what deleting the referenced "
          'row does, e.g. ondelete="CASCADE" or "SET NULL"')
DBC304 = "Task.owner: relationship() to 'Usr', but no class Usr exists in the project"

FINDINGS = [
    Finding("app/api/tasks.py", 3, 12, "DBC501", DBC501),
    Finding(MODEL, 2, 5, "DBC303", DBC303, SAFE_FIX),
    Finding(MODEL, 2, 5, "DBC302", DBC302, UNSAFE_FIX),
    Finding("app/models/rel.py", 7, 5, "DBC304", DBC304),
    Finding(EVIL, 1, 1, "DBC001", "cannot parse this file: bad\nline"),
]

SOURCES = {
    "app/api/tasks.py": "def all_tasks(session):\n\t# every task\n    return session.scalars(select(Task)).all()\n",
    MODEL: 'class Task(Base):\n    project_id = mapped_column(ForeignKey("projects.id"))\n',
}


def _source(path: str):
    return SOURCES.get(path)


# -- split_hint ---------------------------------------------------------------------


@pytest.mark.parametrize("message, problem, hint", [
    (DBC303, "Task.project_id is a foreign key without an index",
     'add index=True or an Index("ix_tasks_project_id", "project_id")'),
    # the first ": " is inside parentheses, the second is followed by "if": neither is the hint's
    ("update of tenant-owned Member ('member') in promote() (admin path: if it is cross-tenant on purpose, say so "
     "with a noqa and a reason) is not filtered by Member.org_id: add .where(Member.org_id == <current org_id>), "
     "or '# noqa: DBC503 <reason>' if it is cross-tenant on purpose",
     "update of tenant-owned Member ('member') in promote() (admin path: if it is cross-tenant on purpose, say so "
     "with a noqa and a reason) is not filtered by Member.org_id",
     "add .where(Member.org_id == <current org_id>), or '# noqa: DBC503 <reason>' if it is cross-tenant on purpose"),
    # the first ": " is followed by "Python", the one inside the parentheses by "the"
    ("Python `and` between SQL expressions in filter(): Python decides it, so only `Ticket.id == ...` reaches the "
     "query (`Ticket.org_id == ...` is dropped: the tenant filter); use separate arguments or and_(...)",
     "Python `and` between SQL expressions in filter(): Python decides it, so only `Ticket.id == ...` reaches the "
     "query (`Ticket.org_id == ...` is dropped: the tenant filter)",
     "use separate arguments or and_(...)"),
    # ": " then a call, not a verb; "; " then the hint
    ("NotebookCreate.owner_id sets Notebook.owner_id: Notebook(**...) copies it from the request into the row, so "
     "the client chooses whose row it is; exclude it (exclude={'owner_id'}) and set owner_id from who asks",
     "NotebookCreate.owner_id sets Notebook.owner_id: Notebook(**...) copies it from the request into the row, so "
     "the client chooses whose row it is",
     "exclude it (exclude={'owner_id'}) and set owner_id from who asks"),
    # an apostrophe is not a quote: "request's" opens nothing
    ("Invite.project_id is set from the request's 'project_id' and references tenant-owned Project, but nothing "
     "before the write looks that Project up for who asks: load it scoped (or check its owner) first",
     "Invite.project_id is set from the request's 'project_id' and references tenant-owned Project, but nothing "
     "before the write looks that Project up for who asks",
     "load it scoped (or check its owner) first"),
    # ": " inside a quote is not a separator
    ("'# noqa: DBC303' suppresses nothing on this line: remove it",
     "'# noqa: DBC303' suppresses nothing on this line", "remove it"),
    ("primary-key lookup of tenant-owned Task in get_task() never checks its owner: add 'if task is None or "
     "task.user_id != <current user_id>: abort(404)', or '# noqa: DBC502 <reason>' if any tenant may read it",
     "primary-key lookup of tenant-owned Task in get_task() never checks its owner",
     "add 'if task is None or task.user_id != <current user_id>: abort(404)', or '# noqa: DBC502 <reason>' if any "
     "tenant may read it"),
    ("HelpSection.articles: back_populates=\"section\", but HelpArticle has no attribute section: add section = "
     "relationship(back_populates=\"articles\") to HelpArticle",
     "HelpSection.articles: back_populates=\"section\", but HelpArticle has no attribute section",
     "add section = relationship(back_populates=\"articles\") to HelpArticle"),
    # no hint at all
    (DBC304, DBC304, None),
    ("cannot parse this file: '(' was never closed", "cannot parse this file: '(' was never closed", None),
    ("", "", None),
    # a verb must be a word of its own, in lower case, right after the separator
    ("Task.owner: addresses() is broken", "Task.owner: addresses() is broken", None),
    ("Task.owner: use_list=False is wrong; Add it", "Task.owner: use_list=False is wrong; Add it", None),
    ("a:add it; b:use it", "a:add it; b:use it", None),
    ("Task.owner:  add it", "Task.owner:  add it", None),
    ("it is wrong: remove", "it is wrong", "remove"),
    # a rendered expression that leaves a quote open does not hide the hint
    ("Python `or` between SQL expressions in where(): Python decides it, so only `Task.name == '`'` reaches the "
     "query; use or_(...)",
     "Python `or` between SQL expressions in where(): Python decides it, so only `Task.name == '`'` reaches the "
     "query", "use or_(...)"),
    ("x (unbalanced: add y", "x (unbalanced", "add y"),
])
def test_split_hint(message, problem, hint):
    assert split_hint(message) == (problem, hint)


def _assert_splits(code: str, message: str, may_lack_hint: bool) -> None:
    problem, hint = split_hint(message)
    if hint is None:
        assert problem == message
        assert may_lack_hint, f"{code}: no hint found in {message!r}"
        return
    separator = message[len(problem):len(problem) + 2]
    assert separator in (": ", "; ") and problem + separator + hint == message, message
    assert problem and hint
    if code != "DBC900":  # (DBC900's problem is the noqa comment itself: "'# noqa: X' suppresses nothing")
        assert "# noqa" not in problem, message


# Codes whose messages may carry no hint, checked by hand:
# - DBC001: "cannot parse this file: <CPython's SyntaxError text>", which names no remedy
#   (unless CPython's does, as in "...; use an 0o prefix for octal integers").
# - DBC304: three of its problems say what is wrong and not what to write instead
#   ("relationship() to 'X', but no class X exists in the project", 'back_populates="y"
#   names a column of X, not a relationship', 'back_populates="y", but X.y points to Z,
#   not back to W'); its other two end in "add ...".
NO_HINT = {"DBC001", "DBC304"}
DBC304_WITHOUT_HINT = re.compile(
    r"^\S+: (relationship\(\) to '[^']*', but no class \S+ exists in the project"
    r'|back_populates="[^"]*" names a column of \S+, not a relationship'
    r'|back_populates="[^"]*", but \S+ points to \S+, not back to \S+)$')


def _check_message(code: str, message: str) -> None:
    _assert_splits(code, message, may_lack_hint=code in NO_HINT)
    if code == "DBC304" and split_hint(message)[1] is None:
        assert DBC304_WITHOUT_HINT.match(message), message


@pytest.fixture(scope="module")
def fixture_findings():
    """Every finding of every fixture project, each analysed with its own config."""
    found = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(REPO)
        for root in FIXTURES:
            result = analyze([root], load_config(start=root))
            assert not result.errors, result.errors
            found[root.name] = result.findings
    return found


def test_every_fixture_message_splits(fixture_findings):
    assert {"saas", "flask_app", "sqlmodel_app", "fab_app", "indexes_app"} <= set(fixture_findings)
    codes = set()
    for findings in fixture_findings.values():
        assert findings
        for finding in findings:
            codes.add(finding.code)
            _check_message(finding.code, finding.message)
    assert len(codes) >= 20


def test_every_rule_example_message_splits():
    """The messages of every rule's INVALID examples, as the snapshot records them."""
    snapshot = (REPO / "tests" / "snapshots" / "rule_examples.txt").read_text().splitlines()
    codes = set()
    for line in snapshot:
        _case, _place, code, message = line.split(" ", 3)
        message = re.sub(r" \[(safe|unsafe) fix: [^\]]*\]$", "", message)
        codes.add(code)
        _check_message(code, message)
    assert codes == {rule.code for rule in ALL_RULES}


def test_every_message_template_has_a_hint():
    """Each rule's message templates, filled with placeholders: a new message whose hint
    starts with a verb ``split_hint`` does not know fails here."""
    for rule in ALL_RULES:
        for template in (rule.message, *rule.messages.values()):
            fields = {name for _t, name, _s, _c in string.Formatter().parse(template) if name}
            message = template.format(**{name: "x" for name in fields})
            _assert_splits(rule.code, message, may_lack_hint=rule.code in NO_HINT)


# -- the formats ----------------------------------------------------------------------


def test_every_format_is_registered_and_takes_the_old_call():
    assert set(REPORTERS) == {"text", "concise", "full", "json", "json-lines", "sarif", "github", "gitlab", "junit"}
    for name, render in REPORTERS.items():
        assert isinstance(render(FINDINGS, ["app/x.py: not analysed: too big"]), str), name
        assert isinstance(render([], []), str), name
        plain = render(FINDINGS, [], colour=False, source=_source, root=None)
        assert "\x1b" not in plain, name
        assert not any(line.startswith("::error::x.py") for line in plain.splitlines()), name


def test_text_is_unchanged():
    assert render_text(FINDINGS) == (
        f"app/api/tasks.py:3:12: DBC501 {DBC501}\n"
        f"app/models/täsk files/task.py:2:5: DBC303 {DBC303}\n"
        f"app/models/täsk files/task.py:2:5: DBC302 {DBC302}\n"
        f"app/models/rel.py:7:5: DBC304 {DBC304}\n"
        "app/evil\\n::error::x.py:1:1: DBC001 cannot parse this file: bad\\nline\n"
    )


def test_concise():
    assert render_concise(FINDINGS) == (
        "app/api/tasks.py:3:12: DBC501 query on tenant-owned Task ('tasks') in all_tasks() is not filtered by "
        "Task.user_id\n"
        "app/models/täsk files/task.py:2:5: DBC303 [*] Task.project_id is a foreign key without an index\n"
        "app/models/täsk files/task.py:2:5: DBC302 Task.project_id is a foreign key to 'projects.id' without ondelete=\n"
        "app/models/rel.py:7:5: DBC304 Task.owner: relationship() to 'Usr', but no class Usr exists in the project\n"
        "app/evil\\n::error::x.py:1:1: DBC001 cannot parse this file: bad\\nline\n"
    )


def test_colour():
    assert render_text(FINDINGS[:1], colour=True) == (
        f"\x1b[1mapp/api/tasks.py\x1b[0m:3:12: \x1b[1;31mDBC501\x1b[0m {DBC501}\n")
    assert render_concise(FINDINGS[1:2], colour=True) == (
        "\x1b[1mapp/models/täsk files/task.py\x1b[0m:2:5: \x1b[1;31mDBC303\x1b[0m \x1b[36m[*]\x1b[0m "
        "Task.project_id is a foreign key without an index\n")
    full = render_full(FINDINGS[1:2], colour=True, source=_source)
    assert full.splitlines() == [
        "\x1b[1mapp/models/täsk files/task.py\x1b[0m:2:5: \x1b[1;31mDBC303\x1b[0m \x1b[36m[*]\x1b[0m "
        "Task.project_id is a foreign key without an index",
        "  \x1b[1;34m|\x1b[0m",
        "\x1b[1;34m1\x1b[0m \x1b[1;34m|\x1b[0m class Task(Base):",
        '\x1b[1;34m2\x1b[0m \x1b[1;34m|\x1b[0m     project_id = mapped_column(ForeignKey("projects.id"))',
        "  \x1b[1;34m|\x1b[0m     \x1b[1;31m^\x1b[0m",
        "  \x1b[1;34m|\x1b[0m",
        '\x1b[1;36mhelp:\x1b[0m add index=True or an Index("ix_tasks_project_id", "project_id")',
        "",
    ]
    for name in ("json", "json-lines", "sarif", "github", "gitlab", "junit"):
        assert "\x1b" not in REPORTERS[name](FINDINGS, [], colour=True), name


class _Stream:
    def __init__(self, tty):
        self.tty = tty

    def isatty(self):
        if self.tty is None:
            raise ValueError("I/O operation on closed file")
        return self.tty


@pytest.mark.parametrize("tty, env, expected", [
    (True, {}, True),
    (False, {}, False),
    (True, {"TERM": "dumb"}, False),
    (True, {"TERM": "xterm-256color"}, True),
    (True, {"NO_COLOR": "1"}, False),
    (True, {"NO_COLOR": ""}, True),  # empty: not set
    (False, {"FORCE_COLOR": "1"}, True),
    (False, {"FORCE_COLOR": ""}, False),
    (False, {"FORCE_COLOR": "1", "TERM": "dumb"}, True),
    (True, {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
    (None, {}, False),  # a closed stream
])
def test_want_colour(tty, env, expected):
    assert want_colour(_Stream(tty), env) is expected


def test_want_colour_without_isatty(monkeypatch):
    assert want_colour(object(), {}) is False
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert want_colour(object()) is True


def test_full():
    assert render_full(FINDINGS, source=_source) == (
        "app/api/tasks.py:3:12: DBC501 query on tenant-owned Task ('tasks') in all_tasks() is not filtered by "
        "Task.user_id\n"
        "  |\n"
        "2 |     # every task\n"  # the tab, as four spaces
        "3 |     return session.scalars(select(Task)).all()\n"
        "  |            ^\n"
        "  |\n"
        "help: add .where(Task.user_id == <current user_id>), or '# noqa: DBC501 <reason>' if it is cross-tenant "
        "on purpose\n"
        "\n"
        "app/models/täsk files/task.py:2:5: DBC303 [*] Task.project_id is a foreign key without an index\n"
        "  |\n"
        "1 | class Task(Base):\n"
        '2 |     project_id = mapped_column(ForeignKey("projects.id"))\n'
        "  |     ^\n"
        "  |\n"
        'help: add index=True or an Index("ix_tasks_project_id", "project_id")\n'
        "\n"
        "app/models/täsk files/task.py:2:5: DBC302 Task.project_id is a foreign key to 'projects.id' without "
        "ondelete=\n"
        "  |\n"
        "1 | class Task(Base):\n"
        '2 |     project_id = mapped_column(ForeignKey("projects.id"))\n'
        "  |     ^\n"
        "  |\n"
        'help: state what deleting the referenced row does, e.g. ondelete="CASCADE" or "SET NULL"\n'
        "\n"
        # no source for these two: the heading (and the hint, when there is one) only
        "app/models/rel.py:7:5: DBC304 Task.owner: relationship() to 'Usr', but no class Usr exists in the project\n"
        "\n"
        "app/evil\\n::error::x.py:1:1: DBC001 cannot parse this file: bad\\nline\n"
        "\n"
    )
    # without a source callable: no context at all
    assert render_full(FINDINGS[1:2]) == (
        "app/models/täsk files/task.py:2:5: DBC303 [*] Task.project_id is a foreign key without an index\n"
        'help: add index=True or an Index("ix_tasks_project_id", "project_id")\n'
        "\n")


def test_full_context_edges():
    """The first line has no line before; tabs before the column move the caret; control
    characters in the source are escaped; a line beyond the file shows no context; the
    gutter is as wide as the widest line number."""
    text = "\tx = 1\x0c\n" + "\n" * 7 + "y = 2\nz = 3\n"
    finding = Finding("a.py", 1, 2, "DBC303", "x is bad: remove it")
    assert render_full([finding], source=lambda p: text) == (
        "a.py:1:2: DBC303 x is bad\n"
        "  |\n"
        "1 |     x = 1\\x0c\n"
        "  |     ^\n"
        "  |\n"
        "help: remove it\n"
        "\n")
    after = Finding("a.py", 9, 1, "DBC303", "y is bad: remove it")
    assert render_full([after], source=lambda p: text).splitlines()[1:6] == [
        "   |",
        " 9 | y = 2",
        "   | ^",
        "10 | z = 3",
        "   |",
    ]
    beyond = Finding("a.py", 40, 1, "DBC303", "gone: remove it")
    assert render_full([beyond], source=lambda p: text) == "a.py:40:1: DBC303 gone\nhelp: remove it\n\n"
    crlf = Finding("b.py", 2, 3, "DBC303", "b: remove it")
    assert render_full([crlf], source=lambda p: "a\r\nbbb\rc\n").splitlines()[1:7] == [
        "  |", "1 | a", "2 | bbb", "  |   ^", "3 | c", "  |"]


def test_full_cuts_long_lines_around_the_caret():
    near = Finding("a.py", 1, 5, "DBC303", "long: remove it")
    line = "x = " + "a" * 200
    snippet = render_full([near], source=lambda p: line + "\n").splitlines()
    assert snippet[2] == "1 | " + ("x = " + "a" * (WIDTH - 4 - 3)) + "..."
    assert snippet[3] == "  |     ^"
    far = Finding("a.py", 2, 151, "DBC303", "long: remove it")
    text = "# " + "b" * 190 + "\n" + "c" * 150 + "Z" + "d" * 49 + "\n"
    snippet = render_full([far], source=lambda p: text).splitlines()
    shown, caret = snippet[3][len("2 | "):], snippet[4][len("  | "):]
    assert shown.startswith("...") and len(shown) <= WIDTH
    assert shown[caret.index("^")] == "Z"  # the caret is still under its column
    assert snippet[2].startswith("1 | ...b") and len(snippet[2]) - len("1 | ") <= WIDTH
    wide = Finding("a.py", 1, 3, "DBC303", "wide: remove it")
    snippet = render_full([wide], source=lambda p: "界界x\n").splitlines()
    assert snippet[2:4] == ["1 | 界界x", "  |     ^"]  # two columns a character


def test_json():
    data = json.loads(render_json(FINDINGS))
    assert data[0] == {
        "path": "app/api/tasks.py", "line": 3, "column": 12, "code": "DBC501", "message": DBC501,
        "problem": "query on tenant-owned Task ('tasks') in all_tasks() is not filtered by Task.user_id",
        "hint": "add .where(Task.user_id == <current user_id>), or '# noqa: DBC501 <reason>' if it is cross-tenant "
                "on purpose",
        "fix": None,
    }
    assert data[1]["path"] == MODEL and data[1]["fix"] == {"safety": "safe", "edits": 1}
    assert data[2]["fix"] == {"safety": "unsafe", "edits": 1}
    assert data[3]["hint"] is None and data[3]["problem"] == DBC304
    assert data[4]["path"] == EVIL and data[4]["message"] == "cannot parse this file: bad\nline"
    assert list(data[0])[:5] == ["path", "line", "column", "code", "message"]
    assert render_json([]) == "[]\n"


def test_json_lines():
    out = render_json_lines(FINDINGS)
    lines = out.splitlines()
    assert len(lines) == len(FINDINGS) and out.endswith("\n")
    records = [json.loads(line) for line in lines]
    assert [r["fixable"] for r in records] == [None, "safe", "unsafe", None, None]
    listed = json.loads(render_json(FINDINGS))
    for record, entry in zip(records, listed):
        assert {k: v for k, v in record.items() if k != "fixable"} == entry
        assert "url" not in record
    assert render_json_lines([]) == ""


def test_gitlab():
    issues = json.loads(render_gitlab(FINDINGS + [Finding("app/q.py", 9, 1, "DBC401", "slow: add Index(...)")]))
    assert issues[0] == {
        "description": "DBC501 query on tenant-owned Task ('tasks') in all_tasks() is not filtered by Task.user_id",
        "check_name": "DBC501",
        "fingerprint": issues[0]["fingerprint"],
        "severity": "critical",
        "location": {"path": "app/api/tasks.py", "lines": {"begin": 3}},
    }
    assert [i["severity"] for i in issues] == ["critical", "major", "major", "major", "critical", "minor"]
    assert issues[1]["location"]["path"] == MODEL
    prints = [i["fingerprint"] for i in issues]
    assert len(set(prints)) == len(prints) and all(re.fullmatch(r"[0-9a-f]{32}", p) for p in prints)


def test_gitlab_fingerprints_survive_line_shifts():
    moved = [Finding(f.path, f.line + 7, f.column, f.code, f.message, f.fix) for f in FINDINGS]
    before = json.loads(render_gitlab(FINDINGS))
    after = json.loads(render_gitlab(moved))
    assert [i["fingerprint"] for i in before] == [i["fingerprint"] for i in after]
    assert [i["location"]["lines"]["begin"] for i in after] == [f.line for f in moved]
    twins = [FINDINGS[0], Finding("app/api/tasks.py", 30, 12, "DBC501", DBC501)]
    assert len({i["fingerprint"] for i in json.loads(render_gitlab(twins))}) == 2


def test_gitlab_and_sarif_paths_from_any_directory(tmp_path, monkeypatch):
    """With the project root, the paths (and the fingerprints) are the same whichever
    directory dbcheck ran from."""
    root = tmp_path / "proj dir"
    (root / "app").mkdir(parents=True)
    outputs = []
    for cwd, shown in ((tmp_path, "proj dir/app/täsk.py"), (root, "app/täsk.py"), (root / "app", "täsk.py")):
        monkeypatch.chdir(cwd)
        found = [Finding(shown, 4, 1, "DBC303", DBC303, SAFE_FIX)]
        outputs.append((render_gitlab(found, root=root), render_sarif(found, root=root)))
    assert outputs[0] == outputs[1] == outputs[2]
    assert json.loads(outputs[0][0])[0]["location"]["path"] == "app/täsk.py"


def test_sarif_relative_to_root(tmp_path, monkeypatch):
    root = tmp_path / "proj dir"
    (root / "app").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    found = [
        Finding("proj dir/app/täsk.py", 4, 1, "DBC303", DBC303, SAFE_FIX),
        Finding("elsewhere.py", 2, 3, "DBC501", DBC501),
    ]
    log = json.loads(render_sarif(found, ["proj dir/app/big.py: not analysed: too big"], root=root))
    jsonschema.validate(log, _schema())
    run = log["runs"][0]
    base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base == root.as_uri() + "/" and base.startswith("file:///") and "proj%20dir/" in base
    inside, outside = (r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"])
    assert inside == {"uri": "app/t%C3%A4sk.py", "uriBaseId": "%SRCROOT%"}
    assert outside == {"uri": (tmp_path / "elsewhere.py").as_uri()}  # outside the root: absolute
    assert run["invocations"][0]["executionSuccessful"] is False


def test_sarif_without_root_and_docs_url():
    log = json.loads(render_sarif(FINDINGS))
    jsonschema.validate(log, _schema())
    run = log["runs"][0]
    assert "originalUriBaseIds" not in run
    locations = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]]
    assert locations[0] == {"uri": "app/api/tasks.py", "uriBaseId": "%SRCROOT%"}
    assert locations[1] == {"uri": "app/models/t%C3%A4sk%20files/task.py", "uriBaseId": "%SRCROOT%"}
    assert locations[4]["uri"] == "app/evil%0A%3A%3Aerror%3A%3Ax.py"
    assert DOCS_URL == "https://pypi.org/project/flake8-dbcheck/"
    assert run["tool"]["driver"]["informationUri"] == DOCS_URL
    assert {rule["helpUri"] for rule in run["tool"]["driver"]["rules"]} == {DOCS_URL}


def test_junit():
    out = render_junit(FINDINGS, ["app/big.py: not analysed: over the size limit <1 MB> & more"])
    assert out.isascii()
    tree = ET.fromstring(out)
    assert tree.tag == "testsuites"
    assert (tree.get("tests"), tree.get("failures"), tree.get("errors")) == ("6", "5", "1")
    suites = tree.findall("testsuite")
    assert [s.get("name") for s in suites] == ["app/api/tasks.py", MODEL, "app/models/rel.py",
                                               "app/evil\\n::error::x.py", "dbcheck"]
    assert [s.get("tests") for s in suites] == ["1", "2", "1", "1", "1"]
    case = suites[1].findall("testcase")[0]
    assert (case.get("name"), case.get("classname"), case.get("line")) == ("DBC303 at 2:5", MODEL, "2")
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "DBC303"
    assert failure.get("message") == "Task.project_id is a foreign key without an index"
    assert failure.text == f"{MODEL}:2:5: DBC303 {DBC303}"
    evil = suites[3].find("testcase/failure")
    assert evil is not None and evil.get("message") == "cannot parse this file: bad\\nline"
    error = suites[4].find("testcase/error")
    assert error is not None and error.get("message") == "app/big.py: not analysed: over the size limit <1 MB> & more"
    assert suites[4].get("errors") == "1"
    # control characters and characters XML 1.0 cannot carry stay well-formed
    odd = Finding("a\x00b.py", 1, 1, "DBC303", "x\x1b[31m \ud800 \uffff: remove it")
    ET.fromstring(render_junit([odd]))


def test_junit_without_findings_passes():
    tree = ET.fromstring(render_junit([], []))
    assert (tree.get("tests"), tree.get("failures"), tree.get("errors")) == ("1", "0", "0")
    case = tree.find("testsuite/testcase")
    assert case is not None and case.get("name") == "no findings" and len(case) == 0


def test_github_takes_the_keywords():
    out = REPORTERS["github"](FINDINGS[:1], [], colour=True, source=_source, root=Path("."))
    assert out.startswith("::error file=app/api/tasks.py,line=3,col=12,title=DBC501::DBC501 query on")


# -- summary and statistics ----------------------------------------------------------


def test_summary():
    assert render_summary([]) == "All checks passed!\n"
    assert render_summary([], colour=True) == "\x1b[1;32mAll checks passed!\x1b[0m\n"
    assert render_summary(FINDINGS[:1]) == "Found 1 finding.\n"
    assert render_summary(FINDINGS) == (
        "Found 5 findings (1 fixable with --fix; 1 hidden fix can be enabled with --unsafe-fixes).\n")
    assert render_summary(FINDINGS[1:2]) == "Found 1 finding (1 fixable with --fix).\n"
    unsafe = [FINDINGS[2], Finding("x.py", 1, 1, "DBC102", "nullable: add nullable=False", UNSAFE_FIX)]
    assert render_summary(unsafe) == "Found 2 findings (2 hidden fixes can be enabled with --unsafe-fixes).\n"
    assert render_summary(FINDINGS, unsafe_fixes=True) == "Found 5 findings (2 fixable with --fix --unsafe-fixes).\n"
    assert render_summary(FINDINGS[:1], fixed=2) == "Found 3 findings (2 fixed, 1 remaining).\n"
    assert render_summary([], fixed=1) == "Found 1 finding (1 fixed, 0 remaining).\n"
    assert "\x1b" not in render_summary(FINDINGS, colour=True) + render_summary(FINDINGS)


def test_statistics():
    found = FINDINGS + [Finding(f"app/t{i}.py", 1, 1, "DBC501", DBC501) for i in range(11)]
    assert render_statistics(found) == (
        "12\tDBC501\t[ ] unscoped-query\n"
        " 1\tDBC001\t[ ] parse-error\n"
        " 1\tDBC302\t[ ] fk-without-ondelete\n"  # unsafe: not fixable by --fix
        " 1\tDBC303\t[*] fk-without-index\n"
        " 1\tDBC304\t[ ] broken-relationship\n"
    )
    assert render_statistics([]) == ""


def test_every_format_on_the_fixtures(fixture_findings, monkeypatch):
    monkeypatch.chdir(REPO)  # where the paths are relative to
    findings = fixture_findings["flask_app"]
    for name, render in REPORTERS.items():
        out = render(findings, [], source=lambda p: (REPO / p).read_text(), root=REPO / "fixtures" / "flask_app")
        assert out.count("\n") >= len(findings) or name in ("sarif",), name
    ET.fromstring(REPORTERS["junit"](findings, []))
    assert len(REPORTERS["json-lines"](findings, []).splitlines()) == len(findings)
    jsonschema.validate(json.loads(REPORTERS["sarif"](findings, [])), _schema())


def test_reporters_import_no_rule():
    """The flake8 plugin's path: importing the reporters loads no rule (SARIF and the
    statistics import them when they render)."""
    code = "import sys, dbcheck.reporters, dbcheck.reporters.summary; print(sorted(m for m in sys.modules if m.startswith('dbcheck.rules')))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stdout + proc.stderr
