"""The examples in the store modules' docstrings run and show what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "yloft.store",
    "yloft.store.store",
    "yloft.store.collection",
    "yloft.schema",
    "yloft.extract",
    "yloft.store.live",
    "yloft.store.feed",
    "yloft.store.archive",
    "yloft.store._updates",
    "yloft.browser.documents",
    "yloft.sync.session",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
