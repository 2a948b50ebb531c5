"""DBC201-DBC202: secrets are encrypted, passwords are hashed."""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Iterable, Iterator

from dbcheck.findings import Finding
from dbcheck.schema.model import ColumnModel
from dbcheck.rules.base import Rule, column_label, dedupe_by_site

if TYPE_CHECKING:
    from dbcheck.config import Config
    from dbcheck.rules.context import RuleContext

_SECRET_WORDS = frozenset({"token", "secret", "credential", "credentials", "passphrase", "apikey",
                           "privatekey", "accesskey", "secretkey", "webhooksecret", "seed"})
_SECRET_PAIRS = frozenset({("api", "key"), ("private", "key"), ("access", "key"), ("secret", "key"),
                           ("client", "secret"), ("signing", "key"), ("encryption", "key"),
                           ("auth", "key"), ("master", "key"), ("license", "key"), ("recovery", "code"),
                           ("recovery", "codes"), ("backup", "codes"), ("otp", "key"), ("totp", "key")})
# Words that say the column holds something about a secret, not the secret itself.
_NOT_SECRET_WORDS = frozenset({
    "hash", "hashed", "digest", "prefix", "hint", "last4", "last", "suffix", "first", "count", "counts",
    "type", "kind", "at", "on", "expires", "expiry", "expiration", "expired", "id", "ids", "name", "names",
    "length", "len", "max", "min", "limit", "limits", "budget", "usage", "used", "scope", "scopes",
    "version", "enabled", "is", "has", "url", "uri", "endpoint", "fingerprint", "salt", "masked", "preview",
    "display", "label", "description", "format", "algorithm", "encrypted", "ciphertext", "status",
    "rotated", "created", "updated", "issued", "revoked", "path", "ref", "reference", "arn", "location",
    "header", "param", "field", "kid", "sha", "sha1", "sha256", "md5", "bcrypt", "hmac", "hashes",
    "total", "number", "num", "price", "cost", "rate", "tokenizer", "index", "position", "key_id",
})
_PASSWORD_WORDS = frozenset({"password", "passwd", "pwd", "passcode"})
_NOT_PASSWORD_WORDS = _NOT_SECRET_WORDS | frozenset({
    "bcrypt", "argon2", "scrypt", "pbkdf2", "crypt", "reset", "changed", "policy", "strength",
    "required", "set", "algo", "must", "change", "needs", "login", "auth", "attempts", "failed",
})
_TEXTUAL = ("string", "binary", "json")


@functools.lru_cache(maxsize=8192)  # a pure function of a name; column names recur by the thousand
def name_words(name: str) -> tuple[str, ...]:
    """``apiKeyHash`` / ``api_key_hash`` -> ("api", "key", "hash")."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return tuple(w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w)


@functools.lru_cache(maxsize=16)
def _lowered(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(n.lower() for n in names)


def secret_reason(name: str, config: "Config") -> str | None:
    """Why a column name says it holds a secret, or None."""
    lowered = name.lower()
    extra_not = _lowered(tuple(config.not_secret_names))
    if lowered in extra_not:
        return None
    words = name_words(name)
    if any(w in _NOT_SECRET_WORDS or w in extra_not for w in words):
        return None
    if _PASSWORD_WORDS & set(words) and "token" not in words:
        return None  # DBC202's business
    extra = _lowered(tuple(config.secret_names))
    for word in words:
        if word in _SECRET_WORDS or word in extra:
            return word
    for pair in zip(words, words[1:]):
        if pair in _SECRET_PAIRS:
            return " ".join(pair)
    if lowered in extra:
        return lowered
    return None


def password_reason(name: str) -> str | None:
    words = name_words(name)
    if "token" in words or any(w in _NOT_PASSWORD_WORDS for w in words):
        return None
    for word in words:
        if word in _PASSWORD_WORDS:
            return word
    return None


def _plain(column: ColumnModel) -> bool:
    return (column.type_kind in _TEXTUAL and not column.encrypted and not column.from_library
            and not column.hashed_on_write)


class UnencryptedSecretColumn(Rule):
    code = "DBC201"
    name = "unencrypted-secret-column"
    summary = "A column named like a secret (token, api_key, ...) stored with a plain type."
    message = ("{column} looks like a secret ({reason!r}) stored as plain {type}: use an encrypting type (e.g. "
               'StringEncryptedType) or store a hash, or mark it info={{"encrypted": True}} if it is encrypted before '
               "it is stored")
    cwe = "CWE-312: Cleartext Storage of Sensitive Information"
    what_it_does = """
