"""The store's public names are exported as the docs promise (CONVENTIONS.md §1)."""

from __future__ import annotations

import yloft
from yloft import errors

STORE_API = ["Store", "Field", "Collection", "Subscription"]
STORE_ERRORS = [
    "StoreClosedError",
    "SchemaError",
    "FieldPathError",
    "FieldTypeError",
    "UnknownCollectionError",
    "InvalidIdError",
    "DocumentNotFoundError",
    "DocumentDeletedError",
    "DocumentBusyError",
    "MalformedUpdateError",
    "QueryError",
    "ReadOnlyQueryError",
    "DurabilityError",
    "CallbackError",
]


def test_store_api_is_exported() -> None:
    for name in STORE_API + STORE_ERRORS:
        assert name in yloft.__all__, name
        assert getattr(yloft, name) is not None


def test_store_errors_are_yloft_errors_and_in_the_tree() -> None:
    tree = errors.__doc__ or ""
    for name in STORE_ERRORS:
        cls = getattr(errors, name)
        assert issubclass(cls, yloft.YloftError), name
        assert name in tree, f"{name} is missing from the tree in errors.py"
    assert issubclass(errors.DurabilityError, OSError)
    assert issubclass(errors.MalformedUpdateError, ValueError)
    assert issubclass(errors.InvalidIdError, TypeError)
