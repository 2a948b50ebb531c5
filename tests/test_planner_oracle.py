"""A planner oracle for DBC401: SQLite's query planner decides which queries scan.

The fixture ``fixtures/indexes_app`` (a shop back office) has two query modules,
``shop/queries.py`` and ``shop/legacy_queries.py``; each of their functions runs one
query and carries one ``# expect: DBC401`` / ``# ok: DBC401`` label on the line where
the query starts. This test really runs them:

1. import the fixture models (``fixtures/indexes_app`` on ``sys.path``; every module
   imported from it is dropped from ``sys.modules`` afterwards), build the schema in an
   in-memory SQLite database (``Base.metadata.create_all``) and insert a few rows;
2. call every query function with a real ``Session`` (the arguments are chosen by
   parameter name from ``ARGUMENTS``) and capture the SQL and parameters it sends
   (``before_cursor_execute``);
3. run ``EXPLAIN QUERY PLAN <sql>`` with the same parameters (no ``ANALYZE``, so no
   statistics and no skip-scan) and decide whether SQLite must scan the table;
4. run dbcheck's engine on the fixture project and assert, function by function, that
   a DBC401 finding lands on the function's query line exactly when the oracle says
   the scan is DBC401's.

Decision rule
-------------
``SCAN <table>`` vs ``SEARCH <table>`` in the plan, nothing else:

* ``SEARCH t USING INDEX ix (col=?)``, ``SEARCH t USING COVERING INDEX ix (col>?)``,
  ``SEARCH t USING INTEGER PRIMARY KEY (rowid=?)``: a b-tree seek; an index serves
  the filter. Not a scan.
* ``SCAN t``: a full table scan. A scan.
* ``SCAN t USING COVERING INDEX ix`` and ``SCAN t USING INDEX ix``: SQLite reads
  *every* entry of an index instead of every row of the table (the index merely
  covers the selected columns, or gives the ORDER BY for free). No index narrowed the
  rows by the filter; the work is still proportional to the table. This is the "full
  scan" DBC401 speaks of (PostgreSQL's counterpart is a full Index Only Scan), so it
  counts as a scan. ``count_orders_placed_since`` in the fixture plans exactly this
  and must be flagged.

A scan is DBC401's unless every AND-ed term of the WHERE clause wraps a column that
leads an index (``func.lower(col) == x``, ``cast(col, ...)``, ``col.ilike(...)``,
``col.like("%...")`` / ``contains`` / ``endswith``): the spec gives that case to
DBC402 ("a filter that wraps an indexed column so its index cannot be used"), and
then the oracle requires a DBC402 finding inside the function instead. The leading
columns are read from SQLite's own catalogue (``PRAGMA index_list`` / ``index_info``
and the INTEGER PRIMARY KEY), and the terms from the SQLAlchemy statement that was
executed; neither comes from dbcheck.

``PRAGMA case_sensitive_like = ON``: PostgreSQL's LIKE is case-sensitive, SQLite's
is not by default, and SQLite only turns ``col LIKE 'abc%'`` into an index range
when LIKE is case-sensitive. Switching it on gives SQLite PostgreSQL's LIKE semantics
(as with a ``C`` collation / ``text_pattern_ops``), the model under which the spec
lists only ``like("%...")`` as non-sargable.

Not judged (the spec keeps DBC401 to these shapes): queries with a join, an
``or_()`` or a ``text()`` clause, and queries without a WHERE clause.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Optional

import pytest
from sqlalchemy import Table, create_engine, event
from sqlalchemy.sql import operators, visitors
from sqlalchemy.sql.elements import (
    BinaryExpression,
    BindParameter,
    BooleanClauseList,
    Cast,
    Grouping,
    Label,
    TextClause,
)
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.schema import Column

from dbcheck.config import load_config
from dbcheck.engine import analyze
from tests.expectations import labels

pytestmark = pytest.mark.oracle

REPO = Path(__file__).resolve().parent.parent
ROOT = REPO / "fixtures" / "indexes_app"
QUERY_MODULES = ("shop.queries", "shop.legacy_queries")
RULE = "DBC401"

# Every parameter of every query function, by name.
ARGUMENTS: dict[str, Any] = {
    "action": "Refund",
    "actor": "ops@shop.test",
    "amount_cents": 4990,
    "at": datetime(2024, 6, 1),
    "barcode": "4006381333931",
    "barcodes": ["4006381333931", "5012345678900"],
    "category_id": 1,
    "category_ids": [1, 2],
    "changed_by": "pricing-bot",
    "channel": "web",
    "city": "Leeds",
    "country_code": "GB",
    "coupon_code": "SPRING24",
    "currency": "EUR",
    "customer_id": 1,
    "customer_ids": [1, 2],
    "cutoff": datetime(2023, 1, 1),
    "day": date(2024, 3, 2),
    "digits": "3931",
    "email": "Ann.Lee@example.com",
    "entity_id": 1,
    "entity_type": "order",
    "first_name": "Ann",
    "fragment": "KET",
    "ip_address": "10.0.0.7",
    "last_name": "Lee",
    "limit": 20,
    "min_amount_cents": 10000,
    "min_total_cents": 10000,
    "name": "Electric Kettle",
    "needle": "refund",
    "number": "000123",
    "order_id": 1,
    "pattern": "web-%",
    "phone": "+441134960000",
    "postcode": "LS1 4AP",
    "prefix": "Le",
    "product_id": 1,
    "quantity": 10,
    "reference": "WEB-1001",
    "series": "A",
    "since": datetime(2024, 1, 1),
    "sku": "ACME-KET-1",
    "slug": "kitchen",
    "status": "paid",
    "statuses": ["paid", "shipped"],
    "threshold": 5,
    "today": date(2024, 6, 1),
    "until": datetime(2024, 12, 31),
    "vat_id": "DE123456789",
    "word": "kettle",
}

# ----------------------------------------------------------------------------- fixture


@pytest.fixture(scope="module")
def shop():
    """The fixture package imported for real, and removed from sys.modules after."""
    saved_path = list(sys.path)
    saved = {k: v for k, v in sys.modules.items() if k == "shop" or k.startswith("shop.")}
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, str(ROOT))
    try:
        modules = {name: importlib.import_module(name)
                   for name in ("shop.db", "shop.models", *QUERY_MODULES)}
        yield modules
    finally:
        modules_db = sys.modules.get("shop.db")
        if modules_db is not None:
            modules_db.Session.remove()
        for name in [k for k in sys.modules if k == "shop" or k.startswith("shop.")]:
            del sys.modules[name]
        sys.modules.update(saved)
        sys.path[:] = saved_path


@dataclass
class Capture:
    recording: bool = False
    statements: list = field(default_factory=list)  # (sql, parameters, compiled statement)


@pytest.fixture(scope="module")
def database(shop):
    db, models = shop["shop.db"], shop["shop.models"]
    engine = create_engine("sqlite://")
    capture = Capture()

    @event.listens_for(engine, "connect")
    def _postgres_like(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA case_sensitive_like = ON")

    @event.listens_for(engine, "before_cursor_execute")
    def _capture(conn, cursor, statement, parameters, context, executemany):
        if capture.recording and statement.lstrip().upper().startswith("SELECT"):
            # invoked_statement, not compiled.statement: a compiled form is cached and
            # shared by statements of one shape, with the literals of the first one.
            invoked = context.invoked_statement if context is not None else None
            capture.statements.append((statement, parameters, invoked))

    models.Base.metadata.create_all(engine)
    db.Session.configure(bind=engine)
    session = db.Session()
    _seed(session, models)
    session.commit()
    yield engine, session, capture
    db.Session.remove()
    engine.dispose()


def _seed(session, m) -> None:
    kitchen = m.Category(id=1, slug="kitchen", name="Kitchen", position=1)
    garden = m.Category(id=2, slug="garden", name="Garden", position=2)
    kettle = m.Product(id=1, sku="ACME-KET-1", name="Electric Kettle", category=kitchen, barcode="4006381333931",
                       price_cents=4990, stock=3, is_active=True, created_at=datetime(2024, 1, 5))
    hose = m.Product(id=2, sku="GARD-HOSE-XL", name="Garden Hose", category=garden, barcode=None,
                     price_cents=2990, stock=40, is_active=True, created_at=datetime(2023, 4, 1),
                     discontinued_at=datetime(2024, 5, 1))
    ann = m.Customer(id=1, email="ann.lee@example.com", phone="+441134960000", first_name="Ann", last_name="Lee",
                     city="Leeds", country_code="GB", marketing_opt_in=True, created_at=datetime(2023, 9, 1))
    bob = m.Customer(id=2, email="bob@example.de", phone=None, first_name="Bob", last_name="Maier",
                     city="Berlin", country_code="DE", created_at=datetime(2024, 2, 1))
    session.add_all([
        kitchen, garden, kettle, hose, ann, bob,
        m.Address(customer=ann, label="billing", line1="1 Park Row", city="Leeds", postcode="LS1 4AP",
                  country_code="GB"),
        m.PriceChange(product=kettle, valid_from=datetime(2024, 1, 5), price_cents=4990, changed_by="pricing-bot"),
    ])
    order = m.Order(id=1, reference="WEB-1001", customer=ann, status="paid", channel="web", currency="GBP",
                    placed_at=datetime(2024, 3, 2, 10, 30), total_cents=4990)
    shipped = m.Order(id=2, reference="POS-2002-R", customer=bob, status="shipped", channel="pos", currency="EUR",
                      placed_at=datetime(2024, 4, 1), shipped_at=datetime(2024, 4, 3), total_cents=29900,
                      coupon_code="SPRING24")
    session.add_all([
        order, shipped,
        m.OrderLine(order=order, line_no=1, product=kettle, quantity=1, unit_price_cents=4990),
        m.OrderLine(order=shipped, line_no=1, product=hose, quantity=10, unit_price_cents=0),
        m.Invoice(series="A", number="000123", order=order, issued_at=datetime(2024, 3, 2, 11), due_on=date(2024, 4, 1),
                  amount_cents=4990),
        m.AuditEvent(occurred_at=datetime(2024, 3, 2, 11), actor="ops@shop.test", action="refund",
                     entity_type="order", entity_id=1, ip_address="10.0.0.7", details="refund requested"),
    ])


# ----------------------------------------------------------------------------- the oracle


_STEP = re.compile(r"^(SCAN|SEARCH) (?:TABLE )?(\w+)\b(.*)$")  # "SCAN TABLE t" before SQLite 3.36


def plan_verdict(steps: list[str], table: str) -> Optional[bool]:
    """True: SQLite must scan ``table``; False: it seeks an index; None: not one access."""
    accesses = [m for m in map(_STEP.match, steps) if m and m.group(2) == table]
    if len(accesses) != 1:
        return None
    return accesses[0].group(1) == "SCAN"  # a SCAN through a (covering) index is still a scan


def _unwrap(clause: Any) -> Any:
    while isinstance(clause, (Grouping, Label)):
        clause = clause.element
    return clause


def conjuncts(clause: Any) -> list:
    clause = _unwrap(clause)
    if isinstance(clause, BooleanClauseList) and clause.operator is operators.and_:
        return [c for part in clause.clauses for c in conjuncts(part)]
    return [clause]


_WRAPPING_OPS = {operators.ilike_op, operators.not_ilike_op, operators.contains_op, operators.not_contains_op,
                 operators.endswith_op, operators.not_endswith_op, operators.icontains_op,
                 operators.iendswith_op, operators.istartswith_op}
_LIKE_OPS = {operators.like_op, operators.not_like_op}


def wrapped_column(term: Any) -> Optional[str]:
    """The column a term wraps so that a plain index on it cannot serve the term."""
    term = _unwrap(term)
    if not isinstance(term, BinaryExpression):
        return None
    left = _unwrap(term.left)
    if isinstance(left, (FunctionElement, Cast)):
        columns = [c for c in visitors.iterate(left) if isinstance(c, Column)]
        return columns[0].name if columns else None
    if isinstance(left, Column):
        right = _unwrap(term.right)
        if term.operator in _WRAPPING_OPS:
            return left.name
        if term.operator in _LIKE_OPS and isinstance(right, BindParameter) and \
                isinstance(right.effective_value, str) and right.effective_value.startswith("%"):
            return left.name
    return None


def leading_columns(dbapi, table: str) -> set[str]:
    """Columns that lead an index in SQLite's catalogue, the rowid alias included."""
    leading: set[str] = set()
    for _seq, index, *_rest in dbapi.execute(f"PRAGMA index_list({table})").fetchall():
        info = sorted(dbapi.execute(f"PRAGMA index_info({index})").fetchall())
        if info and info[0][2] is not None:  # None: an expression
            leading.add(info[0][2])
    pk = [row for row in dbapi.execute(f"PRAGMA table_info({table})").fetchall() if row[5]]
    if len(pk) == 1 and pk[0][2].upper() == "INTEGER":
        leading.add(pk[0][1])
    return leading


