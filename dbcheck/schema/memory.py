"""What one index build leaves for the next in the same process (the daemon)."""

from __future__ import annotations

from dataclasses import dataclass

from dbcheck.schema.model import TableModel


@dataclass
class BuildMemory:
    """What one build leaves for the next in the same process (the daemon, after an
    edit): every class table as ``build_class_tables`` made it (copies: the index's own
    are changed by later steps and by rules' readers), and what decides whether the next
    build may copy them instead (see ``_Builder._reusable_tables``)."""

    keys: dict[str, str]  # module name -> facts key
    layout: tuple  # every module's name and path: resolution by path tails depends on them
    shared: tuple  # the project-wide inputs (see _shared_inputs)
    reach_by_key: dict[str, frozenset[str]]  # facts key -> the modules its names reach
    owners: dict[str, str]  # mapped class -> the class whose table it is
    modules: dict[str, str]  # mapped class -> its module's name
    tables: dict[str, TableModel]  # table-owning class -> its table as built
    spelled: set[str]  # classes named by the project-wide spelling: always built again
