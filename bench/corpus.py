"""A deterministic synthetic multi-tenant code base for the benchmark: models in every
style, repositories, API handlers, jobs, Alembic revisions, and plenty of modules with
no database code. ``scale=1`` is about 2,000 files and 400,000 lines.

The ``dense`` profile is application code where nearly every module touches the database
(issue 20): per package, services whose functions query in most of them (with a few pure
helpers between), pydantic schemas, handlers, jobs and a utilities module that opens one
session among many helpers; one module in ten has no database code."""

from __future__ import annotations

import random
from pathlib import Path

FILES_PER_PACKAGE = 10
PACKAGES_AT_SCALE_1 = 200


def _model_module(rng: random.Random, p: int) -> str:
    out = [
        "from __future__ import annotations",
        "from datetime import datetime",
        "from typing import Optional",
        "from sqlalchemy import ForeignKey, Index, String, Text, Integer, Boolean",
        "from sqlalchemy.orm import Mapped, mapped_column, relationship",
        "from common.db import Base",
        "from common.mixins import OwnedMixin, TimestampMixin",
        "",
    ]
    for m in range(6):
        name = f"Item{p}x{m}"
        out += [
            "",
            f"class {name}(OwnedMixin, TimestampMixin, Base):",
            f'    __tablename__ = "items_{p}_{m}"',
            f'    __table_args__ = (Index("ix_items_{p}_{m}_code", "code"),)',
            "    id: Mapped[int] = mapped_column(primary_key=True)",
            "    code: Mapped[str] = mapped_column(String(40))",
            "    title: Mapped[str] = mapped_column(String(200))",
            "    body: Mapped[Optional[str]] = mapped_column(Text)",
        ]
        for c in range(rng.randint(8, 14)):
            kind = rng.choice(["int", "str", "bool", "opt"])
            out.append({
                "int": f"    n{c}: Mapped[int] = mapped_column(Integer, default=0)",
                "str": f"    s{c}: Mapped[str] = mapped_column(String(80), default='')",
                "bool": f"    b{c}: Mapped[bool] = mapped_column(Boolean, default=False)",
                "opt": f"    o{c}: Mapped[Optional[datetime]]",
            }[kind])
        if m:
            out += [
                f"    parent_id: Mapped[int] = mapped_column(ForeignKey('items_{p}_0.id', ondelete='CASCADE'), index=True)",
                f"    parent: Mapped[Item{p}x0] = relationship()",
            ]
        out += ["", "    def label(self) -> str:", "        return f'{self.code}: {self.title}'"]
    return "\n".join(out) + "\n"


def _legacy_module(p: int) -> str:
    out = [
        "from sqlalchemy import Column, ForeignKey, Integer, String, Table",
        "from sqlalchemy.orm import relationship",
        "from common.db import Base",
        "",
        f"links_{p} = Table(",
        f'    "links_{p}", Base.metadata,',
        f'    Column("a_id", ForeignKey("items_{p}_0.id", ondelete="CASCADE"), primary_key=True),',
        f'    Column("b_id", ForeignKey("items_{p}_1.id", ondelete="CASCADE"), primary_key=True, index=True),',
        ")",
    ]
    for m in range(3):
        out += [
            "",
            f"class Legacy{p}x{m}(Base):",
            f'    __tablename__ = "legacy_{p}_{m}"',
            "    id = Column(Integer, primary_key=True)",
            "    user_id = Column(Integer, ForeignKey('users.id', ondelete='CASCADE'), nullable=False, index=True)",
            "    name = Column(String(100))",
            "    api_token = Column(String(64))",
            "    owner = relationship('User')",
        ]
    return "\n".join(out) + "\n"


def _repository_module(p: int) -> str:
    out = [
        "from sqlalchemy import select, update, delete, func",
        f"from pkg{p}.models import Item{p}x0, Item{p}x1, Item{p}x2",
        "",
        "",
        f"class Repository{p}:",
        f"    model = Item{p}x0",
        "",
        "    def __init__(self, session, user):",
        "        self.session = session",
        "        self.user = user",
        "",
        "    def _base(self):",
        "        return select(self.model).where(self.model.user_id == self.user.id)",
        "",
    ]
    for k in range(10):
        out += [
            f"    def find_{k}(self, code, limit=50):",
            "        stmt = self._base().where(self.model.code == code)",
            f"        if limit > {k}:",
            "            stmt = stmt.limit(limit)",
            "        return self.session.scalars(stmt).all()",
            "",
            f"    def count_{k}(self):",
            "        stmt = select(func.count()).select_from(self.model).where(self.model.user_id == self.user.id)",
            "        return self.session.scalar(stmt)",
            "",
        ]
    out += [
        f"def archive_all_{p}(session, user):",
        f"    session.execute(update(Item{p}x1).where(Item{p}x1.user_id == user.id).values(n0=1))",
        "",
        f"def purge_{p}(session):",
        f"    session.execute(delete(Item{p}x2))",
    ]
    return "\n".join(out) + "\n"


