"""Documents the page holds as its own ``Y.Doc``: one link per ``db.doc()`` provider.

The page (``web/yloft.js``, ``DocProvider``) keeps a Yjs document in sync with the
engine's copy of one stored document. This module is the engine's side of that link:

- :meth:`PageDocs.open` checks the document exists and returns its whole state, which
  the page applies to its ``Y.Doc`` before it says it is synced;
- :meth:`PageDocs.apply` commits an update the page made (keystrokes, a binding's
  edits) with no origin, exactly like an edit made in Python: it is durable, extracted
  into columns and FTS, shown to live queries, sent to other tabs and to the relay;
- every other change to an open document (another tab, another device, the app's
  Python functions) reaches the page through ``push(link, update)``, called after the
  commit. The page's own update is not echoed back to the link it came from.

No I/O and no ``js`` import: the engine worker passes a ``push`` callable that posts to
the page, so this runs on CPython too.

Example:
    >>> from yloft import Store
    >>> from yloft.crdt import Map
    >>> store = Store(":memory:")
    >>> notes = store.collection("notes", {})
    >>> nid = notes.create()
    >>> pushed = []
    >>> docs = PageDocs(store, lambda link, update: pushed.append(link))
    >>> link, state = docs.open("notes", nid)
    >>> with notes.edit(nid) as doc:
    ...     doc.get("meta", type=Map)["title"] = "Milk"
    >>> pushed == [link]
    True
    >>> docs.close(link)
    True
    >>> store.close()
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import DocumentDeletedError, UnknownCollectionError, YloftError
from ..store import Store

Push = Callable[[int, bytes], None]
"""``push(link, update)``: send a Yjs update to the page's document of that link."""


class UnknownLinkError(YloftError, LookupError):
    """The page named a document link that is not open (closed, or never opened)."""


class PageDocs:
    """The engine's side of the page's open documents.

    Args:
        store: the store the documents live in.
        push: how an update reaches the page (called after each commit that changed an
            open document).
    """

    def __init__(self, store: Store, push: Push) -> None:
        self._push = push
        self._links: dict[int, tuple[str, str]] = {}
        self._by_doc: dict[tuple[str, str], set[int]] = {}
        self._next = 1
        self._source: int | None = None
        self.store = store
        self._remove_hook = store.on_update(self._on_update)

    def __len__(self) -> int:
        return len(self._links)

    def open_documents(self) -> list[tuple[str, str, int]]:
        """``(collection, doc_id, links)`` of every document a page holds open, in order."""
        return sorted((c, d, len(links)) for (c, d), links in self._by_doc.items())

    def open(self, collection: str, doc_id: str) -> tuple[int, bytes]:
        """Link the page to a stored document; returns ``(link, whole state update)``.

        Raises:
            UnknownCollectionError: no collection of that name is declared.
            DocumentNotFoundError: the collection holds no such document.
            DocumentDeletedError: the document was deleted.
        """
        if not isinstance(collection, str):
            raise UnknownCollectionError(
                f"collection must be a str, not {type(collection).__name__}"
            )
        coll = self.store.collection(collection)
        state = coll.get_update(doc_id)
        if coll.deleted(doc_id):
            raise DocumentDeletedError(
                f"document {collection}/{doc_id} was deleted; open another document"
            )
        link = self._next
        self._next += 1
        self._links[link] = (collection, doc_id)
        self._by_doc.setdefault((collection, doc_id), set()).add(link)
        return link, state

    def apply(self, link: int, update: bytes) -> None:
        """Commit an update the page made to the document of ``link``.

        Raises:
            UnknownLinkError: the link is not open.
            MalformedUpdateError: the bytes are not a Yjs update (nothing is stored).
        """
        collection, doc_id = self._ident(link)
        self.apply_to(collection, doc_id, update, int(link))

    def apply_to(self, collection: str, doc_id: str, update: bytes, source: int = 0) -> None:
        """Commit a page's update to ``collection/doc_id``; every open link but
        ``source`` gets it (a tab's kept update, resent to a new writer, has no link).

        Raises:
            UnknownCollectionError: no collection of that name is declared.
            MalformedUpdateError: the bytes are not a Yjs update (nothing is stored).
        """
        self._source = source or None
        try:
            self.store.apply_update(collection, doc_id, update)
        finally:
            self._source = None

    def close(self, link: int) -> bool:
        """Unlink; returns False when the link was not open."""
        ident = self._links.pop(link, None)
        if ident is None:
            return False
        links = self._by_doc.get(ident)
        if links is not None:
            links.discard(link)
            if not links:
                del self._by_doc[ident]
        return True

    def detach(self) -> None:
        """Stop watching the store and forget every link."""
        self._remove_hook()
        self._links.clear()
        self._by_doc.clear()

    def _ident(self, link: int) -> tuple[str, str]:
        try:
            return self._links[int(link)]
        except (KeyError, TypeError, ValueError):
            raise UnknownLinkError(
                f"no open document link {link!r}; open the document with db.doc() again"
            ) from None

    def _on_update(self, collection: str, doc_id: str, update: bytes, origin: str | None) -> None:
        for link in sorted(self._by_doc.get((collection, doc_id), ())):
            if link != self._source:
                self._push(link, update)


__all__ = ["PageDocs", "Push", "UnknownLinkError"]