def why_not_judged(statement: Any) -> Optional[str]:
    froms = statement.get_final_froms()
    if len(froms) != 1 or not isinstance(froms[0], Table):
        return "join"
    where = statement.whereclause
    if where is None:
        return "no WHERE"
    for node in visitors.iterate(where):
        if isinstance(node, TextClause):
            return "text()"
        if isinstance(node, BooleanClauseList) and node.operator is operators.or_:
            return "or_()"
    return None


# ----------------------------------------------------------------------------- the test


@dataclass
class Row:
    where: str
    function: str
    label: Optional[bool]  # True: expect DBC401, False: ok DBC401
    skipped: str = ""
    plan: str = ""
    scan: Optional[bool] = None
    dbc402_case: bool = False
    expected: Optional[bool] = None  # the oracle: DBC401 must be reported
    reported: bool = False  # dbcheck reported DBC401 on the query line
    elsewhere: list = field(default_factory=list)  # DBC401 lines in the function other than the query line
    dbc402: bool = False  # dbcheck reported DBC402 inside the function

    @property
    def problems(self) -> list[str]:
        if self.skipped:
            return []
        out = []
        if self.scan is None:
            out.append("plan does not show one access to the table")
        if self.reported != self.expected:
            out.append("dbcheck disagrees with SQLite")
        if self.elsewhere:
            out.append(f"DBC401 on other lines {self.elsewhere}")
        if self.label != self.expected:
            out.append("label disagrees with SQLite")
        if self.scan and self.dbc402_case and not self.dbc402:
            out.append("scan left to DBC402, which is not reported")
        return out


