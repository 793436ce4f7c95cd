"""What links relay processes that share one PostgreSQL log: wake-ups and awareness.

A listener thread holds one connection with ``LISTEN yloft_log`` (commit hints
``[space, head, writer_id]`` sent by :mod:`.pg_log` at commit; a process skips its own)
and ``LISTEN yloft_awareness``.
Hints only wake the fan-out up: the rows are always read from the log, and a
periodic poll of the heads (``poll_s``) covers a listener connection that was lost
(NOTIFYs sent while it was down are gone). After each (re)connect the listener
asks for a full poll.

Awareness is never stored: a process publishes each awareness frame it receives
with ``pg_notify('yloft_awareness', …)`` (from a thread of its own) and the other
processes forward it to their peers and rooms. A payload over ``MAX_AWARENESS``
bytes (NOTIFY's limit is 8000) is kept to the process it arrived on, with a warning.

Example (needs a server)::

    cluster = Cluster(url, on_hint=print, on_awareness=print)
    cluster.start()
    cluster.publish_awareness("team", "notes", "n1", b"...")
    cluster.stop()
"""

from __future__ import annotations

import base64
import json
import logging
import queue
import threading
import uuid
from collections.abc import Callable

import psycopg

from .pg_log import CHANNEL, connect

log = logging.getLogger("yloft_relay")
AWARENESS = "yloft_awareness"
MAX_AWARENESS = 5000
"""Largest awareness payload (bytes) sent to other processes."""

Hint = Callable[[str | None, int], object]
"""``(space, head)``; ``(None, 0)`` asks for a poll of every loaded space."""
AwarenessSink = Callable[[str, str, str, bytes], object]


class Cluster:
    """Listener and awareness publisher of one relay process."""

    def __init__(
        self, url: str, on_hint: Hint, on_awareness: AwarenessSink, own_writer: str = ""
    ) -> None:
        self.url = url
        self.own_writer = own_writer
        """This process's ``PgLog.writer_id``: its own commit hints are skipped (the
        fan-out has those results already); hints without one (older relays) are not."""
        self.proc_id = uuid.uuid4().hex
        self.on_hint = on_hint
        self.on_awareness = on_awareness
        self.listening = False
        self.reconnects = 0
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._out: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._listen, name="yloft-relay-listen", daemon=True),
            threading.Thread(target=self._publish, name="yloft-relay-publish", daemon=True),
        ]

    def start(self, timeout: float = 5.0) -> None:
        """Start the threads; wait (up to ``timeout``) until the listener is connected."""
        for t in self._threads:
            t.start()
        self._connected.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        self._out.put(None)
        for t in self._threads:
            t.join(5)

    def publish_awareness(self, space: str, collection: str, doc_id: str, payload: bytes) -> None:
        """Send an awareness frame to the other processes (never stored)."""
        if len(payload) > MAX_AWARENESS:
            log.warning("awareness of %d bytes stays on this relay process", len(payload))
            return
        b64 = base64.b64encode(payload).decode()
        self._out.put(json.dumps([self.proc_id, space, collection, doc_id, b64]))

    # ------------------------------------------------------------ threads

    def _listen(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            try:
                with connect(self.url, application_name="yloft-listener") as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    conn.execute(f"LISTEN {AWARENESS}")
                    self.listening = True
                    self._connected.set()
                    backoff = 0.1
                    self.on_hint(None, 0)  # whatever was sent while not listening
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            self._dispatch(note.channel, note.payload)
            except (OSError, psycopg.Error) as exc:
                if self.listening:
                    log.warning("relay listener connection lost (%s); reconnecting", exc)
                self.listening = False
                self.reconnects += 1
                self._stop.wait(backoff)
                backoff = min(5.0, backoff * 2)
        self.listening = False

    def _dispatch(self, channel: str, payload: str) -> None:
        try:
            if channel == CHANNEL:
                space, head, *writer = json.loads(payload)
                if not (writer and writer[0] == self.own_writer):
                    self.on_hint(str(space), int(head))
            elif channel == AWARENESS:
                proc, space, collection, doc_id, b64 = json.loads(payload)
                if proc != self.proc_id:
                    self.on_awareness(space, collection, doc_id, base64.b64decode(b64))
        except (ValueError, TypeError) as exc:
            log.warning("ignoring a malformed %s notification: %s", channel, exc)

    def _publish(self) -> None:
        conn: psycopg.Connection[object] | None = None
        while True:
            item = self._out.get()
            if item is None:
                break
            try:
                if conn is None or conn.closed:
                    conn = connect(self.url, application_name="yloft-publisher")
                conn.execute("SELECT pg_notify(%s, %s)", (AWARENESS, item))
            except (OSError, psycopg.Error) as exc:
                log.info("awareness not sent to other relay processes: %s", exc)
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()
