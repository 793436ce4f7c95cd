#!/usr/bin/env python3
"""yloft's developer tool: set up, build, serve and test the project.

    python3 build.py serve [--port 8000]   set up, build, serve the notes example on 127.0.0.1
    python3 build.py build                 set up; build the browser runtime (pylib/yloft/
                                           runtime/), the yloft wheel (dist/) and the examples
                                           (examples/*/dist/, with `yloft build`)
    python3 build.py test [PYTEST ARGS]    set up, build, lint, type-check, run every test layer
                                           (then `bench --quick`: every benchmark must run)
    python3 build.py bench [--quick] [--only NAME]   benchmarks beside their baselines
                                           (bench/run.py: JSON, docs/benchmarks.md)

Every step skips itself when its inputs have not changed (a stamp file holds a hash
of them), so re-running a command on a set-up machine is quick. Run with the system
python3, this file creates .venv/ with the standard library alone, then runs the command
again in .venv's python, where it imports yloft (yloft.app.runtime) like the tests do.
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PY = VENV / "bin" / "python"
CACHE = ROOT / ".cache"
EXAMPLES = ROOT / "examples"
# The notes example's bundle (yloft build examples/notes): what serve and the e2e tests use.
DIST = EXAMPLES / "notes" / "dist"
RUNTIME = ROOT / "pylib" / "yloft" / "runtime"
WHEEL_DIR = ROOT / "dist"
NODE_MODULES = ROOT / "node_modules"

# Wheels installed into Pyodide in the browser (DESIGN.md §2: micropip is not in the
# npm tarball, and PyPI's files differ from the lock file's, so we load them by URL).
PYODIDE_WHEELS = ["micropip==0.11.1", "packaging==26.1"]
PYODIDE_PYTHON = "3.14"


def log(msg: str) -> None:
    print(f"[build] {msg}", flush=True)


def run(*cmd: str | Path, **kw: object) -> None:
    """Run a command, echoing it; raise SystemExit with its code if it fails."""
    log("$ " + " ".join(str(c) for c in cmd))
    code = subprocess.call([str(c) for c in cmd], cwd=kw.pop("cwd", ROOT), **kw)  # type: ignore[call-overload]
    if code != 0:
        raise SystemExit(code)


def digest(*paths: Path) -> str:
    """Hash the contents and names of files (directories recursively)."""
    h = hashlib.sha256()
    for base in paths:
        files = sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else [base]
        for f in files:
            if "__pycache__" in f.parts or f.suffix == ".pyc":
                continue
            h.update(str(f.relative_to(ROOT)).encode())
            h.update(f.read_bytes() if f.exists() else b"-")
    return h.hexdigest()


def up_to_date(stamp: Path, key: str) -> bool:
    return stamp.exists() and stamp.read_text() == key


# ---------------------------------------------------------------- set-up steps


def ensure_venv() -> None:
    """Create .venv/ and install yloft (editable) with the pinned dev dependencies."""
    stamp = VENV / ".yloft-stamp"
    key = digest(ROOT / "pyproject.toml")
    if up_to_date(stamp, key):
        return
    if not VENV_PY.exists():
        log("creating .venv/")
        venv.EnvBuilder(with_pip=True).create(VENV)
    run(VENV_PY, "-m", "pip", "install", "--disable-pip-version-check", "-q", "-e", ".[dev]")
    stamp.write_text(key)


# The system python3 only creates .venv/; a command then runs again in .venv's python, where
# yloft (installed editable) is importable: the Pyodide files copied below, the serving rules
# and the browser flags the tests and benchmarks use come from yloft.app.runtime.
if __name__ == "__main__" and Path(sys.prefix).resolve() != VENV.resolve():
    ensure_venv()
    os.execv(VENV_PY, [str(VENV_PY), str(ROOT / "build.py"), *sys.argv[1:]])

from yloft.app.runtime import CHROMIUM_FLAGS as CHROMIUM_FLAGS  # noqa: E402 (tests, bench)
from yloft.app.runtime import PYODIDE_FILES, static_server  # noqa: E402


def ensure_node_modules() -> None:
    """Install the JS dependencies exactly as package-lock.json pins them."""
    stamp = NODE_MODULES / ".yloft-stamp"
    key = digest(ROOT / "package-lock.json")
    if up_to_date(stamp, key):
        return
    if not shutil.which("npm"):
        raise SystemExit("npm is missing: install Node.js 20+ and npm (apt-get install nodejs npm)")
    run("npm", "ci", "--no-audit", "--no-fund")
    stamp.write_text(key)


def ensure_pyodide_wheels() -> Path:
    """Download the pure-Python wheels the browser's Pyodide needs (micropip, packaging)."""
    dest = CACHE / "pyodide-wheels"
    stamp = dest / ".yloft-stamp"
    key = json.dumps(PYODIDE_WHEELS)
    if not up_to_date(stamp, key):
        dest.mkdir(parents=True, exist_ok=True)
        run(VENV_PY, "-m", "pip", "download", "--disable-pip-version-check", "-q",
            "--no-deps", "--only-binary=:all:", "--python-version", PYODIDE_PYTHON,
            "-d", dest, *PYODIDE_WHEELS)  # fmt: skip
        stamp.write_text(key)
    return dest