def _functions(module) -> list[tuple[str, int, int, int, Optional[bool]]]:
    """(name, first line, last line, query line, expect?) per top-level function."""
    source = Path(module.__file__).read_text()
    expected, forbidden = labels(source)
    out = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.FunctionDef):
            continue
        first = min([node.lineno] + [d.lineno for d in node.decorator_list])
        span = range(first, node.end_lineno + 1)
        marks = [(line, True) for line, code in expected if code == RULE and line in span]
        marks += [(line, False) for line, code in forbidden if code == RULE and line in span]
        assert len(marks) == 1, f"{module.__name__}.{node.name}: needs exactly one DBC401 label, has {marks}"
        (line, expect), = marks
        out.append((node.name, first, node.end_lineno, line, expect))
    return out


def _table(rows: list[Row]) -> str:
    header = ("query line", "function", "label", "SQLite plan", "wrapped-only", "oracle", "dbcheck", "problem")
    body = []
    for r in rows:
        if r.skipped:
            body.append((r.where, r.function, _yn(r.label), f"(not judged: {r.skipped})", "", "", _yn(r.reported), ""))
            continue
        body.append((r.where, r.function, _yn(r.label), r.plan, "yes" if r.dbc402_case else "",
                     _yn(r.expected), _yn(r.reported), "; ".join(r.problems)))
    widths = [max(len(str(x[i])) for x in [header] + body) for i in range(len(header))]
    lines = ["  ".join(str(x[i]).ljust(widths[i]) for i in range(len(header))).rstrip() for x in [header] + body]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _yn(value: Optional[bool]) -> str:
    return {True: "DBC401", False: "-", None: "?"}[value]