Flags a string, binary or JSON column whose name says it holds a secret - `token`,
`secret`, `api_key`, `private_key`, `credentials`, `access_key`, `client_secret`,
`passphrase` and the words in `secret-names` - stored with a plain type. Encrypted means:
an encrypting type (sqlalchemy_utils `EncryptedType` / `StringEncryptedType`, a project
`TypeDecorator` whose name says it encrypts, a type in `encrypted-types`) or
`info={"encrypted": True}` on the column. Not secrets: hashes and digests, prefixes,
hints and `last4`, counts, types, timestamps, ids, names such as `max_tokens`."""
    why_bad = """
A database dump, a read replica, a backup bucket or a support engineer's SQL console
exposes every plaintext secret at once. API tokens and OAuth refresh tokens grant the
access of their owner; storing them encrypted (or, for tokens you issue, hashed) limits
a leak of the database to a leak of ciphertext."""
    known_problems = """
A column whose type is unknown to dbcheck (a type from a library it does not know) is not
reported. A fixed-width `CHAR(40)` / `CHAR(64)` / `CHAR(128)` column - exactly the width of
a hex SHA digest - is taken to hold a digest. A column is taken to be stored hashed when its
`@validates` hook or a method of the model hashes or encrypts what is assigned, or when the
project builds the model with a hash for that column (`OAuthClient(secret=hash_token(raw))`,
`SessionToken(token=token_hash)`, or `client.secret = hash_token(raw)` after
`client = OAuthClient(...)`). A hash written into a dict or an object whose class does not
show is not enough: projects hash the tokens they issue and keep third-party tokens under the
same name replayable. Tokens you issue are better hashed (store `token_hash`, compare digests)
than encrypted; both silence the rule."""
    example = """
api_token: Mapped[str] = mapped_column(String(64))  # DBC201
"""
    use_instead = """