def setup() -> None:
    ensure_venv()
    ensure_node_modules()
    ensure_pyodide_wheels()


# ---------------------------------------------------------------------- build


def web_sources() -> list[Path]:
    """The browser runtime's hand-written ES modules: web/ and its folders (page/, worker/,
    worker/storage/), not web/vendor/ (esbuild's entry points); and the page API's types
    (yloft.d.ts, docs/types.md), which ship beside them."""
    web = ROOT / "web"
    return sorted(p for p in web.rglob("*")
                  # devtools/: the devtools panel's styles and its own page
                  if p.is_file() and (p.suffix in (".js", ".css", ".html")
                                      or p.name.endswith(".d.ts"))
                  and p.relative_to(web).parts[0] != "vendor")  # fmt: skip


def copy_web_sources(dest: Path) -> None:
    """Copy web_sources() into ``dest``, keeping their folders (relative imports)."""
    for src in web_sources():
        target = dest / src.relative_to(ROOT / "web")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)


def emit_binding_types(dest: Path) -> None:
    """dest/bindings/*.d.ts: the UI bindings' declarations, which tsc writes from their JSDoc
    (so they cannot drift), for an app's editor (`yloft types`, docs/types.md); yloft.d.ts
    and text-input.d.ts are written by hand and held to their JSDoc by tsc -p ."""
    sources = sorted((ROOT / "web" / "bindings").glob("*.js"))
    if not sources:
        return
    with tempfile.TemporaryDirectory() as out:
        run(NODE_MODULES / ".bin" / "tsc", "--allowJs", "--declaration", "--emitDeclarationOnly",
            "--skipLibCheck", "--target", "es2022", "--module", "esnext",
            "--moduleResolution", "bundler", "--rootDir", ROOT / "web", "--outDir", out,
            *sources)  # fmt: skip
        for src in sorted((Path(out) / "bindings").glob("*.d.ts")):
            shutil.copy2(src, dest / "bindings" / src.name)


