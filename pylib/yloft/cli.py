"""The ``yloft`` command (also ``python -m yloft``): new, build, serve, test.

::

    yloft new todo                 scaffold an app in ./todo (--template blank|notes|preact|tasks)
    yloft build [DIR] [--out OUT]  the app's static bundle (default DIR/dist)
    yloft serve [DIR] [--port N]   build, serve the app and the relay, rebuild on change
    yloft types [DIR]              TypeScript row types from the app's Fields (web/rows.d.ts)
                                   and the page API's (.yloft/types/) for editors and tsc
    yloft test [DIR] [--browser NAME] [-- ARGS]
                                   the app's tests with pytest (fixtures: yloft.testing); page
                                   tests on yloft_browser_page run on each --browser: chromium
                                   (default), firefox, webkit or all (repeat, or a comma list)
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import time
from pathlib import Path

from ._version import __version__
from .errors import AppError, YloftError


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="yloft", description=__doc__.split("\n")[0])
    ap.add_argument("--version", action="version", version=f"yloft {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("new", help="scaffold an app whose tests pass as generated")
    p.add_argument("dir", type=Path)
    p.add_argument("--template", default="blank", choices=["blank", "notes", "preact", "tasks"])
    p = sub.add_parser("build", help="write the app's static bundle")
    p.add_argument("dir", type=Path, nargs="?", default=Path("."))
    p.add_argument("--out", type=Path, default=None, help="default: DIR/dist")
    p = sub.add_parser("serve", help="build, serve app and relay on one port, rebuild on change")
    p.add_argument("dir", type=Path, nargs="?", default=Path("."))
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--out", type=Path, default=None, help="default: DIR/dist")
    p.add_argument("--tokens", default="demo=demo",
                   help="relay spaces and tokens: space=token[,...] or @file")  # fmt: skip
    p = sub.add_parser(
        "types", help="write TypeScript types: web/rows.d.ts and .yloft/types/ (docs/types.md)"
    )
    p.add_argument("dir", type=Path, nargs="?", default=Path("."))
    p = sub.add_parser(
        "test", help="run the app's tests with pytest",
        description="Run the app's tests with pytest. --browser NAME (chromium, the default, "
        "firefox, webkit or all: every installed engine; repeat it or give a comma list) runs "
        "each test on yloft_browser_page once per engine (the plugin's --yloft-browser).",
    )  # fmt: skip
    p.add_argument(
        "args", nargs=argparse.REMAINDER, help="[DIR] [--browser NAME]... [--] [PYTEST ARGS]"
    )
    return ap


def _run(args: argparse.Namespace) -> int:
    if args.command == "new":
        from .app.scaffold import names_for, new_app

        new_app(args.dir, args.template)
        _write_types(args.dir)  # so an editor (jsconfig.json) and tsc see typed rows at once
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
    if args.command == "types":
        _write_types(args.dir)
        return 0
    from .app.project import load_app

    folder, pytest_args = _test_args(list(args.args))
    app = load_app(folder)
    if importlib.util.find_spec("pytest") is None:
        raise AppError(
            'yloft test runs pytest, which is not installed: pip install "yloft[test]" '
            "(pytest, and Playwright and Selenium for the page tests)"
        )
    return subprocess.call([sys.executable, "-m", "pytest", *pytest_args], cwd=app.root)


def _write_types(folder: Path) -> None:
    from .app.rowtypes import write_types

    rows, *runtime = write_types(folder)
    print(f"yloft: wrote {rows} and the page API's types into {runtime[0].parent}")


def _test_args(rest: list[str]) -> tuple[Path, list[str]]:
    """``yloft test``'s folder and pytest's arguments: each ``--browser NAME`` before ``--``
    becomes the plugin's ``--yloft-browser NAME`` (which checks the name)."""
    head, tail = (
        (rest[: rest.index("--")], rest[rest.index("--") :]) if "--" in rest else (rest, [])
    )
    kept: list[str] = []
    browsers: list[str] = []
    while head:
        arg = head.pop(0)
        if arg == "--browser":
            if not head or head[0].startswith("-"):
                raise YloftError("--browser needs a name: chromium, firefox, webkit or all")
            browsers.append(head.pop(0))
        elif arg.startswith("--browser="):
            browsers.append(arg.removeprefix("--browser="))
        else:
            kept.append(arg)
    folder = Path(kept.pop(0)) if kept and not kept[0].startswith("-") else Path(".")
    return folder, [*(f"--yloft-browser={b}" for b in browsers), *kept, *tail[1:]]


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        code = _run(args)
    except YloftError as exc:
        print(f"yloft {args.command}: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    raise SystemExit(code)
