# Text for the mutation fuzz in test_robustness.py (never imported): one file that
# exercises the index's less common paths - tables named from the class name,
# __table__ given as a Table, imperative mapping, PrimaryKeyConstraint, classmethod
# queries, relationships compared to rows, function-local imports, ~ filters.
import re

from sqlalchemy import Column, ForeignKey, Integer, MetaData, PrimaryKeyConstraint, Table, Text
from sqlalchemy.orm import DeclarativeBase, declared_attr, registry, relationship

metadata = MetaData()
mapper_registry = registry(metadata=metadata)


class Base(DeclarativeBase):
    @declared_attr.directive
    def __tablename__(cls):
        return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


class Account(Base):
    id = Column(Integer, primary_key=True)


class ApiKey(Base):
    id = Column(Integer, primary_key=True)
    account_id = Column(Integer, ForeignKey("account.id", ondelete="CASCADE"), nullable=False, index=True)
    account = relationship(Account, backref="keys")

    @classmethod
    def of(cls, account):
        return cls.query.filter(cls.account == account, ~cls.id.in_([0]))

    def set_secret(self, raw):
        self.secret = hash_secret(raw)


class Hit(Base):
    __table__ = Table(
        "hits", Base.metadata,
        Column("key_id", Integer, ForeignKey("api_key.id", ondelete="CASCADE")),
        Column("at", Integer),
        PrimaryKeyConstraint("key_id", "at"),
    )


notes = Table("notes", metadata, Column("id", Integer, primary_key=True),
              Column("account_id", Integer, ForeignKey("account.id")), Column("body", Text))


class Note:
    pass


mapper_registry.map_imperatively(Note, notes, properties={"account": relationship(Account, notes)})


def recent(session, account):
    from sqlalchemy import select

    rows = {"keys": list(ApiKey.of(account)), "notes": session.query(Note).filter(Note.account == account)}
    for hit in session.query(Hit).outerjoin(ApiKey):
        rows.setdefault("hits", []).append(hit)
    return rows, session.scalars(select(Note)).all()
