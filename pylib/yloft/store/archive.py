"""Export and import: a whole store in one versioned, checksummed file.

The file holds every document's whole Yjs state (deleted documents too: their
tombstone is part of the state), each collection's declared schema, the updates held
for collections the store has not declared, and a little metadata. Importing *merges*:
each state is applied as a Yjs update, so importing a file twice changes nothing the
second time, and importing into a store with its own edits keeps both sides.

Layout (docs/export.md has the full description)::

    MAGIC                      17 bytes, b"\\x89yloft-export\\r\\n\\x1a\\n"
    varuint format version     1
    bytes   metadata           UTF-8 JSON: yloft version, time, collections, counts
    varuint record count
    record*                    varuint kind (1 document, 2 held update),
                               str collection, str id, bytes Yjs v1 update
    32 bytes                   SHA-256 of everything before it

(varuint is LEB128; bytes and str are a varuint length then the bytes.) A file is
read whole and checked before anything is written: a damaged, truncated or foreign
file raises :class:`ArchiveError` and leaves the store exactly as it was.

Example:
    >>> from yloft import Store, Field
    >>> from yloft.crdt import Map
    >>> a, b = Store(":memory:"), Store(":memory:")
    >>> notes = a.collection("notes", {"title": Field("meta.title", str)})
    >>> with notes.edit(notes.create()) as doc:
    ...     doc.get("meta", type=Map)["title"] = "Buy milk"
    >>> data = encode_store(a)
    >>> import_bytes(b, data)
    ImportReport(documents=1, changed=1, held=0, collections_declared=('notes',))
    >>> import_bytes(b, data).changed
    0
    >>> b.query("SELECT title FROM notes", ())
    [{'title': 'Buy milk'}]
    >>> a.close(); b.close()
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
import time
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .._version import __version__
from ..crdt import Doc
from ..errors import ArchiveError, ProtocolError, SchemaError
from ..schema import CollectionSchema, check_collection_name
from ..wire import Reader, write_bytes, write_str, write_varuint
from .collection import Collection
from .feed import Feed

MAGIC = b"\x89yloft-export\r\n\x1a\n"
FORMAT_VERSION = 1
DIGEST_BYTES = 32
KIND_DOCUMENT = 1
KIND_HELD = 2
MAX_ID_BYTES = 256


@dataclass(frozen=True, slots=True)
class Record:
    """One document's whole state (``held``: an update for an undeclared collection)."""

    collection: str
    doc_id: str
    update: bytes
    held: bool = False


