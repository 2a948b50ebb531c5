"""fastapi-users' SQLAlchemy tables: mapped bases that ship their columns (the user table
with its hashed password, OAuth accounts with their tokens, access tokens)."""

from __future__ import annotations

from dbcheck.dialects.base import DeclaredDialect, LibraryColumn, LibraryModel

_C = LibraryColumn

DIALECT = DeclaredDialect(
    name="fastapi_users",
    packages=(("fastapi_users_db_sqlalchemy", "fastapi_users"), ("fastapi_users", "fastapi_users")),
    library_models={
        "fastapi_users:SQLAlchemyBaseUserTable": LibraryModel("user", (
            _C("email", "String", False, False, None), _C("hashed_password", "String", False, False, None),
            _C("is_active", "Boolean", False, False, None), _C("is_superuser", "Boolean", False, False, None),
            _C("is_verified", "Boolean", False, False, None))),
        "fastapi_users:SQLAlchemyBaseUserTableUUID": LibraryModel("user", (
            _C("id", "GUID", False, True, None), _C("email", "String", False, False, None),
            _C("hashed_password", "String", False, False, None), _C("is_active", "Boolean", False, False, None),
            _C("is_superuser", "Boolean", False, False, None), _C("is_verified", "Boolean", False, False, None))),
        "fastapi_users:SQLAlchemyBaseOAuthAccountTable": LibraryModel("oauth_account", (
            _C("oauth_name", "String", False, False, None), _C("access_token", "String", False, False, None),
            _C("expires_at", "Integer", True, False, None), _C("refresh_token", "String", True, False, None),
            _C("account_id", "String", False, False, None), _C("account_email", "String", False, False, None))),
        "fastapi_users:SQLAlchemyBaseOAuthAccountTableUUID": LibraryModel("oauth_account", (
            _C("id", "GUID", False, True, None), _C("oauth_name", "String", False, False, None),
            _C("access_token", "String", False, False, None), _C("expires_at", "Integer", True, False, None),
            _C("refresh_token", "String", True, False, None), _C("account_id", "String", False, False, None),
            _C("account_email", "String", False, False, None), _C("user_id", "GUID", False, False, "user.id"))),
        "fastapi_users:SQLAlchemyBaseAccessTokenTable": LibraryModel("accesstoken", (
            _C("token", "String", False, True, None), _C("created_at", "DateTime", False, False, None))),
        "fastapi_users:SQLAlchemyBaseAccessTokenTableUUID": LibraryModel("accesstoken", (
            _C("token", "String", False, True, None), _C("created_at", "DateTime", False, False, None),
            _C("user_id", "GUID", False, False, "user.id"))),
    },
)
