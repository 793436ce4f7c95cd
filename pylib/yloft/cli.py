"""The ``yloft`` command (also ``python -m yloft``): new, build, serve, test.

::

    yloft new todo                 scaffold an app in ./todo (--template blank|notes)
    yloft build [DIR] [--out OUT]  the app's static bundle (default DIR/dist)
    yloft serve [DIR] [--port N]   build, serve the app and the relay, rebuild on change
    yloft test [DIR] [-- ARGS]     the app's tests with pytest (fixtures: yloft.testing)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from ._version import __version__
from .errors import YloftError


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="yloft", description=__doc__.split("\n")[0])
    ap.add_argument("--version", action="version", version=f"yloft {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("new", help="scaffold an app whose tests pass as generated")
    p.add_argument("dir", type=Path)
    p.add_argument("--template", default="blank", choices=["blank", "notes"])
    p = sub.add_parser("build", help="write the app's static bundle")
    p.add_argument("dir", type=Path, nargs="?", default=Path("."))
    p.add_argument("--out", type=Path, default=None, help="default: DIR/dist")
    p = sub.add_parser("serve", help="build, serve app and relay on one port, rebuild on change")
    p.add_argument("dir", type=Path, nargs="?", default=Path("."))
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--out", type=Path, default=None, help="default: DIR/dist")
    p.add_argument("--tokens", default="demo=demo",
                   help="relay spaces and tokens: space=token[,...] or @file")  # fmt: skip
    p = sub.add_parser("test", help="run the app's tests with pytest")
    p.add_argument("args", nargs=argparse.REMAINDER, help="[DIR] [--] [PYTEST ARGS]")
    return ap


def _run(args: argparse.Namespace) -> int:
    if args.command == "new":
        from .app.scaffold import names_for, new_app

        new_app(args.dir, args.template)
        print(f"yloft: created {names_for(args.dir)['__NAME__']} in {args.dir}: "
              f"cd {args.dir} && yloft test && yloft serve")  # fmt: skip
        return 0
    if args.command == "build":
        from .app.bundle import build_app

        started = time.monotonic()
        result = build_app(args.dir, args.out)
        print(f"yloft: built {result.app.name} into {result.out} "
              f"({len(result.manifest['files'])} files, {result.size / 1e6:.1f} MB) "
              f"in {time.monotonic() - started:.2f} s")  # fmt: skip
        return 0
    if args.command == "serve":
        from .app.serve import serve

        return serve(args.dir, args.port, args.tokens, args.out)
    from .app.project import load_app

    rest = list(args.args)
    folder = Path(rest.pop(0)) if rest and not rest[0].startswith("-") else Path(".")
    if rest[:1] == ["--"]:
        rest = rest[1:]
    app = load_app(folder)
    return subprocess.call([sys.executable, "-m", "pytest", *rest], cwd=app.root)


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        code = _run(args)
    except YloftError as exc:
        print(f"yloft {args.command}: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    raise SystemExit(code)