def build_runtime() -> Path:
    """Fill pylib/yloft/runtime/ (package data of the yloft wheel; see yloft.app.runtime).

    The runtime's ES modules from web/, the Yjs and editor bundles (esbuild, the only
    step needing Node), the Pyodide runtime files, micropip and packaging, and the notes
    and tasks examples as the `yloft new --template notes` (and `tasks`) templates.
    Rebuilt from scratch, never
    written in place: app bundles hold hard links to these files.
    """
    setup()
    wheels_src = ensure_pyodide_wheels()
    key = digest(*web_sources(), ROOT / "web" / "vendor", ROOT / "package-lock.json",
                 ROOT / "build.py", wheels_src, *example_inputs(EXAMPLES / "notes"),
                 *example_inputs(EXAMPLES / "tasks"))  # fmt: skip
    stamp = CACHE / "runtime.stamp"
    if up_to_date(stamp, key) and RUNTIME.is_dir():
        return RUNTIME
    log("building the browser runtime into pylib/yloft/runtime/")
    if RUNTIME.exists():
        shutil.rmtree(RUNTIME)
    for sub in ("pyodide", "wheels", "vendor"):
        (RUNTIME / sub).mkdir(parents=True)
    copy_web_sources(RUNTIME)
    emit_binding_types(RUNTIME)
    for name in PYODIDE_FILES:
        shutil.copy2(NODE_MODULES / "pyodide" / name, RUNTIME / "pyodide" / name)
    for whl in wheels_src.glob("*.whl"):
        shutil.copy2(whl, RUNTIME / "wheels" / whl.name)
    # vendor/yjs.mjs (Yjs + awareness) and vendor/editor.mjs (CodeMirror + y-codemirror.next,
    # importing the same yjs.mjs): web/vendor/bundle.mjs drives esbuild.
    run("node", "web/vendor/bundle.mjs", RUNTIME / "vendor")
    for example in ("notes", "tasks"):  # `yloft new --template notes` (or tasks)
        for src in example_inputs(EXAMPLES / example):
            dest = RUNTIME / "templates" / example / src.relative_to(EXAMPLES / example)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(key)
    return RUNTIME


def build_wheel() -> Path:
    """dist/yloft-VERSION-py3-none-any.whl: the library, the relay and the runtime."""
    key = digest(ROOT / "pylib", ROOT / "relay", ROOT / "pyproject.toml", ROOT / "hatch_build.py")
    stamp = CACHE / "wheel.stamp"
    wheels = sorted(WHEEL_DIR.glob("yloft-*.whl"))
    if up_to_date(stamp, key) and len(wheels) == 1:
        return wheels[0]
    if WHEEL_DIR.exists():
        shutil.rmtree(WHEEL_DIR)
    run(VENV_PY, "-m", "pip", "wheel", "--disable-pip-version-check", "-q", "--no-deps",
        "--no-build-isolation", "-w", WHEEL_DIR, ".")  # fmt: skip
    (wheel,) = WHEEL_DIR.glob("yloft-*.whl")
    log(f"wrote {wheel.relative_to(ROOT)} ({wheel.stat().st_size / 1e6:.1f} MB)")
    stamp.write_text(key)
    return wheel


def example_inputs(folder: Path) -> list[Path]:
    """An example app's own files (not its build output, caches or lock file)."""
    skip = {"dist", "dist.building", ".yloft", "__pycache__", ".pytest_cache"}
    return sorted(
        p for p in folder.rglob("*")
        if p.is_file() and not skip & set(p.relative_to(folder).parts)
        and p.name != "yloft-lock.json" and p.suffix != ".pyc"
    )  # fmt: skip


def examples() -> list[Path]:
    return sorted(p.parent for p in EXAMPLES.glob("*/pyproject.toml"))


def build_examples() -> None:
    """Build every example with `yloft build`, exactly as an app developer does."""
    for folder in examples():
        if (folder / "build.mjs").is_file():  # examples/react: esbuild bundles its page first
            run("node", folder / "build.mjs", RUNTIME)
        key = digest(ROOT / "pylib", *example_inputs(folder))
        stamp = CACHE / f"example-{folder.name}.stamp"
        if up_to_date(stamp, key) and (folder / "dist" / "manifest.json").exists():
            continue
        run(VENV_PY, "-m", "yloft", "build", folder)
        stamp.write_text(key)


def build() -> Path:
    """Build the runtime, the yloft wheel and the examples; return the notes app's bundle."""
    build_runtime()
    build_wheel()
    build_examples()
    return DIST


