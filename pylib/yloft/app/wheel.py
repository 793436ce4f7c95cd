"""Write a pure-Python wheel (``py3-none-any``) from files in memory, byte for byte the same
for the same input, so an unchanged app rebuilds to the same sha256 (and the service
worker keeps its cache).

Example::

    path = write_wheel(Path("out"), "todo-app", "0.1.0", {"todo_app.py": b"x = 1\\n"})
    # out/todo_app-0.1.0-py3-none-any.whl, installable with pip or micropip
"""

from __future__ import annotations

import base64
import hashlib
import re
import zipfile
from pathlib import Path

# Zip entries carry a timestamp; a fixed one keeps the bytes reproducible.
EPOCH = (1980, 1, 1, 0, 0, 0)


def dist_name(name: str) -> str:
    """The wheel file name's form of a project name: ``"Todo-App"`` -> ``"todo_app"``."""
    return re.sub(r"[-_.]+", "_", name).lower()


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode()}"


def write_wheel(
    dest: Path,
    name: str,
    version: str,
    files: dict[str, bytes],
    summary: str = "",
) -> Path:
    """Write ``dest/<name>-<version>-py3-none-any.whl`` holding ``files`` (archive path ->
    bytes) and its ``.dist-info`` (METADATA, WHEEL, RECORD). No dependencies are
    declared: the bundle installs every resolved dependency itself.
    """
    dist = dist_name(name)
    info = f"{dist}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    if summary:
        metadata += f"Summary: {summary}\n"
    entries = dict(sorted(files.items()))
    entries[f"{info}/METADATA"] = metadata.encode()
    entries[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: yloft\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = "".join(f"{p},{_record_hash(d)},{len(d)}\n" for p, d in entries.items())
    entries[f"{info}/RECORD"] = f"{record}{info}/RECORD,,\n".encode()
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for arcname, data in entries.items():
            entry = zipfile.ZipInfo(arcname, date_time=EPOCH)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            zf.writestr(entry, data)
    return path


def package_files(root: Path, prefix: str, skip: frozenset[str] = frozenset()) -> dict[str, bytes]:
    """Every file under ``root`` as ``{prefix/relative/path: bytes}``, without caches and
    without the top-level entries named in ``skip``."""
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or rel.parts[0] in skip:
            continue
        if "__pycache__" in rel.parts or path.suffix in {".pyc", ".pyo"}:
            continue
        files[f"{prefix}/{rel.as_posix()}" if prefix else rel.as_posix()] = path.read_bytes()
    return files
