"""Classes across the project: their bases in method resolution order, and the
attributes they see (own first, then inherited), as Python resolves them."""

from __future__ import annotations

from typing import Optional

from dbcheck.facts.model import AttrFact, ClassFact
from dbcheck.semantic.symbols import ClassRef, SymbolLookup


_PROTOCOL_BASES = frozenset({"typing:Protocol", "typing_extensions:Protocol", "abc:ABC", "ext:abc.ABC"})


def is_protocol(symbols: SymbolLookup, fact: ClassFact) -> bool:
    """Whether the class is an interface the project implements elsewhere: it names
    ``typing.Protocol`` (``Protocol[T]`` too) or ``abc.ABC`` among its bases (agenta's
    ``TriggersDAOInterface(ABC)``, implemented by ``TriggersDAO``)."""
    return any(symbols.lib_name(base[1] if base[0] == "sub" else base) in _PROTOCOL_BASES
               for base in fact.bases if isinstance(base, tuple) and base)


def mro(symbols: SymbolLookup, ref: ClassRef, depth: int = 0) -> list[ClassRef]:
    """Project classes in method resolution order (an approximation of C3: depth-first,
    left to right, each class once, late duplicates win as in C3 for diamond mixins)."""
    if depth > 40:
        return [ref]
    chain: list[ClassRef] = [ref]
    for base in ref.fact.bases:
        sym = symbols.lookup(base)
        if isinstance(sym, ClassRef):
            chain.extend(mro(symbols, sym, depth + 1))
    if len(chain) == 1:
        return chain
    # each class at its last place in the chain: what moving every repeat to the end does
    last = {cls: i for i, cls in enumerate(chain)}
    return [cls for i, cls in enumerate(chain) if last[cls] == i]


def attributes_in_mro(symbols: SymbolLookup, ref: ClassRef, include_mapped: bool,
                      mapped: Optional[set[str]] = None) -> list[tuple[AttrFact, ClassRef]]:
    """Attributes visible on ``ref``: own first, then bases, the first binding wins.
    Without ``include_mapped``, attributes of mapped ancestors (they live on the
    ancestor's table) and of classes reached only through them are left out."""
    return attributes_of(visible_classes(symbols, ref, include_mapped, mapped or set()))


def attributes_of(classes: list[ClassRef]) -> list[tuple[AttrFact, ClassRef]]:
    """The attributes of ``classes`` (in resolution order): the first binding of a name wins."""
    seen: set[str] = set()
    out: list[tuple[AttrFact, ClassRef]] = []
    for cls in classes:
        for attr in cls.fact.attrs:
            if attr.name not in seen:
                seen.add(attr.name)
                out.append((attr, cls))
    return out


def visible_classes(symbols: SymbolLookup, ref: ClassRef, include_mapped: bool,
                     mapped: set[str]) -> list[ClassRef]:
    if include_mapped:
        return mro(symbols, ref)
    order: list[ClassRef] = []

    def walk(cls: ClassRef, depth: int) -> None:
        if depth > 40:
            return
        if cls in order:
            order.remove(cls)
        order.append(cls)
        for base in cls.fact.bases:
            sym = symbols.lookup(base)
            if isinstance(sym, ClassRef) and sym.qualname not in mapped:
                walk(sym, depth + 1)

    walk(ref, 0)
    return order


def own_attr(fact: ClassFact, name: str) -> Optional[AttrFact]:
    for attr in fact.attrs:
        if attr.name == name:
            return attr
    return None
