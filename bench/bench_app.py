"""The app toolkit: ``yloft build`` of a scaffolded app, its bundle, its first query.

    .venv/bin/python bench/bench_app.py [--quick] [--rounds 5]

Each round scaffolds a fresh app (``yloft new``) in a temporary folder and times, as a
developer runs them (a new ``python -m yloft`` process each):
- ``yloft build`` cold (no bundle, no lock file yet);
- ``yloft build`` again after a one-line change to the app's Python.
It records the bundle's size (every file of its manifest) beside the notes example's,
and, in headless Chromium (a fresh profile per navigation, service worker blocked), the
time from navigation start to the first query result (``db.query`` answered once
``window.db`` exists) for the scaffolded app beside the notes example. Writes
bench/results/app.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from figures import comp

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import build  # noqa: E402

RESULTS = HERE / "results"
FIRST_RESULT = """async () => {
  await window.db.query("SELECT 1 AS one", []);
  return performance.now();
}"""


def yloft(*args: str | Path, cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "yloft", *map(str, args)], cwd=cwd, check=True,
                   capture_output=True)  # fmt: skip
    return time.perf_counter() - started


def bundle_bytes(dist: Path) -> int:
    manifest = json.loads((dist / "manifest.json").read_text())
    return sum(int(f["size"]) for f in manifest["files"].values())


def first_result_ms(urls: dict[str, str], rounds: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if not chromium:
        raise SystemExit("chromium is not installed (python3 build.py test installs it)")
    out: dict[str, list[float]] = {name: [] for name in urls}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=build.CHROMIUM_FLAGS)
        for i in range(rounds):
            order = list(urls.items())
            order = order[i % len(order) :] + order[: i % len(order)]  # rotate the order
            for name, url in order:
                ctx = browser.new_context(service_workers="block")
                page = ctx.new_page()
                page.set_default_timeout(120_000)
                page.goto(url)
                page.wait_for_function("() => window.db !== undefined")
                out[name].append(float(page.evaluate(FIRST_RESULT)))
                ctx.close()
        browser.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="1 round (a smoke run)")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    rounds = 1 if args.quick else args.rounds
    notes = build.build()
    work = Path(tempfile.mkdtemp(prefix="yloft-bench-app-"))
    cold: list[float] = []
    change: list[float] = []
    try:
        for i in range(rounds):
            yloft("new", f"todo{i}", cwd=work)
            app = work / f"todo{i}"
            cold.append(yloft("build", cwd=app))
            module = app / f"todo{i}_app.py"
            module.write_text(module.read_text() + "\nPAGE_SIZE = 50\n")
            change.append(yloft("build", cwd=app))
        scaffolded = work / "todo0" / "dist"
        sizes = {"scaffolded app": bundle_bytes(scaffolded), "notes example": bundle_bytes(notes)}
        roots = {"scaffolded app": scaffolded, "notes example": notes}
        servers = {name: build.make_server(0, root) for name, root in roots.items()}
        for server in servers.values():
            threading.Thread(target=server.serve_forever, daemon=True).start()
        urls = {n: f"http://127.0.0.1:{s.server_address[1]}/" for n, s in servers.items()}
        nav = first_result_ms(urls, rounds)
        for server in servers.values():
            server.shutdown()
            server.server_close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    comparisons = [
        comp("app.build", "yloft build of the scaffolded app", "s", "cold",
             {"cold": cold, "after a one-line change": change}),
        comp("app.bundle", "Bundle size", "MB", "notes example",
             {n: b / 1e6 for n, b in sizes.items()}),
        comp("app.first_result", "Navigation to the first query result", "ms",
             "notes example", nav),
    ]  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "app.json").write_text(json.dumps({"comparisons": comparisons}, indent=1))
    for c in comparisons:
        print(json.dumps(c))


if __name__ == "__main__":
    main()