def lab_root() -> Path:
    """A private folder serving the storage lab (bench/web/storage-lab.html): the runtime's
    modules under web/, the lab and its modules (the OPFS trace, the volume suite and the
    volumes broken on purpose) under bench/web/, Pyodide under pyodide/ (tests, bench)."""
    ensure_node_modules()
    root = Path(tempfile.mkdtemp(prefix="yloft-storage-lab-"))
    copy_web_sources(root / "web")
    (root / "bench" / "web").mkdir(parents=True)
    for name in ("storage-lab.html", "storage-lab-worker.js", "opfs-trace.js",
                 "volume-suite.js", "volume-bugs.js"):  # fmt: skip
        shutil.copy2(ROOT / "bench" / "web" / name, root / "bench" / "web" / name)
    (root / "pyodide").mkdir()
    for name in PYODIDE_FILES:
        shutil.copy2(NODE_MODULES / "pyodide" / name, root / "pyodide" / name)
    return root


# ---------------------------------------------------------------------- serve


def make_server(port: int, root: Path = DIST) -> http.server.ThreadingHTTPServer:
    """An HTTP server for ``root`` on 127.0.0.1 (port 0 picks a free port), by the rules
    every server of a bundle follows (yloft.app.runtime: content types, COOP/COEP)."""
    return static_server(root, port)


def serve(port: int, tokens: str, relay_db: Path) -> None:
    """Serve the notes example's bundle and the relay (``/relay``) on one port of 127.0.0.1.

    The relay process serves the static files itself (websockets' process_request),
    so the app and ``ws://127.0.0.1:PORT/relay`` share an origin. A taken port is
    reported in one line before anything is built (the relay reports it too).
    """
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            print(f"build.py serve: port {port} on 127.0.0.1 is already in use: stop the program"
                  " using it or pick another port with --port N", file=sys.stderr)  # fmt: skip
            raise SystemExit(1) from None
    build()
    relay_db.parent.mkdir(parents=True, exist_ok=True)
    cmd = [str(VENV_PY), "-m", "yloft_relay", "--host", "127.0.0.1", "--port", str(port),
           "--db", str(relay_db), "--tokens", tokens, "--static", str(DIST)]  # fmt: skip
    # The relay prints "yloft is serving on ..." once its socket is bound, and one
    # line naming ``--port N`` (exit 1) when the port is taken.
    os.chdir(ROOT)
    os.execv(cmd[0], cmd)  # the relay replaces this process: signals reach it directly


# ----------------------------------------------------------------------- test


PG_BIN = "/usr/lib/postgresql/15/bin"  # Debian's postgresql 15 (tests/relay/pgserver.py)


def apt_install(package: str) -> None:
    """Install one of Debian's packages with apt-get (sudo unless root)."""
    log(f"{package} is missing: installing Debian's package")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(*sudo, "apt-get", "update", "-q", env=env)
    run(*sudo, "apt-get", "install", "-y", "-q", package, env=env)


def ensure_browser(command: str, package: str) -> str:
    """Return the path of ``command``, installing Debian's ``package`` if it is missing."""
    found = shutil.which(command)
    if not found:
        apt_install(package)
        found = shutil.which(command)
    if not found:
        raise SystemExit(f"apt-get installed {package} but {command} is not on PATH")
    return found


def ensure_chromium() -> str:
    """Return the path of Debian's chromium, installing it with apt-get if missing."""
    return ensure_browser("chromium", "chromium")


def ensure_firefox() -> str:
    """Return the path of Debian's firefox-esr, installing it with apt-get if missing
    (tests/e2e/engines.py drives it with puppeteer-core, docs/browsers.md)."""
    return ensure_browser("firefox-esr", "firefox-esr")


def ensure_webkit() -> str:
    """Install Debian's WebKitGTK WebDriver (its libwebkit2gtk-4.1-0 ships the MiniBrowser it
    drives) and Xvfb, the display MiniBrowser needs, if missing; return WebKitWebDriver's path
    (tests/e2e/engines.py drives it with Selenium, docs/browsers.md)."""
    ensure_browser("Xvfb", "xvfb")
    return ensure_browser("WebKitWebDriver", "webkit2gtk-driver")


