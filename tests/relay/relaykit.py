"""Small raw clients of the space protocol for the relay tests."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pycrdt
from websockets.asyncio.client import ClientConnection, connect

from yloft import Field, Store
from yloft.crdt import Map, Text
from yloft.sync import protocol as p

TEAM = ("team", "secret-team")
OTHER = ("other", "secret-other")


OPEN: list[ClientConnection] = []


async def open_ws(url: str, **kw: Any) -> ClientConnection:
    """``connect`` that ``run`` closes at the end, whatever happens."""
    ws = await connect(url, compression=None, **kw)
    OPEN.append(ws)
    return ws


def run(coro: Coroutine[Any, Any, Any], timeout: float = 120) -> Any:
    """Run a coroutine to completion with an overall timeout; close its sockets after."""

    async def main() -> Any:
        try:
            return await asyncio.wait_for(coro, timeout)
        finally:
            while OPEN:
                ws = OPEN.pop()
                ws.transport.resume_reading()
                await ws.close()
                await ws.wait_closed()

    # In a thread of its own: in a full test run, Playwright's sync API (tests/e2e) keeps
    # an event loop running in the main thread, where asyncio.run() is refused.
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="relaykit") as pool:
        return pool.submit(asyncio.run, main()).result()


def text_update(text: str, doc: pycrdt.Doc | None = None) -> bytes:
    """A Yjs update appending ``text`` to root Text ``t`` of ``doc`` (a new doc if None)."""
    doc = doc or pycrdt.Doc()
    t = doc.get("t", type=pycrdt.Text)
    before = doc.get_state()
    t += text
    return doc.get_update(before)


async def recv(ws: ClientConnection, timeout: float = 20) -> p.Message:
    frame = await asyncio.wait_for(ws.recv(), timeout)
    assert isinstance(frame, bytes)
    return p.decode(frame)


class Session:
    """An authenticated connection: welcome, catch-up entries, then live traffic."""

    def __init__(self, ws: ClientConnection, welcome: p.Welcome, entries: list[p.Entry]) -> None:
        self.ws = ws
        self.welcome = welcome
        self.entries = entries
        self.through = 0
        self.access = p.Access(True, 0)

    @classmethod
    async def open(
        cls,
        url: str,
        space: tuple[str, str] = TEAM,
        client_id: str = "c1",
        last_seq: int = 0,
        relay_id: str = "",
        **connect_kw: Any,
    ) -> Session:
        ws = await open_ws(url, max_size=None, **connect_kw)
        await ws.send(p.encode(p.Hello(space[0], space[1], client_id, last_seq, relay_id)))
        welcome = await recv(ws)
        access = p.Access(True, 0)
        if isinstance(welcome, p.Access):  # protocol version 2: what this link may do
            access, welcome = welcome, await recv(ws)
        assert isinstance(welcome, p.Welcome), welcome
        entries: list[p.Entry] = []
        while True:
            msg = await recv(ws)
            assert isinstance(msg, p.Catchup), msg
            entries += msg.entries
            if msg.done:
                break
        s = cls(ws, welcome, entries)
        s.through = msg.through_seq
        s.access = access
        return s

    async def push(self, msg_id: int, collection: str, doc_id: str, update: bytes) -> None:
        await self.ws.send(p.encode(p.Push(msg_id, collection, doc_id, update)))

    async def recv(self, timeout: float = 20) -> p.Message:
        return await recv(self.ws, timeout)

    async def close(self) -> None:
        await self.ws.close()


def docs_from(entries: list[p.Entry]) -> dict[tuple[str, str], pycrdt.Doc]:
    """Apply entries to one pycrdt Doc per (collection, doc_id)."""
    docs: dict[tuple[str, str], pycrdt.Doc] = {}
    for e in entries:
        docs.setdefault((e.collection, e.doc_id), pycrdt.Doc()).apply_update(e.update)
    return docs


def text_of(doc: pycrdt.Doc) -> str:
    return str(doc.get("t", type=pycrdt.Text))


FIELDS = {"title": Field("meta.title", str, index=True), "body": Field("body", str, fts=True)}


def open_store(path: Path) -> Store:
    store = Store(path)
    store.collection("notes", FIELDS)
    return store


def edit(store: Store, nid: str, title: str | None = None, append: str = "") -> None:
    with store.collection("notes", FIELDS).edit(nid) as doc:
        if title is not None:
            doc.get("meta", type=Map)["title"] = title
        if append:
            body = doc.get("body", type=Text)
            body.insert(len(str(body)), append)


def rows(store: Store) -> list[dict[str, Any]]:
    return store.query("SELECT id, title, body FROM notes ORDER BY id", ())


async def until(pred: Any, timeout: float = 30) -> None:
    async def loop() -> None:
        while not pred():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(loop(), timeout)