def _api_module(p: int) -> str:
    out = [
        "from sqlalchemy import select",
        f"from pkg{p}.models import Item{p}x0, Item{p}x3",
        f"from pkg{p}.repository import Repository{p}",
        "",
    ]
    for k in range(12):
        out += [
            "",
            f"async def handler_{k}(session, user, item_id: int, q: str = ''):",
            f"    repo = Repository{p}(session, user)",
            f"    rows = repo.find_{k % 10}(q)",
            f"    item = await session.get(Item{p}x3, item_id)",
            "    if item is None or item.user_id != user.id:",
            "        raise LookupError(item_id)",
            f"    extra = (await session.scalars(select(Item{p}x0).where(Item{p}x0.user_id == user.id, Item{p}x0.title == q))).all()",
            "    return {'rows': rows, 'item': item, 'extra': extra}",
        ]
    return "\n".join(out) + "\n"


def _jobs_module(p: int) -> str:
    return "\n".join([
        "from sqlalchemy import select",
        f"from pkg{p}.models import Item{p}x4, Item{p}x5",
        "",
        "",
        f"def nightly_{p}(session):",
        f"    for row in session.scalars(select(Item{p}x4).where(Item{p}x4.b0 == True)):  # noqa: E712",
        "        row.n0 += 1",
        f"    return session.scalars(select(Item{p}x5)).all()",
    ]) + "\n"


def _plain_module(rng: random.Random, p: int, n: int, target_lines: int) -> str:
    out = ['"""Helpers with no database code."""', "", "import math", "import re", "", ""]
    k = 0
    while len(out) < target_lines:
        out += [
            f"def helper_{n}_{k}(values, factor={rng.randint(1, 9)}):",
            '    """Scale, round and clip a list of numbers."""',
            "    out = []",
            "    for v in values:",
            "        x = math.floor(v * factor) / factor",
            "        if x > 1000:",
            "            x = 1000",
            "        out.append(x)",
            "    return out",
            "",
            "",
            f"class Formatter{n}x{k}:",
            "    pattern = re.compile(r'[a-z]+')",
            "",
            "    def __init__(self, prefix):",
            "        self.prefix = prefix",
            "",
            "    def render(self, text):",
            "        return self.prefix + '-'.join(self.pattern.findall(text.lower()))",
            "",
            "",
        ]
        k += 1
    return "\n".join(out) + "\n"


def _migration(p: int, previous: str | None) -> str:
    down = repr(previous)
    return "\n".join([
        f'"""add items {p}"""',
        "import sqlalchemy as sa",
        "from alembic import op",
        "",
        f'revision = "rev{p:05d}"',
        f"down_revision = {down}",
        "",
        "",
        "def upgrade():",
        f'    op.add_column("items_{p}_0", sa.Column("extra", sa.String(20)))',
        "",
        "",
        "def downgrade():",
        f'    op.drop_column("items_{p}_0", "extra")',
    ]) + "\n"


def _schemas_module(p: int) -> str:
    out = ["from datetime import datetime", "from typing import Optional", "from pydantic import BaseModel, Field", ""]
    for m in range(6):
        out += [
            "",
            f"class Item{p}x{m}Create(BaseModel):",
            "    code: str = Field(max_length=40)",
            "    title: str",
            "    body: Optional[str] = None",
            "",
            "",
            f"class Item{p}x{m}Read(Item{p}x{m}Create):",
            "    id: int",
            "    user_id: int",
            "    created_at: datetime",
            "",
            "    class Config:",
            "        from_attributes = True",
        ]
    return "\n".join(out) + "\n"


