"""SQLAlchemy's query API as the query analysis reads it: which methods refine a
statement, filter it, join, run it, or hand back one row."""

from __future__ import annotations

# Methods that return a new statement with the same FROM list.
PASS_THROUGH = frozenset({
    "order_by", "limit", "offset", "options", "group_by", "having", "distinct", "with_for_update",
    "execution_options", "params", "correlate", "add_columns", "with_only_columns", "returning",
    "values", "unique", "slice", "enable_eagerloads", "populate_existing", "yield_per",
    "with_entities", "prefix_with", "suffix_with", "limit_by", "fetch", "set_label_style",
    "ordered_values", "with_hint", "autoflush", "order_by_nulls", "add_cte", "with_statement_hint",
    "undefer", "load_only", "execution_option", "inline",
})
FILTERS = frozenset({"where", "filter"})
JOINS = frozenset({"join", "outerjoin", "join_from", "outerjoin_from"})
EXECUTE = frozenset({"execute", "scalars", "scalar", "exec", "stream", "stream_scalars"})
ONE_ROW = frozenset({"first", "one", "one_or_none", "scalar", "first_or_404", "one_or_404", "scalar_one",
                      "scalar_one_or_none"})
TERMINAL_READ = frozenset({"all", "first", "one", "one_or_none", "scalar", "count", "paginate",
                            "first_or_404", "one_or_404", "scalar_one", "scalar_one_or_none", "__iter__"})
EXECUTOR_FUNCTIONS = frozenset({"paginate", "apaginate", "fetch_all", "fetch_one", "fetch_val",
                                 "read_sql", "read_sql_query", "first_or_404", "one_or_404"})
DB_METHODS = frozenset({"get_or_404", "first_or_404", "one_or_404", "paginate", "execute", "scalars",
                         "scalar", "get", "query", "exec"})
SUBQUERY = frozenset({"subquery", "cte", "exists", "scalar_subquery", "alias", "lateral", "label",
                       "as_scalar", "union", "union_all", "except_", "intersect"})
