"""What a rule reads: the project index, the configuration, the query analysis's result
(computed on first use, once per run) and which files' findings are wanted."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Callable, Iterable, Optional, TypeVar

from dbcheck.config import Config
from dbcheck.facts.model import ModuleFacts
from dbcheck.flow.values import QueryIndex
from dbcheck.rules.request_input import RequestInputs
from dbcheck.schema.index import ProjectIndex
from dbcheck.schema.model import TableModel
from dbcheck.schema.tenancy import SessionFilter, session_filter

if TYPE_CHECKING:
    from dbcheck.flow.values import QueryUse

_Use = TypeVar("_Use", bound="QueryUse")


class RuleContext:
    """One run of the rules. ``focus``: the files whose findings are wanted when not all
    are (the flake8 plugin asking the daemon about the file just edited): rules report
    from ``reported_*`` only, while every lookup still sees the whole project.
    ``analyse_queries``: how the query analysis is computed (the engine's, with its
    incremental memo); the default analyses the whole project from scratch."""

    def __init__(self, index: ProjectIndex, config: Config, focus: Optional[frozenset[str]] = None,
                 analyse_queries: Optional[Callable[[], QueryIndex]] = None) -> None:
        self.index = index
        self.config = config
        self.focus = focus
        self._analyse = analyse_queries
        self._queries: Optional[QueryIndex] = None
        self._reported_tables: Optional[list[TableModel]] = None

    @cached_property
    def session_filter(self) -> Optional[SessionFilter]:
        """The project's ``do_orm_execute`` tenant filter, if it has one."""
        return session_filter(self.index.modules.values(), self.config)

    @cached_property
    def request_inputs(self) -> RequestInputs:
        """The project's request handlers and input schemas (DBC504 and DBC505 read them)."""
        return RequestInputs.build(self.index, self.config)

    def queries(self) -> QueryIndex:
        """Every query the project builds and runs."""
        if self._queries is None:
            if self._analyse is not None:
                self._queries = self._analyse()
            else:
                from dbcheck.incremental.queries import analyze_queries

                self._queries = analyze_queries(self.index, self.config)
        return self._queries

    def reported_tables(self) -> list[TableModel]:
        """The tables whose findings are wanted (those with any declaration in a focused
        file, a mixin's file included)."""
        if self.focus is None:
            return self.index.tables
        if self._reported_tables is None:
            focus = self.focus
            self._reported_tables = [t for t in self.index.tables if t.declared_in(focus)]
        return self._reported_tables

    def reports_on(self, table: TableModel) -> bool:
        return self.focus is None or any(t is table for t in self.reported_tables())

    def reported_modules(self) -> list[ModuleFacts]:
        modules = list(self.index.modules.values())
        return modules if self.focus is None else [m for m in modules if m.path in self.focus]

    def reported_uses(self, uses: Iterable[_Use]) -> Iterable[_Use]:
        """Query uses (reported where they are: ``use.path``) whose findings are wanted."""
        return uses if self.focus is None else [u for u in uses if u.path in self.focus]
