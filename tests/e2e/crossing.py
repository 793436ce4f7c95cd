"""Proof that edits typed "at the same time" crossed: who had seen what when they typed.

``Crossing`` installs an observer on a field (a Y.Text) of the open note's page-side
Y.Doc (``window.openNote.provider.doc``) in every typing page. It logs each transaction
of that field with ``performance.now()`` and the document's state vector (each client's
clock) before and after it: a page's own keystrokes move its own client's clock (one
character, one step), text arriving from another page moves that page's client.

Two claims are checked, both on the order of events, never on durations:

- **Arrived while typing**: in some burst of typing, text from the other side arrived in
  a page after its first keystroke of that burst and before its last one.
- **Crossed**: for every pair of pages, a keystroke of each that the other had not seen
  when it typed its own (concurrent edits, in Yjs's own terms: neither state vector
  covered the other's character). Clocks compared, not clocks of two machines. Not
  claimed (``crossed=False``) for pages that take turns because their driver cannot type
  into two of them at once: interleaved is all that such typing can show.

``type_until_crossed`` types the first words of every page at once, then, while a claim
is still missing, one more word each at once, up to ``limit`` more: on a slow machine
the typing goes on until the edits were seen to cross, rather than asserting on luck.
A page that starts only after the other's text arrived never crosses it, and fails.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Page

RECORD = """(field) => {
  const doc = window.openNote.provider.doc;
  const all = (window.crossings ??= {});
  if (!all[field]) {
    const log = [];
    const state = (m) => Object.fromEntries([...m].map(([c, k]) => [String(c), k]));
    doc.getText(field).observe((_event, tr) => {
      log.push({t: performance.now(), local: tr.local,
                before: state(tr.beforeState), after: state(tr.afterState)});
    });
    all[field] = {me: doc.clientID, log};
  }
  return all[field].me;
}"""
MARK = "(field) => { window.crossings[field].log.push({mark: performance.now()}); }"
LOG = "(field) => window.crossings[field].log"

# (page, text) for every page that types now; types them all at the same time
TypeAtOnce = Callable[[list[tuple[Any, str]]], None]


def keyboards_at_once(typing: list[tuple[Page, str]]) -> None:
    """Playwright pages typing at the same time, with real key events, from one thread.

    Playwright's sync API makes one call at a time; underneath it is its asyncio API,
    whose calls run concurrently: gathered, the driver types into every page at once
    (a key event for one page between those of another).
    """
    if typing:
        keys = [page._impl_obj.keyboard.type(text, delay=None) for page, text in typing]
        typing[0][0]._sync(asyncio.gather(*keys))


def type_at_once(typing: list[tuple[Any, str]]) -> None:
    """Pages of engines.py's browsers typing at the same time, with real key events.

    Chromium's pages (Playwright's, which has one thread) are typed from this thread, all
    at once (``keyboards_at_once``); the pages of every other engine from a thread of
    their own, so two engines type at once. Pages that share a driver (Firefox's one Node
    process, which runs a command at a time; WebKit's WebDriver session, which drives one
    window at a time) take turns, a character each.
    """
    playwright: list[tuple[Page, str]] = []
    kinds: dict[type, list[tuple[Any, str]]] = {}
    for page, text in typing:
        if isinstance(getattr(page, "page", None), Page):
            playwright.append((page.page, text))
        else:
            kinds.setdefault(type(page), []).append((page, text))
    failed: list[BaseException] = []

    def take_turns(pages: list[tuple[Any, str]]) -> None:
        try:
            for i in range(max(len(text) for _, text in pages)):
                for page, text in pages:
                    if i < len(text):
                        page.type(text[i])
        except BaseException as exc:
            failed.append(exc)

    threads = [threading.Thread(target=take_turns, args=(pages,)) for pages in kinds.values()]
    for t in threads:
        t.start()
    try:
        keyboards_at_once(playwright)
    finally:
        for t in threads:
            t.join()
    if failed:
        raise failed[0]


@dataclass(frozen=True)
class Event:
    t: float  # performance.now() in that page
    local: bool
    before: dict[int, int]  # client -> clock
    after: dict[int, int]

    def moved(self, client: int) -> bool:
        return self.after.get(client, 0) > self.before.get(client, 0)


@dataclass
class Typist:
    page: Any  # a Playwright Page or an engines.EnginePage: evaluate(fn, arg)
    name: str
    side: str  # pages of one side do not count as the other side's arrivals
    code: str  # its words are code + a number: "aa00 ", "aa01 ", ...
    me: int = 0  # its client id in the note's document
    typed: int = 0  # words typed so far

    def word(self, i: int) -> str:
        return f"{self.code}{i:02d} "

    @property
    def words(self) -> list[str]:
        return [self.word(i) for i in range(self.typed)]

    def bursts(self, field: str) -> list[list[Event]]:
        out: list[list[Event]] = [[]]  # what came before the first burst, if anything
        for e in self.page.evaluate(LOG, field):
            if "mark" in e:
                out.append([])
            else:
                state = {k: {int(c): n for c, n in e[k].items()} for k in ("before", "after")}
                out[-1].append(Event(e["t"], e["local"], state["before"], state["after"]))
        return out


def arrived_while_typing(me: int, others: set[int], bursts: list[list[Event]]) -> Event | None:
    """An arrival of the others' text between this page's first and last keystroke of one
    burst (``None`` if there is none)."""
    for burst in bursts:
        own = [i for i, e in enumerate(burst) if e.local and e.moved(me)]
        for e in burst[own[0] + 1 : own[-1]] if own else []:
            if not e.local and any(e.moved(c) for c in others):
                return e
    return None


def crossed(a: int, a_log: list[Event], b: int, b_log: list[Event]) -> tuple[Event, Event] | None:
    """A keystroke of ``a`` and one of ``b``, each typed before the other one arrived."""
    own_a = [e for e in a_log if e.local and e.moved(a)]
    own_b = [e for e in b_log if e.local and e.moved(b)]
    for ea in own_a:
        for eb in own_b:
            # ea had seen b's clock up to ea.before[b]: not eb's last character, and back.
            if ea.before.get(b, 0) < eb.after[b] and eb.before.get(a, 0) < ea.after[a]:
                return ea, eb
    return None


class Crossing:
    """Records ``field`` in every typist's page; says which claim is still missing."""

    def __init__(self, typists: Sequence[Typist], field: str, crossed: bool = True) -> None:
        self.typists = list(typists)
        self.field = field
        self.crossed = crossed
        for t in self.typists:
            t.me = int(t.page.evaluate(RECORD, field))
        assert len({t.me for t in self.typists}) == len(self.typists), "shared client ids"

    def type_words(self, type_at_once: TypeAtOnce, n: int) -> None:
        """Every typist types its next ``n`` words, all at the same time (one burst)."""
        for t in self.typists:
            t.page.evaluate(MARK, self.field)
        typing = [(t.page, "".join(t.word(t.typed + i) for i in range(n))) for t in self.typists]
        type_at_once(typing)
        for t in self.typists:
            t.typed += n

    def missing(self) -> list[str]:
        """The claims not shown yet, each with what the pages logged."""
        logs = {t.name: t.bursts(self.field) for t in self.typists}
        out = []
        for t in self.typists:
            others = {o.me for o in self.typists if o.side != t.side}
            if others and arrived_while_typing(t.me, others, logs[t.name]) is None:
                out.append(f"{t.name}: nothing of the other side arrived while it typed")
        for i, a in enumerate(self.typists if self.crossed else []):
            for b in self.typists[i + 1 :]:
                a_log = [e for burst in logs[a.name] for e in burst]
                b_log = [e for burst in logs[b.name] for e in burst]
                if crossed(a.me, a_log, b.me, b_log) is None:
                    out.append(f"{a.name} and {b.name}: each had seen the other's text first")
        if out:
            out.append("logs: " + summary(self.typists, logs))
        return out


