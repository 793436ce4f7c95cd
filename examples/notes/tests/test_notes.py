"""The notes example's own tests, run with `yloft test examples/notes` like any app's.

Its Python through the engine's boundary on CPython (``yloft_call``), then the page in
a fresh browser profile (``yloft_browser_page``): Chromium by default, and each engine of
``yloft test --browser firefox`` (or ``webkit``, ``all``). The repository's tests/e2e/ go
further (tabs, devices, crashes).
"""

from __future__ import annotations

import pytest

from yloft.testing import AppCallError, BrowserPage, Call, reload_app


def test_a_note_is_found_by_a_word_prefix(yloft_call: Call) -> None:
    nid = yloft_call("create_note", "Buy milk", "two litres of oat milk", ["home"])
    yloft_call("create_note", "Call Ada", "about the trip")
    assert [r["id"] for r in yloft_call("search_notes", "litr")] == [nid]
    assert yloft_call("get_note", nid)["tags"] == ["home"]


def test_a_deleted_note_cannot_be_edited(yloft_call: Call) -> None:
    nid = yloft_call("create_note", "Old", "")
    yloft_call("delete_note", nid)
    with pytest.raises(AppCallError, match="DocumentDeletedError"):
        yloft_call("update_note", nid, "New")


def test_a_typed_note_survives_a_reload(yloft_browser_page: BrowserPage) -> None:
    page = yloft_browser_page
    page.click("#new-note")
    page.wait_for("#title:focus")
    page.type("Plant tomatoes")
    page.wait_for("#saved", text="Saved")
    reload_app(page)
    page.wait_for("#notes li .title", text="Plant tomatoes")
    assert page.texts("#notes li .title") == ["Plant tomatoes"]
