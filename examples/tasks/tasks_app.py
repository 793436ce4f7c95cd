"""A kanban board's data layer: runs in the browser's engine worker (and on CPython).

Two collections: ``boards`` and ``cards``. A board's document keeps, for each lane, a
Yjs Array of card ids: the order people see, merged like any other edit when two of
them drag cards at once. A card's fields (lane, labels, points, due date) are columns
of ``cards``; ``labels`` is a JSON list queried with SQLite's ``json_each``, and
``points`` and ``due`` (ISO dates) answer range queries.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import humanize

from yloft import Collection, Field, Store, YloftError
from yloft.crdt import Array, Map

__all__ = [
    "add_card",
    "board",
    "cards_due_between",
    "cards_with_label",
    "cards_worth",
    "create_board",
    "due_in_words",
    "label_counts",
    "move_card",
    "open_board",
    "setup",
]

LANES = ("todo", "doing", "done")
BOARD_FIELDS = {"title": Field("board.title", str, index=True)}
CARD_FIELDS = {
    "board": Field("card.board", str, index=True),
    "title": Field("card.title", str, fts=True),
    "lane": Field("card.lane", str, index=True),
    "labels": Field("card.labels", list),
    "points": Field("card.points", int, index=True),
    "due": Field("card.due", str, index=True),
}
CARD_COLUMNS = "id, board, title, lane, labels, points, due"

_store: Store | None = None


class CardError(YloftError, ValueError):
    """A card or board argument is not valid; the message says which and why."""


def setup(store: Store) -> None:
    """Declare the ``boards`` and ``cards`` collections."""
    global _store
    store.collection("boards", BOARD_FIELDS)
    store.collection("cards", CARD_FIELDS)
    _store = store


def _opened() -> Store:
    if _store is None:
        raise YloftError("tasks_app.setup(store) has not been called")
    return _store


def _boards() -> Collection:
    return _opened().collection("boards")


def _cards() -> Collection:
    return _opened().collection("cards")


def _lane(lane: str) -> str:
    if lane not in LANES:
        raise CardError(f"lane {lane!r} does not exist: use one of {', '.join(LANES)}")
    return lane


def _date(value: str | None) -> str | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise CardError(f"due date {value!r} is not a date: use YYYY-MM-DD") from None


def create_board(title: str) -> str:
    """Create a board with empty lanes and return its id."""
    boards = _boards()
    board_id = boards.create()
    with boards.edit(board_id) as doc:
        doc.get("board", type=Map)["title"] = str(title)
        for lane in LANES:
            doc.get(f"lane:{lane}", type=Array)
    return board_id


def open_board(title: str) -> str:
    """The id of the board named ``title``, created empty the first time."""
    rows = _opened().query("SELECT id FROM boards WHERE title = ? ORDER BY id LIMIT 1", (title,))
    return str(rows[0]["id"]) if rows else create_board(title)


def add_card(
    board_id: str,
    title: str,
    lane: str = "todo",
    labels: list[str] | None = None,
    points: int = 0,
    due: str | None = None,
) -> str:
    """Add a card at the bottom of ``lane`` and return its id."""
    title = str(title).strip()
    if not title:
        raise CardError("a card needs a title: type one first")
    lane, due = _lane(lane), _date(due)
    cards = _cards()
    card_id = cards.create()
    with cards.edit(card_id) as doc:
        card = doc.get("card", type=Map)
        card["board"] = board_id
        card["title"] = title
        card["lane"] = lane
        card["points"] = int(points)
        card["labels"] = sorted({str(label).strip() for label in labels or [] if label.strip()})
        if due is not None:
            card["due"] = due
    with _boards().edit(board_id) as doc:
        doc.get(f"lane:{lane}", type=Array).append(card_id)
    return card_id


def move_card(board_id: str, card_id: str, lane: str, index: int) -> None:
    """Move a card to position ``index`` of ``lane`` (same lane: a reorder)."""
    lane = _lane(lane)
    with _boards().edit(board_id) as doc:
        lanes = {name: doc.get(f"lane:{name}", type=Array) for name in LANES}
        found = [(name, list(arr).index(card_id)) for name, arr in lanes.items() if card_id in arr]
        if not found:
            raise CardError(f"card {card_id} is not on board {board_id}")
        for name, at in found:
            lanes[name].pop(at)
        target = lanes[lane]
        target.insert(max(0, min(int(index), len(target))), card_id)
    with _cards().edit(card_id) as doc:
        card = doc.get("card", type=Map)
        if card.get("lane") != lane:
            card["lane"] = lane


def board(board_id: str) -> dict[str, Any]:
    """The board's title and its lanes, each a list of card rows in the board's order
    (with ``due_words``: when it is due, in words)."""
    doc = _boards().get(board_id)
    rows = _opened().query(f"SELECT {CARD_COLUMNS} FROM cards WHERE board = ?", (board_id,))
    by_id = {row["id"]: row | {"due_words": _in_words(row["due"])} for row in rows}
    return {
        "id": board_id,
        "title": doc.get("board", type=Map).get("title", ""),
        "lanes": {
            lane: [by_id[c] for c in doc.get(f"lane:{lane}", type=Array) if c in by_id]
            for lane in LANES
        },
    }


def cards_with_label(label: str) -> list[dict[str, Any]]:
    """Cards carrying ``label``: one row per card, via json_each over the labels list."""
    return _opened().query(
        f"SELECT {CARD_COLUMNS} FROM cards WHERE EXISTS "
        "(SELECT 1 FROM json_each(cards.labels) WHERE json_each.value = ?) ORDER BY title",
        (str(label),),
    )


def label_counts() -> list[dict[str, Any]]:
    """Every label with how many cards carry it, most used first."""
    return _opened().query(
        "SELECT j.value AS label, count(*) AS cards FROM cards, json_each(cards.labels) AS j "
        "GROUP BY j.value ORDER BY cards DESC, label",
        (),
    )


def cards_due_between(start: str, end: str) -> list[dict[str, Any]]:
    """Cards due from ``start`` to ``end`` (ISO dates, both included), soonest first."""
    return _opened().query(
        f"SELECT {CARD_COLUMNS} FROM cards WHERE due BETWEEN ? AND ? ORDER BY due, title",
        (_date(start), _date(end)),
    )


def cards_worth(low: int, high: int) -> list[dict[str, Any]]:
    """Cards whose points lie in ``[low, high]``, largest first."""
    return _opened().query(
        f"SELECT {CARD_COLUMNS} FROM cards WHERE points BETWEEN ? AND ? ORDER BY points DESC",
        (int(low), int(high)),
    )


def due_in_words(card_id: str, today: str | None = None) -> str:
    """When the card is due, as a person says it ("in 3 days", "yesterday"), by humanize."""
    row = _cards().row(card_id)
    return _in_words(row.get("due") if row else None, today)


def _in_words(due_text: str | None, today: str | None = None) -> str:
    if not due_text:
        return "no due date"
    due = dt.date.fromisoformat(due_text)
    now = dt.date.fromisoformat(today) if today else dt.date.today()
    days = (due - now).days
    if days in (-1, 0, 1):
        return {-1: "yesterday", 0: "today", 1: "tomorrow"}[days]
    delta = humanize.naturaldelta(dt.timedelta(days=abs(days)))
    return f"in {delta}" if days > 0 else f"{delta} ago"
