"""What the query analysis reads of the project: the ``ProjectView`` protocol. The
project index implements it plainly (``IndexView``); the incremental analysis implements
it with every read noted (``dbcheck.incremental.reads.RecordingIndex``), so a module's
result can be replayed while nothing it read has changed."""

from __future__ import annotations

from typing import Mapping, Optional, Protocol

from dbcheck.facts.model import ModuleFacts
from dbcheck.schema.index import ClassInfo, ProjectIndex
from dbcheck.schema.model import TableModel
from dbcheck.semantic.symbols import SymbolLookup


class ClassLookup(Protocol):
    def get(self, qualname: str, /) -> Optional[ClassInfo]: ...


class ProjectView(Protocol):
    """The project as the interpreter reads it. ``note`` and the reads scopes tell the
    incremental analysis what a module's result depends on; a plain view ignores them."""

    @property
    def modules(self) -> Mapping[str, ModuleFacts]: ...

    @property
    def symbols(self) -> SymbolLookup: ...

    @property
    def classes(self) -> ClassLookup: ...

    def tables_named(self, name: str) -> list[TableModel]: ...

    def tables_with_backref(self, name: str) -> list[TableModel]: ...

    def mapped_classes_named(self, class_name: str) -> list[ClassInfo]: ...

    def implementations_of(self, qualname: str) -> list[str]: ...

    def subclasses_of(self, qualname: str) -> list[str]: ...

    @property
    def tracking(self) -> bool:
        """Whether reads are being noted (then the scopes below matter)."""

    def note(self, kind: str, key: str) -> None: ...

    def open_reads(self) -> None:
        """Start noting the reads of a helper's summary apart."""

    def close_reads(self) -> object:
        """Stop noting them apart; what they were (for ``merge_reads``)."""

    def merge_reads(self, reads: object) -> None:
        """Count reads noted apart (a summary's) as read here too."""


class IndexView:
    """A project index as a ``ProjectView`` that notes nothing."""

    tracking = False

    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self.modules = index.modules
        self.symbols = index.symbols
        self.classes = index.classes

    def tables_named(self, name: str) -> list[TableModel]:
        return self.index.tables_named(name)

    def tables_with_backref(self, name: str) -> list[TableModel]:
        return self.index.tables_with_backref(name)

    def mapped_classes_named(self, class_name: str) -> list[ClassInfo]:
        return self.index.mapped_classes_named(class_name)

    def implementations_of(self, qualname: str) -> list[str]:
        return self.index.implementations_of(qualname)

    def subclasses_of(self, qualname: str) -> list[str]:
        return self.index.subclasses_of(qualname)

    def note(self, kind: str, key: str) -> None:
        pass

    def open_reads(self) -> None:
        pass

    def close_reads(self) -> object:
        return None

    def merge_reads(self, reads: object) -> None:
        pass
