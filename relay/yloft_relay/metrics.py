"""``/metrics`` (Prometheus text format) and ``/healthz`` of one relay process.

Metrics, one registry per :class:`~.server.Relay` (several relays can share a
Python process in tests):

- ``yloft_relay_connections`` — open websocket connections (space peers and rooms);
- ``yloft_relay_spaces`` — spaces loaded on this process;
- ``yloft_relay_pushes_total`` — pushes committed (``rate()`` gives pushes/s);
- ``yloft_relay_commit_seconds`` — histogram of one batch's commit time;
- ``yloft_relay_fanout_lag`` — seqs committed (by any process) not yet fanned out here;
- ``yloft_relay_fanout_lag_seconds`` — histogram, from a NOTIFY/poll hint to delivery;
- ``yloft_relay_listener_up`` — 1 while the PostgreSQL listener connection is up.

``/healthz`` answers 200 ``ok`` while the last commit succeeded (and, on
PostgreSQL, the listener is up), 503 with the reason otherwise.

Example:
    >>> m = Metrics(None)
    >>> m.batch(0.002, 3)
    >>> b"yloft_relay_pushes_total 3.0" in m.render()
    True
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


class Metrics:
    """The relay's counters; ``relay`` is read lazily when rendering (None in tests)."""

    def __init__(self, relay: Any) -> None:
        self.relay = relay
        self.registry = r = CollectorRegistry(auto_describe=True)
        self.pushes = Counter("yloft_relay_pushes", "Pushes committed", registry=r)
        self.commit = Histogram("yloft_relay_commit_seconds", "Commit time of one batch",
                                buckets=BUCKETS, registry=r)  # fmt: skip
        self.fanout_lag = Histogram("yloft_relay_fanout_lag_seconds",
                                    "From a commit hint of another process to delivery here",
                                    buckets=BUCKETS, registry=r)  # fmt: skip
        conns = Gauge("yloft_relay_connections", "Open websocket connections", registry=r)
        conns.set_function(lambda: self._count("connections"))
        spaces = Gauge("yloft_relay_spaces", "Spaces loaded on this process", registry=r)
        spaces.set_function(lambda: self._count("spaces"))
        lag = Gauge("yloft_relay_fanout_lag", "Seqs committed, not yet fanned out", registry=r)
        lag.set_function(lambda: self._count("lag"))
        up = Gauge("yloft_relay_listener_up", "PostgreSQL listener connected", registry=r)
        up.set_function(lambda: self._count("listener"))

    def batch(self, seconds: float, pushes: int) -> None:
        """A batch committed (from the writer thread)."""
        self.commit.observe(seconds)
        self.pushes.inc(pushes)

    def _count(self, what: str) -> float:
        relay = self.relay
        if relay is None:
            return 0.0
        spaces = list(relay.spaces.values())
        if what == "connections":
            return float(sum(len(s.peers) + sum(map(len, s.rooms.values())) for s in spaces))
        if what == "spaces":
            return float(len(spaces))
        if what == "lag":
            return float(relay.fanout.lag())
        cluster = relay.cluster
        return 1.0 if cluster is None or cluster.listening else 0.0

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)

    def health(self) -> tuple[bool, str]:
        """``(healthy, reason)``."""
        writer = getattr(self.relay, "_writer", None)
        if writer is not None and writer.failed:
            return False, "the last commit to the log failed"
        if self._count("listener") == 0.0:
            return False, "the PostgreSQL listener is reconnecting"
        return True, "ok"