api_token: Mapped[str] = mapped_column(StringEncryptedType(String, get_key, AesEngine))
# or, for tokens you issue:
api_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
"""
    options = "`secret-names`, `not-secret-names`, `encrypted-types`."
    valid = (
        '''
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))  # ok: DBC201
    token_prefix: Mapped[str] = mapped_column(String(8))  # ok: DBC201
    last4: Mapped[str]  # ok: DBC201
    token_expires_at: Mapped[str]  # ok: DBC201
    max_tokens: Mapped[int]  # ok: DBC201
    token_count: Mapped[str]  # ok: DBC201
    is_secret: Mapped[bool]  # ok: DBC201
''',
        '''
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy_utils import StringEncryptedType
class Base(DeclarativeBase): pass
class Integration(Base):
    __tablename__ = "integrations"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_secret: Mapped[str] = mapped_column(StringEncryptedType(String, "k"))  # ok: DBC201
    refresh_token: Mapped[str] = mapped_column(String, info={"encrypted": True})  # ok: DBC201
''',
        # A digest under a plain name: CHAR(64) is a hex SHA-256.
        '''
from sqlalchemy import CHAR
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class UserSession(Base):
    __tablename__ = "user_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(CHAR(64), unique=True)  # ok: DBC201
''',
        # A project TypeDecorator that encrypts.
        '''
from sqlalchemy import String, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class EncryptedString(TypeDecorator):
    impl = String
    cache_ok = True
class Base(DeclarativeBase): pass
class Webhook(Base):
    __tablename__ = "webhooks"
    id: Mapped[int] = mapped_column(primary_key=True)
    signing_secret: Mapped[str] = mapped_column(EncryptedString())  # ok: DBC201
''',
        # The code that registers a client stores only the hash (JupyterHub's idiom).
        '''
from sqlalchemy import Column, Integer, Unicode
from sqlalchemy.orm import declarative_base
from app.crypto import hash_token
Base = declarative_base()
class OAuthClient(Base):
    __tablename__ = "oauth_clients"
    id = Column(Integer, primary_key=True)
    secret = Column(Unicode(255))  # ok: DBC201
def add_client(db, client_secret):
    client = OAuthClient()
    client.secret = hash_token(client_secret) if client_secret else ""
    db.add(client)
''',
        # The row gets the digest, the caller the token (fief's idiom).
        '''
from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import declarative_base
from app.crypto import generate_token
Base = declarative_base()
class SessionToken(Base):
    __tablename__ = "session_tokens"
    id = Column(Integer, primary_key=True)
    token = Column(String(255), unique=True)  # ok: DBC201
def create_session(db):
    token, token_hash = generate_token()
    db.add(SessionToken(token=token_hash))
    return token
''',
    )
    invalid = (
        '''
from sqlalchemy import Column, Integer, String, Text, LargeBinary
from sqlalchemy.orm import declarative_base
Base = declarative_base()
class Integration(Base):
    __tablename__ = "integrations"
    id = Column(Integer, primary_key=True)
    access_token = Column(Text)  # expect: DBC201
    api_key = Column(String(64))  # expect: DBC201
    privateKey = Column(LargeBinary)  # expect: DBC201
''',
        '''
from typing import Optional
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_secret: Mapped[Optional[str]]  # expect: DBC201
''',
        # Another value is hashed, not the secret that is stored.
        '''
from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import declarative_base
from app.crypto import hash_token
Base = declarative_base()
class Webhook(Base):
    __tablename__ = "webhooks"
    id = Column(Integer, primary_key=True)
    signing_secret = Column(String(64))  # expect: DBC201
    secret_fingerprint = Column(String(64))
def add_webhook(db, raw):
    db.add(Webhook(signing_secret=raw, secret_fingerprint=hash_token(raw)))
''',
        # What is decrypted on the way in is stored in plain text.
        '''
from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import declarative_base
Base = declarative_base()
class Integration(Base):
    __tablename__ = "integrations"
    id = Column(Integer, primary_key=True)
    api_key = Column(String(64))  # expect: DBC201
    signing_secret = Column(String(64))  # expect: DBC201
def import_integration(db, fernet, payload, signed):
    decrypted_secret = fernet.decrypt(signed).decode()
    db.add(Integration(api_key=fernet.decrypt(payload), signing_secret=decrypted_secret))
''',
        # A hash written into one model's token says nothing of another model's.
        '''
from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import declarative_base
from app.crypto import generate_token
Base = declarative_base()
class SessionToken(Base):
    __tablename__ = "session_tokens"
    id = Column(Integer, primary_key=True)
    token = Column(String(255), unique=True)
class LoginSession(Base):
    __tablename__ = "login_sessions"
    id = Column(Integer, primary_key=True)
    token = Column(String(255), unique=True)  # expect: DBC201
def log_in(db):
    token, token_hash = generate_token()
    db.add(SessionToken(token=token_hash))
    db.add(LoginSession(token=token))
''',
        # The tokens it issues are hashed through a dict; the provider's token is kept as
        # given (polar's OAuth accounts).
        '''
from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import declarative_base
from app.crypto import get_token_hash
Base = declarative_base()
class OAuthAccount(Base):
    __tablename__ = "oauth_accounts"
    id = Column(Integer, primary_key=True)
    access_token = Column(String(1024), nullable=False)  # expect: DBC201
def save_issued_token(token, build):
    data = {**token, "access_token": get_token_hash(token["access_token"])}
    return build(**data)
''',
        # A TypeDecorator that does not encrypt is still plain text.
        '''
from sqlalchemy import String, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class TrimmedString(TypeDecorator):
    impl = String
    cache_ok = True
class Base(DeclarativeBase): pass
class Webhook(Base):
    __tablename__ = "webhooks"
    id: Mapped[int] = mapped_column(primary_key=True)
    secret: Mapped[str] = mapped_column(TrimmedString(64))  # expect: DBC201
''',
    )

    def check(self, ctx: "RuleContext") -> Iterable[Finding]:
        return dedupe_by_site(self._findings(ctx))

    def _findings(self, ctx: "RuleContext") -> Iterator[tuple[Finding, str]]:
        config = ctx.config
        for table in ctx.reported_tables():
            for column in table.columns:
                name = column.attribute or column.name
                reason = secret_reason(name, config) or (
                    secret_reason(column.name, config) if column.name != name else None)
                if reason and _plain(column):
                    yield self.finding(column.location, column=column_label(table, column), reason=reason,
                                       type=column.type_name or column.type_kind), table.name or "?"


class PlaintextPasswordColumn(Rule):
    code = "DBC202"
    name = "plaintext-password-column"
    summary = "A column named like a password (`password`, `passwd`, `pwd`) that is not a hash."
    message = "{column} looks like a plaintext password: store a salted hash (argon2/bcrypt) in a column named password_hash"
    cwe = "CWE-256: Plaintext Storage of a Password"
    what_it_does = """
Flags a string or binary column named like a password (`password`, `passwd`, `pwd`,
`passcode`) that is not a hash (`password_hash`, `hashed_password`, `password_digest`,
sqlalchemy_utils `PasswordType`) and not encrypted."""
    why_bad = """
Passwords are reused across sites. A plaintext (or reversibly encoded) password column
turns any read of the table into account takeovers elsewhere. Store a slow salted hash
(argon2, bcrypt, scrypt) and name the column for what it is."""
    known_problems = """
Third-party credentials that must be replayed (an SMTP password) cannot be hashed; store
them with an encrypting type, which silences the rule. A column is taken to hold hashes when
a `@validates` hook or a method of the model hashes what is assigned, or when the project
anywhere assigns a hashing call's result under the column's name
(`new_user.password = hash_password(form.password)` in a service, `User(password=...)`,
`{"password": hash_password(...)}`): writes are matched by name, not followed to the model,
so a project that hashes one table's `password` and stores another's in plain text is not
caught."""
    example = """
