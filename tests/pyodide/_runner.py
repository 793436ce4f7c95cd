"""The Pyodide side of the tests/pyodide layer: runs one test function per request.

Imported inside Pyodide by runner.mjs, never on the host. Requests and replies are
JSON; values pass through :func:`encode`/:func:`decode` so bytes survive the trip.
"""

from __future__ import annotations

import base64
import inspect
import json
import traceback
from typing import Any


def encode(value: Any) -> Any:
    """JSON-safe form of a test argument or result (bytes and tuples are tagged)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return {"__bytes__": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    return value


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if "__bytes__" in value:
            return base64.b64decode(value["__bytes__"])
        if "__tuple__" in value:
            return tuple(decode(v) for v in value["__tuple__"])
        return {k: decode(v) for k, v in value.items()}
    return value


async def run_request(line: str) -> str:
    """Define the test function from its source, call it, and report the outcome."""
    req = json.loads(line)
    try:
        # Pad with blank lines so tracebacks show the test file's own line numbers.
        source = "\n" * (req["lineno"] - 1) + req["source"]
        namespace: dict[str, Any] = {"__name__": req.get("module", "__pyodide_test__")}
        exec(compile(source, req["filename"], "exec"), namespace)
        result = namespace[req["name"]](**decode(req["kwargs"]))
        if inspect.isawaitable(result):
            result = await result
        return json.dumps({"ok": True, "result": encode(result)})
    except BaseException as exc:
        return json.dumps(
            {
                "ok": False,
                "type": type(exc).__name__,
                "message": str(exc),
                "traceback": "".join(traceback.format_exception(exc)),
            }
        )