@dataclass(frozen=True, slots=True)
class Archive:
    """A decoded export file."""

    meta: dict[str, Any]
    schemas: dict[str, CollectionSchema]
    records: tuple[Record, ...]


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did: documents in the file, how many changed, declarations made."""

    documents: int
    changed: int
    held: int
    collections_declared: tuple[str, ...]


class ArchiveStore(Protocol):
    """What export and import use of a :class:`yloft.Store` (this module sits below it)."""

    feed: Feed

    def atomic(self) -> AbstractContextManager[None]: ...
    def collections(self) -> list[str]: ...
    def collection(self, name: str, fields: Mapping[str, Any] | None = None) -> Collection: ...
    def get_update(self, collection: str, doc_id: str, state: bytes | None = None) -> bytes: ...
    def held_updates(self) -> list[tuple[str, str, bytes]]: ...
    def hold_update(
        self, collection: str, doc_id: str, update: bytes, *, origin: str | None = None
    ) -> None: ...
    def apply_update(
        self, collection: str, doc_id: str, update: bytes, *, origin: str | None = None
    ) -> None: ...


# ------------------------------------------------------------------ the file format


def encode(archive: Archive) -> bytes:
    """The bytes of an export file (see the module docstring for the layout)."""
    out = bytearray(MAGIC)
    write_varuint(out, FORMAT_VERSION)
    meta = dict(archive.meta)
    meta["collections"] = {n: json.loads(s.to_json()) for n, s in archive.schemas.items()}
    meta["documents"] = sum(1 for r in archive.records if not r.held)
    meta["held"] = sum(1 for r in archive.records if r.held)
    write_bytes(out, json.dumps(meta, sort_keys=True).encode("utf-8"))
    write_varuint(out, len(archive.records))
    for rec in archive.records:
        write_varuint(out, KIND_HELD if rec.held else KIND_DOCUMENT)
        write_str(out, rec.collection)
        write_str(out, rec.doc_id, MAX_ID_BYTES)
        write_bytes(out, rec.update)
    out += hashlib.sha256(out).digest()
    return bytes(out)


def decode(data: bytes) -> Archive:
    """Check and decode an export file.

    Raises:
        ArchiveError: not an export file, damaged or truncated (checksum), made by a
            newer yloft, or structurally invalid. The message says which.
    """
    data = bytes(data)
    if not data.startswith(MAGIC):
        raise ArchiveError(
            "this is not a yloft export file (its first bytes are not the export "
            "signature); choose a file written by export_to() or db.exportFile()"
        )
    if len(data) < len(MAGIC) + DIGEST_BYTES + 1:
        raise ArchiveError("the export file is truncated; export it again")
    if hashlib.sha256(memoryview(data)[:-DIGEST_BYTES]).digest() != data[-DIGEST_BYTES:]:
        raise ArchiveError(
            "the export file is damaged or truncated (its SHA-256 checksum does not "
            "match); nothing was imported: use an intact copy"
        )
    r = Reader(data[len(MAGIC) : -DIGEST_BYTES])
    try:
        version = r.read_varuint()
        if version != FORMAT_VERSION:
            raise ArchiveError(
                f"the export file has format version {version}; this yloft reads version "
                f"{FORMAT_VERSION}: upgrade yloft to import it"
            )
        meta = json.loads(r.read_bytes().decode("utf-8"))
        if not isinstance(meta, dict) or not isinstance(meta.get("collections"), dict):
            raise ArchiveError("the export file's metadata is not a JSON object with collections")
        schemas = {
            check_collection_name(name): CollectionSchema.from_json(name, json.dumps(fields))
            for name, fields in meta["collections"].items()
        }
        records = []
        for _ in range(r.read_varuint()):
            kind = r.read_varuint()
            if kind not in (KIND_DOCUMENT, KIND_HELD):
                raise ArchiveError(f"the export file holds a record of unknown kind {kind}")
            coll, doc_id = check_collection_name(r.read_str()), r.read_str(MAX_ID_BYTES)
            records.append(Record(coll, doc_id, r.read_bytes(), kind == KIND_HELD))
        r.expect_end()
    except (ProtocolError, SchemaError, ValueError, TypeError, KeyError) as exc:
        if isinstance(exc, ArchiveError):
            raise
        raise ArchiveError(f"the export file is not valid ({exc}); nothing was imported") from exc
    return Archive(meta, schemas, tuple(records))


# ------------------------------------------------------------------ stores


def snapshot(store: ArchiveStore) -> Archive:
    """Everything of ``store`` that an export carries, read in one consistent view."""
    with store.atomic():  # one read transaction: no write lands between the reads
        schemas = {name: store.collection(name).schema for name in store.collections()}
        records = [
            Record(coll, doc_id, store.get_update(coll, doc_id))
            for _, coll, doc_id in store.feed.document_seqs()
        ]
        records += [Record(c, i, u, held=True) for c, i, u in store.held_updates()]
    meta = {"yloft": __version__, "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    return Archive(meta, schemas, tuple(records))


def encode_store(store: ArchiveStore) -> bytes:
    """The export file of ``store``, as bytes."""
    return encode(snapshot(store))


def import_bytes(store: ArchiveStore, data: bytes) -> ImportReport:
    """Merge an export file into ``store``, all or nothing.

    Collections the store has not declared are declared as the file describes them;
    a collection the store declares keeps its own declaration (the app's code wins)
    and the file's documents are merged into it.

    Raises:
        ArchiveError: the file is refused (see :func:`decode`), or one of its
            documents is not a valid Yjs update. The store is left as it was.
    """
    archive = decode(data)
    for rec in archive.records:  # every state must apply before anything is written
        try:
            Doc().apply_update(rec.update)
        except Exception as exc:
            raise ArchiveError(
                f"document {rec.collection}/{rec.doc_id} in the export file is not a valid "
                f"Yjs update ({exc}); nothing was imported"
            ) from exc
    declared = set(store.collections())
    new = tuple(sorted(set(archive.schemas) - declared))
    before = store.feed.head()
    with store.atomic():
        for name in new:
            store.collection(name, dict(archive.schemas[name].fields))
        for rec in archive.records:
            if rec.held and rec.collection not in archive.schemas:
                store.hold_update(rec.collection, rec.doc_id, rec.update)
            else:
                store.apply_update(rec.collection, rec.doc_id, rec.update)
    changed = len({(coll, doc_id) for _, coll, doc_id, _ in store.feed.changes(before)})
    held = sum(1 for r in archive.records if r.held)
    return ImportReport(len(archive.records) - held, changed, held, new)


def write_file(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (a temporary file renamed over it)."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ------------------------------------------------------------------ columns


def rows_csv(store: ArchiveStore, collection: str) -> str:
    """A collection's rows (id, declared columns, timestamps) as CSV with a header."""
    cols, rows = _rows(store, collection)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(cols)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return buf.getvalue()


def _csv_cell(value: Any) -> Any:
    """A cell as spreadsheets read it: lists and objects as JSON, booleans as true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value


def rows_json(store: ArchiveStore, collection: str) -> str:
    """A collection's rows as a JSON array of objects (list fields as lists)."""
    cols, rows = _rows(store, collection)
    return json.dumps([dict(zip(cols, row, strict=True)) for row in rows], ensure_ascii=False)


def _rows(store: ArchiveStore, collection: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    coll = store.collection(collection)
    cols = coll.schema.columns()
    rows = [coll.row(doc_id) for doc_id in coll.ids()]
    return cols, [tuple(row[c] for c in cols) for row in rows if row is not None]
