"""SQLAlchemy: declarative bases and decorators, relationships, ``Mapped[...]``, and the
query API (``select`` / ``session.query`` and what each method does to a statement)."""

from __future__ import annotations

from dbcheck.dialects.base import BaseRole, DeclaredDialect, QueryApi

DECLARATIVE_ROOT = BaseRole("declarative", True)

DIALECT = DeclaredDialect(
    name="sqlalchemy",
    packages=(("sqlalchemy", "sa"),),
    bases={"sa:DeclarativeBase": DECLARATIVE_ROOT, "sa:DeclarativeBaseNoMeta": DECLARATIVE_ROOT},
    class_decorators={
        "sa:mapped": BaseRole("declarative", None), "sa:mapped_as_dataclass": BaseRole("declarative", None),
        "sa:as_declarative": DECLARATIVE_ROOT, "sa:as_declarative_base": DECLARATIVE_ROOT,
    },
    base_factories=frozenset({"sa:declarative_base"}),
    neutral_bases=frozenset({"sa:MappedAsDataclass", "sa:AsyncAttrs", "sa:ReprMixin", "sa:TypeDecorator"}),
    neutral_families=("sa:",),
    relationship_functions=frozenset({"sa:relationship", "sa:relation", "sa:dynamic_loader"}),
    mapped_wrappers=frozenset({"sa:Mapped", "sa:WriteOnlyMapped", "sa:DynamicMapped"}),
    type_families=("sa:",),
    query_api=QueryApi(
        # Methods that return a new statement with the same FROM list.
        pass_through=frozenset({
            "order_by", "limit", "offset", "options", "group_by", "having", "distinct", "with_for_update",
            "execution_options", "params", "correlate", "add_columns", "with_only_columns", "returning",
            "values", "unique", "slice", "enable_eagerloads", "populate_existing", "yield_per",
            "with_entities", "prefix_with", "suffix_with", "limit_by", "fetch", "set_label_style",
            "ordered_values", "with_hint", "autoflush", "order_by_nulls", "add_cte", "with_statement_hint",
            "undefer", "load_only", "execution_option", "inline",
        }),
        filters=frozenset({"where", "filter"}),
        joins=frozenset({"join", "outerjoin", "join_from", "outerjoin_from"}),
        execute=frozenset({"execute", "scalars", "scalar", "exec", "stream", "stream_scalars"}),
        one_row=frozenset({"first", "one", "one_or_none", "scalar", "scalar_one", "scalar_one_or_none"}),
        terminal_read=frozenset({"all", "first", "one", "one_or_none", "scalar", "count", "scalar_one",
                                 "scalar_one_or_none", "__iter__"}),
        # pandas and the databases package run the statement handed in
        executor_functions=frozenset({"fetch_all", "fetch_one", "fetch_val", "read_sql", "read_sql_query"}),
        subquery=frozenset({"subquery", "cte", "exists", "scalar_subquery", "alias", "lateral", "label",
                            "as_scalar", "union", "union_all", "except_", "intersect"}),
        db_methods=frozenset({"execute", "scalars", "scalar", "get", "query", "exec"}),
    ),
)
