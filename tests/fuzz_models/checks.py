# Text for the mutation fuzz in test_robustness.py (never imported): the paths added for
# owner checks and less common query targets - a row checked after it is loaded, hashes
# written at call sites, an imported name shadowed later, a mixin's classmethod, a
# declared_attr that prepares its default, queries on a Table object and on a local
# naming one model or another, statements handed through two helpers.
from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Table, delete, func, select
from sqlalchemy.orm import DeclarativeBase, declared_attr, mapped_column, relationship

from app.crypto import generate_token, hash_token
from app.users import Owner


class Base(DeclarativeBase):
    pass


class Expiring:
    @declared_attr
    def expires_at(cls):
        try:
            default = getattr(cls, "__lifetime__")
        except AttributeError:
            default = None
        return mapped_column(DateTime, nullable=False, index=True, default=default)

    @classmethod
    def purge(cls, db):
        for row in db.query(cls).filter(cls.expires_at < func.now()):
            db.delete(row)


class Token(Expiring, Base):
    __tablename__ = "tokens"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey(Owner.id, ondelete="CASCADE"), nullable=False, index=True)
    token = Column(String(255), unique=True)
    owner = relationship(Owner)


class Owner:
    name: str


watchlist = Table(
    "watchlist", Base.metadata,
    Column("user_id", Integer, ForeignKey("owners.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("item_id", Integer, nullable=False),
)


class NotFound(Exception):
    pass


def issue(db, user):
    raw, token_hash = generate_token()
    db.add(Token(token=token_hash, user_id=user.id))
    client = Token.find(db, raw)
    client.token = hash_token(raw) if raw else ""
    return {"token": hash_token(raw), **{"raw": raw}}


def load(db, user, token_id):
    token = db.query(Token).filter_by(id=token_id).first()
    if token is None or token.owner is not user:
        raise NotFound()
    result = db.execute(select(Token).where(Token.id == token_id))
    other = result.scalars().one_or_none()
    if not (other.user_id == user.id):
        raise NotFound()
    return token, other


def either(db, kind, item_id):
    cls_ = Token if kind == "token" else Owner
    rows = db.query(cls_).all()
    db.execute(delete(watchlist).where(watchlist.c.item_id == item_id))
    db.execute(watchlist.delete().where(watchlist.c.user_id == cls_.id))
    return rows, db.execute(select(watchlist.c.user_id)).all()


class Repository:
    def __init__(self, session):
        self.session = session

    def one(self, statement):
        return self._run(statement).scalar_one_or_none()

    def _run(self, statement):
        return self.session.execute(statement)

    def by_token(self, raw):
        Token.purge(self.session)
        return self.one(select(Token).where(Token.token == hash_token(raw)))