def summary(typists: Sequence[Typist], logs: dict[str, list[list[Event]]]) -> str:
    """Per page: its keystrokes, the other side's arrivals, those while it typed (with the
    first one's time and the keystrokes around it, in ms of that page's clock)."""
    parts = []
    for t in typists:
        others = {o.me for o in typists if o.side != t.side}
        own = arrivals = during = 0
        first = ""
        for burst in logs[t.name]:
            mine = [i for i, e in enumerate(burst) if e.local and e.moved(t.me)]
            theirs = [i for i, e in enumerate(burst) if any(e.moved(c) for c in others)]
            inside = [i for i in theirs if mine and mine[0] < i < mine[-1]]
            own, arrivals, during = own + len(mine), arrivals + len(theirs), during + len(inside)
            if inside and not first:
                at = [burst[i].t for i in (mine[0], inside[0], mine[-1])]
                first = " (first at {1:.1f}, keys typed from {0:.1f} to {2:.1f})".format(*at)
        parts.append(
            f"{t.name}: {len(logs[t.name]) - 1} bursts, {own} keystrokes, "
            f"{arrivals} arrivals from the other side, {during} while it typed{first}"
        )
    return "; ".join(parts)


def type_until_crossed(
    crossing: Crossing, type_at_once: TypeAtOnce, first: int, limit: int = 40
) -> None:
    """``first`` words each at once, then one more word each at once while a claim is
    missing (at most ``limit`` times); fails with the logs if the edits never crossed."""
    crossing.type_words(type_at_once, first)
    for _ in range(limit):
        if not crossing.missing():
            logs = {t.name: t.bursts(crossing.field) for t in crossing.typists}
            shown = "crossed" if crossing.crossed else "interleaved"
            print(f"{crossing.field}: {shown}; {summary(crossing.typists, logs)}")
            return
        crossing.type_words(type_at_once, 1)
    missing = crossing.missing()
    assert not missing, "the edits typed at once did not cross:\n" + "\n".join(missing)