def _service_module(rng: random.Random, p: int, n: int, target_lines: int) -> str:
    out = [
        "from sqlalchemy import select, func, update",
        "from sqlalchemy.orm import Session",
        f"from pkg{p}.models import Item{p}x0, Item{p}x1, Item{p}x2, Item{p}x3",
        f"from pkg{p}.schemas import Item{p}x1Create",
        "",
    ]
    k = 0
    while len(out) < target_lines:
        m = rng.randint(0, 3)
        shape = k % 5
        if shape == 0:
            out += ["", "", f"def list_{n}_{k}(session: Session, user, code: str, limit: int = 50):",
                    f"    stmt = select(Item{p}x{m}).where(Item{p}x{m}.user_id == user.id)",
                    "    if code:",
                    f"        stmt = stmt.where(Item{p}x{m}.code == code)",
                    "    rows = session.scalars(stmt.limit(limit)).all()",
                    f"    return [normalise_{n}_{k + 3}(row.title) for row in rows]"]
        elif shape == 1:
            out += ["", "", f"def get_{n}_{k}(session: Session, user, item_id: int):",
                    f"    item = session.get(Item{p}x{m}, item_id)",
                    "    if item is None or item.user_id != user.id:",
                    "        raise LookupError(item_id)",
                    "    return item"]
        elif shape == 2:
            out += ["", "", f"def create_{n}_{k}(session: Session, user, data: Item{p}x1Create):",
                    f"    item = Item{p}x1(**data.model_dump(), user_id=user.id)",
                    "    session.add(item)",
                    "    session.flush()",
                    "    return item"]
        elif shape == 3:
            out += ["", "", f"def normalise_{n}_{k}(text: str, width: int = {rng.randint(20, 90)}) -> str:",
                    "    words = [w.strip().lower() for w in text.split() if w.strip()]",
                    "    line = ' '.join(words)",
                    "    return line if len(line) <= width else line[: width - 1] + '~'"]
        else:
            out += ["", "", f"def count_{n}_{k}(session: Session, user) -> int:",
                    f"    stmt = select(func.count()).select_from(Item{p}x{m}).where(Item{p}x{m}.user_id == user.id)",
                    "    total = session.scalar(stmt) or 0",
                    f"    session.execute(update(Item{p}x{m}).where(Item{p}x{m}.user_id == user.id).values(n0=total))",
                    "    return total"]
        k += 1
    return "\n".join(out) + "\n"


def _utils_module(rng: random.Random, p: int, target_lines: int) -> str:
    out = ["import re", "from contextlib import contextmanager", "from sqlalchemy.orm import Session", "", "",
           "@contextmanager", f"def session_scope_{p}(factory):", "    session: Session = factory()", "    try:",
           "        yield session", "        session.commit()", "    finally:", "        session.close()"]
    k = 0
    while len(out) < target_lines:
        out += ["", "", f"def slug_{p}_{k}(value: str, limit: int = {rng.randint(10, 80)}) -> str:",
                "    value = re.sub(r'[^a-z0-9]+', '-', value.lower()).strip('-')",
                "    return value[:limit]", "", "",
                f"def chunks_{p}_{k}(items, size={rng.randint(2, 9)}):",
                "    for start in range(0, len(items), size):",
                "        yield items[start:start + size]"]
        k += 1
    return "\n".join(out) + "\n"

COMMON_DB = '''from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
'''

COMMON_MIXINS = '''from datetime import datetime
from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column


class OwnedMixin:
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
'''

COMMON_USERS = '''from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column
from common.db import Base


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
'''


def generate(root: Path, scale: float = 1.0, seed: int = 7, profile: str = "standard") -> dict[str, int]:
    """Write the corpus under ``root`` (``profile``: "standard" or "dense"); return its
    file and line counts."""
    rng = random.Random(seed)
    packages = max(1, round(PACKAGES_AT_SCALE_1 * scale))
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text("[tool.dbcheck]\n")
    files: dict[Path, str] = {
        root / "common" / "__init__.py": "",
        root / "common" / "db.py": COMMON_DB,
        root / "common" / "mixins.py": COMMON_MIXINS,
        root / "common" / "users.py": COMMON_USERS,
    }
    previous = None
    for p in range(packages):
        pkg = root / f"pkg{p}"
        files[pkg / "__init__.py"] = ""
        files[pkg / "models.py"] = _model_module(rng, p)
        files[pkg / "legacy.py"] = _legacy_module(p)
        files[pkg / "repository.py"] = _repository_module(p)
        files[pkg / "api.py"] = _api_module(p)
        files[pkg / "jobs.py"] = _jobs_module(p)
        if profile == "dense":
            files[pkg / "schemas.py"] = _schemas_module(p)
            files[pkg / "utils.py"] = _utils_module(rng, p, rng.randint(150, 250))
            for n in range(FILES_PER_PACKAGE - 7):
                files[pkg / f"service_{n}.py"] = _service_module(rng, p, n, rng.randint(250, 400))
            if p % 2 == 0:
                files[pkg / "plain_0.py"] = _plain_module(rng, p, 0, rng.randint(380, 560))
        else:
            for n in range(FILES_PER_PACKAGE - 7):
                files[pkg / f"plain_{n}.py"] = _plain_module(rng, p, n, rng.randint(380, 560))
        files[root / "migrations" / "versions" / f"rev{p:05d}.py"] = _migration(p, previous)
        previous = f"rev{p:05d}"
    lines = 0
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        lines += text.count("\n")
    return {"files": len(files), "lines": lines}


if __name__ == "__main__":
    import sys

    print(generate(Path(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 1.0,
                   profile=sys.argv[3] if len(sys.argv) > 3 else "standard"))