@pytest.fixture(scope="module")
def findings():
    config = load_config(start=ROOT)
    result = analyze([ROOT], config)
    assert not result.errors, result.errors
    return [(Path(f.path).resolve(), f.line, f.code) for f in result.findings]


@pytest.fixture(scope="module")
def oracle_rows(shop, database, findings) -> list[Row]:
    _engine, session, capture = database
    rows = []
    for module_name in QUERY_MODULES:
        module = shop[module_name]
        path = Path(module.__file__).resolve()
        shown = path.relative_to(REPO)
        for name, first, last, line, expect in _functions(module):
            row = Row(f"{shown}:{line}", name, expect)
            func = getattr(module, name)
            params = inspect.signature(func).parameters
            missing = [p for p in params if p != "session" and p not in ARGUMENTS]
            assert not missing, f"{name}: add {missing} to ARGUMENTS"
            kwargs = {p: session if p == "session" else ARGUMENTS[p] for p in params}
            capture.statements.clear()
            capture.recording = True
            try:
                func(**kwargs)
            finally:
                capture.recording = False
            session.rollback()
            assert len(capture.statements) == 1, f"{name}: expected one SELECT, got {capture.statements}"
            sql, parameters, statement = capture.statements[0]
            own = [(ln, code) for p, ln, code in findings if p == path and first <= ln <= last]
            row.reported = (line, RULE) in own
            row.elsewhere = sorted(ln for ln, code in own if code == RULE and ln != line)
            row.dbc402 = any(code == "DBC402" for _ln, code in own)
            row.skipped = why_not_judged(statement) or ""
            if not row.skipped:
                table = statement.get_final_froms()[0].name
                dbapi = session.connection().connection.driver_connection
                steps = [r[3] for r in dbapi.execute("EXPLAIN QUERY PLAN " + sql, parameters).fetchall()]
                assert not any("ANY(" in s or "MULTI-INDEX" in s for s in steps), steps  # no skip-scan, no OR plan
                row.plan = "; ".join(steps)
                row.scan = plan_verdict(steps, table)
                leading = leading_columns(dbapi, table)
                terms = conjuncts(statement.whereclause)
                row.dbc402_case = all(wrapped_column(t) in leading for t in terms)
                row.expected = bool(row.scan) and not row.dbc402_case
            rows.append(row)
    return rows


