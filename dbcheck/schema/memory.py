"""What one index build leaves for the next in the same process (the daemon)."""

from __future__ import annotations

from dataclasses import dataclass

from typing import Any, Optional

from dbcheck.schema.model import TableModel


@dataclass
class BuildMemory:
    """What one build leaves for the next in the same process (the daemon, after an
    edit): every class table as ``build_class_tables`` made it (copies: the index's own
    are changed by later steps and by rules' readers), and what decides whether the next
    build may copy them instead (see ``_Builder._reusable_tables``)."""

    keys: dict[str, object]  # module name -> its facts' key and whether they were only skimmed
    layout: tuple  # every module's name and path: resolution by path tails depends on them
    shared: tuple  # the project-wide inputs (see _shared_inputs)
    reads: dict[str, frozenset[str]]  # mapped class -> the modules its table depends on (see _dependencies)
    # every class's ClassInfo, as classify left it (typed loosely: dbcheck.schema.index,
    # which defines ClassInfo, imports this module)
    infos: dict[str, Any]
    classified: dict[str, frozenset[str]]  # class -> the modules its classification read, its own included
    base_classes: dict[str, tuple[tuple[str, int], ...]]  # class -> its project bases (module, place in its classes)
    by_suffix: dict[str, Optional[str]]  # the symbol table's path tails (see SymbolTable)
    owners: dict[str, str]  # mapped class -> the class whose table it is
    modules: dict[str, str]  # mapped class -> its module's name
    tables: dict[str, TableModel]  # table-owning class -> its table as built
    spelled: set[str]  # classes named by the project-wide spelling: always built again
