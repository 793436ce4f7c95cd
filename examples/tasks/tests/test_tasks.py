"""The tasks example's tests, run with `yloft test examples/tasks` like any app's."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from yloft.testing import AppCallError, Call, reload_app

# db.call passes positional arguments only, so these calls do too:
# add_card(board, title, lane, labels, points, due).


def titles(rows: list[dict[str, object]]) -> list[object]:
    return [row["title"] for row in rows]


def test_cards_keep_the_order_they_were_moved_to(yloft_call: Call) -> None:
    b = yloft_call("create_board", "Garden")
    a1 = yloft_call("add_card", b, "Dig")
    a2 = yloft_call("add_card", b, "Sow")
    a3 = yloft_call("add_card", b, "Water")
    yloft_call("move_card", b, a3, "todo", 0)  # reorder inside the lane
    yloft_call("move_card", b, a1, "doing", 0)  # and to another lane
    lanes = yloft_call("board", b)["lanes"]
    assert titles(lanes["todo"]) == ["Water", "Sow"]
    assert titles(lanes["doing"]) == ["Dig"]
    assert [r["lane"] for r in lanes["doing"]] == ["doing"]
    assert a2 in [r["id"] for r in lanes["todo"]]


def test_labels_are_queried_with_json_each(yloft_call: Call) -> None:
    b = yloft_call("create_board", "Home")
    yloft_call("add_card", b, "Paint", "todo", ["house", "weekend"])
    yloft_call("add_card", b, "Fix tap", "todo", ["house"])
    yloft_call("add_card", b, "Hike", "doing", ["weekend", "outside"])
    assert titles(yloft_call("cards_with_label", "house")) == ["Fix tap", "Paint"]
    assert yloft_call("label_counts")[:2] == [
        {"label": "house", "cards": 2},
        {"label": "weekend", "cards": 2},
    ]


def test_points_and_due_dates_answer_range_queries(yloft_call: Call) -> None:
    b = yloft_call("create_board", "Sprint")
    yloft_call("add_card", b, "Small", "todo", [], 1, "2026-03-02")
    yloft_call("add_card", b, "Medium", "todo", [], 3, "2026-03-10")
    yloft_call("add_card", b, "Large", "done", [], 8, "2026-04-01")
    assert titles(yloft_call("cards_worth", 2, 8)) == ["Large", "Medium"]
    assert titles(yloft_call("cards_due_between", "2026-03-01", "2026-03-31")) == [
        "Small",
        "Medium",
    ]


def test_due_dates_in_words_come_from_humanize(yloft_call: Call) -> None:
    b = yloft_call("create_board", "Trip")
    card = yloft_call("add_card", b, "Pack", "todo", [], 0, "2026-03-10")
    assert yloft_call("due_in_words", card, "2026-03-07") == "in 3 days"
    assert yloft_call("due_in_words", card, "2026-03-11") == "yesterday"


def test_bad_input_is_refused_with_what_to_do(yloft_call: Call) -> None:
    b = yloft_call("create_board", "X")
    with pytest.raises(AppCallError, match="use YYYY-MM-DD"):
        yloft_call("add_card", b, "Late", "todo", [], 0, "next week")
    with pytest.raises(AppCallError, match="use one of todo, doing, done"):
        yloft_call("add_card", b, "Where", "someday")


def test_a_card_added_and_moved_in_the_page_stays_after_a_reload(yloft_page: Page) -> None:
    page = yloft_page
    page.get_by_label("Card title").press_sequentially("Prune roses")
    page.get_by_label("Labels", exact=True).press_sequentially("garden, spring")
    page.get_by_label("Points").fill("3")
    page.get_by_role("button", name="Add card").click()
    todo = page.get_by_role("list", name="todo")
    expect(todo.get_by_role("listitem")).to_have_count(1)
    expect(todo).to_contain_text("Prune roses")
    page.get_by_role("button", name="Move Prune roses right").click()
    doing = page.get_by_role("list", name="doing")
    expect(doing).to_contain_text("Prune roses")
    expect(todo.get_by_role("listitem")).to_have_count(0)
    reload_app(page)
    expect(page.get_by_role("list", name="doing")).to_contain_text("Prune roses")
    expect(page.get_by_role("list", name="doing")).to_contain_text("#garden #spring · 3 pts")
