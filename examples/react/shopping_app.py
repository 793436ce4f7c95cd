"""The React example's data layer: a shopping list, one document per item.

Runs in the browser's engine worker (and on CPython in tests); the page calls the public
functions with ``call(name, ...args)`` (React's ``useCall()``, docs/bindings.md).
"""

from __future__ import annotations

from typing import Any

from yloft import Collection, Field, Store, YloftError
from yloft.crdt import Map

__all__ = ["add_item", "list_items", "set_bought", "setup"]

FIELDS = {
    "name": Field("item.name", str, index=True),
    "bought": Field("item.bought", bool, index=True),
}

_store: Store | None = None


class ItemError(YloftError, ValueError):
    """An item argument is not valid; the message says what to do."""


def setup(store: Store) -> None:
    """Declare the ``items`` collection (columns id, name, bought, created_at, ...)."""
    global _store
    store.collection("items", FIELDS)
    _store = store


def _opened() -> Store:
    if _store is None:
        raise YloftError("shopping_app.setup(store) has not been called")
    return _store


def _items() -> Collection:
    return _opened().collection("items")


def add_item(name: str) -> str:
    """Add an item to buy and return its id."""
    name = str(name).strip()
    if not name:
        raise ItemError("an item needs a name: type one first")
    items = _items()
    item_id = items.create()
    with items.edit(item_id) as doc:
        item = doc.get("item", type=Map)
        item["name"] = name
        item["bought"] = False
    return item_id


def set_bought(item_id: str, bought: bool) -> None:
    """Tick an item off (or back on) the list."""
    with _items().edit(item_id) as doc:
        doc.get("item", type=Map)["bought"] = bool(bought)


def list_items() -> list[dict[str, Any]]:
    """Every item, oldest first."""
    return _opened().query("SELECT id, name, bought FROM items ORDER BY created_at, id", ())
