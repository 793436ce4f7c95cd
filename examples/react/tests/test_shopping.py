"""The React example's tests, run with `yloft test examples/react` like any app's (after
`node build.mjs` bundled the page; `python3 build.py build` does both)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from yloft.testing import AppCallError, Call, reload_app


def test_items_are_listed_oldest_first_and_ticked_off(yloft_call: Call) -> None:
    milk = yloft_call("add_item", "Oat milk")
    yloft_call("add_item", "Bread")
    yloft_call("set_bought", milk, True)
    assert [(r["name"], r["bought"]) for r in yloft_call("list_items")] == [
        ("Oat milk", 1),
        ("Bread", 0),
    ]


def test_an_empty_name_is_refused_with_what_to_do(yloft_call: Call) -> None:
    with pytest.raises(AppCallError, match="needs a name: type one first"):
        yloft_call("add_item", " ")


def test_an_item_ticked_in_the_page_stays_ticked_after_a_reload(yloft_page: Page) -> None:
    page = yloft_page
    page.get_by_label("Item").press_sequentially("Oat milk")
    page.keyboard.press("Enter")
    page.get_by_role("checkbox", name="Oat milk").check()
    reload_app(page)
    expect(page.get_by_role("checkbox", name="Oat milk")).to_be_checked()
