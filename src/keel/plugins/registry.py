"""A named registry: the one shape later features use for providers, evaluators, vector stores, checks,
fine-tune backends and loaders. Lookups by name replace `if name == "x"` chains.
"""

from collections.abc import Iterator
from typing import Generic, TypeVar

from keel.core.errors import Conflict, NotFound

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, what: str) -> None:
        self.what = what
        self._items: dict[str, T] = {}

    def register(self, name: str, item: T) -> None:
        if not name or not name.replace("-", "").replace("_", "").replace(".", "").replace("/", "").isalnum():
            raise ValueError(f"{self.what} name {name!r} must be letters, digits, '-', '_', '.' or '/'")
        if name in self._items:
            raise Conflict(f"{self.what} {name!r} is already registered")
        self._items[name] = item

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "none"
            raise NotFound(f"unknown {self.what} {name!r}; registered: {known}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> list[tuple[str, T]]:
        return sorted(self._items.items())