def test_dbc401_is_reported_exactly_where_sqlite_must_scan(oracle_rows):
    judged = [r for r in oracle_rows if not r.skipped]
    assert len(judged) >= 60, f"only {len(judged)} queries judged"
    assert any(r.expected for r in judged) and any(not r.expected for r in judged)
    bad = [r for r in oracle_rows if r.problems]
    assert not bad, (
        f"{len(bad)} of {len(judged)} judged queries disagree with SQLite's planner:\n"
        + _table(bad) + "\n\nall queries:\n" + _table(oracle_rows)
    )


def test_every_skipped_query_is_one_dbc401_does_not_judge(oracle_rows):
    skipped = {r.function: r.skipped for r in oracle_rows if r.skipped}
    assert skipped == {
        "latest_orders": "no WHERE",
        "web_orders_or_coupon": "or_()",
        "orders_by_raw_channel": "text()",
        "orders_in_city": "join",
    }
    assert not any(r.reported for r in oracle_rows if r.skipped)


def test_the_decision_rule_on_sqlites_words():
    assert plan_verdict(["SCAN orders"], "orders") is True
    assert plan_verdict(["SCAN orders USING COVERING INDEX ix_orders_status_placed_at"], "orders") is True
    assert plan_verdict(["SCAN orders USING INDEX ix_orders_shipped_at"], "orders") is True
    assert plan_verdict(["SEARCH orders USING INDEX ix_orders_status_placed_at (status=?)"], "orders") is False
    assert plan_verdict(["SEARCH orders USING INTEGER PRIMARY KEY (rowid=?)"], "orders") is False
    assert plan_verdict(["SEARCH customers USING COVERING INDEX ix_customers_phone (phone>?)"], "customers") is False
    assert plan_verdict(["SCAN order_lines", "USE TEMP B-TREE FOR ORDER BY"], "order_lines") is True
    assert plan_verdict(["SCAN orders"], "orders_archive") is None


def test_the_covering_index_scan_is_planned_and_counts_as_a_scan(oracle_rows):
    row = next(r for r in oracle_rows if r.function == "count_orders_placed_since")
    assert "SCAN orders USING COVERING INDEX" in row.plan and row.scan and row.expected
