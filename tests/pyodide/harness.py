"""Run test bodies inside Pyodide under Node, as easily as normal tests.

    from harness import run_in_pyodide

    @run_in_pyodide
    def test_sqlite_has_fts5():
        import sqlite3
        sqlite3.connect(":memory:").execute("CREATE VIRTUAL TABLE t USING fts5(x)")

The decorated function's *source* is sent to one long-lived Node process running
Pyodide (npm ``pyodide``; ``pylib/`` importable, npm ``yjs`` registered as ``yjs``)
and runs there; its host-side twin only carries pytest's fixtures and parameters.
Parameters (``@pytest.mark.parametrize``, Hypothesis values) must be JSON-like values
or bytes. A failing assertion or exception inside Pyodide fails the test with the
Pyodide traceback, which names the test file's real lines.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import selectors
import subprocess
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from _runner import decode, encode

ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("runner.mjs")
START_TIMEOUT = 120.0
CALL_TIMEOUT = float(os.environ.get("YLOFT_PYODIDE_TIMEOUT", "240"))


class PyodideNode:
    """One Node process with Pyodide loaded; restarted after a crash or a hang."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        self.stderr_lines: list[str] = []
        self.lock = threading.Lock()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["node", str(RUNNER), str(ROOT)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        threading.Thread(target=self._drain_stderr, args=(self.proc,), daemon=True).start()
        ready = self._read_line(START_TIMEOUT)
        if json.loads(ready) != {"ready": True}:
            raise RuntimeError(f"unexpected first line from the Pyodide runner: {ready!r}")

    def _drain_stderr(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        with proc.stderr:  # closed here, at end of file, once the process is gone
            for line in proc.stderr:
                with self.lock:
                    self.stderr_lines.append(line)

    def _take_stderr(self) -> str:
        with self.lock:
            out, self.stderr_lines = "".join(self.stderr_lines), []
        return out

    def _read_line(self, timeout: float) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout):
                self.stop()
                raise TimeoutError(f"Pyodide did not answer within {timeout:.0f} s")
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait(timeout=10)
            self.stop()
            raise RuntimeError(f"the Pyodide runner exited ({code}):\n{self._take_stderr()}")
        return line

    def call(self, request: dict[str, Any]) -> Any:
        """Run one request; return the decoded result or fail the current test."""
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        assert self.proc is not None and self.proc.stdin is not None
        self._take_stderr()
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        try:
            reply = json.loads(self._read_line(CALL_TIMEOUT))
        finally:
            output = self._take_stderr()
            if output:
                print(output, end="")  # pytest shows it with the test's captured output
        if not reply["ok"]:
            pytest.fail(f"inside Pyodide:\n{reply['traceback']}", pytrace=False)
        return decode(reply["result"])

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            proc.kill()
            proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    pipe.close()


def run_in_pyodide(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Make ``fn``'s body run inside Pyodide; the test requests the ``pyodide`` fixture."""
    lines, first = inspect.getsourcelines(fn)
    start = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith(("def ", "async def ")))
    source = textwrap.dedent("".join(lines[start:]))
    params = list(inspect.signature(fn).parameters.values())
    filename = inspect.getsourcefile(fn)

    @functools.wraps(fn)
    def wrapper(pyodide: PyodideNode, **kwargs: Any) -> Any:
        return pyodide.call(
            {
                "source": source,
                "name": fn.__name__,
                "filename": filename,
                "lineno": first + start,
                "module": fn.__module__,
                "kwargs": encode(kwargs),
            }
        )

    fixture = inspect.Parameter("pyodide", inspect.Parameter.KEYWORD_ONLY)
    signature = inspect.Signature([fixture, *(p.replace(kind=p.KEYWORD_ONLY) for p in params)])
    wrapper.__signature__ = signature  # type: ignore[attr-defined]
    return wrapper