def ensure_postgresql() -> None:
    """Install Debian's postgresql (server binaries for the relay cluster tests) if missing."""
    if Path(PG_BIN, "initdb").exists():
        return
    apt_install("postgresql")
    if not Path(PG_BIN, "initdb").exists():
        raise SystemExit(f"apt-get installed postgresql but {PG_BIN}/initdb is missing")


def test(pytest_args: list[str]) -> None:
    build()
    ensure_chromium()
    ensure_firefox()
    ensure_webkit()
    ensure_postgresql()
    bin_ = VENV / "bin"
    run(bin_ / "ruff", "check", ".")
    run(bin_ / "ruff", "format", "--check", ".")
    run(bin_ / "mypy")
    run(NODE_MODULES / ".bin" / "tsc", "-p", ".")  # the front end's JSDoc types (tsconfig.json)
    run(NODE_MODULES / ".bin" / "biome", "format", ".")  # JS format, 100 columns (biome.json)
    log("$ pytest " + " ".join(pytest_args or ["tests"]))
    # --durations: every run (CI too) lists its slowest tests, to keep the suite short.
    # -n 2 --dist loadfile (pytest-xdist): two workers, each test file on one worker so a
    # file's session fixtures (browser, relay, PostgreSQL) start once per worker; on this
    # 2-core machine the suite went from 1189 s to 797 s.
    args = ["--durations=25", *(pytest_args or ["-n", "2", "--dist", "loadfile", "tests"])]
    code = subprocess.call([str(bin_ / "pytest"), *args], cwd=ROOT)
    if code == 5:
        log("pytest collected no tests: that is a failure")
        raise SystemExit(1)
    if code == 0 and not pytest_args:
        # Each example's own tests, with the command an app developer runs; page tests on
        # yloft_browser_page (the notes example's) in Firefox too, yloft_page's in Chromium.
        for folder in examples():
            browsers = ["--browser", "chromium,firefox"]
            log(f"$ yloft test {folder.relative_to(ROOT)} {' '.join(browsers)}")
            cmd = [str(VENV_PY), "-m", "yloft", "test", str(folder), *browsers]
            code = code or subprocess.call(cmd)
    if code == 0 and not pytest_args:
        # Smoke run: every benchmark must produce its figures; timings are not judged.
        code = bench(quick=True, only="")
    raise SystemExit(code)


def bench(quick: bool, only: str) -> int:
    """Run bench/run.py (see its docstring); return its exit status."""
    build()
    ensure_chromium()
    cmd = [str(VENV_PY), "bench/run.py", *(["--quick"] if quick else [])]
    cmd += ["--only", only] if only else []
    log("$ " + " ".join(cmd))
    return subprocess.call(cmd, cwd=ROOT)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="build.py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="set up, build and serve the app")
    p_serve.add_argument("--port", type=int, default=8000)
    p_serve.add_argument("--tokens", default="demo=demo",
                         help="relay spaces and tokens: space=token[,...] or @file")  # fmt: skip
    p_serve.add_argument("--relay-db", type=Path, default=CACHE / "relay.db")
    sub.add_parser("build", help="set up; build the runtime, the wheel and the examples")
    p_test = sub.add_parser("test", help="run every check and test layer")
    p_test.add_argument("pytest_args", nargs=argparse.REMAINDER, help="passed to pytest")
    p_bench = sub.add_parser("bench", help="run the benchmarks beside their baselines")
    p_bench.add_argument("--quick", action="store_true", help="smoke run (under 3 minutes)")
    p_bench.add_argument("--only", default="", help="comma-separated benchmark names")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.port, args.tokens, args.relay_db)
    elif args.command == "build":
        build()
    elif args.command == "test":
        test(args.pytest_args)
    elif args.command == "bench":
        raise SystemExit(bench(args.quick, args.only))


if __name__ == "__main__":
    main()
