"""``python -m yloft_relay --host 127.0.0.1 --port 8765 --db relay.db --tokens team=secret``.

``--tokens`` takes ``space=token[,space2=token2]`` or ``@file`` (one ``space=token``
per line). ``--jwt-key KID=PATH`` (repeatable) accepts signed tokens, ``--auth
module:function`` names a decision hook (docs/auth.md); give at least one of the three.
``--static DIR`` also serves DIR over plain HTTP on the same port. ``--loop`` picks the
event loop: uvloop when it is installed (``pip install "yloft[relay]"``; it cut the
relay's CPU per delivered message and its latency under the bench load, see
docs/performance.md), else asyncio's own.
Prints ``yloft relay listening on HOST:PORT`` once it accepts connections.

``python -m yloft_relay token --key KID=PATH --space S --user U …`` prints a signed
token instead (:mod:`yloft_relay.tokens`); ``python -m yloft_relay backup --db relay.db
OUT`` copies a running relay's log (:mod:`yloft_relay.backup`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from .auth import DEFAULT_AUDIENCE, Gate, KeyRing, load_hook, load_key
from .config import ConfigError, Limits, TokenBook
from .server import Relay
from .storage import StorageUnavailable


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m yloft_relay", description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--db", required=True, help="log: a SQLite file, or postgresql://… (cluster)")
    ap.add_argument("--tokens", default=None, help="space=token[,...] or @file")
    ap.add_argument("--jwt-key", action="append", default=[], metavar="KID=PATH",
                    help="accept tokens signed with this key (HS256 secret or PEM public"
                    " key, EdDSA/ES256); repeatable, for rotation")  # fmt: skip
    ap.add_argument("--jwt-audience", default=DEFAULT_AUDIENCE, help="required 'aud' claim")
    ap.add_argument("--auth", default=None, metavar="MODULE:FUNCTION",
                    help="decision hook: AuthRequest -> Grant or None (docs/auth.md)")  # fmt: skip
    ap.add_argument("--static", type=Path, default=None, help="also serve this directory")
    ap.add_argument("--max-frame", type=int, default=Limits.max_frame_bytes)
    ap.add_argument("--max-pending", type=int, default=Limits.max_pending_bytes)
    ap.add_argument("--rate", type=float, default=Limits.rate_per_s, help="messages/s")
    ap.add_argument("--burst", type=float, default=Limits.rate_burst)
    ap.add_argument("--compact-after", type=int, default=Limits.compact_after)
    ap.add_argument("--poll", type=float, default=Limits.poll_s,
                    help="PostgreSQL: seconds between head polls besides NOTIFY")  # fmt: skip
    ap.add_argument("--opaque-updates", action="store_true",
                    help="store updates without reading them (clients that encrypt or"
                    " compress them): no Yjs check, merging, compaction or rooms")  # fmt: skip
    ap.add_argument("--loop", choices=["auto", "uvloop", "asyncio"], default="auto",
                    help="event loop: auto = uvloop when installed, else asyncio's")  # fmt: skip
    ap.add_argument("--log-level", default="INFO")
    return ap.parse_args(argv)


def loop_factory(choice: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop ``--loop`` asks for (None: asyncio's default).

    Raises:
        ConfigError: ``--loop uvloop`` without uvloop installed.
    """
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise ConfigError(
                '--loop uvloop: uvloop is not installed; pip install "yloft[relay]"'
            ) from None
        return None
    return uvloop.new_event_loop


def make_gate(args: argparse.Namespace) -> Gate:
    """The relay's gate from ``--tokens``, ``--jwt-key`` and ``--auth``.

    Raises:
        ConfigError: none of them given, or one is unusable.
    """
    tokens = TokenBook.parse(args.tokens) if args.tokens is not None else None
    keys = [load_key(spec) for spec in args.jwt_key]
    ring = KeyRing(keys, args.jwt_audience) if keys else None
    hook = load_hook(args.auth) if args.auth is not None else None
    return Gate(tokens, ring, hook)


async def run(args: argparse.Namespace) -> None:
    limits = Limits(
        max_frame_bytes=args.max_frame,
        max_pending_bytes=args.max_pending,
        rate_per_s=args.rate,
        rate_burst=args.burst,
        compact_after=args.compact_after,
        poll_s=args.poll,
        opaque_updates=args.opaque_updates,
    )
    relay = Relay(
        args.db,
        make_gate(args),
        host=args.host,
        port=args.port,
        limits=limits,
        static_root=args.static,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with relay:
        kind = "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio"
        logging.getLogger("yloft_relay").info("event loop: %s", kind)
        print(f"yloft relay listening on {args.host}:{relay.port}", flush=True)
        if args.static is not None:
            base = f"{args.host}:{relay.port}"
            print(f"yloft is serving on http://{base}/ (relay at ws://{base}/relay,"
                  f" log {args.db})", flush=True)  # fmt: skip
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["backup"]:
        from .backup import main as backup_main

        backup_main(argv[1:])
        return
    if argv[:1] == ["token"]:
        from .tokens import main as token_main

        token_main(argv[1:])
        return
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    logging.getLogger("websockets").setLevel(logging.WARNING)  # one line per connection is noise
    try:
        factory = loop_factory(args.loop)
        with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=factory) as r:
            r.run(run(args))
    except ConfigError as exc:
        print(f"yloft_relay: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except StorageUnavailable as exc:
        print(f"yloft_relay: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        print(
            f"yloft_relay: port {args.port} on {args.host} is already in use: stop the program"
            " using it or pick another port with --port N",
            file=sys.stderr,
        )
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
