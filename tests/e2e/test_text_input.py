"""web/text-input.js in Chromium: an <input> bound to a Y.Text, typed into with the keyboard.

The notes app's title uses this binding. These tests replay, with one remote Y.Doc in
the page, the interleavings that rearranged people's words in the two-device test
(CI of 2026-12-01: "...hereta00 d00 t"): a character typed right before someone's
identical character must stay with the typist's own word.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

BLANK = "<!doctype html><meta charset=utf-8><input id=f aria-label=Title>"

SETUP = """async () => {
  const Y = await import('./vendor/yjs.mjs');
  const { bindTextInput } = await import('./text-input.js');
  const mine = new Y.Doc(), theirs = new Y.Doc();
  mine.clientID = 2; theirs.clientID = 1;  // theirs wins ties: inserted left of mine
  const remote = 'remote';
  const toMine = () => Y.applyUpdate(mine, Y.encodeStateAsUpdate(theirs), remote);
  const toTheirs = () => Y.applyUpdate(theirs, Y.encodeStateAsUpdate(mine), remote);
  const field = document.getElementById('f');
  const binding = bindTextInput(field, mine.getText('t'));
  window.t = { Y, mine, theirs, toMine, toTheirs, field, binding,
    theirText: () => theirs.getText('t'), text: () => mine.getText('t').toString() };
}"""


@pytest.fixture
def bound(page: Page, base_url: str) -> Iterator[Page]:
    url = base_url + "__text_input_test.html"
    page.route(url, lambda route: route.fulfill(body=BLANK, content_type="text/html"))
    page.goto(url)
    page.evaluate(SETUP)
    yield page


def put_caret(page: Page, at: int) -> None:
    page.click("#f")
    page.evaluate("(at) => t.field.setSelectionRange(at, at)", at)


def test_typed_character_equal_to_its_neighbour_stays_with_the_typists_word(bound: Page) -> None:
    page = bound
    page.evaluate("() => { t.theirText().insert(0, 'here'); t.toMine(); }")
    put_caret(page, 4)
    # They type "t" at the end; it reaches this page with the caret right before it.
    page.evaluate("() => { t.theirText().insert(4, 't'); t.toMine(); }")
    assert page.evaluate("() => [t.field.value, t.field.selectionStart]") == ["heret", 4]
    page.keyboard.type("td00 ")
    # Meanwhile they go on with their word, not having seen ours yet.
    page.evaluate("() => { t.theirText().insert(5, 'a00 '); t.toTheirs(); t.toMine(); }")
    merged = page.evaluate("() => t.text()")
    assert merged == page.evaluate("() => t.theirText().toString()")
    assert "td00 " in merged and "ta00 " in merged, merged
    assert page.input_value("#f") == merged


def test_keys_edit_where_the_caret_is_with_repeated_characters(bound: Page) -> None:
    """Typing, Backspace and Delete among identical characters change the right ones."""
    page = bound
    page.evaluate("() => { t.theirText().insert(0, 'aaaa'); t.toMine(); }")
    put_caret(page, 2)
    page.keyboard.type("b")
    assert page.evaluate("() => t.text()") == "aabaa"
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    assert page.evaluate("() => t.text()") == "aaa"
    page.keyboard.press("Delete")
    assert page.evaluate("() => t.text()") == "aa"
    # Their concurrent edits around ours: each "a" we keep is theirs, ours is "b".
    page.keyboard.type("bb")
    page.evaluate("() => { t.theirText().insert(0, 'X'); t.theirText().insert(3, 'Y'); }")
    page.evaluate("() => { t.toTheirs(); t.toMine(); }")
    assert page.evaluate("() => t.text()") == page.evaluate("() => t.theirText().toString()")
    merged = page.evaluate("() => t.text()")
    assert merged.startswith("Xa") and "bb" in merged, merged
    assert sorted(merged) == sorted("XabbaY"), merged
    assert page.evaluate("() => t.field.selectionStart") == merged.index("bb") + 2


def test_undo_takes_back_only_this_fields_edits(bound: Page) -> None:
    page = bound
    page.evaluate("() => { t.theirText().insert(0, 'one '); t.toMine(); }")
    put_caret(page, 4)
    page.keyboard.type("two")
    page.evaluate("() => { t.theirText().insert(4, 'three '); t.toMine(); }")
    page.keyboard.press("Control+z")
    assert page.evaluate("() => t.text()") == "one three "
    page.keyboard.press("Control+Shift+Z")
    assert page.evaluate("() => t.text()") in ("one three two", "one twothree ")
