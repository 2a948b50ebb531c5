"""The rule registry: one place that lists every rule, in code order."""

from __future__ import annotations

from dbcheck.rules.base import Rule
from dbcheck.rules.boolean_filters import PythonBooleanInFilter
from dbcheck.rules.indexes import NonSargableFilter, UnindexedFilter
from dbcheck.rules.mass_assignment import TenantColumnFromInput
from dbcheck.rules.migrations import IrreversibleMigration
from dbcheck.rules.noqa import UnusedNoqa
from dbcheck.rules.parse import ParseError
from dbcheck.rules.references import UncheckedReference
from dbcheck.rules.relations import (
    BrokenRelationship, ForeignKeyWithoutIndex, ForeignKeyWithoutOndelete,
    ForeignKeyWithoutRelationship, MissingPrimaryKey,
)
from dbcheck.rules.scoping import UnscopedGet, UnscopedQuery, UnscopedWrite
from dbcheck.rules.secrets import PlaintextPasswordColumn, UnencryptedSecretColumn
from dbcheck.rules.unused_parameter import UnusedTenantParameter
from dbcheck.rules.tenancy import MissingTenantColumn, NullableTenantColumn, TenantColumnWithoutForeignKey

ALL_RULES: tuple[type[Rule], ...] = (
    ParseError,
    MissingTenantColumn,
    NullableTenantColumn,
    TenantColumnWithoutForeignKey,
    UnencryptedSecretColumn,
    PlaintextPasswordColumn,
    ForeignKeyWithoutRelationship,
    ForeignKeyWithoutOndelete,
    ForeignKeyWithoutIndex,
    BrokenRelationship,
    MissingPrimaryKey,
    UnindexedFilter,
    NonSargableFilter,
    UnscopedQuery,
    UnscopedGet,
    UnscopedWrite,
    UncheckedReference,
    TenantColumnFromInput,
    UnusedTenantParameter,
    PythonBooleanInFilter,
    IrreversibleMigration,
    UnusedNoqa,
)

RULES_BY_CODE: dict[str, type[Rule]] = {rule.code: rule for rule in ALL_RULES}

__all__ = ["ALL_RULES", "RULES_BY_CODE", "Rule"]