password = Column(String(128))  # DBC202
"""
    use_instead = """
password_hash = Column(String(255), nullable=False)
"""
    valid = (
        '''
from datetime import datetime
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy_utils import PasswordType, StringEncryptedType
class Base(DeclarativeBase): pass
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    hashed_password: Mapped[str] = mapped_column(String(255))  # ok: DBC202
    password_hash: Mapped[str]  # ok: DBC202
    password_changed_at: Mapped[datetime]  # ok: DBC202
    must_change_password: Mapped[bool]  # ok: DBC202
    password: Mapped[str] = mapped_column(PasswordType(schemes=["bcrypt"]))  # ok: DBC202
    smtp_password: Mapped[str] = mapped_column(StringEncryptedType(String, "k"))  # ok: DBC202
''',
        # Flask-SQLAlchemy model that hashes on assignment (CTFd's idiom).
        '''
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import validates
db = SQLAlchemy()
def hash_password(value):
    return value
class Users(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    password = db.Column(db.String(128))  # ok: DBC202
    @validates("password")
    def validate_password(self, key, plaintext):
        return hash_password(str(plaintext))
''',
        # The model's own setter stores the hash (a Flask / FastAPI idiom).
        '''
import bcrypt
from sqlalchemy import Column, Integer, LargeBinary
from sqlalchemy.orm import declarative_base
Base = declarative_base()
class Account(Base):
    __tablename__ = "accounts"
    id = Column(Integer, primary_key=True)
    password = Column(LargeBinary, nullable=False)  # ok: DBC202
    def set_password(self, raw):
        if not raw:
            raise ValueError("empty password")
        else:
            self.password = bcrypt.hashpw(raw.encode(), bcrypt.gensalt())
''',
        # The service layer hashes before the row is built (mealie's idiom): the model
        # never sees the plaintext.
        '''
from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import declarative_base
from app.security import hash_password
Base = declarative_base()
class Member(Base):
    __tablename__ = "members"
    id = Column(Integer, primary_key=True)
    password = Column(String(128), nullable=False)  # ok: DBC202
def register(session, form):
    form.password = hash_password(form.password)
    session.add(Member(**form.dict()))
''',
        # Hashed before a service function builds the row.
        '''
from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import declarative_base
from app.security import hash_password
from app.services import create_member
Base = declarative_base()
class Member(Base):
    __tablename__ = "members"
    id = Column(Integer, primary_key=True)
    password = Column(String(128), nullable=False)  # ok: DBC202
def register(session, form):
    return create_member(session, email=form.email, password=hash_password(form.password))
''',
    )
    invalid = (
        # A comment that says the password should be hashed is not a write.
        '''
from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import declarative_base
Base = declarative_base()
class Member(Base):
    __tablename__ = "members"
    id = Column(Integer, primary_key=True)
    password = Column(String(128))  # expect: DBC202
def register(session, form):
    # TODO: member.password = hash_password(form.password)
    session.add(Member(password=form.password))
''',
        # A validator that does not hash leaves the password in plain text.
        '''
from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import declarative_base, validates
Base = declarative_base()
class Team(Base):
    __tablename__ = "teams"
    id = Column(Integer, primary_key=True)
    password = Column(String(128))  # expect: DBC202
    @validates("password")
    def validate_password(self, key, value):
        return value.strip()
''',
        # A setter that stores what it is given.
        '''
from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import declarative_base
Base = declarative_base()
class Mailbox(Base):
    __tablename__ = "mailboxes"
    id = Column(Integer, primary_key=True)
    password = Column(String(128))  # expect: DBC202
    hash = Column(String(64))
    def set_password(self, raw):
        self.password = raw.strip()
        self.hash = sha256_hex(raw)
''',
        '''
from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import declarative_base
Base = declarative_base()
class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    password = Column(String(128))  # expect: DBC202
    db_passwd = Column(String(128))  # expect: DBC202
''',
        '''
from sqlmodel import Field, SQLModel
class Mailbox(SQLModel, table=True):
    id: int = Field(primary_key=True)
    smtp_pwd: str  # expect: DBC202
''',
    )

    def check(self, ctx: "RuleContext") -> Iterable[Finding]:
        return dedupe_by_site(self._findings(ctx))

    def _findings(self, ctx: "RuleContext") -> Iterator[tuple[Finding, str]]:
        for table in ctx.reported_tables():
            for column in table.columns:
                name = column.attribute or column.name
                if column.type_kind not in ("string", "binary") or column.encrypted or column.from_library \
                        or column.hashed_on_write or column.hashed_by_name:
                    continue
                reason = password_reason(name)
                if reason:
                    yield self.finding(column.location, column=column_label(table, column)), table.name or "?"
