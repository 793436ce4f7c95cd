"""yloft.crdt._fast.new_doc: the store's cheaper pycrdt Doc behaves like Doc()."""

from __future__ import annotations

import threading

import anyio
import pycrdt

from yloft.crdt import Map, Text
from yloft.crdt._fast import new_doc


def test_it_is_a_pycrdt_doc_with_the_same_state() -> None:
    doc = new_doc()
    assert isinstance(doc, pycrdt.Doc)
    assert type(doc) is not pycrdt.Doc  # the fast one is in use with this pycrdt
    assert set(vars(doc)) | {"_txn_async_lock"} == set(vars(pycrdt.Doc()))
    with doc.transaction():
        doc.get("m", type=Map)["k"] = "v"
        doc.get("t", type=Text).insert(0, "hé")
    copy = pycrdt.Doc()
    copy.apply_update(doc.get_update())
    assert copy.get("m", type=Map).to_py() == {"k": "v"} and str(copy.get("t", type=Text)) == "hé"
    assert new_doc().client_id != doc.client_id


def test_async_transactions_get_their_lock_on_first_use() -> None:
    doc = new_doc()
    seen: list[bytes] = []
    doc.observe(lambda e: seen.append(e.update))

    async def main() -> None:
        async with doc.new_transaction():
            doc.get("m", type=Map)["a"] = 1
        async with doc.new_transaction():
            doc.get("m", type=Map)["b"] = 2

    # In a thread of its own: after the browser tests, Playwright's sync API leaves an
    # event loop running in this one, where anyio.run() is refused.
    errors: list[BaseException] = []

    def run() -> None:
        try:
            anyio.run(main)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive() and not errors, errors
    assert doc.get("m", type=Map).to_py() == {"a": 1.0, "b": 2.0}
    assert len(seen) == 2
